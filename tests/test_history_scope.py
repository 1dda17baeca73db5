"""Only full, finished runs are compared. A run of one site is a full run of that site; a run
narrowed by --project/--jql, or stopped by a signal, is kept for the record and never compared,
nor compared against. On SQLite and PostgreSQL, and from every released schema."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner

from pmo_jira.cli.main import cli
from pmo_jira.history import HistoryStore
from pmo_jira.history import migrate as migrations
from pmo_jira.history.database import find_password, parse_target

from reports_fixtures import STARTED, finding, item, result

A1 = finding("PMO-GOV-001", "DIG-1", site="cloud")
A2 = finding("PMO-PLN-001", "DIG-2", site="cloud")
B1 = finding("PMO-GOV-001", "OPS-1", site="dc")
B2 = finding("PMO-PLN-001", "OPS-2", site="dc")
ITEMS = [item("DIG-1", "planning"), item("DIG-2", "planning"),
         item("OPS-1", "execution", site="dc"), item("OPS-2", "execution", site="dc")]


def day(n: int):
    return STARTED + timedelta(days=n)


def fps(refs) -> list[str]:
    return sorted(r.fingerprint for r in refs)


@pytest.mark.parametrize("marker", [{"narrowed": "--project DIG"}, {"interrupted": "SIGTERM"}])
def test_a_narrowed_or_interrupted_run_is_kept_but_never_compared(history_url, marker):
    with HistoryStore(history_url) as store:
        first = store.record_run(result([A1, A2, B1], ITEMS))
        # only DIG-1 was looked at: against a full run, A2 and B1 would count as resolved
        partial = store.record_run(result([A1], ITEMS[:1], started=day(1)), **marker)
        full = store.record_run(result([A1, A2, B1], ITEMS, started=day(2)))
        d = store.compare(partial)
        assert not d.compared and d.previous is None
        assert (d.new, d.resolved, d.persisting, d.unchecked) == ((), (), (), ())
        d = store.compare(full)
        assert d.previous is not None and d.previous.id == first  # the partial run is skipped
        assert d.new == () and d.resolved == () and fps(d.persisting) == fps([A1, A2, B1])
        kept = store.run(partial)
        assert (kept.narrowed, kept.interrupted) == (marker.get("narrowed"), marker.get("interrupted"))
        assert kept.checked_sites == frozenset() and not kept.compared
        assert [r.id for r in store.runs(None, compared=True)] == [full, first]
        assert [p.run_id for p in store.compliance_trend()] == [first, full]
        assert store.latest_full_runs() == {"cloud": store.run(full), "dc": store.run(full)}
        assert store.time_to_fix().count == 0
        assert store.last_run_before(day(2), mapping="sandbox").id == first


def test_a_partial_run_recorded_late_changes_no_later_comparison(history_url):
    with HistoryStore(history_url) as store:
        store.record_run(result([A1, A2], ITEMS))
        later = store.record_run(result([A1], ITEMS, started=day(2)))
        before = store.compare(later)
        store.record_run(result([], [], started=day(1)), narrowed="--jql \"labels = x\"")
        assert store.compare(later) == before
        assert fps(before.resolved) == fps([A2])


def test_a_run_of_one_site_is_a_full_run_of_that_site_only(history_url):
    """`sync --site cloud` between two full runs: nothing of dc looks new or resolved."""
    with HistoryStore(history_url) as store:
        first = store.record_run(result([A1, B1, B2], ITEMS))
        one_site = store.record_run(result([A1, A2], ITEMS[:2], started=day(1), sites=("cloud",)))
        assert {s: r.id for s, r in store.latest_full_runs().items()} == {"cloud": one_site, "dc": first}
        full = store.record_run(result([A1, A2, B1], ITEMS, started=day(2)))
        d = store.compare(one_site)
        assert fps(d.new) == fps([A2]) and d.resolved == () and fps(d.persisting) == fps([A1])
        d = store.compare(full)
        assert d.new == ()  # A2 opened in the site run, B1 long before
        assert fps(d.resolved) == fps([B2]) and fps(d.persisting) == fps([A1, A2, B1])
        # what was open when the site run ended: cloud as that run found it, dc as the first did
        assert set(store.known_findings(one_site)) == {A1.fingerprint, A2.fingerprint,
                                                       B1.fingerprint, B2.fingerprint}
        assert set(store.open_findings(one_site)) == {A1.fingerprint, A2.fingerprint}
        assert store.known_phases(one_site)[("dc", "OPS-1")] == ("epic", "execution")


def _history(*args: str):
    return CliRunner().invoke(cli, ["history", *args], catch_exceptions=False)


def test_history_lists_full_runs_and_with_all_the_others_marked(tmp_path):
    db = str(tmp_path / "history.sqlite")
    with HistoryStore(db) as store:
        store.record_run(result([A1, B1], ITEMS))
        store.record_run(result([A1], ITEMS[:1], started=day(1)), narrowed="--project DIG")
        store.record_run(result([A1, B1], ITEMS, started=day(2)), kind="sync", interrupted="SIGTERM",
                         writes_planned=2, writes_applied=1)
    out = _history("--db", db).output
    assert [ln.split()[0] for ln in out.splitlines()[1:3]] == ["1", "2"]
    assert "2 narrowed or interrupted runs not listed (never compared; --all lists them)." in out
    lines = _history("--db", db, "--all").output.splitlines()
    assert lines[1].split()[:3] == ["3", "2026-03-04T09:00:00Z", "sync"] and "(interrupted)" in lines[1]
    assert lines[1].split()[-3:] == ["-", "-", "1/2"]
    assert "(narrowed)" in lines[2] and lines[2].split()[-3:] == ["-", "-", "-"]
    assert "narrowed (--project/--jql) and interrupted runs are kept, never compared" in lines
    doc = json.loads(_history("--db", db, "--all", "--format", "json").output)
    assert [(r["id"], r["compared"], r["narrowed"], r["interrupted"]) for r in doc["runs"]] == [
        (3, False, None, "SIGTERM"), (2, False, "--project DIG", None), (1, True, None, None)]
    assert json.loads(_history("--db", db, "--format", "json").output)["not_listed"] == 2
    shown = _history("--db", db, "show", "2").output
    assert "This run was narrowed by --project DIG: it is kept for the record and never compared" in shown
    shown = _history("--db", db, "show", "3").output
    assert "This run was interrupted by SIGTERM" in shown


# --- from every released schema ----------------------------------------------------------------

RUN_ROW = ("INSERT INTO runs (started, finished, kind, mapping_name, mapping_hash, sites, site_errors, "
           "issues_read, requests, findings_total, findings_open, items_checked, unmapped, writes_planned, "
           "writes_applied, errors) VALUES ('2026-03-02T09:00:00.000000+00:00', "
           "'2026-03-02T09:01:00.000000+00:00', 'audit', 'sandbox', 'h', '[\"cloud\"]', '{}', "
           "10, 2, 1, 1, 1, 0, 0, 0, 0)")


@pytest.mark.parametrize("revision", ["0001", "0002", "0003", "0004"])
def test_every_released_schema_upgrades_to_runs_that_are_compared(history_url, revision):
    target = parse_target(history_url)
    url = (sa.engine.URL.create("sqlite+pysqlite", database=str(target.path)) if target.path
           else target.url.set(password=find_password(target)))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrations._config(conn), revision)
        conn.execute(sa.text(RUN_ROW))
    engine.dispose()
    with HistoryStore(history_url, migrate=True) as store:
        assert store.migrated_from == revision
        (old,) = store.runs(None)
        assert old.compared and old.narrowed is None and old.interrupted is None
        new = store.record_run(result([A1], ITEMS[:1], started=day(1)), narrowed="--project DIG")
        assert store.run(new).narrowed == "--project DIG"
        assert [r.id for r in store.runs(None, compared=True)] == [old.id]
