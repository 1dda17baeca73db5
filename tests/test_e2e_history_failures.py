"""A run history that cannot take a run's record: found before Jira is read (or written), and
said in one line that does not tell the admin to throw the history away.

A sync against a shared history its account may only read, or one at an older schema, used to
read Jira, write every finding to it and only then fail to record it: the next run could not
tell what it had written. A SQLite history on a full disk or a read-only file was said to be
"unusable" with the advice to move it aside and start a new one."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from test_e2e_multisite import cloud, dc, tokens, write_config  # noqa: F401 - fixtures

from pmo_jira import interrupt
from pmo_jira.errors import PmoError
from pmo_jira.history import HistoryStore, database
from pmo_jira.history import migrate as migrations

from cli_fixtures import one_error_line, writes
from history_fixtures import nights


def _psql(postgres, database_name: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(host="127.0.0.1", port=postgres.port, user=postgres.user, password=postgres.password,
                         dbname=database_name, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def fresh_cloud(sandbox):
    return sandbox("cloud", issues=60, seed=11)


@pytest.mark.parametrize(("rights", "refused"), [
    ("SELECT", "permission denied for table"),
    ("SELECT, INSERT, DELETE", "permission denied for the sequence of runs.id"),  # no USAGE on it
])
def test_a_read_only_database_account_stops_the_sync_before_jira_is_written(pmo, fresh_cloud, postgres,
                                                                            monkeypatch, rights, refused):
    name = postgres.create_database()
    monkeypatch.setenv("PMO_JIRA_HISTORY_PASSWORD", postgres.password)
    with HistoryStore(postgres.url(name), migrate=True):
        pass  # the owner created the tables
    reader, secret = "ro_" + uuid.uuid4().hex[:8], "ro-" + uuid.uuid4().hex[:12]
    _psql(postgres, name, f"CREATE ROLE {reader} LOGIN PASSWORD '{secret}'",
          f"GRANT {rights} ON ALL TABLES IN SCHEMA public TO {reader}")
    url = f"postgresql://{reader}@127.0.0.1:{postgres.port}/{name}"
    res = pmo.run(["sync", "--apply", "--summary-json", "summary.json"], sb=fresh_cloud,
                  env={"PMO_JIRA_HISTORY": url, "PMO_JIRA_HISTORY_PASSWORD": secret})
    assert res.exit_code == 2, res.stderr
    line = one_error_line(res)
    assert line.startswith(f"Error: history database {url} cannot record runs: {refused}")
    assert "grant the account SELECT, INSERT and DELETE" in line and secret not in res.output
    assert writes(fresh_cloud) == [] and json.loads((pmo.home / "summary.json").read_text())["issues_read"] == 0


def _at_revision(postgres, name: str, revision: str) -> None:
    engine = sa.create_engine(f"postgresql+psycopg://{postgres.user}:{postgres.password}@127.0.0.1:"
                              f"{postgres.port}/{name}")
    with engine.begin() as conn:
        command.upgrade(migrations._config(conn), revision)
    engine.dispose()


def test_a_shared_history_at_an_older_schema_stops_the_sync_before_jira_is_written(pmo, fresh_cloud, postgres,
                                                                                  monkeypatch):
    for var, value in postgres.env().items():
        monkeypatch.setenv(var, value)
    name = postgres.create_database()
    _at_revision(postgres, name, "0004")  # as the previous release left it; nobody ran `history migrate`
    res = pmo.run(["sync", "--apply"], sb=fresh_cloud, env={"PMO_JIRA_HISTORY": postgres.url(name)})
    assert res.exit_code == 2, res.stderr
    assert "run `pmo-jira history migrate`" in one_error_line(res)
    assert writes(fresh_cloud) == []


def test_doctor_checks_the_shared_history_a_sync_records_in(pmo, fresh_cloud, postgres, monkeypatch):
    for var, value in postgres.env().items():
        monkeypatch.setenv(var, value)
    name = postgres.create_database()
    url = postgres.url(name)
    _at_revision(postgres, name, "0004")
    res = pmo.run(["doctor"], sb=fresh_cloud, env={"PMO_JIRA_HISTORY": url})
    assert res.exit_code == 1, res.output
    (line,) = [ln for ln in res.stdout.splitlines() if ln.split()[:2] == ["FAIL", "history"]]
    assert "run `pmo-jira history migrate`" in line
    assert pmo.run(["history", "--db", url, "migrate"]).exit_code == 0
    res = pmo.run(["doctor", "--format", "json"], sb=fresh_cloud, env={"PMO_JIRA_HISTORY": url})
    assert res.exit_code == 0, res.output
    (check,) = [c for c in json.loads(res.stdout)["local"] if c["name"] == "history"]
    assert check["status"] == "ok" and "runs can be recorded" in check["detail"]
    res = pmo.run(["doctor"], sb=fresh_cloud, env={"PMO_JIRA_HISTORY": url, "PMO_JIRA_HISTORY_PASSWORD": "not-it-42"})
    assert res.exit_code == 1 and "cannot connect" in res.stdout and "not-it-42" not in res.output


def _sqlite_pragma(monkeypatch, pragma: str) -> None:
    """Every SQLite history connection of the run gets ``pragma`` (a full disk, a read-only file:
    what a test cannot make of a real disk without root)."""
    make = database._sqlite_engine

    def engine(path, timeout):
        made = make(path, timeout)
        sa.event.listen(made, "connect", lambda dbapi, _record: dbapi.execute(pragma))
        return made

    monkeypatch.setattr(database, "_sqlite_engine", engine)


def test_a_read_only_sqlite_history_stops_the_sync_before_jira_is_written(pmo, fresh_cloud, monkeypatch):
    assert pmo.run(["audit", "--fail-on", "never", "-o", "first.json"], sb=fresh_cloud).exit_code == 0
    _sqlite_pragma(monkeypatch, "PRAGMA query_only = ON")
    res = pmo.run(["sync", "--apply"], sb=fresh_cloud)
    assert res.exit_code == 2, res.stderr
    line = one_error_line(res)
    assert "readonly database" in line and "make " in line and "writable" in line
    assert "move the file aside" not in line
    assert writes(fresh_cloud) == []


def test_a_full_disk_after_the_writes_keeps_the_history_and_counts_what_was_written(pmo, fresh_cloud, monkeypatch):
    history = pmo.home / "history.sqlite"
    assert pmo.run(["audit", "--fail-on", "never", "-o", "first.json"], sb=fresh_cloud).exit_code == 0
    with sqlite3.connect(history) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    _sqlite_pragma(monkeypatch, f"PRAGMA max_page_count = {pages}")  # not one page more fits
    res = pmo.run(["sync", "--apply", "--summary-json", "summary.json"], sb=fresh_cloud)
    assert res.exit_code == 2, res.stderr
    line = one_error_line(res)
    assert "disk is full" in line and "free space" in line and "move the file aside" not in line
    summary = json.loads((pmo.home / "summary.json").read_text())
    written = len({w.path.split("/issue/")[1].split("/")[0] for w in writes(fresh_cloud)})
    assert written > 0 and summary["writes_applied"] == summary["writes_planned"] == written
    assert summary["sites"] == ["jira"]
    monkeypatch.undo()
    with sqlite3.connect(history) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with HistoryStore(history) as store:
        assert [r.kind for r in store.runs(None)] == ["audit"]


def test_a_stopped_site_job_names_its_own_site(pmo, cloud, dc, tmp_path):  # noqa: F811
    from pmo_jira.runlock import RunLock

    write_config(tmp_path, cloud.url, dc.url)
    with RunLock(pmo.home / "pmo-jira.lock"):  # another run holds the lock
        res = pmo.run(["sync", "--apply", "--site", "dc-prod", "--summary-json", "summary.json"],
                      env=tokens(cloud, dc))
    assert res.exit_code == 2 and "another pmo-jira run" in one_error_line(res)
    assert "sync: 1 site, 0 issues read" in res.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["sites"] == ["dc-prod"]


def _hold_write_lock(path, seconds: float) -> threading.Thread:
    """Another process's run recording into the SQLite history: its write lock, for ``seconds``."""
    taken = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    taken.wait(10)
    return thread


