"""One row per finding, for spreadsheets and ad-hoc filtering. Columns are stable (``COLUMNS``).

Cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR) are
prefixed with ``'``: issue summaries and messages come from Jira, where anyone can type them.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from pmo_jira.findings import AuditResult, Finding
from pmo_jira.formats.base import sorted_findings

COLUMNS: tuple[str, ...] = (
    "fingerprint", "site", "project", "item", "kind", "item_summary", "phase", "code", "title",
    "severity", "outcome", "open", "message", "fix", "subject", "url",
    "waiver_owner", "waiver_reason", "waiver_expires", "note",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _row(f: Finding) -> list[str]:
    w = f.waiver
    values = [
        f.fingerprint, f.site, f.project_key, f.item_key, f.item_kind, f.item_summary, f.phase or "",
        f.code, f.title, f.severity.value, f.outcome.value, "true" if f.counts else "false",
        f.message, f.fix, f.subject, f.url,
        w.owner if w else "", w.reason if w else "", w.expires.isoformat() if w else "", f.note,
    ]
    return [defuse_cell(v) for v in values]


def defuse_cell(value: str) -> str:
    """A spreadsheet cell that cannot run as a formula: text starting with = + - @ (or a tab or
    carriage return) gets a leading ``'``. For every CSV or xlsx pmo-jira or a plugin writes."""
    return "'" + value if value.startswith(_FORMULA_START) else value


@dataclass(frozen=True)
class CsvFormat:
    name: ClassVar[str] = "csv"
    extension: str = "csv"

    def render(self, result: AuditResult, *, now: datetime) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows(_row(f) for f in sorted_findings(result))
        return buf.getvalue()


FORMAT = CsvFormat()
"""The built-in ``csv`` format (``pmo_jira.formats`` finds it here)."""
