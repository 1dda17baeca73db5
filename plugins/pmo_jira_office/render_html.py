"""One self-contained HTML page per document, in the portfolio report's page style.

The head (Content-Security-Policy, style sheet) and the table-sorting script are taken from the
portfolio plugin's page template, so every PMO page looks and behaves the same; this module adds
only the styles of its own elements (figure tiles, over-allocation rows). Charts are inline SVG;
all text from Jira goes through ``html.escape``.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from html import escape
from importlib.resources import files

from pmo_jira.formats.base import one_line
from pmo_jira_office.document import Chart, Document, Figures, Heading, Table, Text, text_of

_EXTRA_STYLE = """
  .tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 4px; }
  .tile { border: 1px solid #d0d7de; border-radius: 6px; padding: 6px 12px; min-width: 9em; }
  .tile b { display: block; font-size: 20px; }
  .tile.good { background: var(--green); } .tile.warn { background: var(--amber); } .tile.bad { background: var(--red); }
  tr.over td { background: var(--red); }
  .charts svg { max-width: 100%; height: auto; }
  .wide { overflow-x: auto; }
  @media print { .charts figure { flex: 1 1 30%; max-width: 33%; } .charts { gap: 12px; } }
"""
SERIES = ("#4f81bd", "#9bbb59", "#c0504d", "#8064a2")
FOLDED_FROM = 30


@lru_cache(maxsize=1)
def _portfolio_page() -> tuple[str, str]:
    """(the style sheet, the sorting script) of the portfolio's page template."""
    page = (files("pmo_jira_portfolio") / "report.html").read_text(encoding="utf-8")
    style = re.search(r"<style>(.*?)</style>", page, re.DOTALL)
    script = re.search(r"<script>(.*?)</script>", page, re.DOTALL)
    return (style.group(1) if style else ""), (script.group(1) if script else "")


def _e(text: object) -> str:
    return escape(one_line(str(text)), quote=True)


def _short(text: object, limit: int) -> str:
    """A chart label cut to ``limit`` characters (before escaping, so no entity is cut in half)."""
    text = one_line(str(text))
    return _e(text if len(text) <= limit else text[:limit - 1] + "…")


def _svg(chart: Chart, width: int, height: int, body: str) -> str:
    return (f'<svg id="{_e(chart.id)}" class="chart" role="img" aria-label="{_e(chart.title)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{body}</svg>')


def _peak(chart: Chart) -> float:
    return max((v for _, vals in chart.series for v in vals if v is not None), default=0) or 1


def bars(chart: Chart) -> str:
    width, height, left, bottom, top = 560, 240, 48, 44, 14
    n, k = max(len(chart.labels), 1), max(len(chart.series), 1)
    peak = _peak(chart)
    slot = (width - left - 10) / n
    plot_h = height - bottom - top
    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 5}" y2="{top + plot_h}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{peak:.0f}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>']
    for i, label in enumerate(chart.labels):
        for s, (name, values) in enumerate(chart.series):
            v = values[i] or 0
            h = plot_h * v / peak
            w = slot * 0.8 / k
            x = left + i * slot + slot * 0.1 + s * w
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
                         f'fill="{SERIES[s % len(SERIES)]}"><title>{_e(label)} {_e(name)}: {v:.1f}</title></rect>')
        parts.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                     f'{_e(label)}</text>')
    for s, (name, _) in enumerate(chart.series):
        x = left + s * 110
        parts.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{SERIES[s % len(SERIES)]}"/>'
                     f'<text x="{x + 14}" y="{height - 5}">{_e(name)}</text>')
    return _svg(chart, width, height, "".join(parts))


def hbars(chart: Chart) -> str:
    label_w, bar_w, row_h = 220, 300, 20
    height = row_h * max(len(chart.labels), 1) + 8
    peak = _peak(chart)
    name, values = chart.series[0]
    parts = []
    for i, (label, v) in enumerate(zip(chart.labels, values)):
        y = 4 + i * row_h
        w = bar_w * (v or 0) / peak
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_short(label, 34)}</text>'
                     f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{SERIES[0]}">'
                     f'<title>{_e(label)}: {v or 0:.1f}</title></rect>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 14}">{v or 0:.0f}</text>')
    return _svg(chart, label_w + bar_w + 50, height, "".join(parts))


