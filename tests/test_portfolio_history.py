"""Change since the last run: new / resolved findings, phase moves, RAG moves, scope growth, trend."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta

import pytest

from pmo_jira.history import SCHEMA_VERSION, HistoryStore
from pmo_jira_portfolio.render_text import render_json, render_table
from pmo_jira_portfolio.rollup import build_rollup

from portfolio_fixtures import NOW, portfolio_context, portfolio_snapshot
from standards_fixtures import child, epic, risk

LATER = NOW + timedelta(days=1)


def next_week_snapshot():
    """A day later: WEB-20 got its mitigation, WEB-2 moved to execution, WEB-1 gained two open children."""
    snap = portfolio_snapshot()
    replaced = {
        "WEB-20": risk("WEB-20", "WEB-1", impact="High", mitigation="Pair reviews"),
        "WEB-2": epic("WEB-2", "Execution", target_end=snap_date(snap, "WEB-2"), updated=NOW),
    }
    issues = [replaced.get(i.key, i) for i in snap.issues]
    issues += [child("WEB-15", "WEB-1", points=1.0), child("WEB-16", "WEB-1", points=1.0)]
    return dataclasses.replace(snap, issues=tuple(issues), fetched_at=LATER)


def snap_date(snap, key):
    return next(i for i in snap.issues if i.key == key).fields["target_end"]


@pytest.fixture
def store(tmp_path):
    with HistoryStore(tmp_path / "history.sqlite") as s:
        yield s


def test_without_history_the_report_says_there_is_no_previous_run():
    r = build_rollup(portfolio_context())
    assert r.changes.baseline == "no previous run (no run history kept)"
    assert len(r.changes.trend) == 1 and r.changes.trend[0].open_total == r.open_total
    assert "Compared with: no previous run (no run history kept)" in render_table(r)


def test_first_recorded_run_has_every_open_finding_new(store):
    ctx = portfolio_context(store)
    store.record_run(ctx.result)
    r = build_rollup(ctx)
    assert r.changes.baseline == "no previous run of this mapping"
    assert len(r.changes.new) == len(ctx.result.open_findings())
    assert r.rag_moves == ()


def test_second_run_reports_resolved_findings_phase_and_rag_moves_and_scope_growth(store):
    first = portfolio_context(store)
    first_id = store.record_run(first.result)
    build_rollup(first)  # keeps this run's RAG rows
    second = portfolio_context(store, snapshots=[next_week_snapshot()], now=LATER)
    store.record_run(second.result)
    r = build_rollup(second)

    assert r.changes.previous.id == first_id
    assert r.changes.baseline.startswith(f"run {first_id} of 2026-11-25 12:00 UTC")
    assert [(f.code, f.item_key) for f in r.changes.resolved] == [("PMO-RSK-002", "WEB-1")]
    assert [(m.key, m.before, m.after) for m in r.changes.phase_moves] == [
        ("WEB", "planning", "execution"), ("WEB-2", "planning", "execution")]
    web = r.projects[r.projects["project"] == "WEB"].iloc[0]
    assert web["resolved_findings"] == 1
    assert web["m_scope"] == 100.0  # open children 2 -> 4
    assert web["rag_scope"] == "red"
    moves = {(m.level, m.key, m.dimension): (m.before, m.after) for m in r.rag_moves}
    assert moves[("project", "WEB", "scope")] == ("none", "red")
    assert moves[("epic", "WEB-1", "scope")] == ("none", "red")
    assert [p.open_total for p in r.changes.trend] == [6, len(second.result.open_findings())]

    doc = render_json(r)
    assert '"previous_run": 1' in doc and '"dimension": "scope"' in doc


def test_rendered_before_recording_as_pmo_jira_report_does_the_next_run_still_sees_the_rag(store):
    first = portfolio_context(store)
    build_rollup(first)  # `pmo-jira report` renders, then records the run
    first_id = store.record_run(first.result)
    second = portfolio_context(store, snapshots=[next_week_snapshot()], now=LATER)
    r = build_rollup(second)
    store.record_run(second.result)
    assert r.changes.run_id is None and r.changes.previous.id == first_id
    assert [(f.code, f.item_key) for f in r.changes.resolved] == [("PMO-RSK-002", "WEB-1")]
    assert ("WEB-2", "planning", "execution") in [(m.key, m.before, m.after) for m in r.changes.phase_moves]
    assert ("project", "WEB", "scope") in {(m.level, m.key, m.dimension) for m in r.rag_moves}
    assert len(r.changes.trend) == 2  # the recorded run, then this one
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT COUNT(DISTINCT started) FROM portfolio_rag").fetchone() == (2,)


def test_the_history_schema_is_left_alone(store):
    ctx = portfolio_context(store)
    run_id = store.record_run(ctx.result)
    build_rollup(ctx)
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    levels = dict(db.execute("SELECT level, COUNT(*) FROM portfolio_rag WHERE mapping_name = 'test'"
                             " GROUP BY level").fetchall())
    assert levels == {"portfolio": 3, "project": 3, "epic": 5}
    db.close()
    with HistoryStore(store.path) as again:  # the history still opens and compares
        assert again.compare(run_id).run.id == run_id
