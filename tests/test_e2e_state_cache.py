"""Data Center: the sync state is read once per change of an issue, not once per run.

Data Center's search returns no issue properties, so pmo-jira keeps the state it last saw per
issue with the issue's ``updated``; an issue nobody touched costs no request. These runs go
through the real CLI against a Data Center sandbox, with people editing issues in between.
"""

from __future__ import annotations

import sqlite3

import pytest

from pmo_jira.sandbox.server import SandboxServer
from pmo_jira.writeback import STATE_PROPERTY

STATE_PATH = r"/issue/[^/]+/properties/pmo-jira\.state$"


@pytest.fixture
def sb():
    with SandboxServer("dc", issues=200, seed=7) as server:
        yield server


def sync(pmo, sb) -> None:
    result = pmo.run(["sync", "--apply"], sb=sb)
    assert result.exit_code == 0, result.output


def state_reads(sb) -> list[str]:
    return [r.path.split("/")[5] for r in sb.log.matching(method="GET", path=STATE_PATH)]


def labelled(sb) -> list[str]:
    with sb.store.lock:
        return [i.key for i in sb.store.issues if any(label.startswith("pmo-") for label in i.labels or ())]


def test_an_unchanged_sync_reads_no_state_and_writes_nothing(pmo, sb):
    sync(pmo, sb)
    assert labelled(sb), "the first sync labelled issues"
    sb.log.clear()
    sync(pmo, sb)
    assert state_reads(sb) == []
    assert not [r for r in sb.log if r.method != "GET"], "nothing to write"
    projects = sum(1 for p in sb.store.projects.values() if p.browsable)
    assert len(sb.log) <= 1 + projects + 20  # one page of 1,000, a property read per project, a few more
    assert (pmo.home / "pmo-jira-state.sqlite").is_file(), "the cache lives next to the history"


def test_an_issue_a_person_edits_is_read_again_and_only_that_one(pmo, sb):
    sync(pmo, sb)
    edited = labelled(sb)[:3]
    person = next(u.account_id for u in sb.store.users.values() if u.account_id != sb.store.bot.account_id)
    for key in edited:
        sb.store.add_comment_as(person, key, "Looked at this today.")  # any change moves `updated`
    sb.log.clear()
    sync(pmo, sb)
    assert sorted(state_reads(sb)) == sorted(edited)
    sb.log.clear()
    sync(pmo, sb)
    assert state_reads(sb) == [], "read again once, then known"


def test_a_state_changed_by_someone_else_is_not_taken_from_the_cache(pmo, sb):
    sync(pmo, sb)
    key = labelled(sb)[0]
    with sb.store.lock:
        labels_before = set(sb.store.issue(key).labels)
    sb.store.delete_property(key, STATE_PROPERTY)  # another tool (or a person) removed pmo-jira's state
    sb.log.clear()
    sync(pmo, sb)
    assert state_reads(sb) == [key]
    with sb.store.lock:
        rec = sb.store.issue(key)
        assert STATE_PROPERTY in (rec.properties or {}), "the state is written again"
        assert set(rec.labels) == labels_before


def test_an_unusable_cache_file_costs_requests_not_the_run(pmo, sb, caplog):
    sync(pmo, sb)
    cache = pmo.home / "pmo-jira-state.sqlite"
    for extra in ("-wal", "-shm"):
        (pmo.home / ("pmo-jira-state.sqlite" + extra)).unlink(missing_ok=True)
    cache.write_bytes(b"not a database at all" * 100)
    sb.log.clear()
    sync(pmo, sb)
    assert sorted(state_reads(sb)) == sorted(labelled(sb)), "every state read from Jira instead"
    assert not [r for r in sb.log if r.method != "GET"]
    assert "state cache" in caplog.text and "not usable" in caplog.text


def test_the_cache_keeps_one_row_per_written_issue(pmo, sb):
    sync(pmo, sb)
    with sqlite3.connect(pmo.home / "pmo-jira-state.sqlite") as db:
        rows = db.execute("SELECT issue, updated FROM issue_property WHERE property = ?", (STATE_PROPERTY,)).fetchall()
    with sb.store.lock:
        stamps = {i.key: i.updated for i in sb.store.issues}
    assert sorted(k for k, _ in rows) == sorted(labelled(sb))
    from pmo_jira.sandbox.shapes import fmt_datetime
    assert all(fmt_datetime(stamps[k]) == u for k, u in rows), "kept at the issue's current updated"
