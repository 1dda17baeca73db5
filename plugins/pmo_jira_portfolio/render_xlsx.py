"""The workbook: Portfolios, Projects, Epics, Definitions, Findings, Summary (where it opens), Changes,
and the governance sheets (Risks, Change log, Dependencies).

Every table sheet has a frozen header row and an autofilter. Cells are typed: counts are
integers, percentages are fractions shown as ``0.0%``, target ends and "since" are dates, RAG
colours are words on a coloured fill (so the sheet still reads in black and white), and keys link
to Jira. Text from Jira that starts like a formula is prefixed with a quote, so opening the file
never evaluates it.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timezone
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pmo_jira.formats.base import one_line
from pmo_jira.formats.csv_format import defuse_cell
from pmo_jira_portfolio.columns import LEVEL_COLUMNS, Column, cell, plain
from pmo_jira_portfolio.render_text import change_lines, definition_rows, frame, headline
from pmo_jira_portfolio.rollup import LEVELS, Rollup
from pmo_jira_portfolio.summary import COLOURS

SHEETS = {"portfolio": "Portfolios", "project": "Projects", "epic": "Epics"}
FILLS = {"green": "C6EFCE", "amber": "FFEB9C", "red": "FFC7CE"}
PERCENT, INTEGER, DATE = "0.0%", "0", "yyyy-mm-dd"
_BOLD = Font(bold=True)
_LINK = Font(color="0563C1", underline="single")
_WRAP = Alignment(wrap_text=True, vertical="top")
_LINKED = {"project": "project", "epic": "key"}  # the cell that links to Jira
_EXTRA = {"project": (Column("Owner", "owner"), Column("Why", "why")),
          "epic": (Column("Site", "site"), Column("Owner", "owner"), Column("Why", "why")),
          "portfolio": (Column("Why", "why"),)}
FINDING_COLUMNS = (("Severity", "severity"), ("Code", "code"), ("Standard", "title"), ("Site", "site"),
                   ("Project", "project"), ("Item", "item"), ("Item summary", "item_summary"),
                   ("Message", "message"), ("Fix", "fix"), ("Owner", "owner"), ("Open since", "since"),
                   ("Days open", "days_open"), ("Outcome", "outcome"), ("Portfolio", "portfolio"))


def _text(value: Any) -> Any:
    return defuse_cell(one_line(value)) if isinstance(value, str) else value


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _typed(value: Any, kind: str, field: str) -> tuple[Any, str | None]:
    """(cell value, number format): percent as a fraction, dates as dates, colours as words."""
    value = plain(value)
    if kind == "rag":
        return cell(value, kind), None
    if kind == "pct":
        return (None if value is None else value / 100.0), PERCENT
    if kind == "int":
        return value, INTEGER
    if field == "target_end":
        return _as_date(value), DATE
    return _text(value), None


def _table_sheet(ws, headers: Sequence[str], wrap: Iterable[int] = ()) -> None:
    ws.append(list(headers))
    for c in ws[1]:
        c.font = _BOLD


def _finish(ws, wrap_columns: Iterable[int] = ()) -> None:
    """Frozen header, autofilter over the table, widths that fit (long text wraps)."""
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    wrapped = set(wrap_columns)
    for i, col in enumerate(ws.columns, start=1):
        width = max((len(str(c.value)) for c in col if c.value is not None), default=8)
        ws.column_dimensions[get_column_letter(i)].width = min(max(width + 2, 8), 60 if i not in wrapped else 70)
        if i in wrapped:
            for c in col[1:]:
                c.alignment = _WRAP


def _link(c, url: Any) -> None:
    url = str(url or "")
    if url.startswith(("https://", "http://")):
        c.hyperlink = url
        c.font = _LINK


def _level_sheet(wb: Workbook, rollup: Rollup, level: str) -> None:
    ws = wb.create_sheet(SHEETS[level])
    cols = (*LEVEL_COLUMNS[level], *_EXTRA[level])
    if level == "epic":  # the site right after the key: keys repeat across sites
        cols = (*cols[:2], cols[-3], *cols[2:-3], *cols[-2:])
    _table_sheet(ws, [c.header for c in cols])
    for r in frame(rollup, level).to_dict("records"):
        typed = [_typed(r.get(c.field), c.kind, c.field) for c in cols]
        ws.append([v for v, _ in typed])
        for c, spec, (_, fmt) in zip(ws[ws.max_row], cols, typed):
            if fmt:
                c.number_format = fmt
            if spec.kind == "rag" and (colour := plain(r.get(spec.field))) in FILLS:
                c.fill = PatternFill("solid", fgColor=FILLS[colour])
            if spec.field == _LINKED.get(level):
                _link(c, r.get("url"))
    _finish(ws, wrap_columns=[i for i, c in enumerate(cols, start=1) if c.field in ("why",)])


def _summary_sheet(wb: Workbook, rollup: Rollup) -> None:
    ws = wb.create_sheet("Summary")
    ws.append(["Level", "Colour", "Now", "Since last run", "Since a month ago"])
    for c in ws[1]:
        c.font = _BOLD
    for level, title in (("project", "Projects"), ("epic", "Epics")):
        counts = rollup.summary.counts[level]
        for colour in COLOURS:
            ws.append([title, colour.upper(), counts.now.get(colour, 0), counts.move(colour, "previous"),
                       counts.move(colour, "month")])
            ws.cell(ws.max_row, 2).fill = PatternFill("solid", fgColor=FILLS[colour])
            for col in (3, 4, 5):
                ws.cell(ws.max_row, col).number_format = "+0;-0;0" if col > 3 else INTEGER
    _finish(ws)
    ws.append([])
    ws.append([headline(rollup)])
    ws.append([f"Compared with {rollup.changes.baseline}."])
    ws.append([])
    start = ws.max_row + 1
    ws.append(["Decisions needed", "Site", "Key", "Name", "Why", "Owner", "Red since", "The fix"])
    for c in ws[start]:
        c.font = _BOLD
    for d in rollup.summary.decisions:
        ws.append([d.level, d.site, d.key, _text(d.name), d.why, d.owner or "nobody: appoint an owner",
                   d.red_since.date() if d.red_since else rollup.run_started.date(), d.fix])
        _link(ws.cell(ws.max_row, 3), d.url)
        ws.cell(ws.max_row, 7).number_format = DATE
        for col in (5, 8):
            ws.cell(ws.max_row, col).alignment = _WRAP
    for col, width in zip("ABCDEFGH", (12, 12, 12, 28, 60, 22, 12, 60)):
        ws.column_dimensions[col].width = width


def _findings_sheet(wb: Workbook, rollup: Rollup) -> None:
    ws = wb.create_sheet("Findings")
    _table_sheet(ws, [h for h, _ in FINDING_COLUMNS])
    now = rollup.now
    for f in rollup.findings.to_dict("records"):
        since = f["since"]
        row = {**f, "since": _as_date(since), "days_open": max((now - since).days, 0) if since else None}
        ws.append([_text(row[k]) if k != "since" else row[k] for _, k in FINDING_COLUMNS])
        cells = ws[ws.max_row]
        cells[0].fill = PatternFill("solid", fgColor={"critical": FILLS["red"], "high": FILLS["red"],
                                                      "medium": FILLS["amber"]}.get(f["severity"], "FFFFFF"))
        cells[10].number_format, cells[11].number_format = DATE, INTEGER
        _link(cells[5], f["url"])
    _finish(ws, wrap_columns=(7, 8, 9))


def render_xlsx(rollup: Rollup) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for level in LEVELS:
        _level_sheet(wb, rollup, level)
    ws = wb.create_sheet("Definitions")
    ws.append(["Dimension", "Amber from", "Red from", "Definition"])
    for c in ws[1]:
        c.font = _BOLD
    for name, amber, red, text in definition_rows(rollup):
        ws.append([name, float(amber) if amber else None, float(red) if red else None, text])
        if name in FILLS:
            ws.cell(ws.max_row, 1).fill = PatternFill("solid", fgColor=FILLS[name])
    _finish(ws, wrap_columns=(4,))
    _findings_sheet(wb, rollup)
    _summary_sheet(wb, rollup)
    wb.active = wb.sheetnames.index("Summary")  # the workbook opens on the summary
    ws = wb.create_sheet("Changes")
    ws.append(["Change since the previous run"])
    ws["A1"].font = _BOLD
    for line in change_lines(rollup):
        ws.append([defuse_cell(line.strip())])
    _finish(ws)
    from pmo_jira_portfolio.xlsx_governance import governance_sheets  # it uses this module's cell helpers

    governance_sheets(wb, rollup.governance)
    # Fixed document times keep the bytes of a re-render identical.
    stamp = rollup.now.astimezone(timezone.utc).replace(tzinfo=None) if rollup.now.tzinfo else rollup.now
    wb.properties.created = wb.properties.modified = stamp
    wb.properties.title = f"Portfolio report - {rollup.mapping_name}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
