"""The terminal report: a summary line, then findings grouped by site, project and item.

Width-aware (long messages wrap under their column) and colour only on request: the CLI passes
``color=True`` when stdout is a TTY, so pipes and CI logs never see escape codes.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from typing import ClassVar

from pmo_jira.findings import AuditResult, Finding, Outcome, Severity
from pmo_jira.formats.base import iso, one_line, sorted_findings, sorted_items, summarize
from pmo_jira.model import ClassifiedItem

SEVERITY_STYLE = {
    Severity.CRITICAL: "1;35",
    Severity.HIGH: "1;31",
    Severity.MEDIUM: "33",
    Severity.LOW: "36",
    Severity.INFO: "2",
}
_MIN_WIDTH = 40
_LABEL_WIDTH = 9  # "CRITICAL " / "WAIVED   " / "N/A      "


@dataclass(frozen=True)
class TableFormat:
    name: ClassVar[str] = "table"
    color: bool = False
    width: int = 100
    extension: str = "txt"

    def for_terminal(self, *, color: bool, width: int | None) -> TableFormat:
        """The same renderer set up for one terminal (the CLI knows whether stdout is a TTY)."""
        return replace(self, color=color, width=width or self.width)

    def render(self, result: AuditResult, *, now: datetime) -> str:
        width = max(self.width, _MIN_WIDTH)
        out: list[str] = []
        sites = ", ".join(sorted(result.sites)) or "none"
        out += self._wrap(f"pmo-jira audit · mapping {result.mapping_name} "
                          f"({result.mapping_hash[:12]}) · sites {sites} · {iso(result.started)}",
                          width, "", style="1")
        out += self._wrap(self._summary_line(result), width, "")
        for site, message in sorted(result.site_errors.items()):
            text = f"site {site} could not be audited: {one_line(message)}"
            out.extend(self._wrap(text, width, "  ", style="1;31"))

        items = {(i.site, i.key): i for i in result.items}
        findings = sorted_findings(result)
        if not findings:
            out += ["", "No findings."]
        for (site, project), in_project in groupby(findings, key=lambda f: (f.site, f.project_key)):
            out += ["", *self._wrap(f"{site} / {project}", width, "", style="1")]
            for _, grouped in groupby(in_project, key=lambda f: f.item_key):
                in_item = list(grouped)
                out.extend(self._item_block(in_item, items.get((site, in_item[0].item_key)), width))

        unmapped = [i for i in sorted_items(result) if i.phase is None]
        if unmapped:
            out += ["", *self._wrap(f"Unmapped items ({len(unmapped)}): no phase rule matched, "
                                    "so no phase standard was checked", width, "", style="1")]
            for i in unmapped:
                out.extend(self._wrap(f"{i.site} / {i.key} ({i.kind}) {one_line(i.summary)}",
                                      width, "  "))
        return "\n".join(out) + "\n"

    def _summary_line(self, result: AuditResult) -> str:
        s = summarize(result)
        detail = ", ".join(f"{n} {sev.value}" for sev, n in s.open_by_severity.items() if n)
        errors = s.by_outcome[Outcome.ERROR]
        if errors:  # errors are open too: a check that could not run is not a pass
            detail += f"; {errors} of them {'a check' if errors == 1 else 'checks'} that could not run"
        opened = f"{s.open} open" + (f" ({detail})" if detail else "")
        return " · ".join([opened, f"{s.by_outcome[Outcome.WAIVED]} waived",
                           f"{s.by_outcome[Outcome.NOT_APPLICABLE]} not applicable",
                           f"{s.items} items checked, {s.unmapped} unmapped"])

    def _item_block(self, findings: list[Finding], item: ClassifiedItem | None,
                    width: int) -> list[str]:
        first = findings[0]
        kind = item.kind if item else first.item_kind
        phase = (item.phase if item else first.phase) or "unmapped"
        summary = one_line(item.summary if item else first.item_summary)
        lines = self._wrap(f"{first.item_key} [{kind} · {phase}] {summary}", width, "  ")
        pad = " " * (4 + _LABEL_WIDTH)
        for f in findings:
            label, style = self._label(f)
            head = f"{label:<{_LABEL_WIDTH}}{f.code}  {one_line(f.title)}"
            if f.phase and f.phase != phase:
                head += f" (phase {f.phase})"
            if f.subject:
                head += f" · {one_line(f.subject)}"
            head_lines = self._wrap(head, width, "    ", pad)
            head_lines[0] = head_lines[0].replace(label, self._style(label, style), 1)
            lines += head_lines
            lines += self._wrap(one_line(f.message), width, pad)
            if f.fix and f.counts:
                lines += self._wrap(f"fix: {one_line(f.fix)}", width, pad)
            if f.waiver is not None:
                w = f.waiver
                text = f"waived by {one_line(w.owner)} until {w.expires.isoformat()}: {one_line(w.reason)}"
                lines += self._wrap(text, width, pad, style="2")
            if f.note:
                lines += self._wrap(f"note: {one_line(f.note)}", width, pad, style="2")
        return lines

    @staticmethod
    def _label(f: Finding) -> tuple[str, str]:
        if f.outcome is Outcome.FAIL:
            return f.severity.value.upper(), SEVERITY_STYLE[f.severity]
        if f.outcome is Outcome.ERROR:
            return "ERROR", "1;31"
        return ("WAIVED" if f.outcome is Outcome.WAIVED else "N/A"), "2"

    def _wrap(self, text: str, width: int, indent: str, subsequent: str | None = None,
              *, style: str | None = None) -> list[str]:
        lines = textwrap.wrap(text, width=width, initial_indent=indent,
                              subsequent_indent=subsequent if subsequent is not None else indent,
                              break_on_hyphens=False) or [indent.rstrip()]
        return [self._style(line, style) for line in lines] if style else lines

    def _style(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text


FORMAT = TableFormat()
"""The built-in ``table`` format (``pmo_jira.formats`` finds it here)."""
