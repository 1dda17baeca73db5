"""Event storage gives the answers the released full-copy store gave, and grows with change.

The reference is the released store itself (``released_history_v1.py``): the same simulated
nights go into both, and every public answer is compared.
"""

from __future__ import annotations

import sqlite3
from dataclasses import astuple
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from released_history_v1 import HistoryStore as ReleasedStore

from pmo_jira.cli.main import cli
from pmo_jira.errors import PmoError
from pmo_jira.history import SCHEMA_VERSION, FindingRef, HistoryStore, sorted_refs
from pmo_jira.history import migrate as migrations

from history_fixtures import nights
from reports_fixtures import STARTED, finding, item, result


def answers(store, run_ids):
    """Everything the history's public reading functions say, in comparable form."""
    out = {"runs": [(r.id, r.started, r.mapping_name, r.findings_open, r.findings_total, r.items_checked)
                    for r in store.runs(None)],
           "time_to_fix": [(f.fingerprint, f.first_seen, f.resolved) for f in store.time_to_fix().fixes],
           "still_open": store.time_to_fix().still_open,
           "trend": [(t.run_id, t.open_by_severity, t.items_checked) for t in store.compliance_trend(1000)]}
    for run_id in run_ids:
        d = store.compare(run_id)
        out[run_id] = (d.previous.id if d.previous else None, *(
            [astuple(r) for r in refs] for refs in (d.new, d.resolved, d.persisting, d.unchecked, d.phase_moves)),
            {fp: astuple(r) for fp, r in store.open_findings(run_id).items()}, store.item_phases(run_id))
    return out


def record(store, results, **kwargs):
    return [store.record_run(r, **kwargs) for r in results]


def test_event_store_answers_like_the_full_copy_store(history_url, tmp_path):
    runs = [r for r, _ in nights(issues=240, nights=10, churn=0.05)]
    late = runs.pop(4)  # a run uploaded late: it slots in by its start time
    with ReleasedStore(tmp_path / "released.sqlite") as old, HistoryStore(history_url) as new:
        ids = record(old, runs + [late])
        assert record(new, runs + [late]) == ids
        assert answers(new, ids) == answers(old, ids)
        assert new.time_to_fix().count > 5 and any(new.compare(i).resolved for i in ids)


def test_storage_per_night_follows_the_change_not_the_portfolio(tmp_path):
    sizes = {}
    for issues in (400, 2000):
        with HistoryStore(tmp_path / f"h{issues}.sqlite") as store:
            rows = []
            for res, changed in nights(issues=issues, nights=6, churn=0.01):
                before = _rows(store)
                store.record_run(res)
                rows.append((_rows(store) - before, changed))
        first, *later = rows
        assert first[0] > issues  # the first night stores the portfolio once
        for stored, changed in later:
            # one event per changed finding, a few for phase moves, the run and its counts
            assert stored <= 2 * changed + 10, (issues, stored, changed)
        sizes[issues] = sum(s for s, _ in later)
    assert sizes[2000] < 10 * sizes[400]  # 5x the issues, 5x the churn: not 5x the portfolio each night


def _rows(store):
    return sum(store.query(f"SELECT COUNT(*) FROM {t}")[0][0]
               for t in ("runs", "run_counts", "finding_events", "item_events"))


def test_a_site_back_after_an_outage_is_compared_with_its_last_audit(history_url):
    owner = finding("PMO-GOV-001", "OPS-1", site="dc")
    dates = finding("PMO-PLN-001", "DIG-1")
    with HistoryStore(history_url) as store:
        store.record_run(result([owner, dates], [item("OPS-1", "planning", site="dc")]))
        down = store.record_run(result([dates], [], started=STARTED + timedelta(days=1),
                                       site_errors={"dc": "GET /rest/api/2/search -> 503"}))
        back = store.record_run(result([owner], [item("OPS-1", "execution", site="dc")],
                                       started=STARTED + timedelta(days=2)))
        assert [r.fingerprint for r in store.compare(down).unchecked] == [owner.fingerprint]
        d = store.compare(back)
        assert [r.fingerprint for r in d.persisting] == [owner.fingerprint]
        assert [r.fingerprint for r in d.resolved] == [dates.fingerprint] and d.new == ()
        assert [(m.key, m.before, m.after) for m in d.phase_moves] == [("OPS-1", "planning", "execution")]
        assert store.open_findings(down) == {dates.fingerprint: store.compare(down).persisting[0]}


def test_a_released_history_file_upgrades_without_loss(tmp_path):
    path = tmp_path / "history.sqlite"
    runs = [r for r, _ in nights(issues=120, nights=8, churn=0.05)]
    other = [r for r, _ in nights(issues=30, nights=3, mapping="other", seed=3)]
    with ReleasedStore(path) as old:
        ids = record(old, runs[:5]) + record(old, other, kind="sync", writes_planned=2) + record(old, runs[5:])
        before = answers(old, ids)
        old._db.execute("CREATE TABLE portfolio_rag (mapping_name TEXT, started TEXT)")  # a plugin's table
        old._db.execute("INSERT INTO portfolio_rag VALUES ('sandbox', 'x')")
    with HistoryStore(path) as new:
        assert new.migrated_from == "0001"
        assert answers(new, ids) == before
        assert new.query("SELECT * FROM portfolio_rag") == [("sandbox", "x")]
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    assert db.execute("SELECT version_num FROM alembic_version").fetchone() == (migrations.head(),)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "findings" not in tables and "items" not in tables