def lines(chart: Chart) -> str:
    width, height, left, right, top, bottom = 300, 150, 40, 24, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = chart.series[0][1]
    known = [v for v in values if v is not None]
    lo, hi = (min(known), max(known)) if known else (0, 1)
    lo = min(lo, 0)
    hi = hi if hi > lo else lo + 1
    span = max(len(values) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + plot_w * i / span, top + plot_h * (1 - (v - lo) / (hi - lo))

    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{hi:g}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">{lo:g}</text>']
    coords = [(i, xy(i, v)) for i, v in enumerate(values) if v is not None]
    if len(coords) > 1:
        parts.append(f'<polyline class="line" fill="none" stroke="{SERIES[0]}" stroke-width="2" points="'
                     + " ".join(f"{x:.1f},{y:.1f}" for _, (x, y) in coords) + '"/>')
    for i, (x, y) in coords:
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{SERIES[0]}">'
                     f'<title>{_e(chart.labels[i])}: {values[i]:g}{_e(chart.unit)}</title></circle>')
    for i, label in enumerate(chart.labels):
        x, _ = xy(i, lo)
        parts.append(f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle">{_e(_month(label))}</text>')
    if not coords:
        parts.append(f'<text x="{left + 8}" y="{top + plot_h / 2:.0f}">no figures for these months</text>')
    return _svg(chart, width, height, "".join(parts))


def _month(label: str) -> str:
    """'2026-07' -> 'Jul 26' (other labels unchanged)."""
    try:
        return datetime.strptime(label, "%Y-%m").strftime("%b %y")
    except ValueError:
        return label


def _heat_fill(pct: float | None) -> str:
    """Red over capacity, amber nearly full, green well used, pale green lightly used, grey idle."""
    if pct is None:
        return "#eeeeee"
    if pct > 100:
        return "#f8696b"
    if pct >= 85:
        return "#ffcc4d"
    if pct >= 50:
        return "#63be7b"
    return "#c6efce" if pct > 0 else "#f4f4f4"


def heat(chart: Chart) -> str:
    label_w, cell_w, cell_h, head = 200, 64, 20, 20
    rows = chart.series
    width = label_w + cell_w * len(chart.labels) + 4
    height = head + cell_h * max(len(rows), 1) + 4
    parts = [f'<text x="{label_w + cell_w * i + cell_w / 2:.0f}" y="14" text-anchor="middle">{_e(m)}</text>'
             for i, m in enumerate(chart.labels)]
    for r, (name, values) in enumerate(rows):
        y = head + r * cell_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end">{_short(name, 30)}</text>')
        for i, v in enumerate(values):
            x = label_w + cell_w * i
            shown = "-" if v is None else f"{v:.0f}%"
            parts.append(f'<rect class="cell" x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                         f'fill="{_heat_fill(v)}"><title>{_e(name)} {_e(chart.labels[i])}: {shown}</title></rect>'
                         f'<text x="{x + (cell_w - 2) / 2:.0f}" y="{y + 14}" text-anchor="middle">{shown}</text>')
    if not rows:
        parts.append(f'<text x="{label_w - 6}" y="{head + 14}" text-anchor="end">nobody has work</text>')
    return _svg(chart, width, height, "".join(parts))


DRAW = {"bars": bars, "hbars": hbars, "lines": lines, "heat": heat}


def _table(t: Table) -> str:
    head = "".join(f'<th scope="col">{_e(c.header)}</th>' for c in t.columns)
    body = []
    linked = t.link_column
    for i, row in enumerate(t.rows):
        cells = []
        for j, (c, v) in enumerate(zip(t.columns, row)):
            text = _e(text_of(v, c.kind))
            if j == linked and i < len(t.links) and t.links[i]:
                text = f'<a href="{escape(t.links[i], quote=True)}" rel="noopener noreferrer">{text}</a>'
            css = ' class="num"' if c.kind in ("int", "num", "pct", "signed") else (
                ' class="text"' if c.header in ("Summary", "Decision", "Objectives") else "")
            cells.append(f'<td{css} data-v="{"" if v is None else _e(v)}">{text}</td>')
        css = f' class="{_e(t.classes[i])}"' if i < len(t.classes) and t.classes[i] else ""
        body.append(f"<tr{css}>{''.join(cells)}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(t.columns)}">{_e(t.empty)}</td></tr>')
    note = f'<p class="meta">{_e(t.note)}</p>' if t.note else ""
    html = (f'<div class="wide"><table class="sortable" id="table-{_e(t.id)}">'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')
    if len(t.rows) > FOLDED_FROM:  # long lists fold so the page reads top-down; the workbook has them all
        html = f"<details><summary>Show all {len(t.rows)} rows</summary>{html}</details>"
    return f"<h3>{_e(t.title)}</h3>{note}{html}"


def render_html(doc: Document) -> str:
    style, script = _portfolio_page()
    parts: list[str] = []
    charts: list[str] = []

    def flush() -> None:
        if charts:
            parts.append('<div class="charts">' + "".join(charts) + "</div>")
            charts.clear()

    for block in doc.blocks:
        if isinstance(block, Chart):
            charts.append(f"<figure><figcaption>{_e(block.title)}</figcaption>{DRAW[block.kind](block)}</figure>")
            continue
        flush()
        if isinstance(block, Heading):
            parts.append(f"<h2>{_e(block.text)}</h2>")
        elif isinstance(block, Text):
            parts.append(f'<p class="{_e(block.css)}">{_e(block.text)}</p>')
        elif isinstance(block, Figures):
            parts.append('<div class="tiles">' + "".join(
                f'<div class="tile {_e(css)}">{_e(label)}<b>{_e(value)}</b></div>' for label, value, css in block.items)
                + "</div>")
        elif isinstance(block, Table):
            parts.append(_table(block))
    flush()
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            'script-src \'unsafe-inline\'; img-src data:">\n<link rel="icon" href="data:,">\n'
            f"<title>{_e(doc.title)}</title>\n<style>{style}{_EXTRA_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>{_e(doc.title)}</h1>\n<p class=\"meta\">{_e(doc.subtitle)}</p>\n{''.join(parts)}\n"
            f"<script>{script}</script>\n</body>\n</html>\n")


