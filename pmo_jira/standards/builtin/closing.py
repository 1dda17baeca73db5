"""Closing: an epic is only closed when its work is."""

from __future__ import annotations

from collections.abc import Iterable

from pmo_jira.findings import Severity
from pmo_jira.model import Issue
from pmo_jira.standards.base import Check, Standard, StandardOptions, keys_preview
from pmo_jira.standards.context import AuditContext


class ClosingGate(Standard):
    """An epic in closing has all its children resolved and none in progress.

    Why: the closure gate confirms the deliverables were accepted; open children under a closed
    epic are either unfinished scope reported as done or work nobody will track any more. Work
    in progress is flagged child by child; children never started are flagged together, since
    the usual fix (move them to another epic or close them as won't do) is one decision.

    Example:

    ```yaml
    standards:
      - code: PMO-CLS-001
        phases: [closing]
    ```
    """

    code = "PMO-CLS-001"
    title = "Closing gate: children resolved"
    default_severity = Severity.HIGH
    default_phases = ("closing",)

    def evaluate(self, item: Issue, ctx: AuditContext, options: StandardOptions) -> Iterable[Check]:
        open_children = [c for c in ctx.children(item.key) if not c.is_done]
        if not open_children:
            yield Check.passed()
            return
        not_started = [c.key for c in open_children if c.status_category != "indeterminate"]
        for child in open_children:
            if child.status_category == "indeterminate":
                yield Check.fail(
                    f"{child.key} is still {child.status} under an epic in closing",
                    f"Finish {child.key} and resolve it, or move it to an epic that is still executing.",
                    subject=child.key,
                )
        if not_started:
            yield Check.fail(
                f"{len(not_started)} children not resolved: {keys_preview(not_started)}",
                f"Resolve the remaining children of {item.key} (close as won't do if dropped) or "
                f"move them to another epic before closing it.",
                subject="children",
            )
