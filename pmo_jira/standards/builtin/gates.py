"""Gate decisions: execution is authorised and closure accepted by someone entitled to, on record.

The evidence is recorded the way the site does it, chosen in the mapping: a field (a user picker
"Approved by", a date, an option), a linked approval issue in an approved status (e.g. a Jira
Service Management approval request), or a comment by a named approver.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Literal

from pydantic import Field, field_validator

from pmo_jira.findings import Severity
from pmo_jira.model import Issue, ReadPlan, User
from pmo_jira.standards.base import Check, Standard, StandardOptions
from pmo_jira.standards.builtin.initiation import links_matching, section_status, valid_regex
from pmo_jira.standards.context import AuditContext


class ApprovalOptions(StandardOptions):
    """Where an approval is recorded and who may give it."""

    method: Literal["field", "linked_issue", "comment"] = Field(
        default="field", description="how the site records the approval: a field, a linked approval issue, "
                                     "or a comment by an approver")
    field: str = Field(default="gate_approval", description="method field: the logical field holding the approval "
                                                             "(a user, a date, an option or text)")
    approvers: list[str] = Field(default_factory=list, description="people who may approve (display names or "
                                                                    "account ids)")
    approver_fields: list[str] = Field(default_factory=list, description="logical fields naming people who may "
                                                                         "approve (e.g. sponsor)")
    approval_types: list[str] = Field(default_factory=lambda: ["Approval"], min_length=1,
                                      description="method linked_issue: issue types of approval records")
    approval_link_types: list[str] = Field(default_factory=list,
                                           description="method linked_issue: link type names (empty: any)")
    approved_statuses: list[str] = Field(default_factory=lambda: ["Approved"], min_length=1,
                                         description="method linked_issue: statuses of a granted approval")
    comment_pattern: str = Field(default=r"(?i)\bapproved?\b",
                                 description="method comment: regex a comment by an approver must match")

    @field_validator("comment_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return valid_regex(value) or value


def _approvers(ctx: AuditContext, epic: Issue, options: ApprovalOptions) -> tuple[set[str], list[str]]:
    """(casefolded ids and names that may approve, display names for the message)."""
    keys: set[str] = set()
    shown: list[str] = []
    for name in options.approvers:
        keys.add(name.casefold())
        shown.append(name)
    for field in options.approver_fields:
        user = epic.fields.get(field)
        if isinstance(user, User) and user.active:
            keys |= {user.account_id.casefold(), user.display_name.casefold()}
            shown.append(f"{user.display_name} ({field.replace('_', ' ')})")
    return keys, shown


def _is_approver(user: User | None, keys: set[str]) -> bool:
    return user is not None and user.active and bool({user.account_id.casefold(), user.display_name.casefold()} & keys)


class _ApprovalRecorded(Standard):
    """Shared evaluation of the approval standards; concrete standards set the gate and defaults."""

    gate: str = ""

    def reads(self, options: ApprovalOptions) -> ReadPlan:
        plan = super().reads(options)
        fields = plan.fields | set(options.approver_fields) | ({options.field} if options.method == "field" else set())
        return dataclasses.replace(
            plan, fields=frozenset(fields), comments=options.method == "comment",
            issue_types=tuple(options.approval_types) if options.method == "linked_issue" else ())

    def evaluate(self, item: Issue, ctx: AuditContext, options: ApprovalOptions) -> Iterable[Check]:
        keys, shown = _approvers(ctx, item, options)
        who = ", ".join(shown) if shown else None
        if options.method == "field":
            if not ctx.has_field(options.field):
                yield Check.not_applicable(f"field '{options.field}' is not mapped/resolved on site {ctx.site} "
                                           f"(map it in fields.{options.field})")
                return
            value = item.fields.get(options.field)
            if isinstance(value, User) and keys and not _is_approver(value, keys):
                yield Check.fail(
                    f"{self.gate} recorded by {value.display_name}, who may not approve it "
                    f"(may approve: {who})",
                    f"Have one of {who} record the {self.gate} in {ctx.field_label(options.field)} on {item.key}.")
                return
            if value not in (None, "", ()):
                yield Check.passed()
                return
            where = f"in {ctx.field_label(options.field)}"
        elif options.method == "linked_issue":
            approved = {s.casefold() for s in options.approved_statuses}
            linked = ctx.linked(item, options.approval_types, options.approval_link_types)
            if any(other.status.casefold() in approved for _, other in linked):
                yield Check.passed()
                return
            pending = ", ".join(f"{o.key} is {o.status}" for _, o in linked[:3])
            where = (f"as a linked {options.approval_types[0]} issue in status {options.approved_statuses[0]}"
                     + (f" ({pending})" if pending else ""))
        else:
            if item.comments is None:
                yield Check.not_applicable(f"the comments of {item.key} were not read")
                return
            pattern = re.compile(options.comment_pattern)
            if any(_is_approver(c.author, keys) and pattern.search(c.body_text) for c in item.comments):
                yield Check.passed()
                return
            where = "as a comment on the epic"
        whom = f"may approve: {who}" if who else "no approver is named in the mapping"
        yield Check.fail(
            f"no {self.gate} recorded ({whom})",
            f"Ask {who or 'the approver the PMO names'} to record the {self.gate} on {item.key} {where}.",
        )


class ExecutionGateApproved(_ApprovalRecorded):
    """An epic in execution has its planning-to-execution gate approval on record.

    Why: passing the planning gate commits budget and people; PMBOK and PRINCE2 both make it a
    decision of the sponsor or project board, with a date and a name. Inferring the gate from a
    status change means anyone who can drag a card has authorised the spend. The mapping says
    where the approval lives (a field, a linked approval issue in an approved status, or a
    comment by an approver) and who may give it; the finding names them, and recording the
    approval clears it on the next run.

    Example:

    ```yaml
    standards:
      - code: PMO-GAT-001
        options:
          method: field
          field: gate_approval
          approvers: [Dana Sponsor]
          approver_fields: [sponsor]
    ```
    """

    code = "PMO-GAT-001"
    title = "Execution gate approved"
    default_severity = Severity.HIGH
    default_phases = ("execution",)
    gate = "execution gate approval"
    Options = ApprovalOptions


class SponsorAcceptance(_ApprovalRecorded):
    """An epic in closing carries the sponsor's acceptance of its deliverables.

    Why: closure means the sponsor accepted what was delivered (PMBOK's validated deliverables,
    PRINCE2's acceptance at project closure); an epic closed by its own team is only finished in
    the team's eyes. Evidence and approvers work as in PMO-GAT-001; by default the acceptance is
    a ``sponsor_acceptance`` field and the approver the epic's ``sponsor``.

    Example:

    ```yaml
    standards:
      - code: PMO-CLS-002
        options:
          method: comment
          approver_fields: [sponsor]
          comment_pattern: '(?i)\\baccepted\\b'    # single quotes: in "..." YAML reads \\b as a backspace
    ```
    """

    code = "PMO-CLS-002"
    title = "Sponsor acceptance before closing"
    default_severity = Severity.HIGH
    default_phases = ("closing",)
    gate = "sponsor acceptance"

    class Options(ApprovalOptions):
        field: str = Field(default="sponsor_acceptance", description="method field: the logical field holding "
                                                                    "the acceptance")
        approver_fields: list[str] = Field(default_factory=lambda: ["sponsor"],
                                           description="logical fields naming people who may accept")
        comment_pattern: str = Field(default=r"(?i)\baccept(ed|ance)?\b",
                                     description="method comment: regex a comment by an approver must match")


class LessonsLearned(Standard):
    """An epic in closing has its lessons learned recorded.

    Why: lessons learned are the one closing output that pays off after the project; without a
    record the next initiative repeats the same mistakes (PMBOK's lessons learned register,
    PRINCE2's lessons report). Any one of these counts: a description section (default
    "Lessons learned") with something under it, a linked issue of a lessons type, or a link in
    the description matching ``document_url_pattern`` (a Confluence retrospective page).

    Example:

    ```yaml
    standards:
      - code: PMO-CLS-003
        options:
          section: Lessons learned
          lessons_types: [Lessons Learned]
          document_url_pattern: "https://example.atlassian.net/wiki/spaces/PMO/pages/"
    ```
    """

    code = "PMO-CLS-003"
    title = "Lessons learned recorded"
    default_severity = Severity.MEDIUM
    default_phases = ("closing",)
    needs_fields = ("description",)

    class Options(StandardOptions):
        section: str = Field(default="Lessons learned", description="description heading of the lessons")
        lessons_types: list[str] = Field(default_factory=list, description="issue types of a linked lessons record")
        document_url_pattern: str | None = Field(default=None, description="regex: a URL in the description "
                                                                           "matching it counts as the record")

        @field_validator("document_url_pattern")
        @classmethod
        def _compiles(cls, value: str | None) -> str | None:
            return valid_regex(value)

    def reads(self, options: Options) -> ReadPlan:
        return dataclasses.replace(super().reads(options), issue_types=tuple(options.lessons_types))

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        text = item.description or ""
        if (section_status(text, options.section) == "present"
                or (options.lessons_types and ctx.linked(item, options.lessons_types))
                or links_matching(options.document_url_pattern, text)):
            yield Check.passed()
            return
        ways = [f"a '{options.section}' section in the description"]
        if options.lessons_types:
            ways.append(f"a linked {options.lessons_types[0]} issue")
        if options.document_url_pattern:
            ways.append("a link to the retrospective page")
        yield Check.fail(
            "no lessons learned recorded before closing",
            f"Hold the retrospective for {item.key} and record what to repeat and what to avoid: "
            f"{' or '.join(ways)}.",
        )
