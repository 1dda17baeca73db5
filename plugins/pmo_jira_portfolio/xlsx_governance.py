"""The workbook's governance sheets: Risks (the heat map and every high risk), Change log, Dependencies.

Every row the page caps is here; cells are typed like the other sheets (dates are dates, counts
integers, keys link to Jira) and the heat map's cells carry the page's colours.
"""

from __future__ import annotations

from openpyxl import Workbook
from openpyxl.styles import Alignment, PatternFill

from pmo_jira.wording import counted
from pmo_jira_portfolio.governance import APPROVED, UNAPPROVED, Governance, HeatMap, ProjectChanges, RedDependency
from pmo_jira_portfolio.render_xlsx import _BOLD, DATE, FILLS, INTEGER, _finish, _link, _text


def _risks_sheet(wb: Workbook, heat: HeatMap) -> None:
    ws = wb.create_sheet("Risks")
    ws.append(["Likelihood / impact", *(f"{label} ({score})" for score, label in heat.impact)])
    for c in ws[1]:
        c.font = _BOLD
    for p, label in heat.probability:
        ws.append([f"{label} ({p})", *(heat.counts.get((p, i), 0) for i, _ in heat.impact)])
        ws.cell(ws.max_row, 1).font = _BOLD
        for col, (i, _) in enumerate(heat.impact, start=2):
            c = ws.cell(ws.max_row, col)
            c.fill = PatternFill("solid", fgColor=FILLS[heat.colour(p, i)])
            c.alignment = Alignment(horizontal="center")
            c.number_format = INTEGER
    ws.append([f"{counted(heat.scored, 'open risk')} placed; {heat.unscored} cannot be placed (likelihood or impact "
               f"unset or not on the matrix); red from score {heat.high_score}."])
    ws.append([])
    ws.append([f"Risk scoring {heat.high_score} or more", "Site", "Project", "Summary", "Epic", "Owner", "Likelihood", "Impact", "Score",
               "Days since review"])
    start = ws.max_row  # the list's header (an empty row above it holds no cell to count)
    for c in ws[start]:
        c.font = _BOLD
    for r in heat.hot:
        ws.append([r.key, r.site, r.project, _text(r.summary), r.epic, r.owner, _text(r.likelihood), _text(r.impact),
                   r.score, r.days_since_review])
        _link(ws.cell(ws.max_row, 1), r.url)
    for col, width in zip("ABCDEFGHIJ", (22, 14, 12, 44, 12, 22, 12, 12, 8, 10)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"A{start + 1}"  # the heat map and the list's header stay in view
    ws.auto_filter.ref = f"A{start}:J{ws.max_row}"


def _change_sheet(wb: Workbook, changes: tuple[ProjectChanges, ...]) -> None:
    ws = wb.create_sheet("Change log")
    headers = ["Site", "Project", "Epic", "Summary", "Owner", "Verdict", "Baselined on", "Baseline from",
               "Baseline end", "Target end", "Moved (days)", "Re-plans", "Last move", "Last moved by",
               "Children at baseline", "Children now", "Approved change requests", "Pending change requests"]
    ws.append(headers)
    for c in ws[1]:
        c.font = _BOLD
    for p in changes:
        for e in p.epics:
            ref = e.epic
            ws.append([ref.site, ref.project, ref.key, _text(ref.summary), ref.owner, e.verdict,
                       e.baselined, e.source, e.baseline_end, e.target_end, e.moved_days, e.replans, e.last_move, e.last_by,
                       e.scope_baseline, e.scope_now, ", ".join(e.approved), ", ".join(e.pending)])
            row = ws[ws.max_row]
            _link(row[2], ref.url)
            for i in (6, 8, 9, 12):
                row[i].number_format = DATE
            if e.verdict in (UNAPPROVED, APPROVED):
                row[5].fill = PatternFill("solid", fgColor=FILLS["red" if e.verdict == UNAPPROVED else "green"])
    _finish(ws, wrap_columns=(4,))


def _dependencies_sheet(wb: Workbook, deps: tuple[RedDependency, ...]) -> None:
    ws = wb.create_sheet("Dependencies")
    ws.append(["Site", "Project", "Epic", "Summary", "Owner", "Target end", "Blocked by", "Its site", "Its project",
               "Its summary", "Its owner", "Why it is red"])
    for c in ws[1]:
        c.font = _BOLD
    for d in deps:
        ref = d.epic
        ws.append([ref.site, ref.project, ref.key, _text(ref.summary), ref.owner, d.target_end, d.blocker_key, d.blocker_site,
                   d.blocker_project, _text(d.blocker_summary), d.blocker_owner, d.why])
        row = ws[ws.max_row]
        _link(row[2], d.epic.url)
        _link(row[6], d.blocker_url)
        row[5].number_format = DATE
    _finish(ws, wrap_columns=(4, 10, 12))


def governance_sheets(wb: Workbook, gov: Governance | None) -> None:
    """The sheets of the views the mapping's standards call for (see ``Governance``)."""
    if gov is None:
        return
    if gov.heat is not None:
        _risks_sheet(wb, gov.heat)
    if gov.changes is not None:
        _change_sheet(wb, gov.changes)
    if gov.dependencies is not None:
        _dependencies_sheet(wb, gov.dependencies)
