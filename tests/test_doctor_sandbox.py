"""`pmo-jira doctor` against the in-process sandbox: the checklist, the fixes, the exit code."""

from __future__ import annotations

import functools
import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

import pmo_jira.doctor
from pmo_jira.cli.main import cli
from pmo_jira.doctor import run_doctor
from pmo_jira.settings import load_settings

from ops_fixtures import write_config

SANDBOX_MAPPING = Path(__file__).resolve().parents[1] / "mappings" / "sandbox.yaml"
TOKENS = {"PMO_JIRA_TOKEN_CLOUD": "sandbox-token", "PMO_JIRA_TOKEN_DC": "sandbox-token"}


@pytest.fixture(autouse=True)
def _no_real_waiting(monkeypatch):
    """A dead site is retried briefly by the client; tests skip the real sleeping."""
    fast = functools.partial(pmo_jira.doctor.default_client_factory, sleep=lambda s: None)
    monkeypatch.setattr(pmo_jira.doctor, "default_client_factory", fast)


def _config(folder: Path, *, cloud=None, dc=None, extra: str = "", mapping: Path = SANDBOX_MAPPING,
            cloud_flavour: str = "cloud") -> Path:
    text = f'mapping = "{mapping}"\nhistory = "{folder / "state" / "history.sqlite"}"\n'
    if cloud is not None:
        text += f'\n[sites.cloud]\nurl = "{cloud.url}"\nflavour = "{cloud_flavour}"\nemail = "pmo-bot@example.com"\n'
    if dc is not None:
        text += f'\n[sites.dc]\nurl = "{dc.url}"\nflavour = "dc"\n'
    return write_config(folder, text + extra)


def _doctor(args=(), env=None):
    result = CliRunner().invoke(cli, ["doctor", *args], env={**TOKENS, **(env or {})})
    return result.exit_code, result.output


_ROW = re.compile(r"^  (ok|warn|FAIL)\s+(\S+(?: \S+)*)(?:\s{2,}(.*))?$")


def _checks(output: str) -> dict[tuple[str, str], tuple[str, str, str | None]]:
    """Parse the checklist: (site, check name) -> (mark, detail, fix)."""
    found: dict[tuple[str, str], tuple[str, str, str | None]] = {}
    site, last = "", None
    for line in output.splitlines():
        row = _ROW.match(line)
        if row:
            last = (site, row.group(2))
            found[last] = (row.group(1), row.group(3) or "", None)
        elif line.strip().startswith("fix: ") and last:
            found[last] = (*found[last][:2], line.strip()[5:])
        elif line and not line.startswith(" "):
            site = line.split()[0]
    return found


def test_all_ok_across_cloud_and_dc_exits_0(clean_env, memory_keyring, sandbox):
    _config(clean_env, cloud=sandbox("cloud", bot_is_admin=True), dc=sandbox("dc", bot_is_admin=True))
    code, out = _doctor()
    assert code == 0, out
    assert "FAIL" not in out
    assert out.splitlines()[-1] == "ready: a sync would succeed on all 2 site(s)"
    checks = _checks(out)
    assert checks["cloud", "flavour"][:2] == ("ok", "cloud")
    assert checks["dc", "reachable"][1].startswith("Jira 11.") and checks["cloud", "reachable"][1].endswith("(Cloud)")
    assert checks["dc", "field start"][1].startswith("-> customfield_")
    for site in ("cloud", "dc"):
        for permission in ("Browse Projects", "Edit Issues", "Add Comments", "Edit Own Comments", "notifications"):
            assert checks[site, permission][0] == "ok"


def test_missing_edit_issues_names_the_permission_and_the_fix(clean_env, memory_keyring, sandbox):
    _config(clean_env, cloud=sandbox("cloud", deny_permissions={"EDIT_ISSUES"}), dc=sandbox("dc"))
    code, out = _doctor()
    assert code == 1
    failing = {k: v for k, v in _checks(out).items() if v[0] == "FAIL"}
    assert list(failing) == [("cloud", "Edit Issues")]
    _, detail, fix = failing["cloud", "Edit Issues"]
    assert detail.startswith("missing in DIG") and "cannot write labels" in detail
    assert fix.startswith("grant 'Edit Issues' to PMO Bot in the permission scheme of projects DIG")
    assert "Project settings > Permissions" in fix
    assert out.splitlines()[-1] == "not ready: 1 of 2 site(s) would fail (cloud)"


