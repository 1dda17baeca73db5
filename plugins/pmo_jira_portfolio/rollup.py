"""The portfolio roll-up: portfolio -> project -> epic, with RAG per dimension, in pandas frames.

Epic figures come from the snapshots (children, estimates, dates, risks) and the audit result
(phases and open findings); projects and portfolios aggregate them. Findings are counted from the
same ``AuditResult`` the audit reported, one project row per (site, project) that has items or
findings, so the report's totals always equal the audit's.

The rows' measures and colours are ``pmo_jira_portfolio.rag_rows.rate_rows``'s, the same rating a
run keeps in the history; the frames show them next to the figures, with a line saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from pmo_jira.findings import AuditResult, Outcome, Severity
from pmo_jira.formats.base import natural_key
from pmo_jira.history import HistoryStore
from pmo_jira.mapping.schema import Mapping as MappingFile
from pmo_jira.model import PHASES
from pmo_jira.reports import ReportContext
from pmo_jira_portfolio.governance import Governance
from pmo_jira_portfolio.inputs import EpicFacts, RollupInput, gather
from pmo_jira_portfolio.rag import NONE, RAG_DIMENSIONS, thresholds_of, why
from pmo_jira_portfolio.rag_rows import COMPLIANCE_FLOOR, UNCATEGORISED, Rated, pct, portfolio_name, rate_rows, remember
from pmo_jira_portfolio.runs import Changes, RowId, RowState, changes, open_since, red_since
from pmo_jira_portfolio.summary import Summary, build_summary

UNMAPPED = "unmapped"
SEVERITIES: tuple[str, ...] = tuple(s.value for s in reversed(Severity))  # critical first
LEVELS: tuple[str, ...] = ("portfolio", "project", "epic")

# Figures summed from epics to projects and from projects to portfolios.
_SUMMED = ("epics", "epics_open", "epics_overdue", "children", "children_done", "open_children",
           "children_estimated", "points", "points_done", "open_high_risks", "unmanaged_risks",
           "epics_without_risks")
# A row's rating (``rag_rows.Rated``) as the frame's columns.
_MEASURES = (*(f"m_{d}" for d in RAG_DIMENSIONS), "m_compliance_serious")
_COLOURS = (*RAG_DIMENSIONS, "overall")
_NOBODY = ""  # no owner set in Jira


@dataclass(frozen=True)
class RagMove:
    level: str
    site: str
    key: str
    dimension: str  # a RAG dimension or "overall"
    before: str
    after: str


@dataclass(frozen=True)
class Rollup:
    """Everything every output format shows; frames are sorted and ready to print."""

    mapping_name: str
    run_started: datetime
    now: datetime
    sites: tuple[str, ...]
    site_errors: dict[str, str]
    group_by: str
    thresholds: dict[str, Any]  # dimension -> Threshold(amber, red)
    definitions: dict[str, str]
    portfolios: pd.DataFrame
    projects: pd.DataFrame
    epics: pd.DataFrame
    phase_counts: dict[str, int]  # epic phase -> count, "unmapped" last
    open_by_severity: dict[str, int]  # the whole run, critical first
    changes: Changes
    rag_moves: tuple[RagMove, ...]
    findings: pd.DataFrame  # open and waived findings, worst first (FINDING_COLUMNS)
    summary: Summary
    governance: Governance | None = None  # risk heat map, change log, red dependencies
    as_of: dict[str, datetime] = field(default_factory=dict)  # site audited -> when its figures were read

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())


def _severity_counts(findings: Iterable) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity.value] += 1
    return counts


def _worst_gap(found: list) -> str:
    """The epic's worst open gap of medium severity or worse, in words ('' when none)."""
    gaps = [f for f in found if f.severity >= COMPLIANCE_FLOOR]
    if not gaps:
        return ""
    top = max(gaps, key=lambda f: (f.severity, f.code))
    more = f" and {len(gaps) - 1} more" if len(gaps) > 1 else ""
    return f"{top.severity.value} gap {top.code} ({top.title}){more}"


