"""The CLI as a person at a terminal meets it: typo suggestions, refused report options, error
lines before the summary that points at them, and a quiet end when the reader of stdout leaves."""

from __future__ import annotations

import subprocess

import pytest

from cli_fixtures import run_subprocess, site_env
from sandbox_fixtures import module_site

cloud = module_site("cloud", issues=120, seed=3)


@pytest.mark.parametrize(("args", "line"), [
    (["audti"], "Error: No such command 'audti' (did you mean 'audit'?)."),
    (["history", "shw", "1"], "Error: No such command 'shw' (did you mean 'show'?)."),
    (["standards", "lst"], "Error: No such command 'lst' (did you mean 'list'?)."),
    (["sandbox", "serv"], "Error: No such command 'serv' (did you mean 'serve'?)."),
    (["report", "portfolo"], "Error: no report named 'portfolo' (did you mean 'portfolio'? installed: "),
])
def test_a_mistyped_command_gets_a_suggestion_and_exit_2(pmo, args, line):
    result = pmo.run(args)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith(line), result.stderr
    assert "Traceback" not in result.output


def test_a_command_nothing_resembles_gets_no_guess(pmo):
    result = pmo.run(["xyzzy"])
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == "Error: No such command 'xyzzy'."


@pytest.mark.parametrize(("args", "line"), [
    (["report", "portfolio", "--option", "foo=bar"],
     "Error: report 'portfolio' has no option 'foo' (options: level)"),
    (["report", "portfolio", "--option", "levle=epics"],
     "Error: report 'portfolio' has no option 'levle' (did you mean 'level'? options: level)"),
    (["report", "resources", "--option", "foo=bar"], "Error: report 'resources' takes no options (got --option foo=...)"),
    (["report", "monthly", "--option", "mnth=2026-11"],
     "Error: report 'monthly' has no option 'mnth' (did you mean 'month'? options: month)"),
    (["report", "portfolio", "--option", "foo"], "Error: --option 'foo': expected KEY=VALUE, e.g. --option level=epics"),
    (["report", "portfolio", "--option", "=epics"], "Error: --option '=epics': expected KEY=VALUE, e.g. --option level=epics"),
    (["report", "portfolio", "--format", "csv", "--level", "tasks"],
     "Error: --level 'tasks': expected one of portfolios, projects, epics, findings, definitions"),
    (["report", "portfolio", "--format", "html", "--level", "epics"],
     "Error: --level picks one file of --format csv; the other formats hold every level"),
    (["report", "resources", "--level", "epics"], "Error: report 'resources' takes no --level"),
    (["report", "portfolio", "--format", "csv"],
     "Error: format 'csv' of report 'portfolio' is 5 files (portfolios.csv, projects.csv, epics.csv, findings.csv, "
     "definitions.csv): give --output DIR or --out-dir DIR (or --level to pick one)"),
])
def test_bad_report_options_are_refused_before_any_read(pmo, args, line):
    # no site is configured: a refusal that came after reading would be a different error
    result = pmo.run(args)
    assert result.exit_code == 2
    assert result.stderr == line + "\n"


def test_the_summary_saying_the_error_is_above_comes_after_the_error(pmo, cloud):
    result = pmo.run(["sync", "--apply", "--max-writes", "1"], sb=cloud)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    error = next(i for i, ln in enumerate(lines) if ln.startswith("Error: ") and "--max-writes" in ln)
    summary = next(i for i, ln in enumerate(lines) if "stopped early (the error is above)" in ln)
    assert error < summary, result.stderr


def test_the_stopped_summary_follows_the_error_in_json_logs_too(pmo, cloud):
    import json

    result = pmo.run(["sync", "--apply", "--max-writes", "1", "--log-format", "json"], sb=cloud)
    records = [json.loads(ln) for ln in result.stderr.splitlines()]
    levels = [(r["level"], "summary" in r) for r in records]
    assert levels[-2:] == [("error", False), ("info", True)]


# --- a reader that leaves early (`| head -1`) --------------------------------------------------


def _closed_stdout(args: list[str], env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    """Run pmo-jira with its stdout a real pipe whose reader has already gone."""
    proc = run_subprocess(args, env, cwd)
    proc.stdout.close()  # long before Python has started, let alone printed
    stderr = proc.stderr.read()
    proc.stderr.close()
    return subprocess.CompletedProcess(args, proc.wait(timeout=120), "", stderr)


def test_audit_into_a_closed_pipe_ends_quietly_and_the_run_still_counts(cloud, tmp_path):
    env = {**site_env(cloud), "PMO_JIRA_HISTORY": str(tmp_path / "h.sqlite"), "PMO_JIRA_NOW": "2026-01-15T09:00:00+00:00"}
    done = _closed_stdout(["audit", "--fail-on", "high"], env, tmp_path)
    assert "Error" not in done.stderr and "Traceback" not in done.stderr and "Broken pipe" not in done.stderr
    assert done.returncode == 1  # the audit's own verdict: findings at or above high
    assert "audit: 1 site" in done.stderr  # the summary line: the run finished

    listed = subprocess.run(["bash", "-c", "pmo-jira history --db \"$DB\" | head -1; echo \"exit ${PIPESTATUS[0]}\""],
                            env={**_path_env(), "DB": str(tmp_path / "h.sqlite")},
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert listed.stdout.splitlines()[0].split()[:3] == ["ID", "STARTED", "KIND"]  # the run was recorded
    shown = _closed_stdout(["history", "show", "1", "--db", str(tmp_path / "h.sqlite")], {}, tmp_path)
    assert shown.stderr == "" and shown.returncode == 141


def _path_env() -> dict[str, str]:
    import os
    import sys
    from pathlib import Path

    return {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", "HOME": os.environ.get("HOME", "/")}
