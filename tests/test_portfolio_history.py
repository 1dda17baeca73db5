"""Change since the last run: new / resolved findings, phase moves, RAG moves, scope growth, trend."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from released_history_v1 import HistoryStore as ReleasedStore

from pmo_jira.history import SCHEMA_VERSION, HistoryStore, stored_time
from pmo_jira.history import migrate as migrations
from pmo_jira.run.facts import collect_run_facts
from pmo_jira_portfolio.render_text import render_json, render_table
from pmo_jira_portfolio.rollup import build_rollup
from pmo_jira_portfolio.runs import RowState, rag_rows

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


def record(store, ctx):
    """Record the run as every command does: with what the plugins keep of it (the RAG rows)."""
    return store.record_run(ctx.result, facts=collect_run_facts(ctx.result, ctx.snapshots, ctx.mapping, ctx.now,
                                                                store))


def table_rows(store):
    return {t: store.query(f"SELECT COUNT(*) FROM {t}")[0][0]
            for t in ("runs", "run_counts", "finding_events", "item_events", "run_facts", "site_facts")}


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
    first_id = record(store, first)  # keeps this run's RAG rows
    second = portfolio_context(store, snapshots=[next_week_snapshot()], now=LATER)
    record(store, second)
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
    first_id = record(store, first)
    second = portfolio_context(store, snapshots=[next_week_snapshot()], now=LATER)
    r = build_rollup(second)
    record(store, second)
    assert r.changes.run_id is None and r.changes.previous.id == first_id
    assert [(f.code, f.item_key) for f in r.changes.resolved] == [("PMO-RSK-002", "WEB-1")]
    assert ("WEB-2", "planning", "execution") in [(m.key, m.before, m.after) for m in r.changes.phase_moves]
    assert ("project", "WEB", "scope") in {(m.level, m.key, m.dimension) for m in r.rag_moves}
    assert len(r.changes.trend) == 2  # the recorded run, then this one
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT COUNT(*) FROM run_facts WHERE name = 'portfolio'").fetchone() == (2,)


def test_rendering_writes_nothing_the_recorded_run_keeps_its_rag_rows(store):
    ctx = portfolio_context(store)
    before = table_rows(store)
    for _ in range(2):
        build_rollup(ctx)
    assert table_rows(store) == before  # rendering is pure, however often
    run_id = record(store, ctx)
    kept = rag_rows(store, "test", ctx.result.started)
    levels = {level: sum(1 for lv, _, _ in kept if lv == level) for level in ("portfolio", "project", "epic")}
    assert levels == {"portfolio": 3, "project": 3, "epic": 5}
    rendered = build_rollup(ctx)
    assert kept[("project", "acme", "WEB")].rag == {
        **{d: rendered.projects.set_index("project").loc["WEB", f"rag_{d}"]
           for d in ("schedule", "scope", "risk", "compliance", "freshness")},
        "overall": rendered.projects.set_index("project").loc["WEB", "rag_overall"]}
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    db.close()
    with HistoryStore(store.path) as again:  # the history still opens and compares
        assert again.compare(run_id).run.id == run_id


def test_prune_deletes_the_rag_rows_and_site_figures_of_the_runs_it_deletes(store):
    first = portfolio_context(store)
    record(store, first)
    second = portfolio_context(store, snapshots=[next_week_snapshot()], now=LATER)
    newest = record(store, second)
    assert rag_rows(store, "test", NOW)
    # the newest run's only: one row per site and plugin that keeps them (the office plugin does too)
    assert store.query("SELECT DISTINCT run_id FROM site_facts") == [(newest,)]
    assert store.query("SELECT COUNT(*) FROM site_facts WHERE name = 'portfolio-sites'")[0][0] == 1
    assert store.prune(LATER) == 1
    assert rag_rows(store, "test", NOW) == {} and rag_rows(store, "test", LATER)
    assert store.query("SELECT COUNT(*) FROM run_facts WHERE name = 'portfolio'")[0][0] == 1
    assert store.prune(LATER + timedelta(days=1)) == 1
    assert {t: n for t, n in table_rows(store).items() if n} == {}  # nothing of the portfolio is left behind


LEGACY_TABLE = """CREATE TABLE portfolio_rag (mapping_name TEXT NOT NULL, started TEXT NOT NULL, level TEXT NOT NULL,
    site TEXT NOT NULL, key TEXT NOT NULL, open_children INTEGER NOT NULL, rag TEXT NOT NULL,
    PRIMARY KEY (mapping_name, started, level, site, key)) WITHOUT ROWID"""


@pytest.mark.parametrize("released", ["0001", "0002", "0003"])
def test_the_portfolios_own_table_of_every_released_schema_becomes_run_facts_prune_reaches(tmp_path, released):
    """Up to schema 0003 the portfolio kept its colours in ``portfolio_rag``, which prune never reached."""
    path = tmp_path / "history.sqlite"
    first = portfolio_context().result
    second = portfolio_context(snapshots=[next_week_snapshot()], now=LATER).result
    with ReleasedStore(path) as old:
        old.record_run(first)
        old.record_run(second)
    if released != "0001":
        engine = sa.create_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            cfg = migrations._config(conn)
            command.stamp(cfg, "0001")
            command.upgrade(cfg, released)
        engine.dispose()
    colours = {"schedule": "green", "scope": "none", "risk": "red", "compliance": "amber", "freshness": "green",
               "overall": "red"}
    db = sqlite3.connect(path)
    db.execute(LEGACY_TABLE)
    db.executemany("INSERT INTO portfolio_rag VALUES (?, ?, ?, ?, ?, ?, ?)", [
        ("test", stored_time(first.started), "project", "acme", "WEB", 2, json.dumps(colours)),
        ("test", stored_time(second.started), "epic", "acme", "WEB-1", 4, json.dumps(colours)),
        ("test", "2020-01-01T00:00:00.000000+00:00", "epic", "acme", "WEB-9", 1, "{}")])  # of no recorded run
    db.commit()
    db.close()
    with HistoryStore(path) as store:
        assert store.migrated_from == released
        assert rag_rows(store, "test", first.started) == {("project", "acme", "WEB"): RowState(2, colours)}
        assert rag_rows(store, "test", second.started) == {("epic", "acme", "WEB-1"): RowState(4, colours)}
        assert "portfolio_rag" not in {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert store.prune(LATER) == 1
        assert rag_rows(store, "test", first.started) == {}
        assert store.query("SELECT COUNT(*) FROM run_facts")[0][0] == 1


def test_every_format_rendered_from_one_context_shares_one_roll_up(monkeypatch):
    """`report portfolio --format all` builds the roll-up once, not once per format."""
    from pmo_jira_portfolio import rollup
    from pmo_jira_portfolio.report import PortfolioReport

    built = []
    real = rollup._roll_up
    monkeypatch.setattr(rollup, "_roll_up", lambda *a, **kw: built.append(1) or real(*a, **kw))
    ctx, report = portfolio_context(), PortfolioReport()
    rendered = {fmt: report.render(ctx, fmt) for fmt in report.formats}
    assert len(built) == 1 and all(rendered.values())
    report.render(portfolio_context(), "json")  # another run, another roll-up
    assert len(built) == 2


def test_a_report_rendered_then_recorded_rates_its_run_once(store, monkeypatch):
    """`pmo-jira report` renders, then records: the kept rows are the rendered ones, not rated again."""
    from pmo_jira_portfolio import rag_rows as rating
    from pmo_jira_portfolio import rollup

    rated = []
    real = rating.rate_rows
    for module in (rollup, rating):  # the report's rows and the audit's are this one rating
        monkeypatch.setattr(module, "rate_rows", lambda *a, **kw: rated.append(1) or real(*a, **kw))
    first = portfolio_context(store)
    record(store, first)  # nothing rendered: the hook rates the run itself
    assert len(rated) == 1
    second = portfolio_context(store, snapshots=[next_week_snapshot()], now=LATER)
    shown = build_rollup(second)
    record(store, second)
    assert len(rated) == 2
    web = shown.projects.set_index("project").loc["WEB"]
    assert rag_rows(store, "test", LATER)[("project", "acme", "WEB")] == RowState(
        int(web["open_children"]), {**{d: web[f"rag_{d}"] for d in ("schedule", "scope", "risk", "compliance",
                                                                     "freshness")}, "overall": web["rag_overall"]})


def test_an_audit_keeps_scope_growth_against_the_previous_recorded_run(store):
    """`audit` keeps the rows without rendering: the next day WEB-1 has two more open children (2 -> 4)
    and its high risk a mitigation."""
    record(store, portfolio_context(store))
    kept = rag_rows(store, "test", NOW)
    assert {row_id: state.rag["scope"] for row_id, state in kept.items()} == dict.fromkeys(kept, "none")
    assert kept[("epic", "acme", "WEB-1")].rag["risk"] == "amber"  # WEB-20: high, no mitigation
    record(store, portfolio_context(store, snapshots=[next_week_snapshot()], now=LATER))
    kept = rag_rows(store, "test", LATER)
    assert kept[("project", "acme", "WEB")].open_children == 4
    assert {row_id: state.rag["scope"] for row_id, state in kept.items() if state.rag["scope"] != "green"} == {
        ("epic", "acme", "WEB-1"): "red", ("project", "acme", "WEB"): "red", ("portfolio", "", "Digital"): "red"}
    assert kept[("epic", "acme", "WEB-1")].rag["risk"] == "green"  # WEB-20 got its mitigation