def _epic_rows(inp: RollupInput, portfolio_of: dict[tuple[str, str], str],
               rated: dict[RowId, Rated]) -> tuple[list[dict[str, Any]], list[Rated]]:
    """The epics' figures, and their ratings in the same order."""
    result = inp.result
    open_by_item: dict[tuple[str, str], list] = {}
    for f in result.open_findings():
        open_by_item.setdefault((f.site, f.item_key), []).append(f)
    waived: dict[tuple[str, str], int] = {}
    for f in result.findings:
        if f.outcome is Outcome.WAIVED:
            waived[(f.site, f.item_key)] = waived.get((f.site, f.item_key), 0) + 1
    rows, ratings = [], []
    for item in result.items:
        if item.kind != "epic":
            continue
        e = inp.epics.get((item.site, item.key)) or EpicFacts()
        r = rated[("epic", item.site, item.key)]
        found = open_by_item.get((item.site, item.key), [])
        by_sev = _severity_counts(found)
        rows.append({
            "portfolio": portfolio_of[(item.site, item.project_key)], "site": item.site,
            "project": item.project_key, "key": item.key, "summary": item.summary, "url": item.url,
            "phase": item.phase or UNMAPPED, "status": e.status, "owner": e.owner or _NOBODY,
            "open": e.open, "target_end": e.target_end,
            "days_late": e.days_late, "days_since_update": e.days_since_update,
            "epics": 1, "epics_open": int(e.open), "epics_overdue": int(e.days_late > 0),
            "children": e.children, "children_done": e.children_done,
            "open_children": r.figures.open_children,
            "children_estimated": e.children_estimated,
            "points": e.points, "points_done": e.points_done,
            "risks": e.risks, "open_high_risks": e.open_high_risks, "unmanaged_risks": e.unmanaged_risks,
            "epics_without_risks": r.figures.without_risks,
            **{f"open_{s}": n for s, n in by_sev.items()},
            "findings_open": len(found), "findings_waived": waived.get((item.site, item.key), 0),
            "gap": _worst_gap(found),
        })
        ratings.append(r)
    return rows, ratings


def _with_derived(df: pd.DataFrame) -> pd.DataFrame:
    df["pct_done_count"] = [pct(d, c) for d, c in zip(df["children_done"], df["children"])]
    df["pct_done_estimate"] = [pct(d, p) for d, p in zip(df["points_done"], df["points"])]
    df["pct_estimated"] = [pct(e, c) for e, c in zip(df["children_estimated"], df["children"])]
    return df


def _with_rating(df: pd.DataFrame, ratings: list[Rated], thresholds: dict[str, Any]) -> pd.DataFrame:
    """The rows' measures, colours and why as columns; ``ratings`` in the frame's row order."""
    for m in _MEASURES:
        df[m] = [r.measures[m] for r in ratings]
    for d in _COLOURS:
        df[f"rag_{d}"] = [r.rag[d] for r in ratings]
    gaps = df["gap"].tolist() if "gap" in df else [""] * len(ratings)
    df["why"] = [why(r.rag, r.measures, thresholds, gap) for r, gap in zip(ratings, gaps)]
    return df


def build_rollup(ctx: ReportContext) -> Rollup:
    """Roll the audit up; with a run history, compare with the previous run. Reads, never writes."""
    inp = gather(ctx.result, ctx.snapshots, ctx.mapping, ctx.now)
    rollup, rows = _roll_up(inp, ctx.mapping, ctx.now, ctx.history)
    if ctx.history is not None and rollup.changes.run_id is None:  # rated against the run before it
        remember(ctx.result, inp, rows)
    return rollup


def roll_up(inp: RollupInput, mapping: MappingFile, now: datetime, history: HistoryStore | None) -> Rollup:
    """The roll-up of ``inp`` (gathered from a run, or loaded from the history)."""
    return _roll_up(inp, mapping, now, history)[0]


def _roll_up(inp: RollupInput, mapping: MappingFile, now: datetime,
             history: HistoryStore | None) -> tuple[Rollup, dict[RowId, RowState]]:
    result = inp.result
    hist = changes(history, result)
    rated = {r.row_id: r for r in rate_rows(inp, mapping, hist.previous_rows)}
    port, proj, epics, portfolio_of = _levels(inp, mapping, hist, rated)
    rows = {row_id: r.state for row_id, r in rated.items()}
    moves = _rag_moves(rows, hist.previous_rows)
    red_rows = {row_id for row_id, state in rows.items() if state.rag.get("overall") == "red"}
    since = red_since(history, result.mapping_name, result.started, red_rows)
    findings = _findings(result, history, portfolio_of, proj, epics)
    summary = build_summary(proj, epics, findings, hist, since, now.date())

    phase_counts = {p: 0 for p in (*PHASES, UNMAPPED)}
    for phase in epics.get("phase", []):
        phase_counts[phase] = phase_counts.get(phase, 0) + 1
    return Rollup(
        mapping_name=result.mapping_name, run_started=result.started, now=now, sites=result.sites,
        site_errors=dict(result.site_errors), group_by=mapping.portfolio.group_by,
        thresholds=thresholds_of(mapping), definitions=dict(mapping.portfolio.rag.definitions),
        portfolios=port, projects=proj, epics=epics, phase_counts=phase_counts,
        open_by_severity=_severity_counts(result.open_findings()), changes=hist, rag_moves=moves,
        findings=findings, summary=summary, governance=inp.governance,
        as_of={s: inp.recorded.get(s, result.started) for s in result.sites if s not in result.site_errors},
    ), rows


