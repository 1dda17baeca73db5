"""The portfolio's governance views on a hand-built portfolio of two sites: the risk heat map, the
change log (baseline against now, approved or not) and the red dependencies, in the roll-up, the
page and the workbook, agreeing with the audit's own findings."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import openpyxl

from pmo_jira.findings import Outcome
from pmo_jira.model import Change, FieldChange, Flavour, Issue, IssueLink, Site, User
from pmo_jira.reports import ReportContext
from pmo_jira.run.audit import run_audit
from pmo_jira_portfolio.governance import APPROVED, ON_BASELINE, UNAPPROVED, from_parts, site_part
from pmo_jira_portfolio.render_html import render_html
from pmo_jira_portfolio.render_xlsx import render_xlsx
from pmo_jira_portfolio.rollup import build_rollup

from standards_fixtures import ALL_FIELDS, ANN, NOW, TODAY, child, day, days_ago, epic, issue, mapping, project, risk, snapshot

BOB = User("acc-bob2", "Bob Planner")
OPS = Site("ops", "https://ops.example.org", Flavour.DC)
FIELDS = ALL_FIELDS | {"blocked_by", "reporter"}
MATRIX = {"probability": {"Low": 1, "Medium": 2, "High": 3}, "impact": {"Low": 1, "Medium": 2, "High": 3},
          "high_score": 6}
STANDARDS = [{"code": "PMO-CHG-001", "options": {"slip_days": 10}}, {"code": "PMO-CHG-002"},
             {"code": "PMO-RSK-003", "options": MATRIX},
             {"code": "PMO-DEP-001", "options": {"cross_site_field": "blocked_by"}}]


def ch(ago: int, who: User | None, *items: tuple[str, str | None, str | None]) -> Change:
    return Change(f"{1000 - ago}", who, days_ago(ago), tuple(FieldChange(f, a, a, b, b) for f, a, b in items))


def gated(e: Issue, *later: Change) -> Issue:
    return replace(e, changelog=(ch(40, ANN, ("phase", "Planning", "Execution")), *later))


def scored(key: str, epic_key: str, likelihood: str | None, impact: str) -> Issue:
    r = risk(key, epic_key, impact=impact)
    return replace(r, fields={**r.fields, "risk_likelihood": likelihood})


def on_ops(i: Issue) -> Issue:
    return replace(i, site="ops", browse=f"{OPS.url}/browse/")


def context() -> ReportContext:
    slipped = gated(epic("WEB-1", target_end=day(60)), ch(20, BOB, ("target_end", day(20).isoformat(), day(60).isoformat())))
    approved_cr = replace(issue("WEB-9", "Change Request"), status="Approved")
    covered = replace(gated(epic("WEB-2", target_end=day(50)),
                            ch(15, BOB, ("target_end", day(25).isoformat(), day(50).isoformat()))),
                      links=(IssueLink("Relates", "inward", "relates to", "WEB-9", "Change Request"),))
    steady = gated(epic("WEB-3", target_end=day(30)))
    blocked = epic("WEB-4", blocked_by=f"{OPS.url}/browse/OPS-7",
                   links=(IssueLink("Blocks", "inward", "is blocked by", "PAY-2"),))
    late_here = replace(issue("PAY-2", "Story"), due=day(-3), assignee=ANN)
    late_there = on_ops(replace(issue("OPS-7", "Story"), due=day(-8), assignee=ANN))
    risks = [scored("WEB-20", "WEB-1", "High", "High"), scored("WEB-21", "WEB-1", "High", "High"),
             scored("WEB-22", "WEB-3", "Low", "High"), scored("WEB-23", "WEB-3", "Medium", "Medium"),
             scored("WEB-24", "WEB-3", None, "High"), scored("WEB-25", "WEB-3", "Whenever", "Low")]
    acme = snapshot([slipped, covered, approved_cr, steady, blocked, late_here, *risks,
                     child("WEB-11", "WEB-1", created=days_ago(60)), child("WEB-31", "WEB-3", created=days_ago(60))],
                    projects=[project("WEB"), project("PAY")], fields=FIELDS)
    ops = snapshot([late_there, on_ops(epic("OPS-1"))], projects=[replace(project("OPS"), site="ops")],
                   site=OPS, fields=FIELDS)
    m = mapping(STANDARDS)
    result = run_audit([acme, ops], m, today=TODAY, now=NOW)
    return ReportContext(result=result, snapshots=[acme, ops], mapping=m, now=NOW)


def test_heat_map_counts_open_risks_per_cell_coloured_by_the_matrix():
    heat = build_rollup(context()).governance.heat
    assert [label for _, label in heat.probability] == ["High", "Medium", "Low"]  # highest first
    assert [label for _, label in heat.impact] == ["Low", "Medium", "High"]
    assert heat.counts == {(3, 3): 2, (1, 3): 1, (2, 2): 1}
    assert (heat.scored, heat.unscored) == (4, 2)  # no likelihood; a likelihood not on the matrix
    assert (heat.colour(3, 3), heat.colour(2, 3), heat.colour(2, 2), heat.colour(1, 2)) == ("red", "red", "amber",
                                                                                         "green")
    assert [(r.key, r.score, r.epic) for r in heat.hot] == [("WEB-20", 9, "WEB-1"), ("WEB-21", 9, "WEB-1")]


def test_change_log_compares_each_baselined_epic_with_now_and_agrees_with_the_audit():
    ctx = context()
    rollup = build_rollup(ctx)
    (web,) = [p for p in rollup.governance.changes if p.project == "WEB"]
    by_key = {e.key: e for e in web.epics}
    assert set(by_key) == {"WEB-1", "WEB-2", "WEB-3"}  # WEB-4 has no history, so no baseline
    slipped = by_key["WEB-1"]
    assert (slipped.baseline_end, slipped.target_end, slipped.moved_days, slipped.replans) == (day(20), day(60), 40, 1)
    assert (slipped.last_move, slipped.last_by, slipped.verdict) == (days_ago(20).date(), "Bob Planner", UNAPPROVED)
    assert (by_key["WEB-2"].verdict, by_key["WEB-2"].approved) == (APPROVED, ("WEB-9",))
    assert (slipped.epic.owner, slipped.epic.url) == ("Ann Lee", "https://acme.example.net/browse/WEB-1")
    assert by_key["WEB-3"].verdict == ON_BASELINE
    flagged = {f.item_key for f in ctx.result.findings if f.code == "PMO-CHG-001" and f.outcome is Outcome.FAIL}
    assert flagged == {e.key for e in web.epics if e.verdict == UNAPPROVED}
    assert (web.moved, web.days_slipped, web.replans, web.count(UNAPPROVED), web.count(APPROVED)) == (2, 65, 2, 1, 1)


def test_red_dependencies_include_late_work_in_another_project_and_on_another_site():
    deps = build_rollup(context()).governance.dependencies
    assert [(d.epic.key, d.blocker_site, d.blocker_key, d.why, d.cross_site) for d in deps] == [
        ("WEB-4", "acme", "PAY-2", f"is 3 days late ({day(-3)})", False),
        ("WEB-4", "ops", "OPS-7", f"is 8 days late ({day(-8)})", True)]


def test_the_page_shows_the_heat_map_the_change_log_and_the_red_dependencies():
    page = render_html(build_rollup(context()))
    for heading in ("Risk heat map", "Change log", "Red dependencies"):
        assert f"<h2>{heading}</h2>" in page
    assert page.index('id="charts"') < page.index('id="risks"') < page.index('id="change-log"') \
        < page.index('id="dependencies"') < page.index('id="portfolios"')
    assert 'class="heat rag-red" title="Likelihood High x impact High = score 9: 2 open risks">2</td>' in page
    assert "2 open risks cannot be placed" in page
    assert "1 changed without an approved change request, 1 with one" in page
    assert f'<a href="{OPS.url}/browse/OPS-7">OPS-7</a>' in page and "OPS (ops)" in page
    assert "2 red links: 1 open epic waits" in page and "1 of the links cross sites" in page


def test_the_workbook_has_the_risks_the_change_log_and_the_dependencies():
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(build_rollup(context()))))
    assert wb.sheetnames[-3:] == ["Risks", "Change log", "Dependencies"]
    risks = wb["Risks"]
    assert [c.value for c in risks[1]][:4] == ["Likelihood / impact", "Low (1)", "Medium (2)", "High (3)"]
    assert [c.value for c in risks[2]][:4] == ["High (3)", 0, 0, 2]
    assert risks.cell(2, 4).fill.fgColor.rgb.endswith("FFC7CE")  # red like the page
    log = wb["Change log"]
    header = [c.value for c in log[1]]
    rows = {r[header.index("Epic")]: r for r in log.iter_rows(min_row=2, values_only=True)}
    assert rows["WEB-1"][header.index("Verdict")] == UNAPPROVED
    assert rows["WEB-1"][header.index("Moved (days)")] == 40
    assert rows["WEB-2"][header.index("Approved change requests")] == "WEB-9"
    deps = [r for r in wb["Dependencies"].iter_rows(min_row=2, values_only=True)]
    assert [(r[2], r[6], r[7]) for r in deps] == [("WEB-4", "PAY-2", "acme"), ("WEB-4", "OPS-7", "ops")]


def test_the_risks_beside_the_heat_map_say_they_are_those_scoring_high():
    # not the projects' "Open high risks" (by impact): a reader must not take the two for one count
    rollup = build_rollup(context())
    page = render_html(rollup)
    assert "<h3>Risks scoring high (2): score 6 or more, highest first</h3>" in page and "High risks (" not in page
    risks = openpyxl.load_workbook(io.BytesIO(render_xlsx(rollup)))["Risks"]
    rows = list(risks.iter_rows(values_only=True))
    assert rows[4][0] == "4 open risks placed; 2 cannot be placed (likelihood or impact unset or not on the matrix); " \
                         "red from score 6."
    assert rows[6][:2] == ("Risk scoring 6 or more", "Site")
    assert risks.freeze_panes == "A8" and risks.auto_filter.ref == "A7:J9"  # the list filters; its header stays
    assert all(c.font.b for c in risks[7])


def test_without_history_the_change_log_says_how_to_get_one():
    ctx = context()
    plain = [replace(s, issues=tuple(replace(i, changelog=None) for i in s.issues)) for s in ctx.snapshots]
    rollup = build_rollup(replace(ctx, snapshots=plain))
    assert rollup.governance.history_read is False
    assert "No epic history was read in this run" in render_html(rollup)


def test_each_view_appears_only_when_the_mapping_runs_its_standards():
    ctx = context()
    hygiene = replace(ctx, mapping=mapping([{"code": "PMO-GOV-001"}, {"code": "PMO-RSK-004"}]))
    rollup = build_rollup(hygiene)
    gov = rollup.governance
    assert gov.heat is not None and gov.changes is None and gov.dependencies is None
    page = render_html(rollup)
    assert "<h2>Risk heat map</h2>" in page and "<h2>Change log</h2>" not in page and "Red dependencies" not in page
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(rollup)))
    assert wb.sheetnames[-2:] == ["Changes", "Risks"]
    every = build_rollup(replace(ctx, mapping=mapping([]))).governance  # no list: every standard runs
    assert every.heat is not None and every.changes is not None and every.dependencies is not None


def test_the_views_kept_per_site_in_the_history_merge_back_to_the_same_views():
    """``report portfolio --from-history`` renders from what each site's run kept: the same rows."""
    ctx = context()
    gov = build_rollup(ctx).governance
    parts = {site: json.loads(json.dumps(site_part(gov, site))) for site in ("acme", "ops")}
    assert from_parts(parts, ctx.mapping) == gov
    assert from_parts({"acme": parts["acme"]}, ctx.mapping).dependencies == tuple(
        d for d in gov.dependencies if d.epic.site == "acme")
