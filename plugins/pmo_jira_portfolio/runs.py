"""What changed since the last run, read from the run history, and the RAG rows kept beside it.

The portfolio keeps one small table of its own, ``portfolio_rag``, in the history database:
per run and row (portfolio, project or epic) the colours and the open-children count (scope
growth is measured against it). Rows are keyed by the run's mapping name and start time, the
same pair that identifies a run in ``runs``, so a report rendered before its run is recorded
(``pmo-jira report`` records after rendering) still finds them from the next run on. The
history's own tables and schema version are left alone.

The baseline is the run of the same mapping just before this one: via ``HistoryStore.compare``
when this run is already recorded, else the latest recorded run that started no later.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from pmo_jira.findings import AuditResult
from pmo_jira.formats.base import summarize
from pmo_jira.history import FindingRef, HistoryStore, PhaseMove, RunRecord, TrendPoint, schema, sorted_refs, stored_time

MONTH = timedelta(days=30)

TABLE = sa.Table(
    "portfolio_rag", sa.MetaData(),
    sa.Column("mapping_name", sa.Text, primary_key=True),
    sa.Column("started", sa.Text, primary_key=True),  # the run's start, stored as runs.started is
    sa.Column("level", sa.Text, primary_key=True),  # portfolio | project | epic
    sa.Column("site", sa.Text, primary_key=True),  # '' for a portfolio
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("open_children", sa.Integer, nullable=False),
    sa.Column("rag", sa.Text, nullable=False),  # JSON object: dimension or 'overall' -> colour
    sqlite_with_rowid=False,
)

RowId = tuple[str, str, str]  # (level, site, key)


@dataclass(frozen=True)
class RowState:
    open_children: int
    rag: Mapping[str, str]


@dataclass(frozen=True)
class Changes:
    """The run against its baseline. ``previous`` None: no history, or the first run of the mapping."""

    kept: bool  # a run history was given
    run_id: int | None  # this run's id in the history, when it was recorded
    previous: RunRecord | None = None
    new: tuple[FindingRef, ...] = ()
    resolved: tuple[FindingRef, ...] = ()
    phase_moves: tuple[PhaseMove, ...] = ()
    previous_rows: Mapping[RowId, RowState] = field(default_factory=dict)
    trend: tuple[TrendPoint, ...] = ()
    month_ago: RunRecord | None = None  # the latest run at least MONTH before this one
    month_ago_rows: Mapping[RowId, RowState] = field(default_factory=dict)

    @property
    def baseline(self) -> str:
        """One line saying what the changes are measured against."""
        if not self.kept:
            return "no previous run (no run history kept)"
        if self.previous is None:
            return "no previous run of this mapping"
        started = self.previous.started.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return f"run {self.previous.id} of {started}"


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def _refs(result: AuditResult) -> dict[str, FindingRef]:
    return {f.fingerprint: FindingRef(f.fingerprint, f.code, f.site, f.project_key, f.item_key,
                                      f.severity.value, f.outcome.value, f.phase)
            for f in result.open_findings()}


def current_point(result: AuditResult) -> TrendPoint:
    """The trend point of a run the history has not recorded (or when there is no history)."""
    counts = {sev.value: n for sev, n in summarize(result).open_by_severity.items()}
    return TrendPoint(0, result.started, "audit", result.mapping_name, counts, len(result.items))


def changes(store: HistoryStore | None, result: AuditResult, *, trend_limit: int = 20) -> Changes:
    """Compare ``result`` with the previous run of its mapping in ``store``."""
    if store is None:
        return Changes(kept=False, run_id=None, trend=(current_point(result),))
    _ensure_table(store)
    name = result.mapping_name
    started = _utc(result.started)
    earlier = [r for r in store.runs(None, mapping=name) if _utc(r.started) <= started]
    this = next((r for r in earlier if _utc(r.started) == started
                 and r.mapping_hash == result.mapping_hash), None)
    trend = store.compliance_trend(trend_limit, mapping=name)
    if this is not None:
        delta = store.compare(this.id)
        previous, new, resolved, moves = delta.previous, delta.new, delta.resolved, delta.phase_moves
        trend = [p for p in trend if _utc(p.started) <= started]
    else:
        previous = earlier[0] if earlier else None
        new, resolved, moves = _against(store, previous, result)
        trend = [*trend, current_point(result)][-trend_limit:]
    rows = rag_rows(store, name, previous.started) if previous else {}
    month = next((r for r in earlier if _utc(r.started) <= started - MONTH), None)
    month_rows = rag_rows(store, name, month.started) if month else {}
    return Changes(True, this.id if this else None, previous, new, resolved, moves, rows, tuple(trend),
                   month, month_rows)


def open_since(store: HistoryStore | None, mapping_name: str) -> dict[tuple[str, str], datetime]:
    """(site, fingerprint) -> start of the run that last opened that finding (this mapping's runs)."""
    if store is None:
        return {}
    fe, runs = schema.finding_events, schema.runs
    rows = store.query(sa.select(fe.c.site, fe.c.fingerprint, sa.func.max(runs.c.started))
                       .join(runs, runs.c.id == fe.c.run_id)
                       .where(runs.c.mapping_name == mapping_name, fe.c.event == "opened")
                       .group_by(fe.c.site, fe.c.fingerprint))
    return {(r[0], r[1]): _utc(datetime.fromisoformat(r[2])) for r in rows}


def red_since(store: HistoryStore | None, mapping_name: str, before: datetime,
              red_now: set[RowId]) -> dict[RowId, datetime]:
    """For rows red now: the start of the earliest run of their unbroken red streak before this run."""
    if store is None or not red_now:
        return {}
    c = TABLE.c
    rows = store.query(sa.select(c.started, c.level, c.site, c.key, c.rag)
                       .where(c.mapping_name == mapping_name, c.started < stored_time(before))
                       .order_by(c.started.desc()))
    since: dict[RowId, datetime] = {}
    broken: set[RowId] = set()
    for started, level, site, key, rag in rows:
        row_id = (level, site, key)
        if row_id not in red_now or row_id in broken:
            continue
        if json.loads(rag).get("overall") == "red":
            since[row_id] = _utc(datetime.fromisoformat(started))
        else:
            broken.add(row_id)
    return since


def _against(store: HistoryStore, previous: RunRecord | None, result: AuditResult):
    """New / resolved findings and phase moves of an unrecorded ``result`` against ``previous``."""
    now_open = _refs(result)
    if previous is None:
        return sorted_refs(now_open.values()), (), ()
    # The store's own reader of a run's open findings, so both cases count alike.
    before = store.open_findings(previous.id)
    checked = set(result.sites) - set(result.site_errors)
    new = sorted_refs(f for fp, f in now_open.items() if fp not in before)
    resolved = sorted_refs(f for fp, f in before.items() if fp not in now_open and f.site in checked)
    was = store.item_phases(previous.id)
    moves = tuple(PhaseMove(i.site, i.key, i.kind, was[(i.site, i.key)][1], i.phase)
                  for i in sorted(result.items, key=lambda i: (i.site, i.key))
                  if (i.site, i.key) in was and was[(i.site, i.key)][1] != i.phase)
    return new, resolved, moves


def _ensure_table(store: HistoryStore) -> None:
    with store.transaction() as db:
        TABLE.create(db, checkfirst=True)


def rag_rows(store: HistoryStore, mapping_name: str, started: datetime) -> dict[RowId, RowState]:
    """The RAG rows kept for the run of ``mapping_name`` that started at ``started`` (none: {})."""
    _ensure_table(store)
    c = TABLE.c
    rows = store.query(sa.select(c.level, c.site, c.key, c.open_children, c.rag).where(
        c.mapping_name == mapping_name, c.started == stored_time(started)))
    return {(r[0], r[1], r[2]): RowState(r[3], json.loads(r[4])) for r in rows}


def save_rows(store: HistoryStore, result: AuditResult, rows: Mapping[RowId, RowState]) -> None:
    """Store (or replace) the RAG rows of the run ``result`` came from."""
    name, started = result.mapping_name, stored_time(result.started)
    with store.transaction() as db:
        db.execute(sa.delete(TABLE).where(TABLE.c.mapping_name == name, TABLE.c.started == started))
        if rows:
            db.execute(TABLE.insert(), [
                {"mapping_name": name, "started": started, "level": level, "site": site, "key": k,
                 "open_children": s.open_children, "rag": json.dumps(dict(s.rag), sort_keys=True)}
                for (level, site, k), s in sorted(rows.items())])


def as_dict(ref: FindingRef) -> dict[str, Any]:
    return {"code": ref.code, "site": ref.site, "project": ref.project_key, "item": ref.item_key,
            "severity": ref.severity, "fingerprint": ref.fingerprint}
