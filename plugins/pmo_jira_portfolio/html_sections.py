"""The sections of the portfolio page, one function each, so other reports can reuse the pieces.

Each function takes the roll-up and returns one ``<section>`` of HTML; ``render_html`` puts them
in reading order: the verdict first (summary, decisions needed, dates), then the detail you can
expand, then the definitions. All text from Jira goes through ``html.escape``; the only links go
to Jira (``http(s)`` URLs only).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Any

import pandas as pd

from pmo_jira.formats.base import one_line
from pmo_jira.wording import counted
from pmo_jira_portfolio.columns import Column, cell, level_columns, multi_site, plain
from pmo_jira_portfolio.html_charts import HEATMAP_MAX_ROWS, heatmap, heatmap_rows, phase_chart, trend_chart, trend_points
from pmo_jira_portfolio.render_text import change_lines, definition_rows, frame, headline
from pmo_jira_portfolio.rollup import Rollup
from pmo_jira_portfolio.summary import COLOURS, GATE_WINDOW_DAYS

DECISIONS_SHOWN = 25  # the rest are in the sections below, which list every red item
DATES_SHOWN = 15
CHANGES_SHOWN = 200
OPEN_TABLES_UP_TO = 60  # rows; longer "all epics" tables start collapsed
EPICS_DETAILED = 12  # per project, the worst non-green epics shown with their findings; the rest by key
ALL_EPICS_SHOWN = 300  # the worst epics in the sortable table; the XLSX and CSV hold every one
_RAG_RANK = {"none": 0, "green": 1, "amber": 2, "red": 3}
_LINKED = {"project": "project", "epic": "key"}
_WRAPPED = frozenset({"summary", "name", "why"})
# Columns a printed A4 page can do without (the RAG columns always print).
_PRINT_OPTIONAL = frozenset({"pct_done_estimate", "open_high_risks", "status", "new_findings",
                             "resolved_findings", "open_low", "open_info", "name"})


def e(text: object) -> str:
    """Escaped one-line text."""
    return escape(one_line(str(text)), quote=True)


def href(url: object) -> str | None:
    url = str(url or "")
    return url if url.startswith(("https://", "http://")) else None


def link(text: str, url: object) -> str:
    target = href(url)
    return f'<a href="{escape(target, quote=True)}">{e(text)}</a>' if target else e(text)


def chip(colour: str, text: str | None = None) -> str:
    colour = colour if colour in _RAG_RANK else "none"
    return f'<span class="chip rag-{colour}">{e(text if text is not None else colour.upper())}</span>'


def section(section_id: str, title: str, body: str, intro: str = "") -> str:
    intro_html = f'<p class="meta">{intro}</p>' if intro else ""
    return f'<section id="{section_id}"><h2>{e(title)}</h2>{intro_html}{body}</section>'


def scroll(table: str) -> str:
    """A wide table scrolls in its own box, never the page."""
    return f'<div class="scroll">{table}</div>'


def _date(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _days_since(value: datetime | None, now: datetime) -> int | None:
    if value is None:
        return None
    return max((now - value).days, 0)


def simple_table(table_id: str, headers: Sequence[str], rows: Iterable[Sequence[str]], empty: str = "none",
                 classes: Sequence[str] = ()) -> str:
    """A table of already-escaped cells; ``classes`` per column (e.g. ``num``, ``text``)."""
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f'<td class="{classes[i]}">{c}</td>' if i < len(classes) and classes[i]
                                    else f"<td>{c}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows)
    if not body:
        body = f'<tr><td colspan="{len(headers)}">{e(empty)}</td></tr>'
    return scroll(f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


# --- summary ------------------------------------------------------------------------------------


def _move(n: int | None, against: str) -> str:
    if n is None:
        return ""
    arrow = "&#9650;" if n > 0 else "&#9660;" if n < 0 else "&#177;"
    return f'<span class="move">{arrow}{abs(n)} {against}</span>'


def summary_section(rollup: Rollup) -> str:
    ch = rollup.changes
    cards = []
    for level, title in (("project", "Projects"), ("epic", "Epics")):
        counts = rollup.summary.counts[level]
        items = "".join(
            f'<li>{chip(c, f"{counts.now.get(c, 0)} {c}")}{_move(counts.move(c, "previous"), "since last run")}'
            f'{_move(counts.move(c, "month"), "since a month ago")}</li>' for c in COLOURS)
        cards.append(f'<div class="card" id="counts-{level}"><h3>{title}</h3><ul class="counts">{items}</ul></div>')
    month = (f"a month ago: run {ch.month_ago.id} of {_date(ch.month_ago.started)}" if ch.month_ago
             else "a month ago: no run that old yet")
    intro = f"{e(headline(rollup))}<br>Compared with {e(ch.baseline)}; {e(month)}."
    errors = "".join(f'<p class="warn">Site {e(site)} could not be audited: {e(message)}</p>'
                     for site, message in sorted(rollup.site_errors.items()))
    return section("summary", "Executive summary", errors + f'<div class="cards">{"".join(cards)}</div>', intro)


def decisions_section(rollup: Rollup) -> str:
    decisions = rollup.summary.decisions
    sites = multi_site(rollup)
    rows = []
    for d in decisions[:DECISIONS_SHOWN]:
        what = f'{e(d.level)} {link(d.key, d.url)} {e(d.name)}'
        age = _days_since(d.red_since, rollup.now)
        red_for = "red since this run" if age is None else f"red {counted(age, 'day')} (since {_date(d.red_since)})"
        owner = e(d.owner) if d.owner else '<strong class="warn-text">nobody: appoint an owner</strong>'
        row = [what, *([e(d.site)] if sites else []), e(d.why), owner, e(red_for), e(d.fix)]
        rows.append(row)
    headers = ["What", *(["Site"] if sites else []), "Why", "Owner", "Age", "The fix"]
    classes = ["text", *([""] if sites else []), "text", "", "", "text"]
    more = len(decisions) - DECISIONS_SHOWN
    tail = (f'<p class="meta">and {counted(more, "more red item")}, each in its project below.</p>'
            if more > 0 else "")
    intro = (f"{counted(len(decisions), 'red item')}. Red means a decision or intervention is needed above the "
             "project manager; each names what, why, who owns it, since when and the fix.")
    return section("decisions", "Decisions needed",
                   simple_table("table-decisions", headers, rows, "none: nothing is red", classes) + tail, intro)


def _epic_line(r: dict[str, Any], sites: bool) -> list[str]:
    return [link(r["key"], r.get("url")), *([e(r["site"])] if sites else []), e(r.get("summary") or ""),
            e(r.get("owner") or "-"), e(r["target_end"])]


def dates_section(rollup: Rollup) -> str:
    sites = multi_site(rollup)
    summary = rollup.summary
    base = ["Epic", *(["Site"] if sites else []), "Summary", "Owner", "Target end"]
    cls = ["", *([""] if sites else []), "text", "", ""]
    upcoming = [[*_epic_line(r, sites), e(r["phase"]), str(r["days_to_go"])]
                for r in summary.upcoming.head(DATES_SHOWN).to_dict("records")]
    late = [[*_epic_line(r, sites), chip(r["rag_overall"]), str(plain(r["days_late"]))]
            for r in summary.late.head(DATES_SHOWN).to_dict("records")]

    def more(frame_: pd.DataFrame) -> str:
        n = len(frame_) - DATES_SHOWN
        return f'<p class="meta">and {n} more.</p>' if n > 0 else ""

    body = (f"<h3>Target ends in the next {GATE_WINDOW_DAYS} days ({len(summary.upcoming)})</h3>"
            + simple_table("table-upcoming", [*base, "Phase", "Days to go"], upcoming, "none", [*cls, "", "num"])
            + more(summary.upcoming)
            + f"<h3>Late epics ({len(summary.late)})</h3>"
            + simple_table("table-late", [*base, "RAG", "Days late"], late, "none: no open epic is late",
                           [*cls, "", "num"]) + more(summary.late))
    return section("dates", "Upcoming gates and late epics", body)


def charts_section(rollup: Rollup) -> str:
    rows = heatmap_rows(rollup)
    caption = "RAG by project"
    if len(rows) > HEATMAP_MAX_ROWS:
        rows = sorted(rows, key=lambda r: -_RAG_RANK.get(r[1]["overall"], 0))[:HEATMAP_MAX_ROWS]
        caption += f" (the {HEATMAP_MAX_ROWS} worst; all are in the tables)"
    figures = "".join(f"<figure><figcaption>{e(c)}</figcaption>{svg}</figure>" for c, svg in (
        ("Open findings over runs", trend_chart(trend_points(rollup))),
        ("Epics by phase", phase_chart(rollup.phase_counts)),
        (caption, heatmap(rows))))
    return section("charts", "Charts", f'<div class="charts">{figures}</div>')


# --- portfolios, projects, epics and their findings -----------------------------------------------


def _findings_list(findings: pd.DataFrame, now: datetime) -> str:
    items = []
    for f in findings.to_dict("records"):
        age = _days_since(f["since"], now)
        since = f"since {_date(f['since'])} ({counted(age, 'day')})" if age else "new in this run"
        waived = " (waived)" if f["outcome"] == "waived" else ""
        owner = e(f["owner"]) if f["owner"] else "no owner"
        items.append(f'<li><span class="sev sev-{e(f["severity"])}">{e(f["severity"])}</span> '
                     f'{e(f["code"])}{waived}: {e(f["message"])}<br><span class="fix">Fix: {e(f["fix"])}</span> '
                     f'<span class="meta">{owner}, {e(since)}</span></li>')
    return f'<ul class="findings">{"".join(items)}</ul>' if items else ""


def _epic_block(r: dict[str, Any], findings: pd.DataFrame, now: datetime) -> str:
    return (f'<div class="epic">{chip(r["rag_overall"])} {link(r["key"], r.get("url"))} {e(r.get("summary") or "")}'
            f' <span class="meta">{e(r["phase"])}, owner {e(r.get("owner") or "none")}</span>'
            f'<p class="why">{e(r["why"])}</p>{_findings_list(findings, now)}</div>')


def _project_block(p: dict[str, Any], epics: pd.DataFrame, findings: pd.DataFrame, now: datetime,
                   sites: bool) -> str:
    site = f" ({e(p['site'])})" if sites else ""
    head = (f'<summary>{chip(p["rag_overall"])} <strong>{e(p["project"])}</strong>{site} {e(p["name"])}'
            f' <span class="meta">owner {e(p.get("owner") or "none")}, {counted(plain(p["epics"]), "epic")}, '
            f'{counted(plain(p["findings_open"]), "open finding")}</span><span class="why">{e(p["why"])}</span></summary>')
    by_item = {k: g for k, g in findings.groupby("item")} if len(findings) else {}
    own = by_item.get(p["project"], findings.iloc[0:0])
    parts = [_findings_list(own, now)] if len(own) else []
    quiet, rest = [], []
    for r in worst_first(epics).to_dict("records"):
        mine = by_item.get(r["key"], findings.iloc[0:0])
        if r["rag_overall"] == "green" and not len(mine):
            quiet.append(e(r["key"]))
        elif len(parts) < EPICS_DETAILED:
            parts.append(_epic_block(r, mine, now))
        else:
            rest.append(f'{e(r["key"])} ({e(r["rag_overall"])})')
    if rest:
        parts.append(f'<p class="meta">{counted(len(rest), "more epic")} with findings (every finding is in the XLSX '
                     f'Findings sheet): {", ".join(rest)}</p>')
    if quiet:
        parts.append(f'<p class="meta">Green with no findings: {", ".join(quiet)}</p>')
    return f'<details class="project">{head}{"".join(parts) or "<p>No epics.</p>"}</details>'


def portfolio_sections(rollup: Rollup) -> str:
    sites = multi_site(rollup)
    epics_by = {k: g for k, g in rollup.epics.groupby(["site", "project"])} if len(rollup.epics) else {}
    findings_by = ({k: g for k, g in rollup.findings.groupby(["site", "project"])}
                   if len(rollup.findings) else {})
    none = rollup.findings.iloc[0:0]
    blocks = []
    for port in rollup.portfolios.to_dict("records"):
        projects = rollup.projects[rollup.projects["portfolio"] == port["portfolio"]].to_dict("records")
        counts = " ".join(chip(c, f"{sum(p['rag_overall'] == c for p in projects)} {c}") for c in COLOURS)
        inner = "".join(_project_block(p, epics_by.get((p["site"], p["project"]), rollup.epics.iloc[0:0]),
                                       findings_by.get((p["site"], p["project"]), none), rollup.now, sites)
                        for p in projects)
        blocks.append(f'<details class="portfolio"><summary>{chip(port["rag_overall"])} '
                      f'<strong>{e(port["portfolio"])}</strong> {counted(len(projects), "project")} {counts}'
                      f'<span class="why">{e(port["why"])}</span></summary>{inner}</details>')
    intro = "Open a portfolio, then a project, for its epics and their findings: message, fix, owner, since when."
    return section("portfolios", "Portfolios and projects",
                   scroll(level_table(rollup, "portfolio")) + "".join(blocks), intro)


def worst_first(frame_: pd.DataFrame) -> pd.DataFrame:
    """Red before amber before green, then the most open findings, then the most days late."""
    if not len(frame_):
        return frame_
    ranked = frame_.assign(_rank=[-_RAG_RANK.get(c, 0) for c in frame_["rag_overall"]])
    return ranked.sort_values(["_rank", "findings_open", "days_late"], ascending=[True, False, False],
                              kind="stable").drop(columns="_rank")


def _columns(rollup: Rollup, level: str) -> tuple[Column, ...]:
    """The level's columns with the colours right after the names, so the verdict is seen unscrolled."""
    cols = level_columns(rollup, level)
    rag = [c for c in cols if c.kind == "rag"]
    rag = [rag[-1], *rag[:-1]]  # Overall first
    names = [c for c in cols if c.kind == "text" and c.field not in ("summary", "phase", "status", "target_end")]
    return (*names, *rag, *(c for c in cols if c not in names and c.kind != "rag"))


