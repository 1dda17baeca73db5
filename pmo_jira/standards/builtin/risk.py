"""Risk: the epic keeps a risk register, and its serious risks are owned and mitigated."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from pmo_jira.findings import Severity
from pmo_jira.model import Issue, User
from pmo_jira.standards.base import Check, Standard, StandardOptions
from pmo_jira.standards.context import AuditContext


def open_high_risks(ctx: AuditContext, epic_key: str, high: set[str]) -> list[Issue]:
    """The epic's open risks whose impact is one of ``high`` (casefolded values)."""
    return [r for r in ctx.risks(epic_key) if not r.is_done
            and isinstance(impact := r.fields.get("risk_impact"), str) and impact.casefold() in high]


def risk_owner(ctx: AuditContext, risk: Issue) -> User | None:
    """The ``risk_owner`` field where the mapping binds one, else the assignee."""
    owner = risk.fields.get("risk_owner") if ctx.has_field("risk_owner") else risk.assignee
    return owner if isinstance(owner, User) else None


def has_mitigation(risk: Issue) -> bool:
    mitigation = risk.fields.get("risk_mitigation")
    return isinstance(mitigation, str) and bool(mitigation.strip())


def _no_risk_type(ctx: AuditContext) -> Check | None:
    if ctx.risk_types:
        return None
    return Check.not_applicable("the mapping names no risk issue type (set issue_types.risk)")


class RiskRegister(Standard):
    """The epic has at least one linked Risk issue from planning on.

    Why: risk assessment is a Gate 2 entry criterion; an epic in planning or beyond with an
    empty risk register has either not assessed its risks or keeps them where nobody can review
    them. Teams that assessed and found nothing say so explicitly with a label (option
    ``none_label``) instead of leaving the register blank.

    Example:

    ```yaml
    standards:
      - code: PMO-RSK-001
        options: {none_label: no-risks-identified}
    ```
    """

    code = "PMO-RSK-001"
    title = "Risk register kept"
    default_severity = Severity.HIGH
    default_phases = ("planning", "execution")  # while the work can still be hit by a risk

    class Options(StandardOptions):
        none_label: str | None = Field(
            default=None, description="a label on the epic that records 'risks assessed, none found'")

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        na = _no_risk_type(ctx)
        if na:
            yield na
        elif ctx.has_risk(item.key) or (options.none_label and options.none_label in item.labels):
            yield Check.passed()
        else:
            label = f", or add the label '{options.none_label}' if none were found" if options.none_label else ""
            yield Check.fail(
                "no risk is linked to the epic",
                f"Run a risk review for {item.key} and record each risk as a Risk issue linked to it "
                f"(Link issue > relates to){label}.",
            )


class HighRisksManaged(Standard):
    """Open high-impact risks have an owner and a mitigation.

    Why: a RAID log whose serious risks have no owner or no response is an archive, not an
    agenda; nobody is acting on exactly the risks most likely to sink the work. The owner is the
    ``risk_owner`` field where the mapping has one, else the risk's assignee.

    Example:

    ```yaml
    standards:
      - code: PMO-RSK-002
        severity: critical
        options: {high_values: [High, Critical]}
    ```
    """

    code = "PMO-RSK-002"
    title = "Open high risks have owner and mitigation"
    default_severity = Severity.CRITICAL
    default_phases = ("planning", "execution", "closing")
    needs_fields = ("risk_impact", "risk_mitigation")
    optional_fields = ("risk_owner", "assignee")

    class Options(StandardOptions):
        high_values: list[str] = Field(default_factory=lambda: ["High", "Critical"], min_length=1,
                                       description="risk_impact values that make a risk high")

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        na = _no_risk_type(ctx)
        if na:
            yield na
            return
        high = {v.casefold() for v in options.high_values}
        owner_label = ctx.field_label("risk_owner") if ctx.has_field("risk_owner") else "Assignee"
        flagged = False
        for risk in open_high_risks(ctx, item.key, high):
            impact = risk.fields.get("risk_impact")
            owner = risk_owner(ctx, risk)
            gaps, fixes = [], []  # only what is missing: a team told to set what it has set stops reading
            if owner is None or not owner.active:
                gaps.append(f"an owner who left ({owner.display_name})" if owner else "no owner")
                fixes.append(f"set {owner_label} to the person managing the risk")
            if not has_mitigation(risk):
                gaps.append("no mitigation")
                fixes.append(f"describe the response in {ctx.field_label('risk_mitigation')} "
                             "(avoid, mitigate, transfer or accept)")
            if gaps:
                flagged = True
                yield Check.fail(
                    f"risk {risk.key} (impact {impact}) has {' and '.join(gaps)}",
                    f"On {risk.key}, {' and '.join(fixes)}.",
                    subject=risk.key,
                )
        if not flagged:
            yield Check.passed()
