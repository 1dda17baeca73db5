"""One audit: classify every epic and project, run the active standards on it, apply waivers.

A standard that crashes becomes an ERROR finding on that item and the run goes on; a standard
whose fields the site lacks becomes NOT_APPLICABLE, never a silent pass.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from pmo_jira.collector import collector_paused
from pmo_jira.findings import AuditResult, Finding, Outcome
from pmo_jira.mapping.phases import EpicRules, classify_projects
from pmo_jira.model import ClassifiedItem, Issue, ReadPlan, Snapshot, natural_key
from pmo_jira.standards.base import ERROR, FAIL, NOT_APPLICABLE, Check
from pmo_jira.standards.builtin.change_control import epic_baseline
from pmo_jira.standards.context import AuditContext, SiteIndex
from pmo_jira.standards.registry import ActiveStandard, Registry, configure
from pmo_jira.standards.timeline import baseline_record, stored_baseline
from pmo_jira.waivers import apply_waivers

log = logging.getLogger("pmo_jira.engine")

GATED_PHASES = ("execution", "closing")  # past the planning gate: their baseline is recorded

CRASH_FIX = ("The standard could not judge this item; rerun with -v for the traceback and report it "
             "to the standard's maintainer. The other standards ran.")


def _missing_fields_message(missing: Sequence[str], site: str) -> str:
    if len(missing) == 1:
        f = missing[0]
        return f"not applicable: field '{f}' is not mapped/resolved on site {site} (map it in fields.{f})"
    names = ", ".join(f"'{f}'" for f in missing)
    where = ", ".join(f"fields.{f}" for f in missing)
    return f"not applicable: fields {names} are not mapped/resolved on site {site} (map them in {where})"


def _checks(active: ActiveStandard, obj: Any, ctx: AuditContext, missing: list[str]) -> list[Check]:
    if missing:
        return [Check(NOT_APPLICABLE, _missing_fields_message(missing, ctx.site))]
    try:
        return list(active.standard.evaluate(obj, ctx, active.options))
    except Exception as e:
        log.debug("standard %s crashed on %s", active.code, getattr(obj, "key", obj), exc_info=True)
        return [Check(ERROR, f"standard crashed: {type(e).__name__}: {e}", CRASH_FIX)]


_OUTCOMES = {FAIL: Outcome.FAIL, NOT_APPLICABLE: Outcome.NOT_APPLICABLE, ERROR: Outcome.ERROR}


def _evaluate_site(ctx: AuditContext, items: Sequence[ClassifiedItem],
                   active: Sequence[ActiveStandard]) -> Iterator[Finding]:
    # the standards that judge each kind of item in each phase, in the mapping's order, with the
    # fields each lacks on this site: looked up once per item rather than worked out for every
    # standard and item
    judges: dict[tuple[str, str], list[tuple[ActiveStandard, str, str, list[str]]]] = {}
    for a in active:
        missing = [f for f in a.standard.needs_fields if f not in ctx.available_fields]
        for phase in dict.fromkeys(a.phases):
            judges.setdefault((a.applies_to, phase), []).append((a, a.code, a.title, missing))
    for item in items:
        if item.phase is None:
            continue
        obj = ctx.issues.get(item.key) if item.kind == "epic" else ctx.projects.get(item.key)
        if obj is None:
            continue
        for a, code, title, missing in judges.get((item.kind, item.phase), ()):
            for check in _checks(a, obj, ctx, missing):
                outcome = _OUTCOMES.get(check.status)
                if outcome is None:
                    continue
                yield Finding(
                    code=code, title=title, severity=a.severity, outcome=outcome,
                    site=ctx.site, project_key=item.project_key, item_key=item.key,
                    item_kind=item.kind, item_summary=item.summary, phase=item.phase,
                    message=check.message, fix=check.fix, subject=check.subject, url=item.url,
                )


class SitePrep:
    """What each issue of a site settles on its own for the audit: its place in the context's
    indexes and, for an epic, its phase. A read feeds it each page as it arrives
    (``read_site(on_issues=...)``), while it waits on the server for the next, so the audit
    after the read starts from it."""

    def __init__(self, mapping: Any):
        self.mapping = mapping
        self.index = SiteIndex(mapping.issue_types)
        self._rules = EpicRules(mapping)
        self.epics: list[ClassifiedItem] = []  # in the order read
        self.done: dict[str, bool] = {}  # epic key -> done

    def add(self, issues: Sequence[Issue]) -> None:
        self.index.add(issues)
        for issue in issues:
            if self.index.kind(issue.issue_type) == "epic":
                self.epics.append(self._rules.classify(issue))
                self.done[issue.key] = issue.is_done


def run_audit(snapshots: Sequence[Snapshot], mapping: Any, *, today: date, now: datetime,
              registry: Registry | None = None, prepared: dict[str, SitePrep] | None = None) -> AuditResult:
    """Audit every snapshot against the mapping; findings come back sorted deterministically.

    ``prepared``: site name -> its ``SitePrep`` from the read, taken out of the dict as it is
    used (so its indexes go with the site's context); one made from other issues or another
    mapping is ignored.
    """
    # the collector rests: the checks' short-lived objects (checks, findings, an epic's past
    # states) hold no cycles, and its passes over them found nothing
    with collector_paused():
        return _run_audit(snapshots, mapping, today=today, now=now, registry=registry, prepared=prepared or {})


def _run_audit(snapshots: Sequence[Snapshot], mapping: Any, *, today: date, now: datetime,
               registry: Registry | None, prepared: dict[str, SitePrep]) -> AuditResult:
    active = configure(mapping, registry)
    waivers = mapping.waiver_objects()
    findings: list[Finding] = []
    items: list[ClassifiedItem] = []
    shared: dict[str, Any] = {}
    baselines: dict[tuple[str, str], dict[str, Any]] = {}
    for snapshot in snapshots:
        prep = prepared.pop(snapshot.site.name, None)
        if prep is None or prep.mapping is not mapping or not prep.index.holds(snapshot):
            prep = SitePrep(mapping)
            prep.add(snapshot.issues)
        classified = prep.epics + classify_projects(snapshot, mapping, prep.epics, prep.done)
        items.extend(classified)
        ctx = AuditContext.build(snapshot, mapping, today=today, now=now, run_snapshots=tuple(snapshots),
                                 shared=shared, index=prep.index)
        del prep  # its indexes are the context's now, and go with it
        # The snapshot (with the histories read after its last page) lives for the rest of the run:
        # exempt it from the collector, as the read does with each page, so the collections what
        # follows sets off (a sync's write-back) do not rescan it. Reference counting still frees
        # what goes (the context's indexes, below).
        gc.freeze()
        site_findings = _evaluate_site(ctx, classified, active)
        findings.extend(apply_waivers(site_findings, waivers, snapshot.waived_keys, today))
        baselines.update(_baselines(ctx, classified))
        del ctx  # its indexes of every issue go before the findings are sorted
    shared.clear()  # and the run's (the memo holds one more index per site)
    findings.sort(key=lambda f: (f.site, f.project_key, natural_key(f.item_key), f.code, natural_key(f.subject)))
    return AuditResult(
        findings=tuple(findings),
        items=tuple(items),
        started=now,
        finished=now,
        mapping_name=getattr(mapping, "name", ""),
        mapping_hash=getattr(mapping, "content_hash", ""),
        sites=tuple(s.site.name for s in snapshots),
        issues_read=sum(len(s.issues) for s in snapshots),
        requests=sum(s.requests for s in snapshots),
        baselines=baselines,
    )


def _baselines(ctx: AuditContext, classified: Sequence[ClassifiedItem]) -> dict[tuple[str, str], dict[str, Any]]:
    """Baselines of epics past the planning gate, replayed from the history this run read, to record."""
    out = {}
    for item in classified:
        issue = ctx.issues.get(item.key) if item.kind == "epic" and item.phase in GATED_PHASES else None
        if issue is None or issue.changelog is None or stored_baseline(issue) is not None:
            continue
        base = epic_baseline(ctx, issue)
        record = baseline_record(base) if base is not None else None
        if record is not None:
            out[(ctx.site, item.key)] = record
    return out


def _phase_rule_fields(mapping: Any) -> set[str]:
    phases = getattr(mapping, "phases", None)
    out = set()
    for rule in getattr(phases, "epic", None) or []:
        name = getattr(getattr(rule, "when", None), "field", None)
        if isinstance(name, str):
            out.add(name)
    return out


def required_fields(mapping: Any, registry: Registry | None = None) -> set[str]:
    """Logical fields the active standards and the phase rules read: the source fetches only these.

    Besides the mapping's logical fields this may name Jira system fields by their logical name
    (``description``, ``due``, ``assignee``), which the source resolves without a mapping entry.
    """
    return set(read_plan(mapping, registry, sections=False).fields)


def read_plan(mapping: Any, registry: Registry | None = None, *, sections: bool = True) -> ReadPlan:
    """Everything the active standards (and the plugins' mapping sections) read: fields, whether
    history and comments, extra issue types.

    History is read only when an active standard needs it; the phase rules' fields and status are
    then part of it, so a standard can tell when an epic passed a gate.
    """
    fields = _phase_rule_fields(mapping)
    history: set[str] = set()
    history_phases: set[str] = set(GATED_PHASES)  # their baselines are recorded from it
    comments = False
    types: list[str] = []
    for a in configure(mapping, registry):
        wants = a.standard.reads(a.options)
        fields.update(wants.fields)
        history.update(wants.history)
        if wants.history:
            history_phases.update(a.phases)
        comments = comments or wants.comments
        types += [t for t in wants.issue_types if t not in types]
    for section in (getattr(mapping, "sections", None) or {}).values() if sections else ():
        if section.model_fields_set:  # a section the file leaves out reads nothing extra
            fields.update(getattr(section, "reads_fields", lambda: ())())
    if history:
        history |= {"status"} | _phase_rule_fields(mapping)
    return ReadPlan(fields=frozenset(fields), history=frozenset(history), comments=comments,
                    issue_types=tuple(types), history_phases=frozenset(history_phases))


def needs_history(mapping: Any, plan: ReadPlan) -> Callable[[Issue], bool]:
    """Whether an epic's changelog is worth reading: only where a standard that reads history
    judges it (its phase now), so epics in other phases cost no request."""
    phases = plan.history_phases
    phase_of = EpicRules(mapping).phase

    def wanted(epic: Issue) -> bool:
        return phases is None or phase_of(epic) in phases

    return wanted
