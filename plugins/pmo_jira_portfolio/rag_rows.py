"""The one rating of the portfolio's rows: each portfolio's, project's and epic's measures and
colours, in plain Python, from the roll-up's input.

A run keeps its rows' colours and open children in the history (its ``portfolio`` run facts)
without loading pandas (``audit`` and ``sync`` render nothing); the report
(``pmo_jira_portfolio.rollup``) shows the same rows' measures and colours in its frames.

Measures follow the written definitions of ``pmo_jira_portfolio.config.DEFAULT_DEFINITIONS``
(every output prints the mapping's definitions next to the thresholds); the rules that turn them
into colours (thresholds, worst-of, compliance by severity) are ``pmo_jira_portfolio.rag``'s:

- schedule: days the latest open epic is past its target end (0 when none is late);
- scope: percent growth of open child issues since the previous run (none without one);
- risk: open high risks without an owner or a mitigation, plus open epics from planning on with
  no linked risk (none when the mapping names no risk types);
- compliance: percent of classified items with an open finding of medium severity or worse, and
  of those with a high or critical one (an epic is one item: 0 or 100 %);
- freshness: days since the least recently updated open epic was last updated.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
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
# The same as sets: a lookup is much quicker than comparing severities, done for every open finding.
_FLAGGED = frozenset(s for s in Severity if s >= COMPLIANCE_FLOOR)
_SERIOUS = frozenset(s for s in Severity if s >= SERIOUS)
_MEASURE = {d: f"m_{d}" for d in RAG_DIMENSIONS}  # a dimension's measure in ``Rated.measures``


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


_FROM_PLANNING = frozenset(PHASES[phase_index("planning"):])


def no_risk_register(e: EpicFacts, phase: str | None, with_risk_types: bool) -> bool:
    """An open epic from planning on with no risk linked (when the mapping names risk types)."""
    return with_risk_types and e.open and phase in _FROM_PLANNING and e.risks == 0


class Figures:
    """What a row is measured from: an epic's own, a project's or portfolio's summed (maxed) over
    its epics or projects; a project counts its items itself."""

    __slots__ = ("open_children", "unmanaged_risks", "without_risks", "days_late", "days_since_update",
                 "items", "flagged", "serious")

    def __init__(self) -> None:
        self.open_children = self.unmanaged_risks = self.without_risks = self.days_late = 0
        self.items = self.flagged = self.serious = 0
        self.days_since_update: int | None = None

    def add(self, other: Figures) -> None:
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


@dataclass(slots=True)  # not frozen: a frozen one is slower to make, and there is one a row
class Rated:
    """One row rated: its figures, its measure per dimension (``m_<dimension>``, and
    ``m_compliance_serious``, the share of items with a high-or-worse gap) and its colour per
    dimension and ``overall``."""

    level: str  # portfolio | project | epic
    site: str  # "" for a portfolio
    key: str  # the portfolio's name, the project's or epic's key
    figures: Figures
    measures: dict[str, float | None]
    rag: dict[str, str]

    @property
    def row_id(self) -> RowId:
        return self.level, self.site, self.key

    @property
    def state(self) -> RowState:
        """What the history keeps of the row."""
        return RowState(self.figures.open_children, self.rag)


def rate_rows(inp: RollupInput, mapping: MappingFile, before: Mapping[RowId, RowState]) -> Iterator[Rated]:
    """Every row of ``inp`` rated, epics first, then projects, then portfolios; scope growth is
    measured against ``before``, the previous run's rows."""
    result = inp.result
    thresholds = thresholds_of(mapping)
    with_risk_types = bool(mapping.issue_types.risk)

    def row(level: str, site: str, key: str, s: Figures) -> Rated:
        m = {"m_schedule": float(s.days_late),
             "m_scope": growth(s.open_children, before.get((level, site, key))),
             "m_risk": float(s.unmanaged_risks + s.without_risks) if with_risk_types else None,
             "m_compliance": pct(s.flagged, s.items), "m_compliance_serious": pct(s.serious, s.items),
             "m_freshness": float(s.days_since_update) if s.days_since_update is not None else None}
        rag = {d: compliance_colour(m["m_compliance"], m["m_compliance_serious"], thresholds[d])
               if d == "compliance" else rate(m[_MEASURE[d]], thresholds[d]) for d in RAG_DIMENSIONS}
        rag["overall"] = worst(rag[d] for d in RAG_DIMENSIONS)
        return Rated(level, site, key, s, m, rag)

    open_by_item: dict[tuple[str, str], list] = {}
    open_by_project: dict[tuple[str, str], list] = {}
    for f in result.open_findings():
        open_by_item.setdefault((f.site, f.item_key), []).append(f)
        open_by_project.setdefault((f.site, f.project_key), []).append(f)
    by_project: dict[tuple[str, str], Figures] = {}
    items_by_project: dict[tuple[str, str], list] = {}
    for item in result.items:
        items_by_project.setdefault((item.site, item.project_key), []).append(item)
        if item.kind != "epic":
            continue
        e = inp.epics.get((item.site, item.key)) or EpicFacts()
        found = open_by_item.get((item.site, item.key), [])
        s = Figures()
        s.open_children, s.unmanaged_risks, s.days_late = e.children - e.children_done, e.unmanaged_risks, e.days_late
        s.without_risks = int(no_risk_register(e, item.phase, with_risk_types))
        s.days_since_update = e.days_since_update
        # An epic is one item, so its share is 0 or 100 %: only a critical gap makes it red.
        s.items = 1
        s.flagged = int(any(f.severity in _FLAGGED for f in found))
        s.serious = int(any(f.severity is Severity.CRITICAL for f in found))
        yield row("epic", item.site, item.key, s)
        by_project.setdefault((item.site, item.project_key), Figures()).add(s)
    portfolios: dict[str, Figures] = {}
    for (site, key), project in inp.projects.items():
        s = by_project.get((site, key)) or Figures()
        found = open_by_project.get((site, key), [])
        flagged = {f.item_key for f in found if f.severity in _FLAGGED}
        serious = {f.item_key for f in found if f.severity in _SERIOUS}
        items = items_by_project.get((site, key), [])
        s.items, s.flagged, s.serious = len(items), sum(i.key in flagged for i in items), \
            sum(i.key in serious for i in items)
        yield row("project", site, key, s)
        portfolio = portfolio_name(key, project.category if project else None, mapping)
        portfolios.setdefault(portfolio, Figures()).add(s)
    for portfolio, s in portfolios.items():
        yield row("portfolio", "", portfolio, s)


def rag_rows_of_run(inp: RollupInput, mapping: MappingFile, history: HistoryStore | None) -> dict[RowId, RowState]:
    """The colours of every row of a run not recorded yet (scope against the previous run's rows):
    what the history keeps of the run for the next report to compare with."""
    before = previous_rows(history, inp.result).previous_rows
    return {r.row_id: r.state for r in rate_rows(inp, mapping, before)}


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
