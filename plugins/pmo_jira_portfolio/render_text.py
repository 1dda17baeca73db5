"""The text formats of the portfolio report: terminal table, Markdown, CSV and versioned JSON.

All of them lead with the RAG definitions and thresholds, so a reader never has to guess what a
colour means, and end with what changed since the previous run.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any

from pmo_jira.formats.base import iso, one_line
from pmo_jira.formats.csv_format import defuse_cell
from pmo_jira.formats.fit import fit_table
from pmo_jira.formats.markdown import md_text
from pmo_jira.wording import counted
from pmo_jira_portfolio.columns import FIGURES, MEASURE_FIELDS, RAG_FIELDS, cell, level_columns, plain
from pmo_jira_portfolio.rag import RAG_DIMENSIONS
from pmo_jira_portfolio.report import CSV_LEVELS
from pmo_jira_portfolio.rollup import FINDING_COLUMNS, LEVELS, SEVERITIES, Rollup
from pmo_jira_portfolio.runs import as_dict

SCHEMA_ID = "pmo-jira/portfolio"
SCHEMA_VERSION = 1
_LEVEL_FRAME = {"portfolio": "portfolios", "project": "projects", "epic": "epics"}
_TITLES = {"portfolio": "Portfolios", "project": "Projects", "epic": "Epics"}


def frame(rollup: Rollup, level: str):
    return getattr(rollup, _LEVEL_FRAME[level])


def headline(rollup: Rollup) -> str:
    """One line of what the report covers; a site whose figures are older than the run (recorded
    by its own job earlier, rendered ``--from-history``) is named with when it was read."""
    sev = ", ".join(f"{n} {s}" for s, n in rollup.open_by_severity.items() if n) or "none"
    older = ", ".join(f"{s} as of {iso(t)}" for s, t in sorted(rollup.as_of.items()) if t != rollup.run_started)
    sites = (", ".join(rollup.sites) or "none") + (f" ({older})" if older else "")
    return (f"Mapping {rollup.mapping_name} - run {iso(rollup.run_started)} - sites {sites} - "
            f"{counted(len(rollup.projects), 'project')}, {counted(len(rollup.epics), 'epic')} - "
            f"open findings: {rollup.open_total} ({sev})")


def definition_rows(rollup: Rollup) -> list[tuple[str, str, str, str]]:
    """(name, amber from, red from, definition) for each dimension, then the three colours."""
    rows = [(d, f"{rollup.thresholds[d].amber:g}", f"{rollup.thresholds[d].red:g}", rollup.definitions[d])
            for d in RAG_DIMENSIONS]
    rows += [(c, "", "", rollup.definitions[c]) for c in ("green", "amber", "red")]
    return rows


def change_lines(rollup: Rollup) -> list[str]:
    """What changed since the previous run, one plain line each."""
    ch = rollup.changes
    out = [f"Compared with: {ch.baseline}",
           f"New findings: {len(ch.new)} - resolved: {len(ch.resolved)} - phase moves: "
           f"{len(ch.phase_moves)} - RAG moves: {len(rollup.rag_moves)}"]
    out += [f"  new      {r.severity:<8} {r.code} {r.item_key} ({r.site})" for r in ch.new]
    out += [f"  resolved {r.severity:<8} {r.code} {r.item_key} ({r.site})" for r in ch.resolved]
    out += [f"  phase    {m.key} ({m.site}): {m.before or 'unmapped'} -> {m.after or 'unmapped'}"
            for m in ch.phase_moves]
    out += [f"  rag      {m.level} {m.key}{f' ({m.site})' if m.site else ''} {m.dimension}: "
            f"{m.before} -> {m.after}" for m in rollup.rag_moves]
    return out


# --- terminal table --------------------------------------------------------------------------------


_RAG_STYLE = {"RED": "1;31", "AMBER": "33", "GREEN": "32"}
# Too narrow a terminal: free text is cut first, then these columns go, first listed first; the
# keys and the overall colour stay.
_DROP_FIRST = ("Resolved", "New", "I", "L", "M", "Open high risks", "Done % (estimate)", "Status", "Target end",
               "Projects", "Epics", "Phase", "Days late", "Done % (count)", "Open findings", "C", "H", "Scope",
               "Freshness", "Risk", "Schedule", "Compliance", "Name", "Summary", "Portfolio", "Site")


def _aligned(header: list[str], rows: list[list[str]], *, width: int | None = None, color: bool = False,
             numeric: frozenset[int] = frozenset(), text: tuple[str, ...] = (), wrap: tuple[str, ...] = ()) -> list[str]:
    """The table fitted to ``width`` (``pmo_jira.formats.fit``): ``text`` columns cut, ``wrap``
    columns wrapped; RAG words coloured on a terminal."""
    style = (lambda col, cell: _RAG_STYLE.get(cell)) if color else None
    return fit_table(header, rows, width, numeric=numeric, shrink=[i for i, h in enumerate(header) if h in text],
                     wrap=[i for i, h in enumerate(header) if h in wrap],
                     drop=[header.index(h) for h in _DROP_FIRST if h in header], style=style)


def _wrapped(lines: Iterable[str], width: int | None) -> list[str]:
    return [part for line in lines for part in (textwrap.wrap(line, width, subsequent_indent="  ",
                                                              break_on_hyphens=False) or [""] if width else [line])]


def _level_rows(rollup: Rollup, level: str, text=one_line, limit: int = 60) -> tuple[list[str], list[list[str]]]:
    cols = level_columns(rollup, level)
    rows = [[text(cell(r[c.field], c.kind))[:limit] for c in cols] for _, r in frame(rollup, level).iterrows()]
    return [c.header for c in cols], rows


def render_table(rollup: Rollup, *, width: int | None = None, color: bool = False) -> str:
    """The terminal text; ``width`` (the terminal's columns, None: no limit) cuts free text, then
    leaves out the least telling columns and names them; ``color`` colours the RAG words."""
    out = _wrapped([f"Portfolio report - {rollup.mapping_name}", headline(rollup)], width) + [""]
    out += _wrapped([f"Site {site} could not be audited: {one_line(message)}"
                     for site, message in sorted(rollup.site_errors.items())], width)
    out += _wrapped(["RAG definitions (higher is worse; amber/red from the threshold on)"], width)
    definitions = [[name, amber, red, text] for name, amber, red, text in definition_rows(rollup)]
    out += _aligned(["Dimension", "Amber", "Red", "Definition"], definitions, width=width, wrap=("Definition",))
    for level in LEVELS:
        header, rows = _level_rows(rollup, level)
        numeric = frozenset(i for i, c in enumerate(level_columns(rollup, level)) if c.kind in ("int", "pct"))
        table = _aligned(header, rows, width=width, color=color, numeric=numeric,
                         text=("Portfolio", "Name", "Summary", "Status", "Phase")) if rows else ["(none)"]
        out += ["", f"{_TITLES[level]} ({len(rows)})", *table]
    phases = ", ".join(f"{p} {n}" for p, n in rollup.phase_counts.items())
    out += ["", *_wrapped([f"Epics by phase: {phases}"], width), "", "Changes since the previous run",
            *_wrapped(change_lines(rollup), width)]
    return "\n".join(out) + "\n"


# --- markdown ----------------------------------------------------------------------------------


def _md_table(header: list[str], rows: Iterable[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(r) + " |" for r in rows)]


def render_markdown(rollup: Rollup) -> str:
    """Markdown that reads as well raw as rendered: Jira text is escaped only where Markdown would
    misrender it (``md_text``)."""
    out = [f"## Portfolio report: {md_text(rollup.mapping_name)}", "", md_text(headline(rollup)), ""]
    for site, message in sorted(rollup.site_errors.items()):
        out += [f"> **Site {md_text(site)} could not be audited:** {md_text(message)}", ""]
    out += ["### RAG definitions", ""]
    out += _md_table(["Dimension", "Amber from", "Red from", "Definition"],
                     [[md_text(x, cell=True) for x in r] for r in definition_rows(rollup)])
    for level in LEVELS:
        header, rows = _level_rows(rollup, level, text=partial(md_text, cell=True), limit=200)
        out += ["", f"### {_TITLES[level]}", ""]
        out += _md_table(header, rows) if rows else ["_none_"]
    out += ["", "### Changes since the previous run", ""]
    out += [f"- {md_text(line.strip())}" for line in change_lines(rollup)]
    return "\n".join(out) + "\n"


# --- csv ---------------------------------------------------------------------------------------

_FIGURE_COLUMNS = (*FIGURES, "items", "items_flagged", "items_serious", "unmapped", *MEASURE_FIELDS,
                   "m_compliance_serious", *RAG_FIELDS, "why")
CSV_FILES: dict[str, tuple[str, ...]] = dict(zip(CSV_LEVELS, (
    ("portfolio", "projects", *_FIGURE_COLUMNS, "new_findings", "resolved_findings"),
    ("portfolio", "site", "project", "name", "owner", "phase", *_FIGURE_COLUMNS, "new_findings",
     "resolved_findings", "url"),
    ("portfolio", "site", "project", "key", "summary", "owner", "phase", "status", "open", "target_end",
     *_FIGURE_COLUMNS, "url"),
    tuple(c for c in FINDING_COLUMNS if c != "severity_rank"),
    ("name", "amber", "red", "definition"),
)))
"""The columns of each file of the csv format: one per level, the findings and the RAG definitions."""


def _csv(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        values = (plain(row.get(c)) for c in columns)
        writer.writerow([_csv_cell(v) for v in values])
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    """Text defused, timestamps as ISO 8601 (UTC, Z), yes/no as true/false (as the audit's csv),
    nothing as an empty cell."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return defuse_cell(one_line(value))
    if isinstance(value, datetime):
        return iso(value)
    return "" if value is None else value


def render_csv(rollup: Rollup, level: str | None = None) -> dict[str, str]:
    """``<level>.csv`` -> text for each of ``CSV_FILES`` (or only ``level``): one row per
    portfolio, project, epic, finding or RAG definition; cells that a spreadsheet would run as a
    formula are defused."""
    def rows(name: str) -> Iterable[dict[str, Any]]:
        if name == "definitions":
            return ({"name": n, "amber": a, "red": r, "definition": d} for n, a, r, d in definition_rows(rollup))
        source = rollup.findings if name == "findings" else getattr(rollup, name)
        return source.to_dict("records") if len(source) else ()

    return {f"{name}.csv": _csv(CSV_FILES[name], rows(name)) for name in ((level,) if level else CSV_FILES)}


# --- json --------------------------------------------------------------------------------------


def _row_dict(r: Any, level: str) -> dict[str, Any]:
    get = lambda k: plain(r.get(k))  # noqa: E731
    out: dict[str, Any] = {}
    if level == "portfolio":
        out["name"] = get("portfolio")
        out["project_count"] = get("projects")
        out["unmapped_items"] = get("unmapped")
    elif level == "project":
        out.update(site=get("site"), key=get("project"), name=get("name"), url=get("url"), phase=get("phase"),
                   unmapped_items=get("unmapped"))
    else:
        out.update(site=get("site"), key=get("key"), summary=get("summary"), url=get("url"), phase=get("phase"),
                   status=get("status"), open=get("open"), target_end=get("target_end") or None)
    out.update({
        "epic_counts": {"total": get("epics"), "open": get("epics_open"), "overdue": get("epics_overdue")},
        "children": {"total": get("children"), "done": get("children_done"), "open": get("open_children"),
                     "estimated": get("children_estimated")},
        "points": {"total": get("points"), "done": get("points_done")},
        "percent_complete": {"by_count": get("pct_done_count"), "by_estimate": get("pct_done_estimate")},
        "percent_estimated": get("pct_estimated"),
        "days_late": get("days_late"), "days_since_update": get("days_since_update"),
        "risks": {"open_high": get("open_high_risks"), "unmanaged_high": get("unmanaged_risks"),
                  "epics_without_register": get("epics_without_risks")},
        "findings": {"open": get("findings_open"), "waived": get("findings_waived"),
                     "open_by_severity": {s: get(f"open_{s}") for s in SEVERITIES}},
        "measures": {d: get(f"m_{d}") for d in RAG_DIMENSIONS},
        "rag": {**{d: get(f"rag_{d}") for d in RAG_DIMENSIONS}, "overall": get("rag_overall")},
        "why": get("why"),
    })
    if level != "portfolio":
        out["owner"] = get("owner") or None
    if level != "epic":
        out["changes"] = {"new_findings": get("new_findings"), "resolved_findings": get("resolved_findings")}
    return out


def to_dict(rollup: Rollup) -> dict[str, Any]:
    """The JSON document: portfolios nest their projects, projects their epics."""
    epics_by = {k: g for k, g in rollup.epics.groupby(["site", "project"])} if len(rollup.epics) else {}
    projects_by = {k: g for k, g in rollup.projects.groupby("portfolio")}
    portfolios = []
    for _, p in rollup.portfolios.iterrows():
        pd_ = _row_dict(p, "portfolio")
        pd_["projects"] = []
        for _, pr in projects_by.get(p["portfolio"], rollup.projects.iloc[0:0]).iterrows():
            prd = _row_dict(pr, "project")
            group = epics_by.get((pr["site"], pr["project"]))
            prd["epics"] = [] if group is None else [_row_dict(e, "epic") for _, e in group.iterrows()]
            pd_["projects"].append(prd)
        portfolios.append(pd_)
    ch = rollup.changes
    return {
        "schema": SCHEMA_ID, "version": SCHEMA_VERSION, "generated": iso(rollup.now),
        "run": {"started": iso(rollup.run_started), "mapping": rollup.mapping_name, "sites": list(rollup.sites),
                "site_errors": dict(sorted(rollup.site_errors.items())),
                "sites_as_of": {s: iso(t) for s, t in sorted(rollup.as_of.items())}},
        "group_by": rollup.group_by,
        "rag": {"thresholds": {d: {"amber": t.amber, "red": t.red} for d, t in rollup.thresholds.items()},
                "definitions": dict(rollup.definitions)},
        "totals": {"open_findings": rollup.open_total, "open_by_severity": dict(rollup.open_by_severity),
                   "epics_by_phase": dict(rollup.phase_counts)},
        "portfolios": portfolios,
        "changes": {
            "baseline": ch.baseline, "previous_run": ch.previous.id if ch.previous else None,
            "new": [as_dict(r) for r in ch.new], "resolved": [as_dict(r) for r in ch.resolved],
            "phase_moves": [{"site": m.site, "key": m.key, "kind": m.kind, "before": m.before, "after": m.after}
                            for m in ch.phase_moves],
            "rag_moves": [{"level": m.level, "site": m.site or None, "key": m.key, "dimension": m.dimension,
                           "before": m.before, "after": m.after} for m in rollup.rag_moves],
        },
        "trend": [{"run": t.run_id or None, "started": iso(t.started), "open": t.open_total,
                   "open_by_severity": dict(t.open_by_severity)} for t in ch.trend],
    }


def render_json(rollup: Rollup) -> str:
    return json.dumps(to_dict(rollup), indent=2, ensure_ascii=False) + "\n"
