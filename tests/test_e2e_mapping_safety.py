"""A mapping that would make a run read or write the wrong thing stops it before any write.

The real CLI against the sandbox, both flavours: a JQL injection in the mapping or on the command
line, JQL the site refuses, and a bound field an admin renamed between two runs.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import MAPPING, one_error_line, writes

ISSUES = 120


@pytest.fixture(params=["cloud", "dc"])
def sb(request):
    with SandboxServer(request.param, issues=ISSUES, seed=11) as server:
        yield server


def mapping_with(tmp_path: Path, old: str, new: str) -> Path:
    """mappings/sandbox.yaml with one line changed."""
    text = MAPPING.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "mapping.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def rename_field(sb: SandboxServer, old: str, new: str) -> None:
    """What an admin does in Jira administration > Custom fields > Edit."""
    with sb.store.lock:
        (field,) = [f for f in sb.store.fields if f.name == old]
        renamed = dataclasses.replace(field, name=new)
        sb.store.fields = tuple(renamed if f is field else f for f in sb.store.fields)
        sb.store.field_by_id[field.id] = renamed


INJECTION = 'jql: "status != Done) OR (project is not EMPTY"'


def test_a_scope_jql_injection_is_refused_by_check_and_by_sync_before_any_request(pmo, sb, tmp_path):
    path = mapping_with(tmp_path, 'jql: ""', INJECTION)
    line = line_of(path, "project is not EMPTY")

    check = pmo.run(["mappings", "check", str(path)])
    assert check.exit_code == 2
    assert check.stderr.strip().startswith(f"{path}:{line}: scope.jql: ')' at character 15 closes a parenthesis")

    sb.log.clear()
    result = pmo.run(["sync", "--apply"], sb=sb, env={"PMO_JIRA_MAPPING": str(path)})
    assert result.exit_code == 2, result.output
    assert f"{path}:{line}: scope.jql:" in one_error_line(result)
    assert len(sb.log) == 0  # refused before the site was asked anything


def test_a_jql_injection_on_the_command_line_is_refused(pmo, sb):
    sb.log.clear()
    result = pmo.run(["sync", "--apply", "--jql", "key = X-1) OR (project is not EMPTY"], sb=sb)
    assert result.exit_code == 2, result.output
    assert "--jql: ')' at character 10 closes a parenthesis" in one_error_line(result)
    assert len(sb.log) == 0


def test_jql_the_site_refuses_stops_that_site_before_any_write(pmo, sb, tmp_path):
    path = mapping_with(tmp_path, 'jql: ""', 'jql: "nosuchfield = 3"')
    sb.log.clear()
    result = pmo.run(["sync", "--apply"], sb=sb, env={"PMO_JIRA_MAPPING": str(path)})
    assert result.exit_code == 2, result.output
    error = one_error_line(result)
    assert f"{path}:{line_of(path, 'nosuchfield')}: scope.jql: {sb.url} refuses this JQL" in error
    assert "nosuchfield" in error.split("refuses this JQL", 1)[1]
    assert writes(sb) == []
    assert not [r for r in sb.log if "/search" in r.path and r.method == "POST" and "jql" not in r.path]


def test_a_renamed_bound_field_stops_the_next_sync_before_any_write(pmo, sb):
    first = pmo.run(["sync", "--apply"], sb=sb)
    assert first.exit_code == 0, first.output
    assert writes(sb)  # the first night wrote findings, some of them about the sponsor
    rename_field(sb, "Sponsor", "Project sponsor")

    sb.log.clear()
    result = pmo.run(["sync", "--apply"], sb=sb)
    assert result.exit_code == 2, result.output
    error = one_error_line(result)
    assert f"{MAPPING}:{line_of(MAPPING, 'sponsor: ')}: fields.sponsor: {sb.url} has no field 'Sponsor'" \
        in error
    assert "did you mean 'Project sponsor'?" in error
    assert writes(sb) == []  # nothing written: no "fixed" comments, no labels removed

    rename_field(sb, "Project sponsor", "Sponsor")  # the admin puts it back: the next night is clean again
    sb.log.clear()
    again = pmo.run(["sync", "--apply"], sb=sb)
    assert again.exit_code == 0, again.output
    assert writes(sb) == []



def test_the_resolution_guard_holds_a_site_back_until_told_once(pmo, sb, tmp_path):
    first = pmo.run(["sync", "--apply"], sb=sb)
    assert first.exit_code == 0, first.output
    before = {r.key: sorted(r.labels or ()) for r in sb.store.issues}
    # a careless edit: only critical findings written from now on, so most open ones would "resolve"
    path = mapping_with(tmp_path, "severities: [medium, high, critical]", "severities: [critical]")
    env = {"PMO_JIRA_MAPPING": str(path)}

    dry = pmo.run(["sync"], sb=sb, env=env)
    assert dry.exit_code == 0, dry.output
    (warning,) = [ln for ln in dry.stdout.splitlines() if ln.startswith("warning: ")]
    assert re.fullmatch(r"warning: jira: \d+ of \d+ open findings \(\d+%\) would be marked fixed in one run, "
                        r"more than writeback\.max_resolved_share \(50%\); if that is real, apply it once with "
                        r"`pmo-jira sync --apply --allow-mass-resolve`", warning), warning

    sb.log.clear()
    held = pmo.run(["sync", "--apply"], sb=sb, env=env)
    assert held.exit_code == 2, held.output
    (line,) = [ln for ln in held.stderr.splitlines() if "max_resolved_share" in ln]
    assert "not written:" in line and "--allow-mass-resolve" in line
    assert writes(sb) == []
    assert {r.key: sorted(r.labels or ()) for r in sb.store.issues} == before

    allowed = pmo.run(["sync", "--apply", "--allow-mass-resolve"], sb=sb, env=env)
    assert allowed.exit_code == 0, allowed.output
    assert writes(sb)  # told once: the fixed findings are cleared
    again = pmo.run(["sync", "--apply"], sb=sb, env=env)
    assert again.exit_code == 0 and "warning:" not in again.stdout  # and the next night is ordinary


def test_an_expired_waiver_warns_in_a_run_and_its_finding_is_open_again(pmo, sb, tmp_path):
    path = mapping_with(tmp_path, "waivers: []", "waivers:\n  - {standard: PMO-GOV-001, item: DIG-1, owner: ann, "
                                                 "reason: handover, expires: 2026-01-01}")
    result = pmo.run(["audit", "--fail-on", "never", "--no-history"], sb=sb, env={"PMO_JIRA_MAPPING": str(path)})
    assert result.exit_code == 0, result.output  # a waiver running out never stops the nightly run
    assert (f"{path}:{line_of(path, 'expires: 2026-01-01')}: waivers[0].expires: the waiver expired on 2026-01-01, "
            "so it waives nothing (renew it with a later date, or delete it)") in result.stderr
    check = pmo.run(["mappings", "check", str(path)])  # the same "now" (PMO_JIRA_NOW): an error there
    assert check.exit_code == 2 and "waivers[0].expires: the waiver expired on 2026-01-01" in check.stderr
