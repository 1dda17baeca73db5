"""One run over a Cloud and a Data Center site named in `pmo-jira.toml`: one report, per-site labels."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import MAPPING, end_state, writes
from sandbox_fixtures import module_site

SEED, ISSUES = 5, 200


cloud = module_site("cloud", issues=ISSUES, seed=SEED)
dc = module_site("dc", issues=ISSUES, seed=SEED)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(folder: Path, cloud_url: str, dc_url: str) -> Path:
    """The documented two-site example (docs/config.md), pointed at the sandboxes."""
    path = folder / "pmo-jira.toml"
    path.write_text(f'''mapping = "{MAPPING}"

[sites.cloud-prod]
url = "{cloud_url}"
flavour = "cloud"
email = "pmo-bot@example.com"

[sites.dc-prod]
url = "{dc_url}"
flavour = "dc"
''', encoding="utf-8")
    return path


def tokens(cloud: SandboxServer, dc: SandboxServer) -> dict[str, str]:
    return {"PMO_JIRA_TOKEN_CLOUD_PROD": cloud.credentials.token,
            "PMO_JIRA_TOKEN_DC_PROD": dc.credentials.token}


def by_site(report: dict) -> dict[str, set[tuple]]:
    out: dict[str, set[tuple]] = {}
    for f in report["findings"]:
        key = (f["code"], f["item"], f["subject"], f["outcome"], f["severity"])
        out.setdefault(f["site"], set()).add(key)
    return out


def test_one_audit_covers_both_sites_and_labels_each_finding(pmo, cloud, dc, tmp_path):
    write_config(tmp_path, cloud.url, dc.url)  # found as ./pmo-jira.toml
    result = pmo.run(["audit", "--format", "json", "--fail-on", "never"], env=tokens(cloud, dc))
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["run"]["sites"] == ["cloud-prod", "dc-prod"] and report["run"]["site_errors"] == {}
    findings = by_site(report)
    assert set(findings) == {"cloud-prod", "dc-prod"}
    assert findings["cloud-prod"] == findings["dc-prod"]  # the same portfolio on both flavours
    for f in report["findings"]:
        host = cloud.url if f["site"] == "cloud-prod" else dc.url
        assert f["url"].startswith(host + "/browse/")  # each finding links into its own site
    assert {i["site"] for i in report["items"]} == {"cloud-prod", "dc-prod"}


def test_one_portfolio_report_covers_both_sites_and_agrees_with_the_audit(pmo, cloud, dc, tmp_path):
    write_config(tmp_path, cloud.url, dc.url)
    audit = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], env=tokens(cloud, dc))
    result = pmo.run(["report", "portfolio", "--format", "json"], env=tokens(cloud, dc))
    assert result.exit_code == 0, result.stderr
    portfolio = json.loads(result.stdout)
    assert portfolio["run"]["sites"] == ["cloud-prod", "dc-prod"]
    rows = {(p["site"], p["key"]): p["findings"]["open"]
            for group in portfolio["portfolios"] for p in group["projects"]}
    assert {site for site, _ in rows} == {"cloud-prod", "dc-prod"}  # every row says its site
    opened = [f for f in json.loads(audit.stdout)["findings"] if f["outcome"] in ("fail", "error")]
    assert sum(rows.values()) == portfolio["totals"]["open_findings"] == len(opened)


def test_one_site_down_fails_that_site_and_audits_the_other(pmo, no_sleep, cloud, dc, tmp_path):
    config = write_config(tmp_path, cloud.url, f"http://127.0.0.1:{_closed_port()}")
    result = pmo.run(["audit", "--config", str(config), "--format", "json", "--fail-on", "never"],
                     env=tokens(cloud, dc))
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error: ")]
    assert len(errors) == 1 and "dc-prod" in errors[0] and "cannot reach" in errors[0]
    (summary,) = [ln for ln in result.stderr.splitlines() if "audit: 2 sites" in ln]
    assert "1 failed: dc-prod" in summary and "exit 2" in summary

    report = json.loads(result.stdout)
    assert set(report["run"]["site_errors"]) == {"dc-prod"}
    assert report["findings"] and {f["site"] for f in report["findings"]} == {"cloud-prod"}


def test_sync_writes_each_site_and_a_site_down_does_not_stop_the_other(pmo, no_sleep, tmp_path):
    with SandboxServer("cloud", issues=ISSUES, seed=SEED) as cloud_w, \
            SandboxServer("dc", issues=ISSUES, seed=SEED) as dc_w:
        env = tokens(cloud_w, dc_w)
        write_config(tmp_path, cloud_w.url, dc_w.url)
        plan = json.loads(pmo.run(["sync", "--plan-json", "-"], env=env).stdout)
        assert plan["not_written"] == []  # one site's issues are not "items without an issue" on the other
        written = {site: {i["key"] for i in plan["issues"] if i["site"] == site}
                   for site in ("cloud-prod", "dc-prod")}
        assert written["cloud-prod"] and written["dc-prod"]

        write_config(tmp_path, cloud_w.url, f"http://127.0.0.1:{_closed_port()}")  # the DC site is down
        down = pmo.run(["sync", "--apply"], env=env)
        assert down.exit_code == 2
        (line,) = [ln for ln in down.stderr.splitlines() if ln.startswith("Error: ")]
        assert "dc-prod" in line and "cannot reach" in line
        assert set(end_state(cloud_w)) == written["cloud-prod"]  # the Cloud site was still synced

        write_config(tmp_path, cloud_w.url, dc_w.url)  # back up
        cloud_w.log.clear()
        back = pmo.run(["sync", "--apply"], env=env)
        assert back.exit_code == 0, back.output
        assert writes(cloud_w) == [] and set(end_state(dc_w)) == written["dc-prod"]

        cloud_w.log.clear()
        dc_w.log.clear()
        again = pmo.run(["sync", "--apply"], env=env)
        assert again.exit_code == 0 and writes(cloud_w) == [] and writes(dc_w) == []
