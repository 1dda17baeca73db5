"""The plugin's standards: work in execution has people, owners have capacity, epics serve an objective."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pydantic import Field

from pmo_jira.findings import Severity
from pmo_jira.model import Issue, User
from pmo_jira.standards.base import Check, Standard, StandardOptions, keys_preview


class UnassignedExecutionWork(Standard):
    """An epic in execution has no more than a few open child issues without an assignee.

    Why: work nobody is assigned to in execution is work nobody is doing; the plan counts on it
    while no capacity stands behind it, so the epic's dates are fiction until someone takes it.

    Example:

    ```yaml
    standards:
      - code: PMO-RES-001
        options: {max_unassigned: 3}
    ```
    """

    code = "PMO-RES-001"
    title = "Work in execution is assigned"
    default_severity = Severity.MEDIUM
    default_phases = ("execution",)
    needs_fields = ("assignee",)

    class Options(StandardOptions):
        max_unassigned: int = Field(3, ge=0, description="Open unassigned children allowed before the finding.")

    def evaluate(self, item: Issue, ctx: Any, options: Any) -> Iterable[Check]:
        if item.is_done:
            yield Check.not_applicable("the epic is done")
            return
        nobody = [c.key for c in ctx.children(item.key) if not c.is_done and c.assignee is None]
        if len(nobody) <= options.max_unassigned:
            yield Check.passed()
            return
        yield Check.fail(
            f"{len(nobody)} open child issues have no assignee (more than {options.max_unassigned}): "
            f"{keys_preview(nobody)}",
            f"Assign {keys_preview(nobody, 3)} to the people doing the work, or move them out of {item.key}.")


class OwnerHasCapacity(Standard):
    """An epic's owner is not loaded beyond their capacity over the next weeks.

    Why: an over-allocated owner cannot steer their epics; the load is their open work across
    every project and site of the run, spread to its due dates, against the capacity the mapping's
    ``resources`` section gives them (default, own figure, holidays).

    Example:

    ```yaml
    standards:
      - code: PMO-RES-002
        options: {weeks: 4, tolerance_pct: 10}
    ```
    """

    code = "PMO-RES-002"
    title = "Owner has capacity"
    default_severity = Severity.MEDIUM
    default_phases = ("planning", "execution")
    needs_fields = ("owner", "assignee")
    optional_fields = ("due", "start", "target_end", "story_points")

    class Options(StandardOptions):
        weeks: int = Field(4, ge=1, le=52, description="How far ahead the load is compared with capacity.")
        tolerance_pct: float = Field(0, ge=0, description="Load allowed above capacity, in percent.")

    def evaluate(self, item: Issue, ctx: Any, options: Any) -> Iterable[Check]:
        from pmo_jira_office.capacity_index import capacity_index
        from pmo_jira_office.config import capacity_configured

        owner = item.fields.get("owner")
        if not capacity_configured(ctx.mapping):
            yield Check.not_applicable("the mapping gives no capacities (resources.capacity)")
            return
        if item.is_done:
            yield Check.not_applicable("the epic is done")
            return
        if not isinstance(owner, User):
            yield Check.not_applicable("the epic has no owner (see PMO-GOV-001)")
            return
        first = ctx.today
        last = first + timedelta(weeks=options.weeks) - timedelta(days=1)
        index = capacity_index(ctx, first, last)
        pid = index.directory.person_of(ctx.site, owner)
        load, capacity = index.load.get(pid, 0.0), index.capacity(pid)
        if load <= capacity * (1 + options.tolerance_pct / 100) + 1e-9:
            yield Check.passed()
            return
        unit = index.directory.conf.unit
        yield Check.fail(
            f"owner {index.directory.people[pid].name} has {load:.1f} {unit} of open work due in the next "
            f"{options.weeks} weeks against a capacity of {capacity:.1f}",
            "Rebalance the owner's assigned work, move due dates, or hand the epic to someone with capacity "
            "(see `pmo-jira report resources`).")


class ServesObjective(Standard):
    """An epic past initiation serves at least one strategic objective.

    Why: the portfolio is prioritised by the objectives it serves; an epic linked to none spends
    capacity nobody can justify against the strategy. Where an epic's objectives come from (the
    level above epic, a field, or a link type) is the mapping's ``strategy.objectives``.

    Example:

    ```yaml
    standards:
      - code: PMO-STR-001
    ```
    """

    code = "PMO-STR-001"
    title = "Epic serves a strategic objective"
    default_severity = Severity.MEDIUM
    default_phases = ("planning", "execution")

    def evaluate(self, item: Issue, ctx: Any, options: Any) -> Iterable[Check]:
        from pmo_jira_office.config import objectives_configured, strategy_of
        from pmo_jira_office.scoring import objectives_of

        if not objectives_configured(ctx.mapping):
            yield Check.not_applicable("the mapping does not say where objectives come from (strategy.objectives)")
            return
        conf = strategy_of(ctx.mapping).objectives
        if objectives_of(item, conf):
            yield Check.passed()
            return
        where = {"parent": "a parent issue (the objective above the epic)",
                 "field": f"a value in {ctx.field_label(conf.field or '')}",
                 "link": f"a '{conf.link_type}' link to the objective"}[conf.source]
        yield Check.fail("the epic serves no strategic objective",
                         f"Give {item.key} {where}, or stop it if it serves none.")


STANDARDS = [UnassignedExecutionWork, OwnerHasCapacity, ServesObjective]
