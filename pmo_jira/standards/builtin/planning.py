"""Planning: the plan exists (dates, estimates) and hangs together (children fit the epic)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pydantic import Field

from pmo_jira.findings import Severity
from pmo_jira.model import Issue
from pmo_jira.standards.base import Check, Standard, StandardOptions, keys_preview
from pmo_jira.standards.context import AuditContext
from pmo_jira.wording import counted


class DatesSet(Standard):
    """The epic has a start date and a target end, in that order.

    Why: a baseline start and finish are the minimum a plan needs before execution is
    authorised (Gate 2); without them nothing can be late, so schedule slippage stays invisible
    and the portfolio roadmap has holes.

    Example:

    ```yaml
    standards:
      - code: PMO-PLN-001
        phases: [planning, execution]
    ```
    """

    code = "PMO-PLN-001"
    title = "Start and target end dates set"
    default_severity = Severity.MEDIUM
    default_phases = ("planning", "execution")
    needs_fields = ("start", "target_end")

    def evaluate(self, item: Issue, ctx: AuditContext, options: StandardOptions) -> Iterable[Check]:
        start, end = item.day("start"), item.day("target_end")
        missing = [name for name, value in (("start", start), ("target_end", end)) if value is None]
        not_dates = [n for n in missing if item.fields.get(n) is not None]  # e.g. a text field bound
        if not_dates:
            shown = "; ".join(f"{ctx.field_label(n)} holds {str(item.fields.get(n))!r}, not a date" for n in not_dates)
            yield Check.fail(shown, f"Bind {' and '.join(n for n in not_dates)} to a date field in the mapping, "
                                    f"or set {item.key}'s dates in the date field the site uses.")
        elif missing:
            labels = " and ".join(ctx.field_label(n) for n in missing)
            what = " and ".join("start date" if n == "start" else "target end" for n in missing)
            yield Check.fail(f"no {what}", f"Set {labels} on {item.key} to the agreed baseline dates.")
        elif start > end:
            yield Check.fail(
                f"start {start.isoformat()} is after target end {end.isoformat()}",
                f"Correct {ctx.field_label('start')} or {ctx.field_label('target_end')} on {item.key}.",
                subject="order",
            )
        else:
            yield Check.passed()


class ChildrenEstimated(Standard):
    """Most of the epic's open children carry an estimate.

    Why: a forecast is only as good as its estimates; when much of the open backlog is
    unestimated, the target end is a guess and capacity planning cannot see the work.

    Example:

    ```yaml
    standards:
      - code: PMO-PLN-002
        options: {min_ratio: 0.8}
    ```
    """

    code = "PMO-PLN-002"
    title = "Children estimated"
    default_severity = Severity.MEDIUM
    default_phases = ("planning", "execution")
    needs_fields = ("story_points",)

    class Options(StandardOptions):
        min_ratio: float = Field(default=0.8, ge=0.0, le=1.0,
                                 description="share of open children that must have story points (0..1)")

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        open_children = [c for c in ctx.children(item.key) if not c.is_done]
        if not open_children:
            yield Check.passed()
            return
        missing = [c.key for c in open_children if c.fields.get("story_points") is None]
        ratio = 1 - len(missing) / len(open_children)
        if ratio >= options.min_ratio:
            yield Check.passed()
            return
        yield Check.fail(
            f"{len(open_children) - len(missing)} of {len(open_children)} open children estimated "
            f"({ratio:.0%}, minimum {options.min_ratio:.0%}); unestimated: {keys_preview(missing)}",
            f"Estimate the open children of {item.key} in backlog refinement "
            f"(set {ctx.field_label('story_points')}).",
        )


def _child_window(child: Issue) -> tuple[date | None, date | None]:
    return child.day("start"), child.day("target_end") or child.due


class ChildrenInsideDates(Standard):
    """Open children are scheduled inside the epic's start and target end.

    Why: a child due after its epic's target end means the epic's date is already unachievable
    (or the child belongs elsewhere); one due before the epic starts points at a stale plan.
    Either way the roll-up date a sponsor sees is wrong. Done children are history and are not
    checked.

    Example:

    ```yaml
    standards:
      - code: PMO-PLN-003
        severity: medium
    ```
    """

    code = "PMO-PLN-003"
    title = "Children inside the parent's dates"
    default_severity = Severity.MEDIUM
    default_phases = ("planning", "execution")
    needs_fields = ("target_end",)
    optional_fields = ("start", "due")

    def evaluate(self, item: Issue, ctx: AuditContext, options: StandardOptions) -> Iterable[Check]:
        epic_start, epic_end = item.day("start"), item.day("target_end")
        if epic_start is None and epic_end is None:
            yield Check.not_applicable(f"{item.key} has no start or target end (see PMO-PLN-001)")
            return
        outside = False
        for child in ctx.children(item.key):
            if child.is_done:
                continue
            c_start, c_end = _child_window(child)
            problem = None
            if epic_end and c_end and c_end > epic_end:
                problem = (f"{child.key} ends {c_end.isoformat()}, {counted((c_end - epic_end).days, 'day')} after "
                           f"the epic's target end {epic_end.isoformat()}")
            elif epic_start and c_end and c_end < epic_start:
                problem = (f"{child.key} is due {c_end.isoformat()}, before the epic starts "
                           f"{epic_start.isoformat()}")
            elif epic_start and c_start and c_start < epic_start:
                problem = (f"{child.key} starts {c_start.isoformat()}, before the epic starts "
                           f"{epic_start.isoformat()}")
            if problem:
                outside = True
                yield Check.fail(
                    problem,
                    f"Re-plan {child.key} (due date / {ctx.field_label('target_end')}) to fall inside "
                    f"{item.key}'s dates, move it to another epic, or re-baseline {item.key}.",
                    subject=child.key,
                )
        if not outside:
            yield Check.passed()