def test_a_site_that_is_down_fails_that_site_only(clean_env, memory_keyring, sandbox):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    _config(clean_env, dc=sandbox("dc"), extra=f'\n[sites.down]\nurl = "http://127.0.0.1:{port}"\nflavour = "dc"\n')
    code, out = _doctor(env={"PMO_JIRA_TOKEN_DOWN": "x"})
    assert code == 1
    checks = _checks(out)
    assert [(name, v[0]) for (site, name), v in checks.items() if site == "down"] == [
        ("token", "ok"), ("reachable", "FAIL")]
    assert checks["down", "reachable"][1].startswith(f"cannot reach 127.0.0.1:{port}: connection refused")
    assert checks["dc", "Edit Issues"][0] == "ok"  # the other site was checked in full
    assert out.splitlines()[-1] == "not ready: 1 of 2 site(s) would fail (down)"


def test_notifications_fail_only_when_the_mapping_demands_it(clean_env, memory_keyring, sandbox, tmp_path):
    strict = tmp_path / "strict.yaml"
    strict.write_text(SANDBOX_MAPPING.read_text().replace("on_notify_refused: notify", "on_notify_refused: fail"))
    cloud = sandbox("cloud", bot_is_admin=False)
    _config(clean_env, cloud=cloud)
    code, out = _doctor()
    mark, detail, fix = _checks(out)["cloud", "notifications"]
    assert code == 0 and mark == "warn" and detail.endswith("watchers will get emails")
    _config(clean_env, cloud=cloud, mapping=strict)
    code, out = _doctor()
    mark, detail, fix = _checks(out)["cloud", "notifications"]
    assert code == 1 and mark == "FAIL" and "on_notify_refused: fail" in detail
    assert fix.startswith("grant 'Administer Projects' to PMO Bot in projects DIG")


def test_flavour_mismatch_is_a_failure_with_the_setting_to_change(clean_env, memory_keyring, sandbox):
    cloud = sandbox("cloud")
    _config(clean_env, cloud=cloud, cloud_flavour="dc")

    def client_factory(site, credentials):  # the right credentials, the wrong flavour setting
        return pmo_jira.doctor.default_client_factory(site, cloud.credentials)

    report = run_doctor(load_settings(env={}), env=TOKENS, client_factory=client_factory)
    flavour = next(c for c in report.sites[0].checks if c.name == "flavour")
    assert (flavour.status, flavour.detail, flavour.fix) == (
        "fail", "configured 'dc' but the site is 'cloud'", 'set flavour = "cloud" (or "auto") for site \'cloud\'')
    assert report.sites[0].checks[-1] is flavour and not report.ok  # nothing checked with the wrong API


def test_a_token_refused_by_a_site_of_the_other_flavour_names_the_flavour(clean_env, memory_keyring, sandbox):
    _config(clean_env, cloud=sandbox("dc"))  # a Data Center site set up as Cloud: email + token sent as Basic
    code, out = _doctor()
    checks = _checks(out)
    assert code == 1 and checks["cloud", "reachable"][0] == "ok"
    assert checks["cloud", "flavour"] == (
        "FAIL", "configured 'cloud' but the site is 'dc', so the credentials were sent the other flavour's way and refused",
        'set flavour = "dc" (or "auto") for site \'cloud\'')
    assert ("cloud", "authentication") not in checks  # not told to make a new Atlassian API token


def test_wrong_or_missing_token(clean_env, memory_keyring, sandbox):
    _config(clean_env, cloud=sandbox("cloud"), dc=sandbox("dc"))
    code, out = _doctor(env={"PMO_JIRA_TOKEN_CLOUD": "bad-token-123", "PMO_JIRA_TOKEN_DC": ""})
    assert code == 1
    checks = _checks(out)
    mark, detail, fix = checks["cloud", "authentication"]
    assert (mark, detail) == ("FAIL", "the token was refused (401)")
    assert "id.atlassian.com/manage-profile/security/api-tokens" in fix
    assert checks["dc", "token"] == ("FAIL", "no token for site 'dc'", "set PMO_JIRA_TOKEN_DC or run `pmo-jira login dc`")
    assert checks["dc", "reachable"][0] == "ok"  # "no token" is told apart from "down"
    assert "bad-token-123" not in out


