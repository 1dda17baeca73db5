"""One self-contained HTML file: inline CSS, inline SVG charts, sortable tables, no request made.

The page can be mailed, attached to a steering pack or opened from a file share offline: a
Content-Security-Policy forbids loading anything, and every chart is drawn here as SVG. All text
that comes from Jira goes through ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from importlib.resources import files
from string import Template

from pmo_jira.formats.base import one_line
from pmo_jira_portfolio.columns import LEVEL_COLUMNS, cell, plain
from pmo_jira_portfolio.rag import RAG_DIMENSIONS
from pmo_jira_portfolio.render_text import change_lines, definition_rows, frame, headline
from pmo_jira_portfolio.rollup import LEVELS, Rollup

RAG_FILL = {"green": "#63be7b", "amber": "#ffcc4d", "red": "#f8696b", "none": "#dddddd"}
_RAG_RANK = {"none": 0, "green": 1, "amber": 2, "red": 3}
_LINKED = {"project": "project", "epic": "key"}
_WRAPPED = frozenset({"summary", "name"})  # free text from Jira may wrap; keys and figures do not


def _e(text: object) -> str:
    return escape(one_line(str(text)), quote=True)


def _href(url: str) -> str | None:
    return url if url.startswith(("https://", "http://")) else None


# --- charts -------------------------------------------------------------------------------------


def phase_chart(counts: dict[str, int]) -> str:
    """Bar chart of epics per phase (unmapped last)."""
    width, height, left, bottom, top = 460, 220, 36, 28, 16
    peak = max(counts.values(), default=0) or 1
    slot = (width - left - 10) / max(len(counts), 1)
    bars = []
    for i, (phase, n) in enumerate(counts.items()):
        h = (height - bottom - top) * n / peak
        x = left + i * slot + slot * 0.15
        y = height - bottom - h
        bars.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="#4f81bd">'
            f"<title>{_e(phase)}: {n}</title></rect>"
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle">{n}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 10}" text-anchor="middle">{_e(phase)}</text>')
    axis = f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#888"/>'
    return (f'<svg id="chart-phases" role="img" aria-label="Epics by phase" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{axis}{"".join(bars)}</svg>')


def heatmap(rows: Sequence[tuple[str, dict[str, str]]]) -> str:
    """RAG heat-map: one row per project, one column per dimension plus overall."""
    dims = (*RAG_DIMENSIONS, "overall")
    label_w, cell_w, cell_h, head = 150, 78, 22, 22
    width = label_w + cell_w * len(dims) + 4
    height = head + cell_h * max(len(rows), 1) + 4
    parts = [f'<text x="{label_w + cell_w * i + cell_w / 2:.0f}" y="15" text-anchor="middle">{d}</text>'
             for i, d in enumerate(dims)]
    for r, (label, colours) in enumerate(rows):
        y = head + r * cell_h
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{_e(label)[:24]}</text>')
        for i, d in enumerate(dims):
            colour = colours.get(d, "none")
            x = label_w + cell_w * i
            parts.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{RAG_FILL.get(colour, RAG_FILL["none"])}"><title>{_e(label)} {d}: {colour}</title></rect>'
                f'<text x="{x + (cell_w - 2) / 2:.0f}" y="{y + 15}" text-anchor="middle">'
                f'{"-" if colour == "none" else colour}</text>')
    if not rows:
        parts.append(f'<text x="{label_w - 6}" y="{head + 15}" text-anchor="end">no projects</text>')
    return (f'<svg id="chart-heatmap" role="img" aria-label="RAG heat-map by project" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
            f'{"".join(parts)}</svg>')


def trend_chart(points: Sequence[tuple[str, int, int]]) -> str:
    """Open findings over runs (total, and high or worse); a single run is one point."""
    width, height, left, right, top, bottom = 460, 220, 36, 12, 16, 48
    peak = max((p[1] for p in points), default=0) or 1
    span = max(len(points) - 1, 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(i: int, v: int) -> tuple[float, float]:
        x = left + (plot_w * i / span if len(points) > 1 else plot_w / 2)
        return x, top + plot_h * (1 - v / peak)

    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{peak}</text>',
             f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>']
    for series, index, colour in (("open findings", 1, "#4f81bd"), ("high or worse", 2, "#c0504d")):
        coords = [xy(i, p[index]) for i, p in enumerate(points)]
        if len(coords) > 1:
            parts.append(f'<polyline class="line" fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in coords)}"/>')
        parts += [f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                  f"<title>{_e(points[i][0])}: {points[i][index]} {series}</title></circle>"
                  for i, (x, y) in enumerate(coords)]
    for i in {0, len(points) - 1} if points else ():
        x, _ = xy(i, 0)
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{_e(points[i][0])}</text>')
    parts += ['<rect x="40" y="200" width="10" height="10" fill="#4f81bd"/><text x="54" y="209">open findings</text>',
              '<rect x="150" y="200" width="10" height="10" fill="#c0504d"/><text x="164" y="209">high or worse</text>']
    return (f'<svg id="chart-trend" role="img" aria-label="Compliance trend over runs" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
            f'{"".join(parts)}</svg>')


def trend_points(rollup: Rollup) -> list[tuple[str, int, int]]:
    """(date label, open findings, open high or critical) per run, oldest first."""
    return [(t.started.strftime("%Y-%m-%d %H:%M"), t.open_total,
             t.open_by_severity.get("critical", 0) + t.open_by_severity.get("high", 0))
            for t in rollup.changes.trend]


def heatmap_rows(rollup: Rollup) -> list[tuple[str, dict[str, str]]]:
    multi_site = len(set(rollup.projects["site"])) > 1
    return [(f"{r['project']} ({r['site']})" if multi_site else r["project"],
             {**{d: r[f"rag_{d}"] for d in RAG_DIMENSIONS}, "overall": r["rag_overall"]})
            for _, r in rollup.projects.iterrows()]


# --- tables -------------------------------------------------------------------------------------


def _table(rollup: Rollup, level: str) -> str:
    cols = LEVEL_COLUMNS[level]
    head = "".join(f'<th scope="col">{escape(c.header)}</th>' for c in cols)
    body = []
    for _, r in frame(rollup, level).iterrows():
        cells = []
        for c in cols:
            value = plain(r[c.field])
            text = _e(cell(value, c.kind))
            if c.kind == "rag":
                colour = value or "none"
                cells.append(f'<td class="rag rag-{_e(colour)}" data-v="{_RAG_RANK.get(colour, 0)}">{text}</td>')
                continue
            sort = "" if value is None else _e(value)
            url = _href(str(r.get("url") or ""))
            if c.field == _LINKED.get(level) and url:
                text = f'<a href="{escape(url, quote=True)}" rel="noopener noreferrer">{text}</a>'
            css = ' class="num"' if c.kind in ("int", "pct") else ' class="text"' if c.field in _WRAPPED else ""
            cells.append(f'<td{css} data-v="{sort}">{text}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(cols)}">none</td></tr>')
    return (f'<table class="sortable" id="table-{level}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _definitions(rollup: Rollup) -> str:
    rows = "".join(
        f'<tr><td class="{f"rag rag-{name}" if name in ("green", "amber", "red") else ""}">{escape(name)}</td>'
        f'<td class="num">{escape(amber)}</td><td class="num">{escape(red)}</td><td>{_e(text)}</td></tr>'
        for name, amber, red, text in definition_rows(rollup))
    return ('<table id="table-definitions"><thead><tr><th>Dimension</th><th>Amber from</th><th>Red from</th>'
            f"<th>Definition</th></tr></thead><tbody>{rows}</tbody></table>")


def render_html(rollup: Rollup) -> str:
    template = Template((files("pmo_jira_portfolio") / "report.html").read_text(encoding="utf-8"))
    lines = change_lines(rollup)
    charts = "".join(
        f"<figure><figcaption>{caption}</figcaption>{svg}</figure>"
        for caption, svg in (("Epics by phase", phase_chart(rollup.phase_counts)),
                             ("RAG by project", heatmap(heatmap_rows(rollup))),
                             ("Open findings over runs", trend_chart(trend_points(rollup)))))
    errors = "".join(f'<p class="warn">Site {_e(site)} could not be audited: {_e(message)}</p>'
                     for site, message in sorted(rollup.site_errors.items()))
    return template.substitute(
        title=_e(f"Portfolio report - {rollup.mapping_name}"), headline=_e(headline(rollup)),
        site_errors=errors, definitions=_definitions(rollup), charts=charts,
        **{f"{level}s": _table(rollup, level) for level in LEVELS},
        changes=f'<p class="meta">{_e(lines[0])}</p><p>{_e(lines[1])}</p>'
                + ('<ul class="changes">' + "".join(f"<li>{_e(x.strip())}</li>" for x in lines[2:]) + "</ul>"
                   if lines[2:] else ""),
    )
