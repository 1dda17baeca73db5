"""What the roll-up reads: the audit (items, open and waived findings) and, per epic and project,
the few figures it takes from the Jira snapshots. Gathered from a run, or loaded from the history.

Every recorded run keeps this per site (``PerSite`` run facts, newest run of each site only), so
``pmo-jira report portfolio --from-history`` rolls the sites up without reading Jira again and
renders exactly what a report reading the same Jira state renders. Figures that depend on the
clock (days late, days without an update) are taken at the run's own time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from operator import attrgetter
from typing import Any

from pmo_jira.findings import AuditResult, Finding, Outcome, Severity
from pmo_jira.history import HistoryStore, PerSite
from pmo_jira.mapping.schema import Mapping as MappingFile
from pmo_jira.model import ClassifiedItem, Snapshot
from pmo_jira.standards.builtin.risk import HighRisksManaged, has_mitigation, open_high_risks, risk_owner
from pmo_jira_portfolio import REPORT_NAME
from pmo_jira_portfolio.governance import Governance, build_governance, from_parts, plain_row, site_contexts, site_part

NAME = f"{REPORT_NAME}-sites"  # the name the figures are kept under in the history (per site)
FORMAT = 1  # of the kept figures; a newer one is refused with a line saying so

SiteKey = tuple[str, str]  # (site, key)


@dataclass(frozen=True)
class EpicFacts:
    """An epic's figures from its site's snapshot (clock-dependent ones at the run's time). Kept in
    the history as a list in this order: add new fields at the end, with a default."""

    status: str = ""
    owner: str = ""  # display name of the owner field, else the assignee ('' nobody)
    open: bool = False
    target_end: str = ""  # ISO date
    days_late: int = 0
    days_since_update: int | None = None  # open epics only; pmo-jira's own writes aside
    children: int = 0
    children_done: int = 0
    children_estimated: int = 0
    points: float = 0.0
    points_done: float = 0.0
    risks: int = 0
    open_high_risks: int = 0
    unmanaged_risks: int = 0


@dataclass(frozen=True)
class ProjectFacts:
    name: str
    owner: str  # the project lead's display name ('' nobody)
    url: str
    category: str | None


@dataclass(frozen=True)
class RollupInput:
    """The roll-up's whole input. ``result`` holds the open and waived findings (others are not
    rolled up); ``projects`` every (site, project) with items or findings (None: not in Jira's
    project list, e.g. a finding on a project out of scope)."""

    result: AuditResult
    epics: Mapping[SiteKey, EpicFacts]
    projects: Mapping[SiteKey, ProjectFacts | None]
    governance: Governance | None = None  # heat map, change log, red dependencies (kept per site)
    recorded: Mapping[str, datetime] = field(default_factory=dict)
    """From the history: site -> the start of the run its figures were recorded by (per-site jobs
    run at different times); a site read by this run is as of the run's start."""


# --- from a run ----------------------------------------------------------------------------------


def gather(result: AuditResult, snapshots: Sequence[Snapshot], mapping: MappingFile, now: datetime) -> RollupInput:
    """The roll-up's input from an audit and the snapshots it was computed from."""
    today = now.date()
    contexts = site_contexts(snapshots, mapping, now)
    conf = mapping.standard(HighRisksManaged.code)
    high = {v.casefold() for v in HighRisksManaged.Options(**(conf.options if conf else {})).high_values}
    epics: dict[SiteKey, EpicFacts] = {}
    for item in result.items:
        actx = contexts.get(item.site)
        issue = actx.issues.get(item.key) if actx else None
        if item.kind != "epic" or actx is None or issue is None:
            continue
        children = actx.children(item.key)
        points = [(c, c.fields.get("story_points")) for c in children]
        estimated = [(c, p) for c, p in points if isinstance(p, (int, float))]
        is_open = not issue.is_done
        target = issue.fields.get("target_end")
        serious = open_high_risks(actx, item.key, high)  # the same rule as PMO-RSK-002
        owner = issue.fields.get("owner") or issue.assignee
        epics[(item.site, item.key)] = EpicFacts(
            status=issue.status, owner=getattr(owner, "display_name", None) or "", open=is_open,
            target_end=target.isoformat() if target else "",
            days_late=max((today - target).days, 0) if is_open and target else 0,
            days_since_update=(now - actx.people_updated(issue)).days if is_open else None,
            children=len(children), children_done=sum(c.is_done for c in children),
            children_estimated=len(estimated), points=float(sum(p for _, p in estimated)),
            points_done=float(sum(p for c, p in estimated if c.is_done)),
            risks=len(actx.risks(item.key)), open_high_risks=len(serious),
            unmanaged_risks=sum(1 for r in serious
                                if not ((o := risk_owner(actx, r)) and o.active and has_mitigation(r))))
    known = {(s.site.name, p.key): p for s in snapshots for p in s.projects}
    keys = {(i.site, i.project_key) for i in result.items} | {(f.site, f.project_key) for f in result.findings}
    projects = {k: ProjectFacts(p.name, p.lead.display_name if p.lead else "", p.url, p.category)
                if (p := known.get(k)) else None for k in keys}
    rolled = tuple(f for f in result.findings if f.counts or f.outcome is Outcome.WAIVED)
    return RollupInput(_with_findings(result, rolled), epics, projects,
                       build_governance(result, mapping, contexts))