def test_prune_keeps_what_the_kept_runs_say(history_url, tmp_path):
    runs = [r for r, _ in nights(issues=150, nights=9, churn=0.05)]
    cutoff = STARTED + timedelta(days=4)
    with ReleasedStore(tmp_path / "released.sqlite") as old, HistoryStore(history_url) as new:
        ids = record(old, runs)
        record(new, runs)
        with old.transaction() as db:
            db.execute("DELETE FROM runs WHERE started < ?", (cutoff.isoformat(timespec="microseconds"),))
        assert new.prune(cutoff, dry_run=True) == 4 and len(new.runs(None)) == 9
        assert new.prune(cutoff) == 4
        assert answers(new, ids[4:]) == answers(old, ids[4:])
        assert new.prune(cutoff) == 0


def test_history_prune_and_migrate_commands(tmp_path, monkeypatch):
    path = tmp_path / "history.sqlite"
    with HistoryStore(path) as store:
        record(store, [r for r, _ in nights(issues=40, nights=5)])
    monkeypatch.setenv("PMO_JIRA_NOW", (STARTED + timedelta(days=403)).isoformat())
    res = CliRunner().invoke(cli, ["history", "--db", str(path), "prune", "--keep", "400d"])
    assert res.exit_code == 0, res.output
    assert res.output == (f"Deleted 3 runs that started before 2026-03-05T09:00:00Z (keeping 400 days) "
                          f"from {path}.\n")
    res = CliRunner().invoke(cli, ["history", "--db", str(path), "prune", "--keep", "forever"])
    assert res.exit_code == 2 and "'forever' is not a number of days" in res.output
    res = CliRunner().invoke(cli, ["history", "--db", str(path), "migrate"])
    assert res.output == f"History {path} is up to date (schema revision {migrations.head()}).\n"


def test_a_shared_postgresql_history_is_migrated_only_on_request(postgres, monkeypatch):
    monkeypatch.setenv("PMO_JIRA_HISTORY_PASSWORD", postgres.password)
    database = postgres.create_database()
    url = postgres.url(database)
    engine = sa.create_engine(f"postgresql+psycopg://{postgres.user}:{postgres.password}@127.0.0.1:"
                              f"{postgres.port}/{database}")
    with engine.begin() as conn:  # a history as the first schema left it
        command.upgrade(migrations._config(conn), "0001")
        conn.execute(sa.text("INSERT INTO runs VALUES (1, '2026-03-02T09:00:00.000000+00:00', "
                             "'2026-03-02T09:01:00.000000+00:00', 'audit', 'sandbox', 'h', '[\"cloud\"]', '{}', "
                             "10, 2, 1, 1, 1, 0, 0, 0, 0)"))
        conn.execute(sa.text("INSERT INTO findings VALUES (1, 'fp1', 'PMO-GOV-001', 'cloud', 'DIG', 'DIG-1', "
                             "'high', 'fail', 'execution')"))
    engine.dispose()
    with pytest.raises(PmoError, match="run `pmo-jira history migrate`"):
        HistoryStore(url)
    res = CliRunner().invoke(cli, ["history", "--db", url, "migrate"])
    assert res.output == f"Migrated history {url} from schema revision 0001 to {migrations.head()}.\n"
    with HistoryStore(url) as store:
        assert [(r.code, r.item_key) for r in store.open_findings(1).values()] == [("PMO-GOV-001", "DIG-1")]


def test_postgresql_password_comes_from_the_environment_and_never_shows(postgres, monkeypatch):
    url = postgres.url(postgres.create_database())
    monkeypatch.setenv("PMO_JIRA_HISTORY_PASSWORD", "wrong-password-123")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    res = CliRunner().invoke(cli, ["history", "--db", url, "migrate"])
    assert res.exit_code == 2 and "wrong-password-123" not in res.output
    assert res.output.startswith(f"Error: history database {url}: cannot connect:")
    assert len(res.output.strip().splitlines()) == 1
    monkeypatch.setenv("PMO_JIRA_HISTORY_PASSWORD", postgres.password)
    res = CliRunner().invoke(cli, ["history", "--db", url, "migrate"])
    assert res.output == f"Created history {url} at schema revision {migrations.head()}.\n"


def test_compared_findings_are_listed_in_key_reading_order():
    # as the reports list them (portfolio changes, monthly pack): DIG-9 before DIG-10
    refs = [FindingRef(f"f{k}", "PMO-GOV-001", "acme", "DIG", k, "high", "fail", None)
            for k in ("DIG-10", "DIG-9", "DIG-100", "DIG-1")]
    assert [r.item_key for r in sorted_refs(refs, reading=True)] == ["DIG-1", "DIG-9", "DIG-10", "DIG-100"]
    assert [r.item_key for r in sorted_refs(refs)] == ["DIG-1", "DIG-10", "DIG-100", "DIG-9"]  # the history's own
