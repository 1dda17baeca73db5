"""The portfolio page's charts as inline SVG (nothing is loaded), scaled to their box.

Every chart has a ``viewBox`` and no fixed width, so it shrinks on a phone and prints on A4;
axes carry their figures, and a chart with too little data says so instead of drawing dots.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from pmo_jira.formats.base import one_line
from pmo_jira_portfolio.rag import RAG_DIMENSIONS
from pmo_jira_portfolio.rollup import Rollup

RAG_FILL = {"green": "#63be7b", "amber": "#ffcc4d", "red": "#f8696b", "none": "#dddddd"}
HEATMAP_MAX_ROWS = 40  # more projects than this: the table below holds them, the map the worst


def _e(text: object) -> str:
    return escape(one_line(str(text)), quote=True)


def _svg(chart_id: str, label: str, width: int, height: int, body: str) -> str:
    return (f'<svg id="{chart_id}" class="chart" role="img" aria-label="{_e(label)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
            f'xmlns="http://www.w3.org/2000/svg">{body}</svg>')


def _ticks(peak: int) -> list[int]:
    """0, a middle and the top of a count axis (the top rounded up so labels are round)."""
    if peak <= 4:
        return list(range(0, max(peak, 1) + 1))
    step = 10 ** (len(str(peak)) - 1)
    top = -(-peak // step) * step
    return [0, top // 2, top]


def phase_chart(counts: dict[str, int]) -> str:
    """Bar chart of epics per phase (unmapped last), with a count axis."""
    width, height, left, bottom, top = 460, 220, 40, 28, 16
    ticks = _ticks(max(counts.values(), default=0))
    peak = ticks[-1] or 1
    plot_h = height - bottom - top
    slot = (width - left - 10) / max(len(counts), 1)
    parts = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" stroke="#888"/>']
    for t in ticks:
        y = height - bottom - plot_h * t / peak
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{t}</text>'
                     f'<line x1="{left}" y1="{y:.1f}" x2="{width - 5}" y2="{y:.1f}" stroke="#eee"/>')
    for i, (phase, n) in enumerate(counts.items()):
        h = plot_h * n / peak
        x = left + i * slot + slot * 0.15
        y = height - bottom - h
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="#4f81bd">'
            f"<title>{_e(phase)}: {n}</title></rect>"
            f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle">{n}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{height - 10}" text-anchor="middle">{_e(phase)}</text>')
    return _svg("chart-phases", "Epics by phase", width, height, "".join(parts))


def heatmap(rows: Sequence[tuple[str, dict[str, str]]]) -> str:
    """RAG heat-map: one row per project, one column per dimension plus overall."""
    dims = (*RAG_DIMENSIONS, "overall")
    label_w, cell_w, cell_h, head = 150, 70, 22, 22
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
    return _svg("chart-heatmap", "RAG heat-map by project", width, height, "".join(parts))


def trend_chart(points: Sequence[tuple[str, int, int]]) -> str:
    """Open findings over runs (total, and high or worse), with a count axis and dated ends.

    One run is no trend: the chart then shows the two figures as bars and says that the line
    starts with the next run, rather than two lone dots.
    """
    width, height, left, right, top, bottom = 460, 220, 44, 16, 16, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = _ticks(max((p[1] for p in points), default=0))
    peak = ticks[-1] or 1
    parts = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#888"/>']
    for t in ticks:
        y = top + plot_h * (1 - t / peak)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{t}</text>'
                     f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#eee"/>')
    series = (("open findings", 1, "#4f81bd"), ("high or worse", 2, "#c0504d"))
    if len(points) == 1:
        label, *values = points[0]
        for i, (name, index, colour) in enumerate(series):
            h = plot_h * values[index - 1] / peak
            x = left + 40 + i * 150
            parts.append(f'<rect class="bar" x="{x}" y="{top + plot_h - h:.1f}" width="90" height="{h:.1f}" '
                         f'fill="{colour}"><title>{_e(label)}: {values[index - 1]} {name}</title></rect>'
                         f'<circle class="point" cx="{x + 45}" cy="{top + plot_h - h:.1f}" r="3.5" fill="{colour}"/>'
                         f'<text x="{x + 45}" y="{top + plot_h - h - 6:.1f}" text-anchor="middle">'
                         f'{values[index - 1]}</text>')
        parts.append(f'<text x="{left}" y="{height - 30}">First run ({_e(label)}): the line starts with '
                     f'the next run.</text>')
    else:
        span = max(len(points) - 1, 1)
        for name, index, colour in series:
            coords = [(left + plot_w * i / span, top + plot_h * (1 - p[index] / peak)) for i, p in enumerate(points)]
            if coords:
                parts.append(f'<polyline class="line" fill="none" stroke="{colour}" stroke-width="2" '
                             f'points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in coords)}"/>')
            parts += [f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                      f"<title>{_e(points[i][0])}: {points[i][index]} {name}</title></circle>"
                      for i, (x, y) in enumerate(coords)]
        for i, anchor in ((0, "start"), (len(points) - 1, "end")) if points else ():
            x = left + plot_w * i / span
            parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}">'
                         f'{_e(points[i][0][:10])}</text>')
    parts += [f'<rect x="{left}" y="{height - 16}" width="10" height="10" fill="#4f81bd"/>'
              f'<text x="{left + 14}" y="{height - 7}">open findings</text>',
              f'<rect x="{left + 120}" y="{height - 16}" width="10" height="10" fill="#c0504d"/>'
              f'<text x="{left + 134}" y="{height - 7}">high or worse</text>']
    return _svg("chart-trend", "Compliance trend over runs", width, height, "".join(parts))


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
