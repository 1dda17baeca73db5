"""Run history: what is new, resolved and persisting between runs, time-to-fix and trend."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import timedelta

import pytest

from pmo_jira.errors import PmoError
from pmo_jira.findings import Outcome, Severity
from pmo_jira.history import SCHEMA_VERSION, HistoryStore, PerSite

from reports_fixtures import STARTED, WAIVER, finding, item, result

DAY = timedelta(days=1)
OWNER = finding("PMO-GOV-001", "DIG-1")
DATES = finding("PMO-PLN-001", "DIG-1", severity=Severity.MEDIUM)
ESTIMATE = finding("PMO-PLN-002", "DIG-2", severity=Severity.LOW, subject="DIG-7")
DC_RISK = finding("PMO-RSK-001", "OPS-2", site="dc")


@pytest.fixture
def store(history_url):
    """The same tests against a SQLite file and a real PostgreSQL database."""
    with HistoryStore(history_url) as s:
        yield s


def test_creates_parent_folders_and_a_versioned_wal_database(tmp_path):
    path = tmp_path / "a" / "b" / "history.sqlite"
    HistoryStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(SCHEMA_VERSION)


def test_two_runs_give_new_resolved_and_persisting(store):
    first = store.record_run(result([OWNER, DATES], [item("DIG-1", "planning")]))
    second = store.record_run(result([DATES, ESTIMATE], [item("DIG-1", "execution")],
                                     started=STARTED + 3 * DAY))
    d = store.compare()
    assert (d.run.id, d.previous.id) == (second, first)
    assert [r.fingerprint for r in d.new] == [ESTIMATE.fingerprint]
    assert [r.fingerprint for r in d.resolved] == [OWNER.fingerprint]
    assert [(r.fingerprint, r.severity) for r in d.persisting] == [(DATES.fingerprint, "medium")]
    assert [(m.key, m.before, m.after) for m in d.phase_moves] == [("DIG-1", "planning", "execution")]
    assert not d.mapping_changed
    first_delta = store.compare(first)
    assert first_delta.previous is None and len(first_delta.new) == 2


def test_only_open_findings_count_a_waiver_resolves_and_its_expiry_reopens(store):
    waived = finding("PMO-GOV-001", "DIG-1", outcome=Outcome.WAIVED, waiver=WAIVER)
    store.record_run(result([OWNER], []))
    store.record_run(result([waived], [], started=STARTED + DAY))
    assert [r.fingerprint for r in store.compare().resolved] == [OWNER.fingerprint]
    store.record_run(result([OWNER], [], started=STARTED + 2 * DAY))
    assert [r.fingerprint for r in store.compare().new] == [OWNER.fingerprint]


def test_a_site_that_could_not_be_audited_resolves_nothing(store):
    store.record_run(result([OWNER, DC_RISK], []))
    store.record_run(result([OWNER], [], started=STARTED + DAY,
                            site_errors={"dc": "GET /rest/api/2/search -> 503"}))
    d = store.compare()
    assert d.resolved == () and [r.fingerprint for r in d.unchecked] == [DC_RISK.fingerprint]


def test_previous_run_is_of_the_same_mapping_and_by_run_time(store):
    a1 = store.record_run(result([OWNER], [], mapping="alpha"))
    store.record_run(result([], [], mapping="beta", started=STARTED + DAY))
    late_recorded_early_run = store.record_run(result([OWNER, DATES], [], mapping="alpha",
                                                      started=STARTED - DAY))
    a2 = store.record_run(result([DATES], [], mapping="alpha", mapping_hash="changed",
                                 started=STARTED + 2 * DAY))
    d = store.compare(a2)
    assert d.previous.id == a1 and d.mapping_changed
    assert store.compare(a1).previous.id == late_recorded_early_run
    assert [r.id for r in store.runs(mapping="alpha")] == [a2, a1, late_recorded_early_run]


def test_time_to_fix_from_first_seen_to_first_run_without_it(store):
    store.record_run(result([OWNER, DATES, ESTIMATE], []))                    # day 0
    store.record_run(result([DATES, ESTIMATE], [], started=STARTED + 2 * DAY))  # OWNER fixed: 2 days
    store.record_run(result([ESTIMATE], [], started=STARTED + 6 * DAY))         # DATES fixed: 6 days
    store.record_run(result([ESTIMATE, OWNER], [], started=STARTED + 7 * DAY))  # OWNER is back
    store.record_run(result([ESTIMATE], [], started=STARTED + 10 * DAY))        # ... fixed in 3 days
    ttf = store.time_to_fix()
    assert [(f.code, f.days) for f in ttf.fixes] == [("PMO-GOV-001", 2), ("PMO-PLN-001", 6),
                                                     ("PMO-GOV-001", 3)]
    assert (ttf.count, ttf.median_days, ttf.mean_days, ttf.still_open) == (3, 3, 11 / 3, 1)
    assert ttf.by_code()["PMO-GOV-001"].mean_days == 2.5


def test_time_to_fix_is_empty_without_fixes(store):
    store.record_run(result([OWNER], []))
    ttf = store.time_to_fix()
    assert (ttf.count, ttf.median_days, ttf.mean_days, ttf.still_open) == (0, None, None, 1)


def test_compliance_trend_counts_open_findings_per_severity(store):
    waived = finding("PMO-PLN-001", "DIG-1", severity=Severity.MEDIUM, outcome=Outcome.WAIVED,
                     waiver=WAIVER)
    store.record_run(result([OWNER, DATES, ESTIMATE], [item("DIG-1", "execution")]))
    store.record_run(result([OWNER, waived], [item("DIG-1", "execution"), item("DIG-2", None)],
                            started=STARTED + DAY), kind="sync", writes_planned=3, writes_applied=3)
    trend = store.compliance_trend()
    assert [(t.open_total, t.open_by_severity["high"], t.open_by_severity["medium"],
             t.items_checked) for t in trend] == [(3, 1, 1, 1), (1, 1, 0, 2)]
    assert list(trend[0].open_by_severity) == ["critical", "high", "medium", "low", "info"]
    assert [p.run_id for p in store.compliance_trend(limit=1)] == [trend[1].run_id]
    newest = store.runs(1)[0]
    assert (newest.kind, newest.writes_applied, newest.unmapped) == ("sync", 3, 1)


def test_corrupt_database_is_one_line_naming_the_path(tmp_path):
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not a database\n" * 200)
    with pytest.raises(PmoError) as exc:
        HistoryStore(path)
    message = exc.value.one_line()
    assert str(path) in message and "not a database" in message and "\n" not in str(exc.value)


def test_foreign_sqlite_file_and_newer_schema_are_refused(tmp_path):
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(PmoError, match="not a pmo-jira history"):
        HistoryStore(other)
    newer = tmp_path / "newer.sqlite"
    HistoryStore(newer).close()
    db = sqlite3.connect(newer)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    with pytest.raises(PmoError, match="newer pmo-jira"):
        HistoryStore(newer)


def test_unknown_run_and_empty_history_are_clear_errors(store):
    with pytest.raises(PmoError, match="has no runs yet"):
        store.compare()
    with pytest.raises(PmoError, match="has no run 42"):
        store.compare(42)


def test_sqlite_and_postgresql_urls_are_accepted_others_and_passwords_refused(tmp_path):
    assert HistoryStore(f"sqlite:///{tmp_path}/h.sqlite").path == tmp_path / "h.sqlite"
    with pytest.raises(PmoError, match="not a supported history database"):
        HistoryStore("mysql://db/pmo")
    with pytest.raises(PmoError) as err:
        HistoryStore("postgresql://pmo:s3cret-pw@db.example/pmo")
    assert "password in the URL is refused" in str(err.value) and "s3cret-pw" not in str(err.value)


def test_default_location_follows_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("PMO_JIRA_HISTORY", "PMO_JIRA_CONFIG", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    with HistoryStore() as s:
        assert s.path == tmp_path / "xdg" / "pmo-jira" / "history.sqlite"
    assert s.path.exists()


def test_readers_see_committed_runs_while_a_writer_works(history_url):
    path = history_url
    HistoryStore(path).close()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with HistoryStore(path) as s:
                for i in range(5):
                    s.record_run(result([OWNER, DATES], [], started=STARTED + (n * 10 + i) * DAY))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    with HistoryStore(path) as reader:
        while any(t.is_alive() for t in threads):
            for run in reader.runs(None):
                assert run.findings_open == 2
    for t in threads:
        t.join()
    assert errors == []
    with HistoryStore(path) as s:
        assert len(s.runs(None)) == 15


def test_large_per_site_facts_come_back_exactly_as_kept(store):
    """Figures of 100,000 issues are written in pieces; what is read back is what was kept."""
    figures = {"format": 1, "rows": [[f"WEB-{i}", i * 0.5, None, i % 2 == 0, "é\t\"x\""] for i in range(4999)],
               "by_key": {f"K-{i}": [i, (i, "t")] for i in range(2500)}, "empty": [], "nested": {"z": {}, "a": [[]]}}
    store.record_run(result([], [], sites=("cloud",)), facts={"acme-sites": PerSite(cloud=figures)})
    ((_, kept),) = store.latest_site_facts("acme-sites", mapping="sandbox").values()
    assert kept == json.loads(json.dumps(figures))  # tuples come back as lists, as JSON has them
    assert list(kept) == sorted(figures) and list(kept["by_key"])[:3] == ["K-0", "K-1", "K-10"]


def test_per_site_facts_keep_the_newest_run_of_each_site_only(store):
    def run(day, sites, **figures):
        res = result([], [], started=STARTED + timedelta(days=day), sites=sites)
        return store.record_run(res, facts={"acme": {"day": day}, "acme-sites": PerSite(figures)})

    first = run(0, ("cloud", "dc"), cloud={"n": 1}, dc={"n": 2})
    second = run(2, ("cloud",), cloud={"n": 3})
    late = run(1, ("cloud", "dc"), cloud={"n": 9}, dc={"n": 4})  # uploaded late: older than the second
    kept = store.latest_site_facts("acme-sites", mapping="sandbox")
    assert {site: (r.id, data) for site, (r, data) in kept.items()} == {"cloud": (second, {"n": 3}),
                                                                        "dc": (late, {"n": 4})}
    assert store.run_facts(first, "acme") == {"day": 0}  # per-run facts stay with every run
    assert store.latest_site_facts("acme-sites", mapping="other") == {}
    assert store.prune(STARTED + timedelta(days=2)) == 2
    assert list(store.latest_site_facts("acme-sites", mapping="sandbox")) == ["cloud"]


def test_a_history_at_the_newest_revision_opens_without_loading_alembic(tmp_path):
    """Alembic (a tenth of what recording a run holds) loads to create or migrate a history only."""
    import subprocess
    import sys

    from pmo_jira.history import migrate

    assert migrate.stamped_head() == migrate.head()
    path = tmp_path / "history.sqlite"
    opened = ("import sys; from pmo_jira.history import HistoryStore; s = HistoryStore(sys.argv[1]); "
              "print('alembic' in sys.modules)")
    runs = [subprocess.run([sys.executable, "-c", opened, str(path)], capture_output=True, text=True, check=True)
            for _ in range(2)]
    assert [r.stdout.strip() for r in runs] == ["True", "False"]  # created, then opened
