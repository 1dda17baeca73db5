"""Execution: work in flight is reported on, on time, and not stuck."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import Field

from pmo_jira.findings import Severity
from pmo_jira.model import Issue
from pmo_jira.standards.base import Check, Standard, StandardOptions
from pmo_jira.standards.context import AuditContext
from pmo_jira.standards.timeline import moves
from pmo_jira.wording import counted


class StatusFresh(Standard):
    """The epic or one of its children was updated recently.

    Why: status assembled from trackers is only trustworthy when the trackers move; an epic in
    execution whose issues nobody touched for weeks is either stalled or reported elsewhere, and
    the portfolio view of it is fiction (the "watermelon" project). Any change counts: a comment,
    a transition or a field edit, on the epic or on any of its children, except pmo-jira's own
    write-back of this very finding (else flagging a stale epic would make it look fresh).

    Example:

    ```yaml
    standards:
      - code: PMO-EXE-001
        options: {max_days: 14}
    ```
    """

    code = "PMO-EXE-001"
    title = "Status fresh"
    default_severity = Severity.MEDIUM
    default_phases = ("execution",)

    class Options(StandardOptions):
        max_days: int = Field(default=14, ge=1, description="days without any update before the epic is stale")

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        if item.is_done:  # finished work is not expected to move (its phase may lag, e.g. a field)
            yield Check.passed()
            return
        epic_updated = ctx.people_updated(item)  # our own write-back does not make an epic fresh
        own = "not counting pmo-jira's write-back" if epic_updated != item.updated else ""
        times = [(epic_updated, item), *((c.updated, c) for c in ctx.children(item.key))]
        updated, latest = max(times, key=lambda t: t[0])
        age = (ctx.now - updated).days
        if age <= options.max_days:
            yield Check.passed()
            return
        where = "" if latest is item else f", {latest.key}"
        detail = f"{counted(age, 'day')} (last {updated.date().isoformat()}{where}" + (f", {own}" if own else "")
        yield Check.fail(
            f"no update on the epic or its children for {detail}; limit {options.max_days})",
            f"Post a status update on {item.key} (a comment on progress, risks and next steps) "
            f"and bring its children's statuses up to date.",
        )


class NotOverdue(Standard):
    """Open epics are not past their target end.

    Why: a target end in the past on open work means the schedule baseline no longer holds;
    PRINCE2 calls for an exception report when a tolerance is exceeded, and the sponsor should
    decide to re-plan or stop rather than discover it at closing.

    Example:

    ```yaml
    standards:
      - code: PMO-EXE-002
        options: {grace_days: 0}
    ```
    """

    code = "PMO-EXE-002"
    title = "Not overdue"
    default_severity = Severity.HIGH
    default_phases = ("execution",)
    needs_fields = ("target_end",)

    class Options(StandardOptions):
        grace_days: int = Field(default=0, ge=0, description="days past the target end tolerated before failing")

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        end = item.day("target_end")
        if end is None:
            yield Check.not_applicable(f"{item.key} has no target end (see PMO-PLN-001)")
            return
        late = (ctx.today - end).days
        if item.is_done or late <= options.grace_days:
            yield Check.passed()
            return
        yield Check.fail(
            f"target end {end.isoformat()} passed {counted(late, 'day')} ago and the epic is still {item.status}",
            f"Agree a new target end with the sponsor and update {ctx.field_label('target_end')} on "
            f"{item.key} (re-baseline), or finish the remaining work and close it.",
        )


def blocked_since(issue: Issue, blocked: set[str]) -> datetime | None:
    """When the issue entered its current run of blocked statuses, from its changelog when the run
    read it (None otherwise). Blocked is usually in the In Progress category, so the last
    status-category change is when work started, not when it stopped."""
    since = None
    for move in reversed(moves(issue, "status")):
        if (move.after or "").casefold() not in blocked:
            break
        since = move.at
        if (move.before or "").casefold() not in blocked:
            break
    return since


class BlockedTooLong(Standard):
    """Nothing in the epic stays blocked longer than N days.

    Why: a blocker older than a couple of weeks has outgrown the team's authority and needs
    escalation (RAID: an issue with an owner and a next action). The time is measured from the
    move into the blocked status when the issue's history was read (epics, when a standard reads
    their history), else from the last status-category change; where Jira does not report it,
    from the last update, and the message says so.

    Example:

    ```yaml
    standards:
      - code: PMO-EXE-003
        options:
          blocked_statuses: [Blocked, On Hold]
          max_days: 10
    ```
    """

    code = "PMO-EXE-003"
    title = "Blocked longer than N days"
    default_severity = Severity.HIGH
    default_phases = ("execution",)

    class Options(StandardOptions):
        blocked_statuses: list[str] = Field(default_factory=lambda: ["Blocked"], min_length=1,
                                            description="status names that mean blocked")
        max_days: int = Field(default=10, ge=1, description="days blocked before escalation is due")

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        blocked = {s.casefold() for s in options.blocked_statuses}
        stuck = False
        for issue in (item, *ctx.children(item.key)):
            if issue.status.casefold() not in blocked:
                continue
            entered = blocked_since(issue, blocked)
            since = entered or issue.status_category_changed or issue.updated
            days = (ctx.now - since).days
            if days <= options.max_days:
                continue
            stuck = True
            basis = ("" if entered or issue.status_category_changed else
                     "; measured from the last update, Jira reported no status-category change")
            yield Check.fail(
                f"{issue.key} has been {issue.status} for {counted(days, 'day')} (since {since.date().isoformat()}, "
                f"limit {options.max_days}{basis})",
                f"Escalate the blocker on {issue.key}: name who must act and by when in a comment, "
                f"or move it out of {issue.status} if it is no longer blocked.",
                subject=issue.key,
            )
        if not stuck:
            yield Check.passed()