def _levels(inp: RollupInput, mapping: MappingFile, hist: Changes, rated: dict[RowId, Rated]
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[tuple[str, str], str]]:
    """The portfolio, project and epic frames with their rows' ratings, and each (site, project)'s
    portfolio."""
    result = inp.result
    thresholds = thresholds_of(mapping)
    projects = inp.projects
    project_items = {(i.site, i.key): i for i in result.items if i.kind == "project"}
    portfolio_of = {k: portfolio_name(k[1], p.category if p else None, mapping) for k, p in projects.items()}

    epic_rows, epic_ratings = _epic_rows(inp, portfolio_of, rated)
    epics = pd.DataFrame(epic_rows)
    if epics.empty:  # the columns a read epic has, that later steps read
        epics = pd.DataFrame(columns=["portfolio", "site", "project", "key", *_SUMMED, "days_late",
                                      "days_since_update", "owner", "gap"])
    new_by, resolved_by = _change_counts(hist.new), _change_counts(hist.resolved)

    # Projects: one row per (site, project), epic figures summed / maxed, findings counted directly.
    open_by_project: dict[tuple[str, str], list] = {}
    for f in result.open_findings():
        open_by_project.setdefault((f.site, f.project_key), []).append(f)
    waived_by_project: dict[tuple[str, str], int] = {}
    for f in result.findings:
        if f.outcome is Outcome.WAIVED:
            waived_by_project[(f.site, f.project_key)] = waived_by_project.get((f.site, f.project_key), 0) + 1
    items_by_project: dict[tuple[str, str], list] = {}
    for i in result.items:
        items_by_project.setdefault((i.site, i.project_key), []).append(i)
    base, ratings = [], []
    for (site, key), project in projects.items():
        found = open_by_project.get((site, key), [])
        items = items_by_project.get((site, key), [])
        pitem = project_items.get((site, key))
        r = rated[("project", site, key)]
        ratings.append(r)
        base.append({
            "portfolio": portfolio_of[(site, key)], "site": site, "project": key,
            "name": project.name if project else key,
            "owner": (project.owner if project else "") or _NOBODY,
            "url": (project.url if project else "") or (pitem.url if pitem else ""),
            "phase": (pitem.phase or UNMAPPED) if pitem else UNMAPPED,
            "unmapped": sum(i.phase is None for i in items), "items": r.figures.items,
            "items_flagged": r.figures.flagged, "items_serious": r.figures.serious,
            **{f"open_{s}": n for s, n in _severity_counts(found).items()}, "findings_open": len(found),
            "findings_waived": waived_by_project.get((site, key), 0),
            "new_findings": new_by.get((site, key), 0), "resolved_findings": resolved_by.get((site, key), 0),
        })
    proj = pd.DataFrame(base, columns=["portfolio", "site", "project", "name", "owner", "url", "phase", "unmapped",
                                       "items", "items_flagged", "items_serious", *(f"open_{s}" for s in SEVERITIES),
                                       "findings_open", "findings_waived", "new_findings",
                                       "resolved_findings"])
    summed = epics.groupby(["site", "project"])[list(_SUMMED)].sum(min_count=1) if not epics.empty else None
    maxed = (epics.groupby(["site", "project"])[["days_late", "days_since_update"]].max()
             if not epics.empty else None)
    if summed is not None:
        proj = proj.merge(summed, how="left", left_on=["site", "project"], right_index=True)
        proj = proj.merge(maxed, how="left", left_on=["site", "project"], right_index=True)
    else:
        for col in (*_SUMMED, "days_late", "days_since_update"):
            proj[col] = float("nan")
    for col in _SUMMED:
        proj[col] = proj[col].fillna(0).astype(int if col not in ("points", "points_done") else float)
    proj["days_late"] = proj["days_late"].fillna(0).astype(int)
    proj = _with_rating(_with_derived(proj), ratings, thresholds)
    proj = proj.sort_values(by=["portfolio", "site", "project"],
                            key=lambda col: col.map(_sort_key(col.name))).reset_index(drop=True)

    # Portfolios: projects summed / maxed.
    sums = proj.groupby("portfolio")[[*_SUMMED, "items", "items_flagged", "items_serious", "unmapped",
                                      *(f"open_{s}" for s in SEVERITIES), "findings_open",
                                      "findings_waived", "new_findings", "resolved_findings"]].sum()
    sums["projects"] = proj.groupby("portfolio").size()
    sums[["days_late", "days_since_update"]] = proj.groupby("portfolio")[["days_late", "days_since_update"]].max()
    port = sums.reset_index()
    port = _with_rating(_with_derived(port), [rated[("portfolio", "", p)] for p in port["portfolio"]], thresholds)
    port = port.sort_values(by="portfolio", key=lambda col: col.map(_sort_key("portfolio"))).reset_index(drop=True)

    epics = _with_rating(_with_derived(epics), epic_ratings, thresholds)
    if not epics.empty:
        epics = epics.sort_values(by=["portfolio", "site", "project", "key"],
                                  key=lambda col: col.map(_sort_key(col.name))).reset_index(drop=True)

    return port, proj, epics, portfolio_of


