"""The RAG rows a run keeps (its ``portfolio`` run facts): each portfolio's, project's and epic's
colours and open children, rated from the roll-up's input in plain Python.

The roll-up (``pmo_jira_portfolio.rollup``) rates the same rows in its frames to render them; a
run that renders nothing (``audit``, ``sync``) keeps its rows without loading pandas. Both rate
the same whole-number measures with the same rules (``pmo_jira_portfolio.rag``).
"""

from __future__ import annotations

import weakref
from typing import Any

from pmo_jira.findings import AuditResult, Severity
from pmo_jira.history import HistoryStore
from pmo_jira.mapping.schema import Mapping as MappingFile
from pmo_jira.model import PHASES, phase_index
from pmo_jira_portfolio.inputs import EpicFacts, RollupInput
from pmo_jira_portfolio.rag import RAG_DIMENSIONS, compliance_colour, rate, thresholds_of, worst
from pmo_jira_portfolio.runs import RowId, RowState, previous_rows

UNCATEGORISED = "Uncategorised"
COMPLIANCE_FLOOR = Severity.MEDIUM
SERIOUS = Severity.HIGH  # gaps that can make a project's compliance red (an epic's: critical only)


def pct(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def growth(now: int, before: RowState | None) -> float | None:
    """Percent growth of open children; a rise from zero counts as 100 %."""
    if before is None:
        return None
    if before.open_children == 0:
        return 0.0 if now == 0 else 100.0
    return round(100.0 * (now - before.open_children) / before.open_children, 1)


def portfolio_name(project_key: str, category: str | None, mapping: Any) -> str:
    portfolio = mapping.portfolio
    if portfolio.group_by == "mapping":
        return next((name for name, keys in portfolio.groups.items() if project_key in keys),
                    UNCATEGORISED)
    return category or UNCATEGORISED


def no_risk_register(e: EpicFacts, phase: str | None, with_risk_types: bool) -> bool:
    """An open epic from planning on with no risk linked (when the mapping names risk types)."""
    from_planning = phase in PHASES and phase_index(phase) >= phase_index("planning")
    return with_risk_types and e.open and from_planning and e.risks == 0


class _Sums:
    """A project's or portfolio's figures summed (maxed) over its epics or projects."""

    __slots__ = ("open_children", "unmanaged_risks", "without_risks", "days_late", "days_since_update",
                 "items", "flagged", "serious")

    def __init__(self) -> None:
        self.open_children = self.unmanaged_risks = self.without_risks = self.days_late = 0
        self.items = self.flagged = self.serious = 0
        self.days_since_update: int | None = None

    def add(self, other: _Sums) -> None:
        self.open_children += other.open_children
        self.unmanaged_risks += other.unmanaged_risks
        self.without_risks += other.without_risks
        self.days_late = max(self.days_late, other.days_late)
        if other.days_since_update is not None:
            self.days_since_update = other.days_since_update if self.days_since_update is None \
                else max(self.days_since_update, other.days_since_update)
        self.items += other.items
        self.flagged += other.flagged
        self.serious += other.serious


def rag_rows_of_run(inp: RollupInput, mapping: MappingFile, history: HistoryStore | None) -> dict[RowId, RowState]:
    """The colours of every row of a run not recorded yet (scope against the previous run's rows):
    what the history keeps of the run for the next report to compare with."""
    result = inp.result
    before = previous_rows(history, result).previous_rows
    thresholds = thresholds_of(mapping)
    with_risk_types = bool(mapping.issue_types.risk)

    def colours(schedule: float, scope: float | None, risk: float | None, compliance: float | None,
                serious: float | None, freshness: float | None) -> dict[str, str]:
        measures = {"schedule": schedule, "scope": scope, "risk": risk, "freshness": freshness}
        out = {d: compliance_colour(compliance, serious, thresholds[d]) if d == "compliance"
               else rate(measures[d], thresholds[d]) for d in RAG_DIMENSIONS}
        out["overall"] = worst(out[d] for d in RAG_DIMENSIONS)
        return out

    def state(level: str, site: str, key: str, s: _Sums) -> RowState:
        return RowState(s.open_children, colours(
            float(s.days_late), growth(s.open_children, before.get((level, site, key))),
            float(s.unmanaged_risks + s.without_risks) if with_risk_types else None,
            pct(s.flagged, s.items), pct(s.serious, s.items),
            float(s.days_since_update) if s.days_since_update is not None else None))

    open_by_item: dict[tuple[str, str], list] = {}
    open_by_project: dict[tuple[str, str], list] = {}
    for f in result.open_findings():
        open_by_item.setdefault((f.site, f.item_key), []).append(f)
        open_by_project.setdefault((f.site, f.project_key), []).append(f)
    rows: dict[RowId, RowState] = {}
    by_project: dict[tuple[str, str], _Sums] = {}
    items_by_project: dict[tuple[str, str], list] = {}
    for item in result.items:
        items_by_project.setdefault((item.site, item.project_key), []).append(item)
        if item.kind != "epic":
            continue
        e = inp.epics.get((item.site, item.key)) or EpicFacts()
        found = open_by_item.get((item.site, item.key), [])
        s = _Sums()
        s.open_children, s.unmanaged_risks, s.days_late = e.children - e.children_done, e.unmanaged_risks, e.days_late
        s.without_risks = int(no_risk_register(e, item.phase, with_risk_types))
        s.days_since_update = e.days_since_update
        # An epic is one item, so its share is 0 or 100 %: only a critical gap makes it red.
        s.items = 1
        s.flagged = int(any(f.severity >= COMPLIANCE_FLOOR for f in found))
        s.serious = int(any(f.severity >= Severity.CRITICAL for f in found))
        rows[("epic", item.site, item.key)] = state("epic", item.site, item.key, s)
        s.items = s.flagged = s.serious = 0  # a project counts its items itself
        by_project.setdefault((item.site, item.project_key), _Sums()).add(s)
    portfolios: dict[str, _Sums] = {}
    for (site, key), project in inp.projects.items():
        s = by_project.get((site, key)) or _Sums()
        found = open_by_project.get((site, key), [])
        flagged = {f.item_key for f in found if f.severity >= COMPLIANCE_FLOOR}
        serious = {f.item_key for f in found if f.severity >= SERIOUS}
        items = items_by_project.get((site, key), [])
        s.items, s.flagged, s.serious = len(items), sum(i.key in flagged for i in items), \
            sum(i.key in serious for i in items)
        rows[("project", site, key)] = state("project", site, key, s)
        portfolio = portfolio_name(key, project.category if project else None, mapping)
        portfolios.setdefault(portfolio, _Sums()).add(s)
    for portfolio, s in portfolios.items():
        rows[("portfolio", "", portfolio)] = state("portfolio", "", portfolio, s)
    return rows


# What the last run rolled up before it was recorded keeps (its input and RAG rows), so the run
# facts hook of the same run keeps exactly what was rendered without rolling it up again:
# `pmo-jira report` renders, then records. Held by a weak reference to that run's result.
_rated: tuple[weakref.ref[AuditResult], RollupInput, dict[RowId, RowState]] | None = None


def remember(result: AuditResult, inp: RollupInput, rows: dict[RowId, RowState]) -> None:
    """Keep what the roll-up of ``result`` (not recorded yet) rated, for its run facts."""
    global _rated
    _rated = (weakref.ref(result), inp, rows)


def rated(result: AuditResult) -> tuple[RollupInput, dict[RowId, RowState]] | None:
    """The input and RAG rows ``build_rollup`` made of ``result`` before it was recorded, if it did."""
    if _rated is None or _rated[0]() is not result:
        return None
    return _rated[1], _rated[2]
