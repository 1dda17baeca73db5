"""The page's governance sections: risk heat map, change log per project, red dependencies.

They follow the charts, so the verdict (summary, decisions, dates) still opens the page; each
says in one line what it counts, and the long lists stop at a cap that names where the rest are
(the XLSX holds every row).
"""

from __future__ import annotations

from datetime import date

from pmo_jira.wording import counted
from pmo_jira_portfolio.columns import multi_site
from pmo_jira_portfolio.governance import (
    APPROVED,
    HOT_RISKS_SHOWN,
    ON_BASELINE,
    TOLERATED,
    UNAPPROVED,
    EpicChange,
    HeatMap,
    ProjectChanges,
)
from pmo_jira_portfolio.html_sections import chip, e, link, section, simple_table
from pmo_jira_portfolio.rollup import Rollup

CHANGED_EPICS_SHOWN = 25  # per project
DEPENDENCIES_SHOWN = 100
_VERDICT_COLOUR = {UNAPPROVED: "red", APPROVED: "green", TOLERATED: "amber", ON_BASELINE: "none"}


def _d(value: date | None) -> str:
    return value.isoformat() if value else "-"


def _signed(n: int | None) -> str:
    return "-" if n is None else f"{n:+d}" if n else "0"


def _heat_grid(heat: HeatMap) -> str:
    head = "".join(f'<th scope="col">{e(label)}<br><span class="meta">{score}</span></th>'
                   for score, label in heat.impact)
    rows = []
    for p, p_label in heat.probability:
        cells = []
        for i, i_label in heat.impact:
            n = heat.counts.get((p, i), 0)
            title = f"Likelihood {p_label} x impact {i_label} = score {p * i}: {counted(n, 'open risk')}"
            cells.append(f'<td class="heat rag-{heat.colour(p, i)}{" empty" if not n else ""}" title="{e(title)}">'
                         f'{n if n else ""}</td>')
        rows.append(f'<tr><th scope="row">{e(p_label)} <span class="meta">{p}</span></th>{"".join(cells)}</tr>')
    return (f'<table class="heatmap" id="table-heatmap"><thead><tr><th class="axis">Likelihood &#8595; / '
            f'impact &#8594;</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def risks_section(rollup: Rollup) -> str:
    heat = rollup.governance.heat if rollup.governance else None
    if heat is None:
        return ""
    sites = multi_site(rollup)
    rows = [[link(r.key, r.url), str(r.score), str(r.days_since_review), e(r.owner or "nobody"), e(r.summary),
             e(r.epic or "-"), *([e(r.site)] if sites else []), e(f"{r.likelihood} x {r.impact}")]
            for r in heat.hot[:HOT_RISKS_SHOWN]]
    hot = simple_table("table-hot-risks", ["Risk", "Score", "Days since review", "Owner", "Summary", "Epic",
                                           *(["Site"] if sites else []), "Likelihood x impact"],
                       rows, "none: no open risk scores high", ["", "num", "num", "", "text", "",
                                                                  *([""] if sites else []), ""])
    more = len(heat.hot) - HOT_RISKS_SHOWN
    tail = (f'<p class="meta">and {counted(more, "more risk")} scoring high (the XLSX Risks sheet lists every one).</p>'
            if more > 0 else "")
    unscored = (f" {counted(heat.unscored, 'open risk')} cannot be placed: {'its' if heat.unscored == 1 else 'their'} "
                "likelihood or impact is unset or not on the matrix (PMO-RSK-003 names each).") if heat.unscored else ""
    intro = (f"{counted(heat.scored, 'open risk')} by likelihood and impact on the mapping's matrix; a cell is red from "
             f"score {heat.high_score} (high), amber from {-(-heat.high_score // 2)}.{unscored}")
    body = (f'<div class="heat-layout"><div class="scroll">{_heat_grid(heat)}</div>'
            f'<div class="hot"><h3>Risks scoring high ({len(heat.hot)}): score {heat.high_score} or more, highest '
            f'first</h3>{hot}{tail}</div></div>')
    return section("risks", "Risk heat map", body, e(intro))


def _epic_change_row(c: EpicChange) -> list[str]:
    last = f"{_d(c.last_move)} by {c.last_by}" if c.last_move else "-"
    scope = (f"{c.scope_baseline} -> {c.scope_now}" + (f" ({c.growth_pct:+.0f}%)" if c.growth_pct else "")
             if c.scope_baseline is not None else f"{c.scope_now}")
    crs = ", ".join([*(f"{k} approved" for k in c.approved), *(f"{k} pending" for k in c.pending)]) or "none"
    return [f"{link(c.epic.key, c.epic.url)} {e(c.epic.summary)}", chip(_VERDICT_COLOUR[c.verdict], c.verdict),
            e(f"{_d(c.baseline_end)} -> {_d(c.target_end)}"), e(_signed(c.moved_days)), str(c.replans), e(last),
            e(scope), e(crs), e(c.epic.owner or "-")]


def _project_changes(p: ProjectChanges, sites: bool) -> str:
    changed = [c for c in p.epics if c.verdict != ON_BASELINE]
    unapproved = p.count(UNAPPROVED)
    head = (f'<summary>{chip("red" if unapproved else "green", f"{unapproved} unapproved")} '
            f'<strong>{e(p.project)}</strong>{f" ({e(p.site)})" if sites else ""} '
            f'<span class="meta">{len(p.epics)} baselined, {p.moved} moved ({counted(p.days_slipped, "day")} slipped), '
            f'{counted(p.replans, "re-plan")}, +{counted(p.scope_added, "child", "children")}, '
            f'{counted(p.count(APPROVED), "approved change")}</span></summary>')
    if not changed:
        return f'<details class="project">{head}<p>Every epic is on its baseline.</p></details>'
    table = simple_table(f"table-changes-{e(p.site)}-{e(p.project)}",
                         ["Epic", "Verdict", "Target end: baseline -> now", "Moved (days)", "Re-plans", "Last move",
                          "Scope (children)", "Change requests", "Owner"],
                         (_epic_change_row(c) for c in changed[:CHANGED_EPICS_SHOWN]), "none",
                         ["text", "", "", "num", "num", "", "", "text", ""])
    more = len(changed) - CHANGED_EPICS_SHOWN
    tail = (f'<p class="meta">and {counted(more, "more changed epic")} (the XLSX Change log lists every one).</p>'
            if more > 0 else "")
    return f'<details class="project">{head}{table}{tail}</details>'


def change_log_section(rollup: Rollup) -> str:
    gov = rollup.governance
    if gov is None or gov.changes is None:
        return ""
    if not gov.history_read:
        return section("change-log", "Change log", "<p>No epic history was read in this run, so there is no "
                       "baseline to compare with: enable PMO-BSL-001, PMO-CHG-001 or PMO-CHG-002 in the mapping.</p>")
    sites = multi_site(rollup)
    epics = sum(len(p.epics) for p in gov.changes)
    totals = {v: sum(p.count(v) for p in gov.changes) for v in (UNAPPROVED, APPROVED, TOLERATED)}
    worst = sorted(gov.changes, key=lambda p: (-p.count(UNAPPROVED), -p.days_slipped, p.site, p.project))
    rows = [[e(p.project), chip("red" if p.count(UNAPPROVED) else "green", str(p.count(UNAPPROVED))),
             *([e(p.site)] if sites else []), str(len(p.epics)), str(p.moved), str(p.days_slipped), str(p.replans),
             str(p.scope_added), str(p.count(APPROVED))]
            for p in worst]
    table = simple_table("table-change-log", ["Project", "Unapproved", *(["Site"] if sites else []),
                                              "Epics baselined", "Moved", "Days slipped", "Re-plans",
                                              "Children added", "Approved"],
                         rows, "no epic has passed its planning gate yet",
                         ["", "", *([""] if sites else []), "num", "num", "num", "num", "num", "num"])
    blocks = "".join(_project_changes(p, sites) for p in worst if p.count(UNAPPROVED) or p.moved
                     or p.scope_added or p.replans)
    intro = (f"Baseline (dates and children when the epic passed its planning gate) against now, for "
             f"{counted(epics, 'epic')}: {totals[UNAPPROVED]} changed without an approved change request, {totals[APPROVED]} with "
             f"one, {totals[TOLERATED]} within the mapping's tolerance. Open a project for its epics.")
    return section("change-log", "Change log", table + blocks, e(intro))


def dependencies_section(rollup: Rollup) -> str:
    deps = rollup.governance.dependencies if rollup.governance else None
    if deps is None:
        return ""
    sites = multi_site(rollup) or any(d.cross_site for d in deps)

    def where(project: str, site: str) -> str:
        return f"{project} ({site})" if sites else project

    rows = [[f"{link(d.epic.key, d.epic.url)} {e(d.epic.summary)}", e(where(d.epic.project, d.epic.site)),
             e(d.epic.owner or "nobody"),
             e(_d(d.target_end)), f"{link(d.blocker_key, d.blocker_url)} {e(d.blocker_summary)}",
             e(where(d.blocker_project, d.blocker_site)), e(d.blocker_owner or "nobody"), e(d.why)]
            for d in deps[:DEPENDENCIES_SHOWN]]
    table = simple_table("table-dependencies", ["Epic", "Project", "Owner", "Target end", "Blocked by",
                                                "Its project", "Its owner", "Why it is red"], rows,
                         "none: no epic waits for late, unowned or closing work elsewhere",
                         ["text", "", "", "", "text", "", "", "text"])
    more = len(deps) - DEPENDENCIES_SHOWN
    tail = f'<p class="meta">and {more} more (each is a PMO-DEP-001 finding).</p>' if more > 0 else ""
    cross = sum(d.cross_site for d in deps)
    epics = len({(d.epic.site, d.epic.key) for d in deps})
    wait = "open epic waits" if epics == 1 else "open epics wait"
    intro = (f"{counted(len(deps), 'red link')}: {epics} {wait} for work in another project that is late, has no "
             "owner or sits under an epic in closing" + (f"; {cross} of the links cross sites" if cross else "") + ".")
    return section("dependencies", "Red dependencies", table + tail, e(intro))


GOVERNANCE_SECTIONS = (risks_section, change_log_section, dependencies_section)
