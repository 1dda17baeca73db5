"""`pmo-jira report monthly --from-history`: the pack from the run history alone, end to end.

The CLI against the sandbox with the demo's mapping: runs recorded last month and today, then
the pack rendered from the history must say what the pack that reads Jira in the same state says,
and must send no request to Jira.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from io import BytesIO

import pytest
import test_office_sandbox

from pmo_jira.sandbox.generator import REFERENCE_NOW

sb, office_env = test_office_sandbox.sb, test_office_sandbox.office_env  # the sandbox and the demo's mapping
LAST_MONTH = (REFERENCE_NOW.replace(day=1) - timedelta(days=20)).isoformat()
FORMATS = ("json", "markdown", "table", "html")


@pytest.fixture
def recorded(sb, pmo, office_env):
    """A run last month, a score change, a run today: the history a nightly job leaves."""
    first = pmo.run(["audit", "--fail-on", "never", "-q"], sb=sb, env={**office_env, "PMO_JIRA_NOW": LAST_MONTH})
    assert first.exit_code == 0, first.stderr
    riser = next(r for r in reversed(sb.store.issues) if r.type == "Epic" and r.status_category != "done"
                 and r.job_size is not None)
    sb.store.edit(riser.key, business_value=100.0, time_criticality=100.0, job_size=1.0)
    today = pmo.run(["audit", "--fail-on", "never", "-q"], sb=sb, env=office_env)
    assert today.exit_code == 0, today.stderr
    return riser


def from_history(pmo, sb, office_env, *args):
    """The pack from the history, with a Jira URL nothing answers on: it must not be read."""
    requests = len(sb.log)
    done = pmo.run(["report", "monthly", "--from-history", *args], sb=sb,
                   env={**office_env, "PMO_JIRA_URL": "http://127.0.0.1:9"})
    assert len(sb.log) == requests
    return done


def latest_run(pmo, office_env):
    done = pmo.run(["history", "--format", "json", "--limit", "1"], env=office_env)
    assert done.exit_code == 0, done.stderr
    run = json.loads(done.stdout)["runs"][0]
    return run["id"], run["started"][:10]


def test_the_pack_from_the_history_says_what_the_pack_read_from_jira_says(recorded, sb, pmo, office_env):
    run_id, day = latest_run(pmo, office_env)
    for fmt in FORMATS:
        live = pmo.run(["report", "monthly", "--format", fmt, "--no-history"], sb=sb, env=office_env)
        assert live.exit_code == 0, live.stderr
        kept = from_history(pmo, sb, office_env, "--format", fmt)
        assert kept.exit_code == 0, kept.stderr
        # The month ends with the newest recorded run, not with a run of its own: all else is the same.
        assert kept.stdout == live.stdout.replace("to this run.", f"to run {run_id} of {day}."), fmt
    data = json.loads(kept_json := from_history(pmo, sb, office_env, "--format", "json").stdout)
    assert data["strategy-ranking"][0]["Epic"] == recorded.key and data["strategy-ranking"][0]["Change"] > 0
    trend = {row["KPI"]: row for row in data["kpis"]}
    assert [v for k, v in trend["Compliance %"].items() if k != "KPI"][-2:].count("-") == 0
    assert data["resources-people"] and "Baselines moved" in kept_json


def test_the_month_just_ended_from_the_history_is_the_same_pack_in_every_format(recorded, sb, pmo, office_env,
                                                                                tmp_path):
    live_dir, kept_dir = tmp_path / "live", tmp_path / "kept"
    live = pmo.run(["report", "monthly", "--month", "previous", "--format", "all", "--out-dir", str(live_dir),
                    "--no-history", "--from-jira"], sb=sb, env=office_env)
    assert live.exit_code == 0, live.stderr
    kept = from_history(pmo, sb, office_env, "--month", "previous", "--format", "all", "--out-dir", str(kept_dir))
    assert kept.exit_code == 0, kept.stderr
    names = sorted(p.name for p in live_dir.iterdir())
    assert names == sorted(p.name for p in kept_dir.iterdir()) and "monthly.xlsx" in names
    for name in names:
        if name.endswith(".xlsx"):
            assert sheets(live_dir / name) == sheets(kept_dir / name)
        else:
            assert (live_dir / name).read_bytes() == (kept_dir / name).read_bytes(), name


def sheets(path):
    from openpyxl import load_workbook

    book = load_workbook(BytesIO(path.read_bytes()), read_only=True)
    return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def test_without_what_the_pack_needs_the_history_gives_one_error_line(sb, pmo, office_env):
    done = from_history(pmo, sb, office_env)
    assert done.exit_code == 2 and done.stdout == ""
    assert [line for line in done.stderr.splitlines() if "Error:" in line] == [
        line for line in done.stderr.splitlines() if line.startswith("Error: no run history")]

    assert pmo.run(["audit", "--fail-on", "never", "-q"], sb=sb,
                   env={**office_env, "PMO_JIRA_NOW": LAST_MONTH}).exit_code == 0
    this_month = from_history(pmo, sb, office_env)
    assert this_month.exit_code == 2 and "Traceback" not in this_month.stderr
    assert f"the run history has no full run in {REFERENCE_NOW.strftime('%Y-%m')} with mapping" \
           in this_month.stderr and this_month.stderr.count("Error:") == 1
    previous = from_history(pmo, sb, office_env, "--month", "previous", "--format", "json")
    assert previous.exit_code == 0, previous.stderr
    assert f"The resource and strategy views are as of {LAST_MONTH[:10]}, the newest recorded run." \
           in json.loads(previous.stdout)["notes"]

    with sqlite3.connect(pmo.home / "history.sqlite") as db:  # as a run recorded before they were kept
        db.execute("DELETE FROM site_facts WHERE name = 'office-sites'")
    old = from_history(pmo, sb, office_env, "--month", "previous")
    assert old.exit_code == 2 and old.stderr.count("Error:") == 1
    assert "kept no resource and strategy figures" in old.stderr and "Traceback" not in old.stderr


def test_publish_confluence_from_the_history_builds_the_page_the_read_of_jira_builds(recorded, sb, pmo, office_env):
    for report, month in (("monthly", ["--month", "previous"]), ("portfolio", [])):
        args = ["publish-confluence", "--space", "PMO", "--dry-run", "--report", report, *month]
        live = pmo.run([*args, "--no-history"], sb=sb, env=office_env)
        assert live.exit_code == 0, live.stderr
        requests = len(sb.log)
        kept = pmo.run([*args, "--from-history"], sb=sb, env={**office_env, "PMO_JIRA_URL": "http://127.0.0.1:9"})
        assert kept.exit_code == 0, kept.stderr
        assert len(sb.log) == requests  # Jira was not read
        assert kept.stdout == live.stdout and "<table" in kept.stdout, report
    refused = pmo.run(["publish-confluence", "--space", "PMO", "--dry-run", "--report", "strategy", "--from-history"],
                      sb=sb, env=office_env)
    assert refused.exit_code == 2 and refused.stdout == "" and "Traceback" not in refused.stderr
    assert "Error: report 'strategy' cannot be published from the run history (it needs a read of Jira): " \
           "leave out --from-history" in refused.stderr


def test_a_month_that_has_ended_comes_from_the_history_by_default_and_from_jira_when_it_lacks_it(
        recorded, sb, pmo, office_env):
    kept = from_history(pmo, sb, office_env, "--month", "previous", "--format", "json")
    assert kept.exit_code == 0, kept.stderr
    requests = len(sb.log)  # the first working day's pack: no request to Jira, no credentials needed
    default = pmo.run(["report", "monthly", "--month", "previous", "--format", "json"], sb=sb,
                      env={**office_env, "PMO_JIRA_URL": "http://127.0.0.1:9"})
    assert default.exit_code == 0, default.stderr
    assert len(sb.log) == requests and default.stdout == kept.stdout

    this_month = pmo.run(["report", "monthly", "--format", "json", "--no-history"], sb=sb, env=office_env)
    assert this_month.exit_code == 0 and len(sb.log) > requests  # the month in progress reads Jira

    with sqlite3.connect(pmo.home / "history.sqlite") as db:  # runs recorded by a pmo-jira that kept no figures
        db.execute("DELETE FROM site_facts WHERE name = 'office-sites'")
    requests = len(sb.log)
    older = pmo.run(["report", "monthly", "--month", "previous", "--format", "json", "--no-history"], sb=sb,
                    env=office_env)
    assert older.exit_code == 0, older.stderr
    assert len(sb.log) > requests and "Error" not in older.stderr  # read from Jira instead, as before
    assert json.loads(older.stdout)["title"] == json.loads(kept.stdout)["title"]
