"""The workbook: one sheet per level (Portfolios, Projects, Epics), then Definitions and Changes.

Cells hold numbers as numbers (sortable, chartable in Excel) and RAG colours as words on a
coloured fill, so the sheet still reads in black and white. Text from Jira that starts like a
formula is prefixed with a quote, so opening the file never evaluates it.
"""

from __future__ import annotations

import io
from datetime import timezone

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from pmo_jira.formats.base import one_line
from pmo_jira.formats.csv_format import defuse_cell
from pmo_jira_portfolio.columns import LEVEL_COLUMNS, cell, plain
from pmo_jira_portfolio.render_text import change_lines, definition_rows, frame, headline
from pmo_jira_portfolio.rollup import LEVELS, Rollup

SHEETS = {"portfolio": "Portfolios", "project": "Projects", "epic": "Epics"}
FILLS = {"green": "C6EFCE", "amber": "FFEB9C", "red": "FFC7CE"}
_BOLD = Font(bold=True)
_LINKED = {"project": "project", "epic": "key"}  # the cell that links to Jira


def _value(value, kind: str):
    value = plain(value)
    if kind == "rag":
        return cell(value, kind)
    if isinstance(value, str):
        return defuse_cell(one_line(value))
    return value


def _fit(ws) -> None:
    for i, col in enumerate(ws.columns, start=1):
        width = max((len(str(c.value)) for c in col if c.value is not None), default=8)
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60)


def render_xlsx(rollup: Rollup) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for level in LEVELS:
        ws = wb.create_sheet(SHEETS[level])
        cols = LEVEL_COLUMNS[level]
        ws.append([c.header for c in cols])
        for c in ws[1]:
            c.font = _BOLD
        for _, r in frame(rollup, level).iterrows():
            ws.append([_value(r[c.field], c.kind) for c in cols])
            for c, spec in zip(ws[ws.max_row], cols):
                if spec.kind == "rag" and (colour := plain(r[spec.field])) in FILLS:
                    c.fill = PatternFill("solid", fgColor=FILLS[colour])
                url = r.get("url") or ""
                if spec.field == _LINKED.get(level) and url.startswith(("https://", "http://")):
                    c.hyperlink = url
        ws.freeze_panes = "A2"
        _fit(ws)
    ws = wb.create_sheet("Definitions")
    ws.append(["Dimension", "Amber from", "Red from", "Definition"])
    for name, amber, red, text in definition_rows(rollup):
        ws.append([name, float(amber) if amber else None, float(red) if red else None, text])
        if name in FILLS:
            ws.cell(ws.max_row, 1).fill = PatternFill("solid", fgColor=FILLS[name])
    ws.append([])
    ws.append([headline(rollup)])
    _fit(ws)
    ws = wb.create_sheet("Changes")
    for line in change_lines(rollup):
        ws.append([defuse_cell(line.strip())])
    _fit(ws)
    for c in wb["Definitions"][1]:
        c.font = _BOLD
    # Fixed document times keep the bytes of a re-render identical.
    stamp = rollup.now.astimezone(timezone.utc).replace(tzinfo=None) if rollup.now.tzinfo else rollup.now
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.title = f"Portfolio report - {rollup.mapping_name}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
