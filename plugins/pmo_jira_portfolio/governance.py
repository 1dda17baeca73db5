"""The portfolio's governance views: the risk heat map, the change log and the red dependencies.

Each is computed with the same functions the standards judge with (the risk matrix of
PMO-RSK-003, the baseline and change requests of PMO-CHG-001, the blockers of PMO-DEP-001), so
the page never disagrees with the audit: an epic's change is "unapproved" exactly when the audit
holds an open change-control finding on it, and a dependency is red exactly when PMO-DEP-001
would name it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from pmo_jira.findings import AuditResult, Outcome
from pmo_jira.formats.base import natural_key
from pmo_jira.model import Issue, Snapshot, User
from pmo_jira.standards.builtin.change_control import (
    BaselineSet,
    ChangeControlOptions,
    ScheduleChangeControlled,
    ScopeChangeControlled,
    change_requests,
    epic_baseline,
    replans,
)
from pmo_jira.standards.builtin.raid import (
    DependenciesHealthy,
    HighRisksReviewed,
    RiskMatrixOptions,
    RisksScored,
    blockers,
    dependency_problems,
    risk_score,
)
from pmo_jira.standards.builtin.risk import risk_owner
from pmo_jira.standards.context import AuditContext

CHANGE_CODES = (ScheduleChangeControlled.code, ScopeChangeControlled.code)
UNAPPROVED, APPROVED, TOLERATED, ON_BASELINE = "unapproved", "approved", "within tolerance", "on baseline"
HOT_RISKS_SHOWN = 20


def _options(mapping: Any, standards: Iterable[Any], model: type[Any]) -> Any:
    """Options of the first of ``standards`` the mapping enables (the model's own fields only), else defaults."""
    for standard in standards:
        conf = mapping.standard(standard.code)
        if conf is not None:
            return model(**{k: v for k, v in (conf.options or {}).items() if k in model.model_fields})
    return model()


def _name(user: object) -> str:
    return user.display_name if isinstance(user, User) else ""


# --- risk heat map ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HotRisk:
    site: str
    project: str
    key: str
    summary: str
    url: str
    epic: str
    owner: str
    likelihood: str
    impact: str
    score: int
    days_since_review: int


@dataclass(frozen=True)
class HeatMap:
    """Open risks counted per (probability score, impact score) cell of the mapping's matrix."""

    probability: tuple[tuple[int, str], ...]  # (score, its values), highest first: the map's rows
    impact: tuple[tuple[int, str], ...]  # lowest first: the map's columns
    high_score: int
    site_counts: dict[tuple[str, int, int], int]  # (site, probability, impact) -> open risks
    site_unscored: dict[str, int]  # site -> open risks the matrix cannot place
    hot: tuple[HotRisk, ...]  # open risks scoring high, highest first

    @property
    def counts(self) -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = {}
        for (_, p, i), n in self.site_counts.items():
            out[(p, i)] = out.get((p, i), 0) + n
        return out

    @property
    def scored(self) -> int:
        return sum(self.site_counts.values())

    @property
    def unscored(self) -> int:
        return sum(self.site_unscored.values())

    def colour(self, probability: int, impact: int) -> str:
        """Red from the matrix's high score, amber from half of it, green below."""
        score = probability * impact
        return "red" if score >= self.high_score else "amber" if score >= math.ceil(self.high_score / 2) else "green"


def _matrix(mapping: Any) -> RiskMatrixOptions:
    return _options(mapping, (RisksScored, HighRisksReviewed), RiskMatrixOptions)


def _heat(mapping: Any, site_counts: dict[tuple[str, int, int], int], site_unscored: dict[str, int],
          hot: Iterable[HotRisk]) -> HeatMap:
    options = _matrix(mapping)
    ranked = sorted(hot, key=lambda r: (-r.score, -r.days_since_review, r.site, natural_key(r.key)))
    return HeatMap(tuple(reversed(_axis(options.probability))), _axis(options.impact), options.high_score,
                   site_counts, site_unscored, tuple(ranked))


def _axis(table: dict[str, int]) -> tuple[tuple[int, str], ...]:
    by_score: dict[int, list[str]] = {}
    for value, score in table.items():
        by_score.setdefault(score, []).append(value)
    return tuple((score, " / ".join(by_score[score])) for score in sorted(by_score))


def heat_map(result: AuditResult, mapping: Any, contexts: dict[str, AuditContext]) -> HeatMap:
    options = _matrix(mapping)
    counts: dict[tuple[str, int, int], int] = {}
    unscored: dict[str, int] = {}
    hot: list[HotRisk] = []
    risk_types = {t.casefold() for t in mapping.issue_types.risk}
    for site, actx in sorted(contexts.items()):
        epic_of: dict[str, str] = {}
        for item in result.items:
            if item.kind == "epic" and item.site == site:
                for r in actx.risks(item.key):
                    epic_of.setdefault(r.key, item.key)
        for risk in actx.issues.values():
            if risk.issue_type.casefold() not in risk_types or risk.is_done:
                continue
            s = risk_score(risk, options)
            if s.value is None or s.probability is None or s.impact is None:
                unscored[site] = unscored.get(site, 0) + 1
                continue
            counts[(site, s.probability, s.impact)] = counts.get((site, s.probability, s.impact), 0) + 1
            if s.value >= options.high_score:
                hot.append(HotRisk(site, risk.project_key, risk.key, risk.summary, risk.url,
                                   epic_of.get(risk.key, ""), _name(risk_owner(actx, risk)),
                                   str(risk.fields.get("risk_likelihood")), str(risk.fields.get("risk_impact")),
                                   s.value, max((actx.now - actx.people_updated(risk)).days, 0)))
    return _heat(mapping, counts, unscored, hot)


# --- change log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EpicRef:
    """An epic as the governance views name it."""

    site: str
    project: str
    key: str
    summary: str
    url: str
    owner: str


def _epic_ref(epic: Issue) -> EpicRef:
    return EpicRef(epic.site, epic.project_key, epic.key, epic.summary, epic.url,
                   _name(epic.fields.get("owner") or epic.assignee))


@dataclass(frozen=True)
class EpicChange:
    """One baselined epic: its baseline against now."""

    epic: EpicRef
    baselined: date | None
    source: str  # "gate" (from its history), "field" (the site's baseline field), "stored" (pmo-jira's record)
    baseline_end: date | None
    target_end: date | None
    moved_days: int | None  # + later, - earlier; None without an end on either side
    replans: int
    last_move: date | None
    last_by: str
    scope_baseline: int | None
    scope_now: int
    approved: tuple[str, ...]  # approved change requests linked
    pending: tuple[str, ...]
    verdict: str  # UNAPPROVED | APPROVED | TOLERATED | ON_BASELINE

    @property
    def key(self) -> str:
        return self.epic.key

    @property
    def scope_added(self) -> int:
        return max(self.scope_now - self.scope_baseline, 0) if self.scope_baseline is not None else 0

    @property
    def growth_pct(self) -> float | None:
        if not self.scope_baseline:
            return None
        return round(100.0 * (self.scope_now - self.scope_baseline) / self.scope_baseline, 1)


@dataclass(frozen=True)
class ProjectChanges:
    site: str
    project: str
    epics: tuple[EpicChange, ...]

    @property
    def moved(self) -> int:
        return sum(1 for e in self.epics if e.moved_days)

    @property
    def days_slipped(self) -> int:
        return sum(e.moved_days for e in self.epics if e.moved_days and e.moved_days > 0)

    @property
    def replans(self) -> int:
        return sum(e.replans for e in self.epics)

    @property
    def scope_added(self) -> int:
        return sum(e.scope_added for e in self.epics)

    def count(self, verdict: str) -> int:
        return sum(1 for e in self.epics if e.verdict == verdict)


def _epic_change(actx: AuditContext, epic: Issue, options: ChangeControlOptions, flagged: bool) -> EpicChange | None:
    base = epic_baseline(actx, epic)
    if base is None:
        return None
    now_end = epic.fields.get("target_end")
    now_end = now_end if isinstance(now_end, date) else None
    moves = replans(epic, base)
    last = moves[-1] if moves else None
    scope_now = len(actx.children(epic.key))
    approved, pending = change_requests(actx, epic, options)
    moved = (now_end - base.end).days if now_end and base.end else None
    changed = bool(moved) or bool(moves) or (base.children is not None and scope_now > base.children)
    verdict = (UNAPPROVED if flagged else APPROVED if changed and approved else TOLERATED if changed
               else ON_BASELINE)
    return EpicChange(_epic_ref(epic), base.at.date() if base.at else None, base.source, base.end, now_end, moved, len(moves),
                      last.at.date() if last else None, last.who if last else "", base.children, scope_now,
                      tuple(cr.key for cr in approved), tuple(cr.key for cr in pending), verdict)


def change_log(result: AuditResult, mapping: Any,
               contexts: dict[str, AuditContext]) -> tuple[bool, tuple[ProjectChanges, ...]]:
    """(whether any history was read, per project its baselined epics, worst first within a project)."""
    options: ChangeControlOptions = _options(mapping, (ScheduleChangeControlled, ScopeChangeControlled),
                                             ChangeControlOptions)
    flagged = {(f.site, f.item_key) for f in result.findings
               if f.code in CHANGE_CODES and f.counts and f.outcome is Outcome.FAIL}
    read = False
    by_project: dict[tuple[str, str], list[EpicChange]] = {}
    rank = {UNAPPROVED: 0, APPROVED: 1, TOLERATED: 2, ON_BASELINE: 3}
    for item in result.items:
        actx = contexts.get(item.site)
        epic = actx.issues.get(item.key) if actx and item.kind == "epic" else None
        if epic is None:
            continue
        read = read or epic.changelog is not None
        row = _epic_change(actx, epic, options, (item.site, item.key) in flagged)
        if row is not None:
            by_project.setdefault((item.site, item.project_key), []).append(row)
    projects = tuple(
        ProjectChanges(site, project,
                       tuple(sorted(rows, key=lambda r: (rank[r.verdict], -(r.moved_days or 0), r.key))))
        for (site, project), rows in sorted(by_project.items()))
    return read, projects


# --- red dependencies ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RedDependency:
    epic: EpicRef
    target_end: date | None
    blocker_site: str
    blocker_project: str
    blocker_key: str
    blocker_summary: str
    blocker_url: str
    blocker_owner: str
    why: str

    @property
    def cross_site(self) -> bool:
        return self.blocker_site != self.epic.site


def red_dependencies(result: AuditResult, mapping: Any, contexts: dict[str, AuditContext]) -> tuple[RedDependency, ...]:
    """Open epics blocked by late, unowned or closing work in another project or on another site."""
    options = _options(mapping, (DependenciesHealthy,), DependenciesHealthy.Options)
    out = []
    for item in result.items:
        actx = contexts.get(item.site)
        epic = actx.issues.get(item.key) if actx and item.kind == "epic" else None
        if epic is None or epic.is_done:
            continue
        for b in blockers(actx, epic, options.link_types, options.cross_site_field):
            if options.other_projects_only and not b.cross_site and b.issue.project_key == epic.project_key:
                continue
            problems = dependency_problems(actx, b)
            if not problems:
                continue
            end = epic.fields.get("target_end")
            blocker_owner = b.issue.fields.get("owner") or b.issue.assignee
            out.append(RedDependency(
                _epic_ref(epic),
                end if isinstance(end, date) else None, b.site,
                b.issue.project_key, b.issue.key, b.issue.summary, b.issue.url, _name(blocker_owner),
                "; ".join(problems)))
    return tuple(sorted(out, key=_dependency_order))


def _dependency_order(d: RedDependency) -> tuple[Any, ...]:
    return d.epic.site, natural_key(d.epic.project), natural_key(d.epic.key), d.blocker_site, natural_key(d.blocker_key)


# --- together -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Governance:
    """Each view is None when the mapping runs none of the standards behind it."""

    heat: HeatMap | None
    history_read: bool
    changes: tuple[ProjectChanges, ...] | None
    dependencies: tuple[RedDependency, ...] | None


def _runs(mapping: Any, *standards: Any) -> bool:
    """Whether the mapping runs any of ``standards`` (an empty ``standards:`` list runs them all)."""
    codes = {s.code for s in mapping.standards}
    return not codes or any(s.code in codes for s in standards)


def site_contexts(snapshots: Sequence[Snapshot], mapping: Any, now: datetime) -> dict[str, AuditContext]:
    """Each site's context, all of the one run (dependencies are followed across sites)."""
    shared: dict[Any, Any] = {}
    run = tuple(snapshots)
    return {s.site.name: AuditContext.build(s, mapping, today=now.date(), now=now, run_snapshots=run, shared=shared)
            for s in run}


def build_governance(result: AuditResult, mapping: Any, contexts: dict[str, AuditContext]) -> Governance:
    """The views over every site of the run (``contexts``: ``site_contexts`` of its snapshots)."""
    read, changes = (change_log(result, mapping, contexts)
                     if _runs(mapping, BaselineSet, ScheduleChangeControlled, ScopeChangeControlled)
                     else (False, None))
    return Governance(heat_map(result, mapping, contexts) if _runs(mapping, RisksScored, HighRisksReviewed) else None,
                      read, changes,
                      red_dependencies(result, mapping, contexts) if _runs(mapping, DependenciesHealthy) else None)


# --- kept per site in the history (``report portfolio --from-history``) ---------------------------


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def plain_row(row: Any) -> list[Any]:
    """A dataclass of plain values (text, numbers, None) as a list in field order: ``astuple``
    without its deep copies, which cost seconds over the rows of 100,000 issues."""
    return [getattr(row, f.name) for f in fields(row)]


def site_part(gov: Governance, site: str) -> dict[str, Any]:
    """The views' rows of one site as JSON-able figures (the heat map's cells as [p, i, count])."""
    heat = gov.heat
    part: dict[str, Any] = {"history_read": gov.history_read, "heat": None, "changes": None, "dependencies": None}
    if heat is not None:
        mine = [r for r in heat.hot if r.site == site]
        part["heat"] = {"site_counts": [[p, i, n] for (s, p, i), n in sorted(heat.site_counts.items()) if s == site],
                        "unscored": heat.site_unscored.get(site, 0),
                        "hot": [plain_row(r) for r in mine]}
    if gov.changes is not None:
        part["changes"] = [[p.project, [[plain_row(e.epic), _iso(e.baselined), e.source, _iso(e.baseline_end),
                                         _iso(e.target_end), e.moved_days, e.replans, _iso(e.last_move), e.last_by,
                                         e.scope_baseline, e.scope_now, list(e.approved), list(e.pending), e.verdict]
                                        for e in p.epics]] for p in gov.changes if p.site == site]
    if gov.dependencies is not None:
        part["dependencies"] = [[plain_row(d.epic), _iso(d.target_end), d.blocker_site, d.blocker_project,
                                 d.blocker_key, d.blocker_summary, d.blocker_url, d.blocker_owner, d.why]
                                for d in gov.dependencies if d.epic.site == site]
    return part


def from_parts(parts: dict[str, dict[str, Any]], mapping: Any) -> Governance | None:
    """The views of the sites' kept parts, merged as one run over those sites would show them."""
    if not parts:
        return None
    heat = changes = deps = None
    if all(p.get("heat") is not None for p in parts.values()):
        counts = {(site, p, i): n for site, part in parts.items() for p, i, n in part["heat"]["site_counts"]}
        hot = [HotRisk(*row) for part in parts.values() for row in part["heat"]["hot"]]
        heat = _heat(mapping, counts, {s: n for s, part in parts.items() if (n := part["heat"]["unscored"])}, hot)
    if all(p.get("changes") is not None for p in parts.values()):
        changes = tuple(sorted(
            (ProjectChanges(site, project, tuple(
                EpicChange(EpicRef(*ref), _day(at), src, _day(b_end), _day(end), moved, replans, _day(last), by,
                           base_n, now_n, tuple(ok), tuple(pend), verdict)
                for ref, at, src, b_end, end, moved, replans, last, by, base_n, now_n, ok, pend, verdict in rows))
             for site, part in parts.items() for project, rows in part["changes"]),
            key=lambda p: (p.site, p.project)))
    if all(p.get("dependencies") is not None for p in parts.values()):
        deps = tuple(sorted((RedDependency(EpicRef(*ref), _day(end), *rest)
                             for part in parts.values() for ref, end, *rest in part["dependencies"]),
                            key=_dependency_order))
    return Governance(heat, any(p.get("history_read") for p in parts.values()), changes, deps)