def test_refused_token_with_an_email_and_flavour_auto_gets_the_cloud_fix(clean_env, memory_keyring, sandbox):
    _config(clean_env, cloud=sandbox("cloud"), cloud_flavour="auto")  # an email means a Cloud API token
    code, out = _doctor(env={"PMO_JIRA_TOKEN_CLOUD": "bad-token-123"})
    assert code == 1
    mark, _, fix = _checks(out)["cloud", "authentication"]
    assert mark == "FAIL" and "id.atlassian.com/manage-profile/security/api-tokens" in fix


def test_a_broken_mapping_points_at_the_command_that_checks_it(clean_env, memory_keyring, sandbox, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(SANDBOX_MAPPING.read_text().replace("issue_types:", "issue_typos:"))
    _config(clean_env, dc=sandbox("dc"), mapping=broken)
    code, out = _doctor()
    mark, _, fix = _checks(out)["dc", "mapping"]
    assert (code, mark) == (1, "FAIL")
    assert f"pmo-jira mappings check {broken}" in fix


def test_a_token_from_the_keyring_is_used(clean_env, memory_keyring, sandbox):
    _config(clean_env, dc=sandbox("dc"))
    memory_keyring.set_password("pmo-jira", "dc", "sandbox-token")
    code, out = _doctor(["--site", "dc"], env={"PMO_JIRA_TOKEN_DC": ""})
    assert code == 0, out
    assert _checks(out)["dc", "token"] == ("ok", "from system keyring (pmo-jira / dc)", None)


def test_a_mapping_field_the_site_lacks_is_a_warning_with_a_guess(clean_env, memory_keyring, sandbox, tmp_path):
    typo = tmp_path / "typo.yaml"
    typo.write_text(SANDBOX_MAPPING.read_text().replace('start: "Start date"', 'start: "Start dat"'))
    _config(clean_env, dc=sandbox("dc"), mapping=typo)
    code, out = _doctor()
    assert code == 0, out
    mark, detail, fix = _checks(out)["dc", "field start"]
    assert mark == "warn" and detail == "missing: no field on the site matches 'Start dat'"
    assert fix.startswith("did you mean 'Start date'?")


def test_json_format_and_site_selection(clean_env, memory_keyring, sandbox):
    _config(clean_env, cloud=sandbox("cloud", deny_permissions={"ADD_COMMENTS"}), dc=sandbox("dc"))
    code, out = _doctor(["--format", "json", "--site", "cloud"])
    data = json.loads(out)
    assert code == 1 and data["ok"] is False and [s["site"] for s in data["sites"]] == ["cloud"]
    failed = [c for c in data["sites"][0]["checks"] if c["status"] == "fail"]
    assert [c["name"] for c in failed] == ["Add Comments"] and "grant 'Add Comments'" in failed[0]["fix"]


def test_unknown_site_is_one_error_line(clean_env, memory_keyring, sandbox):
    _config(clean_env, dc=sandbox("dc"))
    code, out = _doctor(["--site", "cluod"])
    assert (code, out) == (2, "Error: pmo-jira.toml: no site named 'cluod' (sites: dc)\n")


def test_run_doctor_reports_scope_override_and_local_paths(clean_env, memory_keyring, sandbox):
    dc = sandbox("dc")
    _config(clean_env, dc=dc, extra='projects = ["OPS", "VAULT"]\n')
    report = run_doctor(load_settings(env={}), env=TOKENS)
    checks = {c.name: c for c in report.sites[0].checks}
    assert checks["projects"].detail == "2 in scope"
    assert checks["Browse Projects"].status == "fail"
    assert checks["Browse Projects"].detail == "missing in VAULT: cannot read the project's issues"
    assert [c.name for c in report.local] == ["history", "run lock"] and report.ok is False