FINDING_COLUMNS = ("portfolio", "site", "project", "item", "kind", "item_summary", "code", "title", "severity",
                   "severity_rank", "outcome", "message", "fix", "owner", "since", "url")


def _findings(result: AuditResult, history: HistoryStore | None, portfolio_of: dict[tuple[str, str], str],
              proj: pd.DataFrame, epics: pd.DataFrame) -> pd.DataFrame:
    """Open and waived findings, worst first, with the owner of their item and since when they are open."""
    owners = {(r["site"], r["key"]): r["owner"] for r in epics.to_dict("records")} if len(epics) else {}
    owners.update({(r["site"], r["project"]): r["owner"] for r in proj.to_dict("records")})
    opened = open_since(history, result.mapping_name)
    rows = []
    for f in result.findings:
        if not (f.counts or f.outcome is Outcome.WAIVED):
            continue
        rows.append({
            "portfolio": portfolio_of.get((f.site, f.project_key), UNCATEGORISED), "site": f.site,
            "project": f.project_key, "item": f.item_key, "kind": f.item_kind, "item_summary": f.item_summary,
            "code": f.code, "title": f.title, "severity": f.severity.value, "severity_rank": f.severity.rank,
            "outcome": f.outcome.value, "message": f.message, "fix": f.fix,
            "owner": owners.get((f.site, f.item_key), "") or "",
            # first seen in this run when the history has not recorded it opening
            "since": opened.get((f.site, f.fingerprint), result.started), "url": f.url,
        })
    out = pd.DataFrame(rows, columns=list(FINDING_COLUMNS))
    if not len(out):
        return out
    out = out.sort_values(by=["severity_rank", "site", "project", "item", "code"],
                          ascending=[False, True, True, True, True],
                          key=lambda col: col.map(natural_key) if col.name in ("project", "item") else col)
    return out.reset_index(drop=True)


def _sort_key(column: str):
    """Natural order for keys; the catch-all portfolio last."""
    if column == "portfolio":
        return lambda v: (v == UNCATEGORISED, v.casefold())
    if column in ("project", "key"):
        return natural_key
    return lambda v: v


def _change_counts(refs) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for r in refs:
        out[(r.site, r.project_key)] = out.get((r.site, r.project_key), 0) + 1
    return out


def _rag_moves(now: dict[RowId, RowState], before: dict[RowId, RowState]) -> tuple[RagMove, ...]:
    moves = []
    for row_id in sorted(now, key=lambda r: (LEVELS.index(r[0]), r[1], natural_key(r[2]))):
        was = before.get(row_id)
        if was is None:
            continue
        for dim in (*RAG_DIMENSIONS, "overall"):
            a, b = was.rag.get(dim, NONE), now[row_id].rag[dim]
            if a != b:
                moves.append(RagMove(row_id[0], row_id[1], row_id[2], dim, a, b))
    return tuple(moves)

