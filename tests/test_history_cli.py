"""`pmo-jira history` through the real command group."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from pmo_jira.cli.main import cli
from pmo_jira.history import HistoryStore

from reports_fixtures import STARTED, finding, item, result

OWNER = finding("PMO-GOV-001", "DIG-1")
DATES = finding("PMO-PLN-001", "DIG-1")
ESTIMATE = finding("PMO-PLN-002", "DIG-2", subject="DIG-7")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "history.sqlite"
    with HistoryStore(path) as s:
        s.record_run(result([OWNER, DATES], [item("DIG-1", "planning")]))
        s.record_run(result([DATES, ESTIMATE], [item("DIG-1", "execution")],
                            started=STARTED + timedelta(days=1),
                            site_errors={"dc": "GET /rest/api/2/search -> 503"}),
                     kind="sync", writes_planned=4, writes_applied=3)
    return str(path)


def run(*args: str):
    return CliRunner().invoke(cli, ["history", *args], catch_exceptions=False)


def test_bare_history_lists_runs_newest_first(db):
    res = run("--db", db)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0].split() == ["ID", "STARTED", "KIND", "MAPPING", "SITES", "OPEN", "NEW",
                                "RESOLVED", "WRITES"]
    assert lines[1].split() == ["2", "2026-03-03T09:00:00Z", "sync", "sandbox", "cloud,dc!", "2",
                                "1", "1", "3/4"]
    assert lines[2].split() == ["1", "2026-03-02T09:00:00Z", "audit", "sandbox", "cloud,dc", "2",
                                "2", "0", "-"]
    assert run("--db", db, "--limit", "1").output.count("sandbox") == 1


def test_unknown_mapping_name_is_not_reported_as_an_empty_history(db):
    res = run("--db", db, "--mapping", "sandbx")
    assert res.exit_code == 0
    assert res.output == f"No runs of mapping 'sandbx' in {db} (recorded mappings: sandbox).\n"


def test_list_as_json(db):
    doc = json.loads(run("--db", db, "--format", "json").output)
    assert doc["schema"] == "pmo-jira/history-runs" and doc["version"] == 1
    newest = doc["runs"][0]
    assert (newest["id"], newest["new"], newest["resolved"], newest["previous"]) == (2, 1, 1, 1)
    assert newest["writes"] == {"planned": 4, "applied": 3, "errors": 0}
    assert newest["site_errors"] == {"dc": "GET /rest/api/2/search -> 503"}


def test_show_lists_new_resolved_and_persisting(db):
    res = run("--db", db, "show", "2")
    assert res.exit_code == 0, res.output
    out = res.output
    assert "Compared with run 1 (2026-03-02T09:00:00Z)" in out
    assert "Site dc could not be audited: GET /rest/api/2/search -> 503" in out
    new, resolved, persisting = (out.split(f"\n{t} (")[1] for t in ("New", "Resolved", "Persisting"))
    assert "PMO-PLN-002  cloud / DIG-2" in new.split("\n\n")[0]
    assert "PMO-GOV-001  cloud / DIG-1" in resolved.split("\n\n")[0]
    assert "PMO-PLN-001  cloud / DIG-1" in persisting.split("\n\n")[0]
    assert "cloud / DIG-1 (epic): planning -> execution" in out


def test_show_as_json_takes_options_before_or_after_the_subcommand(db):
    doc = json.loads(run("--format", "json", "show", "2", "--db", db).output)
    assert doc["schema"] == "pmo-jira/history-delta"
    assert [r["item"] for r in doc["resolved"]] == ["DIG-1"]
    assert [r["code"] for r in doc["new"]] == ["PMO-PLN-002"]
    assert doc["phase_moves"] == [{"site": "cloud", "key": "DIG-1", "kind": "epic",
                                   "before": "planning", "after": "execution"}]


def test_missing_database_lists_nothing_and_creates_nothing(tmp_path):
    path = tmp_path / "none" / "history.sqlite"
    res = run("--db", str(path))
    assert res.exit_code == 0 and "No runs recorded yet" in res.output
    assert not path.exists() and not path.parent.exists()
    res = run("--db", str(path), "show", "1")
    assert res.exit_code == 2 and "does not exist" in res.output


def test_show_on_an_empty_history_says_it_has_no_runs(tmp_path):
    path = tmp_path / "history.sqlite"
    path.touch()  # there, but nothing recorded into it: as a new PostgreSQL database before its first run
    res = run("--db", str(path), "show", "1")
    assert res.exit_code == 2 and res.output.strip() == f"Error: history database {path} has no runs yet: no run 1"


def test_corrupt_database_is_one_error_line_and_exit_2(tmp_path):
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"garbage" * 1000)
    res = CliRunner().invoke(cli, ["history", "--db", str(path)])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: history database {path}")
    assert "Traceback" not in res.output


def test_unknown_run_is_an_error(db):
    res = run("--db", db, "show", "9")
    assert res.exit_code == 2 and "has no run 9" in res.output


def test_listing_ends_with_time_to_fix(db):
    res = run("--db", db)
    # OWNER was open on day one and gone the next day; DATES and ESTIMATE are still open
    assert res.output.splitlines()[-1] == ("Time to fix: 1 findings resolved, median 1.0 days, "
                                           "mean 1.0 days; 2 still open.")
    doc = json.loads(run("--db", db, "--format", "json").output)
    assert doc["time_to_fix"] == {"resolved": 1, "still_open": 2, "median_days": 1.0, "mean_days": 1.0}


def test_a_number_larger_than_any_database_integer_is_no_run_and_no_limit(db):
    huge = "9" * 30
    res = CliRunner().invoke(cli, ["history", "--db", db, "show", huge])
    assert res.exit_code == 2 and res.output.strip() == f"Error: history database {db} has no run {huge}"
    res = run("--db", db, "--limit", huge)
    assert res.exit_code == 0, res.output
    assert res.output.count("sandbox") == 2  # every run


@pytest.mark.parametrize("keep", ["3000000d", "99999999999999d"])
def test_keeping_more_days_than_the_calendar_has_keeps_every_run(db, keep):
    res = CliRunner().invoke(cli, ["history", "--db", db, "prune", "--keep", keep])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("Deleted 0 runs")
    assert run("--db", db).output.count("sandbox") == 2
