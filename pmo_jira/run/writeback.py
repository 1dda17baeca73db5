"""Write-back over several sites: one plan per site (each under its own mapping), one merged view.

Plans are made and applied per site because each site may have its own mapping (label prefix,
notify setting); the merged plan is what people review and what the blast-radius cap counts.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from pmo_jira.errors import PmoError, WriteBackError
from pmo_jira.interrupt import Interrupted
from pmo_jira.jira.source import keep_histories
from pmo_jira.run.sites import AuditedSites
from pmo_jira.state import STATE_PROPERTY, parse_state
from pmo_jira.writeback.apply import ApplyReport, apply_plan
from pmo_jira.writeback.ownership import check_read
from pmo_jira.writeback.plan import Plan, plan_writeback
from pmo_jira.writeback.render import normalise_prefix

log = logging.getLogger("pmo_jira.run")


def plan_sites(outcome: AuditedSites, *, now: datetime, known_codes: Iterable[str] = (),
               max_resolved_share: float | None = None) -> dict[str, Plan]:
    """One plan per site that was read (``max_resolved_share`` overrides the mappings').

    When the run read comments (``Issue.comments``) of the issues pmo-jira wrote to (a state
    property or a label with the prefix), the plan knows which are the bot's: a deleted owned
    comment is posted again and duplicates are deleted, keeping one.
    """
    plans: dict[str, Plan] = {}
    codes = tuple(known_codes)
    for snap in outcome.snapshots:
        site = snap.site.name
        mapping = outcome.mappings[site]
        issues = {(site, issue.key): issue for issue in snap.issues}
        comments = None
        if site in outcome.clients:
            prefix = normalise_prefix(mapping.writeback.label_prefix)
            read = {i.key: i.comments for i in snap.issues
                    if i.comments is not None and i.key not in snap.comments_cut
                    and (STATE_PROPERTY in i.properties or any(lb.startswith(prefix) for lb in i.labels))}
            stated = {key: (state.comment_id if (state := parse_state(
                issues[site, key].properties.get(STATE_PROPERTY))) else None) for key in read}
            checks = check_read(outcome.clients[site], read, stated)
            comments = {(site, key): check for key, check in checks.items()}
        # only this site's findings: another site's issues are not "items that are not issues"
        own = dataclasses.replace(outcome.result, findings=tuple(
            f for f in outcome.result.findings if f.site == site))
        plans[site] = plan_writeback(own, issues, mapping, now=now, comments=comments, known_codes=codes,
                                     max_resolved_share=max_resolved_share)
    return plans


def hold_mass_resolutions(plans: Mapping[str, Plan], outcome: AuditedSites) -> tuple[dict[str, Plan], dict[str, str]]:
    """(the plans that may be applied, site -> why its plan is held back).

    A site whose plan trips the resolution guard is not written at all, and counts as a site
    that failed (exit 2): its findings stay as they were in Jira until someone looks.
    """
    held = {site: f"not written: {plan.warnings[0].split(': ', 1)[1]}"
            for site, plan in plans.items() if plan.warnings}
    if held:
        outcome.result = dataclasses.replace(outcome.result, site_errors={**outcome.result.site_errors, **held})
    return {site: plan for site, plan in plans.items() if site not in held}, held


def merge_plans(plans: Mapping[str, Plan]) -> Plan | None:
    if not plans:
        return None
    first, *_ = plans.values()
    return dataclasses.replace(
        first, issues=tuple(i for p in plans.values() for i in p.issues),
        unchanged=sum(p.unchanged for p in plans.values()),
        not_written=tuple(k for p in plans.values() for k in p.not_written),
        open_before=sum(p.open_before for p in plans.values()),
        resolving=sum(p.resolving for p in plans.values()),
        warnings=tuple(w for p in plans.values() for w in p.warnings))


def apply_sites(plans: Mapping[str, Plan], outcome: AuditedSites, *, notify: bool | None = None,
                concurrency: int = 4, max_write_timeouts: int | None = None,
                on_issue: Callable[[str, int, int], None] | None = None) -> ApplyReport:
    """Apply each site's plan with its own client and mapping; the reports summed.

    ``notify`` overrides the mappings' ``writeback.notify`` when given. A refused notify under
    ``on_notify_refused: fail`` raises ``WriteBackError``, a stop signal ``Interrupted``, each
    with the summed report so far on ``.report``. A site whose writes keep timing out is stopped
    by its breaker (``max_write_timeouts`` in a row) and named in ``sites_stopped``; the other
    sites are still written.
    ``on_issue(site, done, total)`` hears as each issue's writes end (for a progress display).
    """
    total = ApplyReport()
    for site, plan in plans.items():
        if plan.empty:
            continue
        wb = outcome.mappings[site].writeback
        client = outcome.clients[site]
        if max_write_timeouts is not None:
            client.breaker.limit = max_write_timeouts
        try:
            report = apply_plan(plan, {site: client}, notify=wb.notify if notify is None else notify,
                                on_notify_refused=wb.on_notify_refused, concurrency=concurrency,
                                on_issue=None if on_issue is None else functools.partial(on_issue, site))
        except (WriteBackError, Interrupted) as exc:
            _add(total, getattr(exc, "report", None) or ApplyReport())
            exc.report = total  # type: ignore[union-attr]
            raise
        _add(total, report)
        _keep_histories(outcome, site, plan)
    return total


def _keep_histories(outcome: AuditedSites, site: str, plan: Plan) -> None:
    """Keep the histories of the epics just written with their new ``updated`` (see
    ``keep_histories``); if that fails, the next run reads them from Jira again."""
    snapshot = next((s for s in outcome.snapshots if s.site.name == site), None)
    if snapshot is None or site not in outcome.read_plans:
        return
    read = {i.key for i in snapshot.issues if i.changelog is not None}
    keys = sorted(read & {i.key for i in plan.issues})
    try:
        keep_histories(outcome.clients[site], outcome.mappings[site], outcome.read_plans[site], keys)
    except PmoError as exc:
        log.warning("site %s: the histories of the epics just written were not kept (%s); the next run "
                    "reads them from Jira again", site, exc.one_line())


def _add(total: ApplyReport, report: ApplyReport) -> None:
    for f in dataclasses.fields(ApplyReport):
        mine, theirs = getattr(total, f.name), getattr(report, f.name)
        setattr(total, f.name, {**mine, **theirs} if isinstance(mine, dict) else mine + theirs)
