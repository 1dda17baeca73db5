"""Governance: someone is accountable for every epic and every project."""

from __future__ import annotations

from collections.abc import Iterable

from pmo_jira.findings import Severity
from pmo_jira.model import Issue, Project, User
from pmo_jira.standards.base import Check, Standard, StandardOptions
from pmo_jira.standards.context import AuditContext


def _who_is_missing(user: object) -> str | None:
    if not isinstance(user, User):
        return "is not set"
    if not user.active:
        return f"{user.display_name} is deactivated"
    return None


class AccountableOwner(Standard):
    """Every epic has an accountable owner.

    Why: an epic without a named owner has nobody who answers for its scope, dates and risks;
    gate reviews and escalations stall because there is no one to ask. A deactivated account
    counts as no owner: the person has left.

    Example:

    ```yaml
    standards:
      - code: PMO-GOV-001
        severity: high
    ```
    """

    code = "PMO-GOV-001"
    title = "Accountable owner set"
    default_severity = Severity.HIGH
    default_phases = ("initiation", "planning", "execution")  # a closed epic needs no chasing
    needs_fields = ("owner",)

    def evaluate(self, item: Issue, ctx: AuditContext, options: StandardOptions) -> Iterable[Check]:
        problem = _who_is_missing(item.fields.get("owner"))
        if problem is None:
            yield Check.passed()
            return
        yield Check.fail(
            f"owner {problem}",
            f"Set {ctx.field_label('owner')} on {item.key} to the active person accountable for it.",
        )


class ProjectLead(Standard):
    """Every project has an active project lead.

    Why: the project lead is the person a PMO escalates to and who owns the project's
    portfolio entry; a project without one (or whose lead left) has no accountable manager.

    Example:

    ```yaml
    standards:
      - code: PMO-GOV-002
        phases: [planning, execution, closing]
    ```
    """

    code = "PMO-GOV-002"
    title = "Project lead set"
    default_severity = Severity.MEDIUM
    applies_to = "project"

    def evaluate(self, item: Project, ctx: AuditContext, options: StandardOptions) -> Iterable[Check]:
        problem = _who_is_missing(item.lead)
        if problem is None:
            yield Check.passed()
            return
        yield Check.fail(
            f"project lead {problem}",
            f"In Jira, Project settings > Details of {item.key}: set the Project lead to an active person.",
        )


class SponsorSet(Standard):
    """Every epic has an active sponsor who is not its owner.

    Why: the sponsor owns the business case and makes the gate decisions; the owner delivers.
    When the same person holds both roles nobody outside the team decides whether the work is
    still worth doing, and a sponsor who left means the decisions have nobody to take them.
    The sponsor is the mapped ``sponsor`` field; the owner is ``owner`` (the Assignee when the
    mapping does not bind it).

    Example:

    ```yaml
    standards:
      - code: PMO-GOV-003
        phases: [initiation, planning, execution, closing]
    ```
    """

    code = "PMO-GOV-003"
    title = "Sponsor set and distinct from the owner"
    default_severity = Severity.MEDIUM
    needs_fields = ("sponsor",)
    optional_fields = ("owner",)

    def evaluate(self, item: Issue, ctx: AuditContext, options: StandardOptions) -> Iterable[Check]:
        sponsor = item.fields.get("sponsor")
        problem = _who_is_missing(sponsor)
        fix = f"Set {ctx.field_label('sponsor')} on {item.key} to the active person who sponsors it"
        if problem is not None:
            yield Check.fail(f"sponsor {problem}", fix + ".")
            return
        owner = item.fields.get("owner") if ctx.has_field("owner") else item.assignee
        if isinstance(owner, User) and owner.account_id == sponsor.account_id:
            yield Check.fail(f"sponsor and owner are the same person ({sponsor.display_name})",
                             fix + ", someone other than its owner (the sponsor decides, the owner delivers).")
            return
        yield Check.passed()
