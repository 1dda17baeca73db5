"""Markdown for wikis and pull-request comments: a summary table, then a findings table.

Every cell is escaped: text from Jira cannot break the table (``|``, newlines), turn into
markup or links, or embed HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from urllib.parse import quote

from pmo_jira.findings import AuditResult, Finding, Outcome
from pmo_jira.formats.base import iso, one_line, sorted_findings, sorted_items, summarize

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~@])")
_OUTCOME_LABEL = {Outcome.FAIL: "fail", Outcome.ERROR: "error", Outcome.WAIVED: "waived",
                  Outcome.NOT_APPLICABLE: "n/a"}


def md_escape(text: str) -> str:
    """One table cell's worth of literal text, every Markdown character escaped (``md_text``
    escapes only what would misrender)."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


_TAG = re.compile(r"<(/?[A-Za-z!?][^<>]*)>")  # an HTML tag, comment or autolink
_LITERAL = [
    (re.compile(r"\\(?=[!-/:-@\[-`{-~])"), r"\\\\"),  # a backslash that would escape what follows
    (re.compile(r"([`*|~\[])"), r"\\\1"),  # code, emphasis, table cell end, strike-through, links
    (re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"), r"\\_"),  # emphasis; snake_case stays
    (re.compile(r"&(?=#?\w+;)"), r"\\&"),  # an entity such as &amp;
    (re.compile(r"(?<![\w.])@(?=\w)"), r"\\@"),  # an @mention that would notify someone
    (_TAG, r"<\1\\>"),
    (re.compile(r"<(?=[A-Za-z/!?])"), r"\\<"),
]
_LINE_START = [
    (re.compile(r"^([#>+=-])(?=\s|#|$)"), r"\\\1"),  # a heading, quote or list item
    (re.compile(r"^(\d+)([.)])(?=\s|$)"), r"\1\\\2"),  # an ordered list item
]


def md_text(text: str, *, cell: bool = False) -> str:
    """Literal text for Markdown that stays readable as raw text: only what Markdown would
    render differently is escaped (``|`` always, for table cells), so ``(``, ``-`` or ``#`` in
    running text stay as they are; a link, emphasis, HTML or an @mention from Jira does not work.
    ``cell``: the text is a table cell, where a line start cannot begin a heading or a list."""
    out = one_line(text)
    for pattern, repl in _LITERAL if cell else [*_LITERAL, *_LINE_START]:
        out = pattern.sub(repl, out)
    return out


def _link(label: str, url: str) -> str:
    if not url.startswith(("https://", "http://")):
        return md_escape(label)
    return f"[{md_escape(label)}]({quote(url, safe=':/?&=#%~.-_+,;@')})"


def _table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> list[str]:
    align = align or ["---"] * len(header)
    return ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |",
            *("| " + " | ".join(r) + " |" for r in rows)]


@dataclass(frozen=True)
class MarkdownFormat:
    name: ClassVar[str] = "markdown"
    extension: str = "md"

    def render(self, result: AuditResult, *, now: datetime) -> str:
        s = summarize(result)
        sites = ", ".join(md_escape(x) for x in sorted(result.sites)) or "none"
        out = [
            f"## pmo-jira audit: {md_escape(result.mapping_name)}",
            "",
            f"Mapping `{result.mapping_hash[:12]}` · sites {sites} · run {iso(result.started)} · "
            f"{s.items} items checked, {s.unmapped} unmapped · "
            f"**{s.open} open** (worst: {s.worst.value if s.worst else 'none'})",
            "",
        ]
        for site, message in sorted(result.site_errors.items()):
            out += [f"> **Site {md_escape(site)} could not be audited:** {md_escape(message)}", ""]

        counts: dict[tuple[str, Outcome], int] = {}
        for f in result.findings:
            counts[(f.severity.value, f.outcome)] = counts.get((f.severity.value, f.outcome), 0) + 1
        outcomes = list(Outcome)
        rows = [[sev.value, *(str(counts.get((sev.value, o), 0)) for o in outcomes)]
                for sev in s.open_by_severity]
        rows.append(["**total**", *(f"**{s.by_outcome[o]}**" for o in outcomes)])
        out += _table(["Severity", *(_OUTCOME_LABEL[o] for o in outcomes)], rows,
                      ["---", *(["---:"] * len(outcomes))])

        findings = sorted_findings(result)
        out += ["", "### Findings", ""]
        if findings:
            out += _table(["Severity", "Outcome", "Code", "Item", "Phase", "Message", "Fix"],
                          [_finding_row(f) for f in findings])
        else:
            out.append("No findings.")

        unmapped = [i for i in sorted_items(result) if i.phase is None]
        if unmapped:
            out += ["", "### Unmapped items", "", "No phase rule matched these, so no phase "
                    "standard was checked on them.", ""]
            out += _table(["Site", "Item", "Kind", "Summary"], [
                [md_escape(i.site), _link(i.key, i.url), i.kind, md_escape(i.summary)]
                for i in unmapped])
        out += ["", f"<sub>Generated {iso(now)} by pmo-jira.</sub>"]
        return "\n".join(out) + "\n"


def _finding_row(f: Finding) -> list[str]:
    message = md_escape(f.message)
    if f.outcome is Outcome.WAIVED and f.waiver is not None:
        w = f.waiver
        message += " " + md_escape(f"(waived by {w.owner} until {w.expires.isoformat()}: {w.reason})")
    if f.note:
        message += " " + md_escape(f"({f.note})")
    item = _link(f.item_key, f.url) + " " + md_escape(f.item_summary)
    if f.subject:
        item += " · " + md_escape(f.subject)
    return [f.severity.value, _OUTCOME_LABEL[f.outcome], md_escape(f.code), item,
            md_escape(f.phase or "unmapped"), message, md_escape(f.fix) if f.counts else ""]


FORMAT = MarkdownFormat()
"""The built-in ``markdown`` format (``pmo_jira.formats`` finds it here)."""
