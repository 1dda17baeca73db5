"""Change control: an epic's baseline is set at the planning gate, and moving it takes an approved change.

The baseline is replayed from the epic's changelog (read in bulk, see ``pmo_jira.jira.source``) or
read from the site's baseline fields; see ``pmo_jira.standards.timeline``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

from pydantic import Field

from pmo_jira.findings import Severity
from pmo_jira.model import Issue, ReadPlan
from pmo_jira.standards.base import Check, Standard, StandardOptions, keys_preview
from pmo_jira.standards.context import AuditContext
from pmo_jira.standards.timeline import Baseline, Move, baseline, moves, stored_baseline
from pmo_jira.wording import counted

GATE_PHASE = "execution"  # passing the planning gate = first reaching execution (or later)


class ChangeControlOptions(StandardOptions):
    """How the site records an approved change request (shared by the change-control standards)."""

    change_request_types: list[str] = Field(default_factory=lambda: ["Change Request"], min_length=1,
                                            description="issue types that are change requests")
    change_link_types: list[str] = Field(default_factory=list,
                                         description="link type names that tie a change request to the epic "
                                                     "(empty: any link)")
    approved_statuses: list[str] = Field(default_factory=lambda: ["Approved"], min_length=1,
                                         description="statuses of an approved change request")


def change_requests(ctx: AuditContext, epic: Issue, options: ChangeControlOptions) -> tuple[list[Issue], list[Issue]]:
    """(approved, not yet approved) change requests linked to the epic."""
    approved_names = {s.casefold() for s in options.approved_statuses}
    approved, pending = [], []
    for _, cr in ctx.linked(epic, options.change_request_types, options.change_link_types):
        (approved if cr.status.casefold() in approved_names else pending).append(cr)
    return approved, pending


def _no_cr(pending: list[Issue], options: ChangeControlOptions) -> str:
    if pending:
        shown = ", ".join(f"{cr.key} is {cr.status}" for cr in pending[:3])
        return f"no approved change request linked ({shown})"
    return f"no approved {options.change_request_types[0]} linked"


def _cr_fix(epic: Issue, options: ChangeControlOptions, what: str) -> str:
    link = f" with a '{options.change_link_types[0]}' link" if options.change_link_types else ""
    return (f"Raise a {options.change_request_types[0]} for the {what} of {epic.key}, link it to the epic{link} "
            f"and have it approved (status {options.approved_statuses[0]}), or restore the baseline.")


def epic_baseline(ctx: AuditContext, epic: Issue) -> Baseline | None:
    """The epic's baseline: the site's baseline fields, else the one recorded in its state, else
    replayed from its history; a target end first set after the gate becomes the baseline end.
    Worked out once per epic and site, however many standards ask."""
    return ctx.once((epic_baseline, epic.key), lambda: _epic_baseline(ctx, epic))


def _epic_baseline(ctx: AuditContext, epic: Issue) -> Baseline | None:
    if not (ctx.has_field("baseline_end") and epic.day("baseline_end")):
        stored = stored_baseline(epic)
        if stored is not None:
            return stored
    base = baseline(epic, ctx.gate(epic, GATE_PHASE), ctx.children(epic.key), ctx.has_field)
    if base is None or base.end is not None or base.at is None:
        return base
    first = next((m for m in moves(epic, "target_end") if m.at > base.at and m.after_date), None)
    if first is None:
        return base
    return dataclasses.replace(base, at=first.at, by=first.by, end=first.after_date)


def replans(epic: Issue, base: Baseline) -> list[Move]:
    """Moves of the target end after the baseline was taken."""
    return [m for m in moves(epic, "target_end") if base.at is None or m.at > base.at]


def _history_na(epic: Issue) -> Check | None:
    if epic.changelog is None:
        return Check.not_applicable(f"the history of {epic.key} was not read")
    return None


def _when(base: Baseline) -> str:
    if base.source == "field":
        return "the baseline fields"
    return f"the baseline of {base.at.date().isoformat()}" if base.at else "the baseline"


class BaselineSet(Standard):
    """An epic past the planning gate has a baseline: a target end and its scope when it passed.

    Why: a baseline is the approved plan that progress, slippage and scope change are measured
    against (PMBOK's performance measurement baseline, PRINCE2's stage plan). pmo-jira takes it
    from the epic's own history, the dates and children it had when it first reached execution,
    so nothing has to be recorded by hand; a site with baseline fields (Advanced Roadmaps) binds
    ``baseline_end`` / ``baseline_start`` and those win. An epic that passed the gate without a
    target end has no plan to hold it to; the first target end set afterwards becomes the baseline.
    Reads the epic's changelog (Cloud: bulk, 1,000 epics per request; Data Center: one search
    over the epics with their history).

    Example:

    ```yaml
    standards:
      - code: PMO-BSL-001
        phases: [execution, closing]
    ```
    """

    code = "PMO-BSL-001"
    title = "Baseline set at the planning gate"
    default_severity = Severity.HIGH
    default_phases = ("execution", "closing")
    optional_fields = ("start", "target_end", "baseline_start", "baseline_end", "story_points")
    history_fields = ("target_end", "start")

    def evaluate(self, item: Issue, ctx: AuditContext, options: StandardOptions) -> Iterable[Check]:
        base = epic_baseline(ctx, item)
        if base is None:
            yield _history_na(item) or Check.not_applicable(
                f"the history of {item.key} shows no move into {GATE_PHASE}")
            return
        if base.end is not None:
            yield Check.passed()
            return
        when = f" on {base.at.date().isoformat()}" if base.at else ""
        by = f" (moved by {base.by.display_name})" if base.by else ""
        yield Check.fail(
            f"passed the planning gate{when}{by} without a target end, and none was set since: no baseline",
            f"Agree the plan with the sponsor and set {ctx.field_label('target_end')} on {item.key}; "
            f"the first target end set becomes its baseline.",
        )


class ScheduleChangeControlled(Standard):
    """The target end moves past its baseline only with an approved change request.

    Why: slippage is the first question of every steering committee, and re-planning without a
    decision hides it: a date moved three times after the planning gate looks on time today.
    Each move of the target end after the baseline is a re-plan; when the slip passes the
    threshold (days, or percent of the baselined duration) or the re-plans exceed their limit
    without an approved change request linked to the epic (its issue type, link type and
    approved status are options), it is a finding saying by how much, when and by whom. Reads
    the epic's changelog in bulk, like PMO-BSL-001.

    Example:

    ```yaml
    standards:
      - code: PMO-CHG-001
        options:
          slip_days: 10
          slip_percent: 10
          max_replans: 2
          change_request_types: [Change Request]
          change_link_types: [Relates]
          approved_statuses: [Approved]
    ```
    """

    code = "PMO-CHG-001"
    title = "Schedule changes under change control"
    default_severity = Severity.HIGH
    default_phases = ("execution", "closing")
    optional_fields = ("start", "target_end", "baseline_start", "baseline_end")
    history_fields = ("target_end", "start")

    class Options(ChangeControlOptions):
        slip_days: int | None = Field(default=10, ge=0, description="days past the baseline end tolerated "
                                                                     "(null: no limit in days)")
        slip_percent: float | None = Field(default=None, ge=0, description="slip tolerated, in percent of the "
                                                                          "baselined duration (null: no limit)")
        max_replans: int | None = Field(default=2, ge=0, description="moves of the target end tolerated after "
                                                                      "the baseline (null: no limit)")

    def reads(self, options: Options) -> ReadPlan:
        return dataclasses.replace(super().reads(options), issue_types=tuple(options.change_request_types))

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        base = epic_baseline(ctx, item)
        now_end = item.day("target_end")
        if base is None or base.end is None:
            yield _history_na(item) or Check.not_applicable(f"{item.key} has no baseline (see PMO-BSL-001)")
            return
        moved = replans(item, base)
        problems = []
        slip = (now_end - base.end).days if isinstance(now_end, date) else 0
        duration = (base.end - base.start).days if base.start else None
        pct = slip * 100 / duration if duration and duration > 0 else None
        if slip > 0 and ((options.slip_days is not None and slip > options.slip_days)
                         or (options.slip_percent is not None and pct is not None and pct > options.slip_percent)):
            share = f", {pct:.0f}% of the baselined {duration} days" if pct is not None else ""
            problems.append(("slip", f"target end moved from {base.end.isoformat()} to {now_end.isoformat()} "
                                     f"(+{counted(slip, 'day')}{share}) since {_when(base)}"))
        if options.max_replans is not None and len(moved) > options.max_replans:
            problems.append(("replans", f"{counted(len(moved), 're-plan')} of the target end since {_when(base)} "
                                        f"(limit {options.max_replans})"))
        if not problems:
            yield Check.passed()
            return
        approved, pending = change_requests(ctx, item, options)
        if approved:
            yield Check.passed()
            return
        last = next((m for m in reversed(moved)), None)
        who = (f"; last moved on {last.at.date().isoformat()} by {last.who} "
               f"({last.before or 'empty'} -> {last.after or 'empty'})") if last else ""
        for subject, text in problems:
            yield Check.fail(f"{text}{who}; {_no_cr(pending, options)}", _cr_fix(item, options, "new dates"),
                             subject=subject)


class ScopeChangeControlled(Standard):
    """Scope grows past its baseline only with an approved change request.

    Why: scope creep is the quiet way a plan fails: children added after the planning gate
    consume the contingency without anyone deciding to spend it. The scope at the baseline is
    the epic's children that existed when it passed the gate (and their estimates); growth is
    the children created since. Growth past the threshold without an approved change request
    linked to the epic is a finding naming what was added, when and by whom. A child created
    before the gate and moved into the epic later counts as baseline scope (only its creation
    date is known without reading every child's history); an epic that had no children at the
    gate has no scope baseline, and the standard says so rather than guess.

    Example:

    ```yaml
    standards:
      - code: PMO-CHG-002
        options:
          max_growth_percent: 10
          change_request_types: [Change Request]
    ```
    """

    code = "PMO-CHG-002"
    title = "Scope changes under change control"
    default_severity = Severity.MEDIUM
    default_phases = ("execution", "closing")
    optional_fields = ("story_points", "reporter", "target_end", "baseline_end")
    history_fields = ("target_end",)

    class Options(ChangeControlOptions):
        max_growth_percent: float = Field(default=10, ge=0, description="growth in children (percent of the "
                                                                        "baseline count) tolerated")

    def reads(self, options: Options) -> ReadPlan:
        return dataclasses.replace(super().reads(options), issue_types=tuple(options.change_request_types))

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        stored = stored_baseline(item)
        gate = ctx.gate(item, GATE_PHASE)
        at = stored.at if stored is not None else gate.at if gate is not None else None
        if at is None:
            yield _history_na(item) or Check.not_applicable(
                f"the history of {item.key} shows no move into {GATE_PHASE}")
            return
        children = ctx.children(item.key)
        added = sorted((c for c in children if c.created > at), key=lambda c: (c.created, c.key))
        base_count = stored.children if stored is not None and stored.children is not None \
            else len(children) - len(added)
        if not base_count:
            yield Check.not_applicable(f"{item.key} had no children when it passed the planning gate on "
                                       f"{at.date().isoformat()}, so there is no scope baseline to grow from")
            return
        growth = len(added) * 100 / base_count
        if not added or growth <= options.max_growth_percent:
            yield Check.passed()
            return
        approved, pending = change_requests(ctx, item, options)
        if approved:
            yield Check.passed()
            return
        points = sum(float(p) for c in added if isinstance(p := c.fields.get("story_points"), (int, float)))
        share = f"+{growth:.0f}%"
        pts = f", +{points:g} points" if points else ""
        shown = "; ".join(f"{c.key} on {c.created.date().isoformat()}"
                          + (f" by {c.reporter.display_name}" if c.reporter else "") for c in added[:3])
        more = f" (+{len(added) - 3} more)" if len(added) > 3 else ""
        yield Check.fail(
            f"scope grew by {len(added)} children ({share}{pts}) since the planning gate of "
            f"{at.date().isoformat()}: {shown}{more}; {_no_cr(pending, options)}",
            _cr_fix(item, options, f"added scope ({keys_preview([c.key for c in added], 3)})"),
        )
