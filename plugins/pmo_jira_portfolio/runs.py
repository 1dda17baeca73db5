"""What changed since the last run, read from the run history, and the RAG rows kept with each run.

The colours of every row (portfolio, project or epic) and its open-children count (scope growth
is measured against it) are kept with each recorded run as its ``portfolio`` run facts
(``pmo_jira_run_facts``), so rendering a report never writes and ``history prune`` deletes them
with their run. A report rendered before its run is recorded (``pmo-jira report`` records after
rendering) compares with the same previous run the recorded colours were rated against.

The baseline is the run of the same mapping just before this one: via ``HistoryStore.compare``
when this run is already recorded, else the latest recorded run that started no later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from pmo_jira.findings import AuditResult
from pmo_jira.formats.base import summarize
from pmo_jira.history import FindingRef, HistoryStore, PhaseMove, RunRecord, TrendPoint, schema, sorted_refs, stored_time
from pmo_jira.model import natural_key
from pmo_jira_portfolio import REPORT_NAME
from pmo_jira_portfolio.rag import NONE, RAG_DIMENSIONS

MONTH = timedelta(days=30)
NAME = REPORT_NAME  # the name its RAG rows are kept under in the run facts
_KEPT = (*RAG_DIMENSIONS, "overall")

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


def previous_rows(store: HistoryStore | None, result: AuditResult) -> Changes:
    """Only the RAG rows of the run before ``result`` (not recorded yet): what its colours need."""
    if store is None:
        return Changes(kept=False, run_id=None)
    started = _utc(result.started)
    previous = next((r for r in store.runs(None, mapping=result.mapping_name, compared=True)
                     if _utc(r.started) <= started), None)
    return Changes(True, None, previous,
                   previous_rows=rag_rows(store, result.mapping_name, previous.started) if previous else {})


def changes(store: HistoryStore | None, result: AuditResult, *, trend_limit: int = 20) -> Changes:
    """Compare ``result`` with the previous run of its mapping in ``store``."""
    if store is None:
        return Changes(kept=False, run_id=None, trend=(current_point(result),))
    name = result.mapping_name
    started = _utc(result.started)
    earlier = [r for r in store.runs(None, mapping=name, compared=True) if _utc(r.started) <= started]
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
    since: dict[RowId, datetime] = {}
    broken: set[RowId] = set()
    for run_id, started in _kept_runs(store, mapping_name, before):  # newest first, read one by one
        for row_id, state in _decode(store.run_facts(run_id, NAME)).items():
            if row_id not in red_now or row_id in broken:
                continue
            if state.rag.get("overall") == "red":
                since[row_id] = _utc(datetime.fromisoformat(started))
            else:
                broken.add(row_id)
        if broken >= red_now:
            break
    return since


def _kept_runs(store: HistoryStore, mapping_name: str, before: datetime) -> list[tuple[int, str]]:
    """(run id, start) of the runs of the mapping before ``before`` that kept RAG rows, newest first."""
    runs, facts = schema.runs, schema.run_facts
    return [(r[0], r[1]) for r in store.query(
        sa.select(runs.c.id, runs.c.started).join(facts, facts.c.run_id == runs.c.id)
        .where(runs.c.mapping_name == mapping_name, runs.c.started < stored_time(before), facts.c.name == NAME)
        .order_by(runs.c.started.desc(), runs.c.id.desc()))]


def _against(store: HistoryStore, previous: RunRecord | None, result: AuditResult):
    """New / resolved findings and phase moves of an unrecorded ``result`` against ``previous``."""
    now_open = _refs(result)
    if previous is None:
        return sorted_refs(now_open.values(), reading=True), (), ()
    # The store's own reader of what was open, so both cases count alike: every site as its own
    # latest audit left it (a run of one site, or with one down, leaves the others as they were).
    before = store.known_findings(previous.id)
    checked = set(result.sites) - set(result.site_errors)
    read = {(i.site, i.key) for i in result.items}  # a narrowed run read only these
    new = sorted_refs((f for fp, f in now_open.items() if fp not in before), reading=True)
    resolved = sorted_refs((f for fp, f in before.items() if fp not in now_open and f.site in checked
                            and (not result.narrowed or (f.site, f.item_key) in read)), reading=True)
    was = store.known_phases(previous.id)
    moves = tuple(PhaseMove(i.site, i.key, i.kind, was[(i.site, i.key)][1], i.phase)
                  for i in sorted(result.items, key=lambda i: (i.site, natural_key(i.key)))
                  if (i.site, i.key) in was and was[(i.site, i.key)][1] != i.phase)
    return new, resolved, moves


def rag_rows(store: HistoryStore, mapping_name: str, started: datetime) -> dict[RowId, RowState]:
    """The RAG rows kept for the run of ``mapping_name`` that started at ``started`` (none: {})."""
    runs, facts = schema.runs, schema.run_facts
    found = store.query(sa.select(runs.c.id).join(facts, facts.c.run_id == runs.c.id).where(
        runs.c.mapping_name == mapping_name, runs.c.started == stored_time(started), facts.c.name == NAME)
        .order_by(runs.c.id.desc()).limit(1))
    return _decode(store.run_facts(found[0][0], NAME)) if found else {}


def kept(rows: Mapping[RowId, RowState]) -> dict[str, Any]:
    """The run facts that keep ``rows``: one list per row, colours in the order of ``dimensions``."""
    return {"dimensions": list(_KEPT), "rows": [[level, site, key, s.open_children, [s.rag.get(d, NONE) for d in _KEPT]]
                                                 for (level, site, key), s in sorted(rows.items())]}


def _decode(data: Mapping[str, Any] | None) -> dict[RowId, RowState]:
    if not data:
        return {}
    dims = data["dimensions"]
    return {(level, site, key): RowState(open_children, dict(zip(dims, colours)))
            for level, site, key, open_children, colours in data["rows"]}


def as_dict(ref: FindingRef) -> dict[str, Any]:
    return {"code": ref.code, "site": ref.site, "project": ref.project_key, "item": ref.item_key,
            "severity": ref.severity, "fingerprint": ref.fingerprint}