def level_table(rollup: Rollup, level: str, rows: pd.DataFrame | None = None) -> str:
    """The sortable table of one level (``#table-<level>``), every figure and colour."""
    cols = _columns(rollup, level)
    head = "".join(f'<th scope="col"{" class=opt" if c.field in _PRINT_OPTIONAL else ""}>{escape(c.header)}</th>'
                   for c in cols)
    body = []
    for r in (frame(rollup, level) if rows is None else rows).to_dict("records"):
        cells = []
        for c in cols:
            value = plain(r.get(c.field))
            text = e(cell(value, c.kind))
            opt = " opt" if c.field in _PRINT_OPTIONAL else ""
            if c.kind == "rag":
                colour = value or "none"
                cells.append(f'<td class="rag rag-{e(colour)}{opt}" data-v="{_RAG_RANK.get(colour, 0)}">{text}</td>')
                continue
            if c.field == _LINKED.get(level) and href(r.get("url")):
                text = link(str(value), r.get("url"))
            css = "num" if c.kind in ("int", "pct") else "text" if c.field in _WRAPPED else ""
            css = (css + opt).strip()
            sort = "" if value is None else e(value)
            # the script sorts by the cell's text unless data-v says otherwise ("12.5%" sorts as 12.5)
            data = f' data-v="{sort}"' if value is None or (c.kind == "text" and sort != text) else ""
            cells.append(f'<td{f" class={chr(34)}{css}{chr(34)}" if css else ""}{data}>{text}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(cols)}">none</td></tr>')
    return (f'<table class="sortable" id="table-{level}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def tables_section(rollup: Rollup) -> str:
    parts = []
    for level, title in (("project", "All projects"), ("epic", "All epics")):
        every = frame(rollup, level)
        shown = every if len(every) <= ALL_EPICS_SHOWN else worst_first(every).head(ALL_EPICS_SHOWN)
        state = " open" if len(shown) <= OPEN_TABLES_UP_TO else ""
        label = (f"{title} ({len(every)}), sortable" if len(shown) == len(every) else
                 f"The {len(shown)} worst of {len(every)} {title.lower().removeprefix('all ')} (every one is in "
                 "the XLSX and CSV), sortable")
        parts.append(f'<details class="all"{state}><summary>{e(label)}</summary>'
                     f"{scroll(level_table(rollup, level, shown))}</details>")
    return section("tables", "All projects and epics", "".join(parts),
                   "Click a column to sort; colours: " + " ".join(chip(c) for c in ("red", "amber", "green")))


def changes_section(rollup: Rollup) -> str:
    lines = change_lines(rollup)
    detail = lines[2:]
    shown = "".join(f"<li>{e(x.strip())}</li>" for x in detail[:CHANGES_SHOWN])
    more = (f'<p class="meta">and {len(detail) - CHANGES_SHOWN} more (the JSON and XLSX formats have them all).'
            "</p>" if len(detail) > CHANGES_SHOWN else "")
    body = (f'<p class="meta">{e(lines[0])}</p><p>{e(lines[1])}</p>'
            + (f'<details><summary>Every change ({len(detail)})</summary><ul class="changes">{shown}</ul>{more}'
               "</details>" if detail else ""))
    return section("changes", "Changes since the previous run", body)


def definitions_section(rollup: Rollup) -> str:
    rows = "".join(
        f'<tr><td class="{f"rag rag-{name}" if name in ("green", "amber", "red") else ""}">{escape(name)}</td>'
        f'<td class="num">{escape(amber)}</td><td class="num">{escape(red)}</td><td class="text">{e(text)}</td></tr>'
        for name, amber, red, text in definition_rows(rollup))
    table = ('<table id="table-definitions"><thead><tr><th>Dimension</th><th>Amber from</th><th>Red from</th>'
             f"<th>Definition</th></tr></thead><tbody>{rows}</tbody></table>")
    intro = ("Every dimension is a measure where higher is worse: amber from the amber threshold on, red from "
             "the red one. A row's overall colour is its worst dimension; compliance is weighted by severity "
             "(medium gaps make it amber at most).")
    return section("definitions", "RAG definitions", scroll(table), e(intro))


SECTIONS = (summary_section, decisions_section, dates_section, charts_section, portfolio_sections,
            tables_section, changes_section, definitions_section)