def _with_findings(result: AuditResult, findings: tuple[Finding, ...]) -> AuditResult:
    return AuditResult(findings=findings, items=result.items, started=result.started, finished=result.finished,
                       mapping_name=result.mapping_name, mapping_hash=result.mapping_hash, sites=result.sites,
                       issues_read=result.issues_read, requests=result.requests,
                       site_errors=dict(result.site_errors), narrowed=result.narrowed)


# --- kept per site in the history ------------------------------------------------------------------

_ITEM = ("key", "kind", "project_key", "summary", "phase", "rule", "url")
_FINDING = ("code", "title", "severity", "outcome", "project_key", "item_key", "item_kind", "item_summary",
            "phase", "message", "fix", "subject", "url", "note")


def per_site(inp: RollupInput) -> PerSite:
    """``inp`` as JSON-able figures per site audited, for ``HistoryStore.record_run``."""
    result = inp.result
    out = PerSite()
    for site in set(result.sites) - set(result.site_errors):
        out[site] = {
            "format": FORMAT,
            "items": [_item_row(i) for i in result.items if i.site == site],  # tuples: kept as JSON arrays
            "findings": [_finding_row(f) for f in result.findings if f.site == site],
            "epics": {k: plain_row(e) for (s, k), e in sorted(inp.epics.items()) if s == site},
            "projects": {k: plain_row(p) if p else None for (s, k), p in sorted(inp.projects.items(),
                                                                                      key=lambda kv: kv[0])
                         if s == site},
            **({"governance": site_part(inp.governance, site)} if inp.governance else {}),
        }
    return out


_item_row = attrgetter(*_ITEM)
_finding_values = attrgetter(*_FINDING)
_SEVERITY, _OUTCOME = _FINDING.index("severity"), _FINDING.index("outcome")


def _finding_row(f: Finding) -> tuple[Any, ...]:
    row = list(_finding_values(f))
    row[_SEVERITY], row[_OUTCOME] = f.severity.value, f.outcome.value
    return tuple(row)


def load(store: HistoryStore, mapping: MappingFile, sites: Sequence[str]) -> RollupInput:
    """The input of the newest full run of each of ``sites``, from the history; a site without one
    is a one-line error naming it and the command that records it."""
    name = mapping.name
    kept = store.kept_per_site(NAME, mapping=name, sites=sites, version=FORMAT, what="portfolio figures",
                               absent="recorded by an older pmo-jira or without the portfolio extra")
    runs = {site: run for site, (run, _) in kept.items()}
    items: list[ClassifiedItem] = []
    found: list[Finding] = []
    epics: dict[SiteKey, EpicFacts] = {}
    projects: dict[SiteKey, ProjectFacts | None] = {}
    for site in sites:
        data = kept[site][1]
        items += [ClassifiedItem(site=site, **dict(zip(_ITEM, row))) for row in data["items"]]
        for row in data["findings"]:
            f = dict(zip(_FINDING, row))
            found.append(Finding(site=site, **{**f, "severity": Severity(f["severity"]),
                                               "outcome": Outcome(f["outcome"])}))
        epics.update({(site, k): EpicFacts(*v) for k, v in data["epics"].items()})
        projects.update({(site, k): ProjectFacts(*v) if v else None for k, v in data["projects"].items()})
    newest = max(runs.values(), key=lambda r: (r.started, r.id))
    result = AuditResult(findings=tuple(found), items=tuple(items), started=newest.started,
                         finished=max(r.finished for r in runs.values()), mapping_name=name,
                         mapping_hash=newest.mapping_hash, sites=tuple(sites),
                         issues_read=sum(r.issues_read for r in {r.id: r for r in runs.values()}.values()))
    parts = {site: kept[site][1]["governance"] for site in sites if "governance" in kept[site][1]}
    return RollupInput(result, epics, projects, from_parts(parts, mapping) if len(parts) == len(sites) else None,
                       recorded={site: run.started for site, run in runs.items()})