def test_a_sqlite_write_queues_behind_a_recording_longer_than_the_busy_timeout(tmp_path):
    # recording a run of 100,000 issues holds the write lock for 5 to 12 s, past the 10 s busy
    # timeout; a short one (0.2 s) stands for it here
    first, second = [r for r, _ in nights(issues=40, nights=2)]
    path = tmp_path / "history.sqlite"
    with HistoryStore(path) as store:
        store.record_run(first)
    holder = _hold_write_lock(path, 1.5)
    with HistoryStore(path, timeout=0.2) as store:
        store.record_run(second)
        assert len(store.runs(None)) == 2
    holder.join()


def test_a_stopped_run_does_not_queue_to_record_itself(tmp_path):
    (night,) = [r for r, _ in nights(issues=10, nights=1)]
    path = tmp_path / "history.sqlite"
    HistoryStore(path).close()
    holder = _hold_write_lock(path, 1.5)
    interrupt.STOP.set()  # a stop signal came: the run winds down
    try:
        with HistoryStore(path) as store, pytest.raises(PmoError, match="database is locked"):
            store.record_run(night)
    finally:
        interrupt.STOP.clear()
        holder.join()


def test_a_runner_whose_clock_is_off_the_shared_historys_says_so(pmo, fresh_cloud, postgres, monkeypatch):
    for var, value in postgres.env().items():
        monkeypatch.setenv(var, value)
    url = postgres.url(postgres.create_database())
    res = pmo.run(["audit", "--fail-on", "never", "-o", "first.json"], sb=fresh_cloud, env={"PMO_JIRA_HISTORY": url})
    assert res.exit_code == 0 and "clock" not in res.stderr, res.stderr
    behind = timedelta(minutes=10, seconds=5.5)  # a machine whose time service broke
    monkeypatch.setattr("pmo_jira.history.store._machine_clock", lambda: datetime.now(timezone.utc) - behind)
    res = pmo.run(["audit", "--fail-on", "never", "-o", "second.json"], sb=fresh_cloud, env={"PMO_JIRA_HISTORY": url})
    assert res.exit_code == 0, res.stderr
    (line,) = [ln for ln in res.stderr.splitlines() if "clock" in ln]
    assert "WARNING" in line and f"this machine's clock is 10 min 5 s behind the history database server's {url}" in line


def test_a_sync_without_history_says_why_it_still_needs_the_shared_database(pmo, fresh_cloud, postgres):
    with socket.socket() as s:  # a port nothing listens on: the database server is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://pmo@127.0.0.1:{port}/pmo"
    res = pmo.run(["sync", "--apply", "--no-history"], sb=fresh_cloud,
                  env={"PMO_JIRA_HISTORY": url, **postgres.env()})
    assert res.exit_code == 2
    line = one_error_line(res)
    assert line.startswith("Error: cannot lock site jira in the shared history (a sync locks its sites there "
                           f"before it reads Jira, also with --no-history): history database {url}: cannot connect")
    assert list(fresh_cloud.log) == [] and postgres.password not in res.output  # Jira was not asked
