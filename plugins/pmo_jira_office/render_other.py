"""The document in the other formats: workbook, terminal table, Markdown, JSON, Confluence storage.

Tables are the content; a chart is written as its data table. The workbook holds one sheet per
table (numbers as numbers, Jira text that looks like a formula defused), the JSON one key per
table, and Confluence storage format (XHTML) has no SVG, so charts become tables there too.
"""

from __future__ import annotations

import io
import json
import textwrap
from datetime import datetime, timezone
from html import escape
from typing import Any

from pmo_jira.formats.base import one_line
from pmo_jira.formats.csv_format import defuse_cell
from pmo_jira.formats.fit import fit_table
from pmo_jira.formats.markdown import md_text
from pmo_jira_office.document import Chart, Column, Document, Figures, Heading, Table, Text, plain, text_of


def chart_table(chart: Chart) -> Table:
    """A chart's data as a table: one row per label (x value), one column per series."""
    if chart.kind == "heat":
        return Table(chart.id, chart.title, (Column("Person"), *(Column(m, "pct") for m in chart.labels)),
                     tuple((name, *(plain(v) for v in vals)) for name, vals in chart.series))
    return Table(chart.id, chart.title, (Column(""), *(Column(name, "num") for name, _ in chart.series)),
                 tuple((label, *(plain(vals[i]) for _, vals in chart.series)) for i, label in enumerate(chart.labels)))


def _tables(doc: Document) -> list[Table]:
    return [chart_table(b) if isinstance(b, Chart) else b for b in doc.blocks if isinstance(b, (Table, Chart))]


def render_json(doc: Document) -> str:
    out: dict[str, Any] = {"title": doc.title, "subtitle": doc.subtitle}
    for b in doc.blocks:
        if isinstance(b, Figures):
            out.setdefault("figures", {}).update({label: value for label, value, _ in b.items})
        elif isinstance(b, Text):
            out.setdefault("notes", []).append(b.text)
    for t in _tables(doc):
        out[t.id] = [dict(zip((c.header or "label" for c in t.columns), row)) for row in t.rows]
    return json.dumps(out, indent=2, default=str) + "\n"


_NUMBERS = ("int", "num", "pct", "signed")


def _aligned(t: Table, width: int | None) -> list[str]:
    """The table fitted to ``width`` (``pmo_jira.formats.fit``): text wraps rather than being cut,
    numbers are right-aligned; no limit when the text goes to a file or pipe."""
    rows = [[one_line(text_of(v, c.kind)) for c, v in zip(t.columns, r)] for r in t.rows]
    return fit_table([c.header for c in t.columns], rows, width, rule=False,
                     numeric={j for j, c in enumerate(t.columns) if c.kind in _NUMBERS},
                     wrap=[j for j, c in enumerate(t.columns) if c.kind == "text"])


def render_table(doc: Document, width: int | None = None) -> str:
    """The terminal text; ``width`` (the terminal's columns, None: no limit) wraps long text."""
    def para(text: str) -> list[str]:
        return textwrap.wrap(text, width, break_on_hyphens=False) if width else [text]

    out = [*para(doc.title), *para(doc.subtitle)]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += ["", b.text.upper()]
        elif isinstance(b, Text):
            out += ["", *para(b.text)]
        elif isinstance(b, Figures):
            out += ["", *para("  ".join(f"{label}: {value}" for label, value, _ in b.items))]
        elif isinstance(b, (Table, Chart)):
            t = chart_table(b) if isinstance(b, Chart) else b
            out += ["", *para(t.title)]
            out += _aligned(t, width) if t.rows else [f"  {t.empty}"]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return md_text(text, cell=True)


def render_markdown(doc: Document) -> str:
    """Markdown that reads as well raw as rendered; Jira text in it stays inert (``md_text``), as in
    the portfolio's: a link, emphasis or an @mention typed in a summary does not work."""
    out = [f"# {md_text(doc.title)}", "", f"_{_cell(doc.subtitle)}_"]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += ["", f"## {md_text(b.text)}"]
        elif isinstance(b, Text):
            out += ["", md_text(b.text)]
        elif isinstance(b, Figures):
            out += ["", " · ".join(f"**{_cell(label)}** {_cell(value)}" for label, value, _ in b.items)]
        elif isinstance(b, (Table, Chart)):
            t = chart_table(b) if isinstance(b, Chart) else b
            out += ["", f"### {md_text(t.title)}", ""]
            if not t.rows:
                out.append(md_text(t.empty))
                continue
            out.append("| " + " | ".join(_cell(c.header) for c in t.columns) + " |")
            out.append("|" + "|".join("---:" if c.kind in ("int", "num", "pct") else "---" for c in t.columns) + "|")
            out += ["| " + " | ".join(_cell(text_of(v, c.kind)) for c, v in zip(t.columns, r)) + " |" for r in t.rows]
    return "\n".join(out) + "\n"


def render_storage(doc: Document, now: datetime) -> str:
    """Confluence storage format (XHTML); the first line is the 'as of' stamp publish ignores."""
    def t(text: object) -> str:
        return escape(one_line(str(text)), quote=True)

    stamp = now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<p><em>Report as of {stamp}</em></p>", f"<p>{t(doc.subtitle)}</p>"]
    for b in doc.blocks:
        if isinstance(b, Heading):
            parts.append(f"<h2>{t(b.text)}</h2>")
        elif isinstance(b, Text):
            parts.append(f"<p>{t(b.text)}</p>")
        elif isinstance(b, Figures):
            parts.append("<p>" + " | ".join(f"<strong>{t(label)}</strong> {t(value)}" for label, value, _ in b.items)
                         + "</p>")
        elif isinstance(b, (Table, Chart)):
            tab = chart_table(b) if isinstance(b, Chart) else b
            parts.append(f"<h3>{t(tab.title)}</h3>")
            if not tab.rows:
                parts.append(f"<p>{t(tab.empty)}</p>")
                continue
            head = "".join(f"<th>{t(c.header)}</th>" for c in tab.columns)
            rows = []
            for i, r in enumerate(tab.rows):
                cells = [t(text_of(v, c.kind)) for c, v in zip(tab.columns, r)]
                if i < len(tab.links) and tab.links[i]:
                    j = tab.link_column
                    cells[j] = f'<a href="{escape(tab.links[i], quote=True)}">{cells[j]}</a>'
                rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
            parts.append(f"<table><tbody><tr>{head}</tr>{''.join(rows)}</tbody></table>")
    return "".join(parts)


def render_xlsx(doc: Document, now: datetime) -> bytes:
    """One sheet per table, header frozen and filtered, written in openpyxl's write-only mode.

    Write-only streams each row to the file as it is appended instead of keeping every cell as an
    object until the save (the monthly pack's tables run to tens of thousands of rows). Such a sheet
    writes its column widths before its first row, so they are measured from the values first.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Summary")
    ws.column_dimensions["A"].width = 40
    title = WriteOnlyCell(ws, doc.title)
    title.font = Font(bold=True, size=14)
    ws.append([title])
    ws.append([doc.subtitle])
    for b in doc.blocks:
        if isinstance(b, Text):
            ws.append([defuse_cell(one_line(b.text))])
        elif isinstance(b, Figures):
            for label, value, _ in b.items:
                ws.append([label, _number(value)])
    def styled(sheet: Any, value: Any, font: Font | None = None, fill: PatternFill | None = None) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value)
        if font is not None:
            cell.font = font
        if fill is not None:
            cell.fill = fill
        return cell

    used: set[str] = {"Summary"}
    bold, over = Font(bold=True), PatternFill("solid", fgColor="FFC7CE")
    for tab in _tables(doc):
        sheet = wb.create_sheet(_sheet_name(tab.id, used))
        header = [c.header for c in tab.columns]
        rows = [[defuse_cell(one_line(v)) if isinstance(v, str) else v for v in row] for row in tab.rows]
        for j, width in enumerate(_widths(header, rows), start=1):
            sheet.column_dimensions[get_column_letter(j)].width = width
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{len(rows) + 1}"
        sheet.append([styled(sheet, h, font=bold) for h in header])
        for i, row in enumerate(rows):
            link = tab.links[i] if i < len(tab.links) else ""
            fill = over if i < len(tab.classes) and tab.classes[i] == "over" else None
            if link or fill:  # only these rows need cell objects; the rest are written as plain values
                cells = [styled(sheet, v, fill=fill) for v in row]
                if link:
                    cells[tab.link_column].hyperlink = link
                sheet.append(cells)
            else:
                sheet.append(row)
    stamp = now.astimezone(timezone.utc).replace(tzinfo=None) if now.tzinfo else now
    wb.properties.created = wb.properties.modified = stamp  # same input, same bytes
    wb.properties.title = doc.title
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _widths(header: list[str], rows: list[list[Any]]) -> list[float]:
    """Each column's width in characters: its longest value (header included) + 2, within 8-60."""
    widths = [len(h) if h is not None else 0 for h in header]
    for row in rows:
        for j, v in enumerate(row):
            if v is not None:
                n = len(v) if isinstance(v, str) else len(str(v))
                if j >= len(widths):
                    widths.append(n)
                elif n > widths[j]:
                    widths[j] = n
    return [min(max(w + 2, 8), 60) for w in widths]


def _number(text: str) -> Any:
    try:
        return float(text.rstrip("%"))
    except ValueError:
        return text


def _sheet_name(table_id: str, used: set[str]) -> str:
    base = table_id.replace("chart-", "").replace("strategy-", "s-").replace("resources-", "r-")[:28]
    name, n = base, 2
    while name in used:
        name = f"{base[:26]}{n}"
        n += 1
    used.add(name)
    return name
