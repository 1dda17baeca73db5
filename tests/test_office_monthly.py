"""The monthly pack from a run history replayed over six months (office_fixtures' portfolio)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timezone
from io import BytesIO

import pytest
from pmo_jira_office.monthly import build_monthly, parse_month
from pmo_jira_office.reports import REPORTS

from pmo_jira.errors import PmoError
from pmo_jira.history import HistoryStore
from pmo_jira.model import IssueLink
from pmo_jira.reports import ReportContext
from pmo_jira.run.facts import collect_run_facts

from office_fixtures import audit_all, office_mapping, snapshots
from standards_fixtures import issue

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
RUNS = [datetime(2026, m, d, 6, 0, tzinfo=timezone.utc) for m, d in ((6, 1), (7, 1), (8, 3), (9, 1), (10, 1), (11, 2))]


def swapped_scores(snaps):
    """WEB-2 scored highest (as it was before November)."""
    out = []
    for snap in snaps:
        issues = tuple(replace(i, fields={**i.fields, "business_value": 50.0}) if i.key == "WEB-2" else i
                       for i in snap.issues)
        out.append(replace(snap, issues=issues))
    return out


def as_planned(snaps, when):
    """The plans as they were at ``when``: WEB-2's target end moved from 2026-12-15 in October with no
    change request; OPS-1's from 2026-12-18 in September, with OPS-90 approved that month."""
    def plan(i):
        if i.key == "WEB-2" and when < RUNS[4]:
            return replace(i, fields={**i.fields, "target_end": date(2026, 12, 15)})
        if i.key == "OPS-1":
            i = replace(i, links=(*i.links, IssueLink("Relates", "inward", "is changed by", "OPS-90", "Change Request")))
            if when < RUNS[3]:
                return replace(i, fields={**i.fields, "target_end": date(2026, 12, 18)})
        return i

    cr = replace(change_request("OPS-90", "Approved" if when >= RUNS[3] else "In Review"), site="beta")
    return [replace(snap, issues=(*(plan(i) for i in snap.issues), *((cr,) if snap.site.name == "beta" else ())))
            for snap in snaps]


def change_request(key, status):
    return replace(issue(key, "Change Request", links=(IssueLink("Relates", "outward", "changes", "OPS-1", "Epic"),)),
                   status=status, status_category="done" if status == "Approved" else "indeterminate")


@pytest.fixture
def history(tmp_path):
    m = office_mapping([{"code": "PMO-GOV-001"}, {"code": "PMO-RES-001", "options": {"max_unassigned": 1}},
                        {"code": "PMO-STR-001"}])
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for i, when in enumerate(RUNS):
            snaps = swapped_scores(snapshots()) if when.month < 11 else snapshots()
            if i < 2:  # WEB-1 had no unassigned work in June and July
                snaps[0] = replace(snaps[0], issues=tuple(i for i in snaps[0].issues if i.key not in ("WEB-13", "WEB-14")))
            snaps = as_planned(snaps, when)
            result, snaps, _ = audit_all(m, snaps, now=when)
            store.record_run(result, facts=collect_run_facts(result, snaps, m, when))
        yield store, m


def pack(store, m, month=None, now=NOW):
    result, snaps, _ = audit_all(m, as_planned(snapshots(), now), now=now)
    ctx = ReportContext(result=result, snapshots=snaps, mapping=m, now=now, history=store,
                        options={"month": month} if month else {})
    return build_monthly(ctx), ctx


def test_six_month_trend_from_the_facts_kept_with_each_run(history):
    p, _ = pack(*history)
    assert [label for label, _ in p.trend] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    for _, kpi in p.trend:
        assert kpi["compliance_pct"] is not None and kpi["on_time_pct"] is not None
        assert kpi["people_over"] is not None
    june, nov = p.trend[0][1], p.trend[-1][1]
    assert june["compliance_pct"] > nov["compliance_pct"]  # PMO-RES-001 on WEB-1 from August on


def test_ranking_changes_since_last_month_and_the_months_changes(history):
    p, _ = pack(*history)
    r = p.strategy.ranking.set_index("key")
    assert r.loc["WEB-2", "previous_rank"] == 1 and r.loc["WEB-2", "rank"] == 3 and r.loc["WEB-2", "change"] == -2
    assert r.loc["WEB-1", "change"] == 1
    assert p.start_run is not None and p.start_run.started == RUNS[4]
    assert p.current and p.change.new == () and p.change.resolved == ()


def test_a_past_month_ends_with_its_last_run(history):
    p, _ = pack(*history, month="2026-08")
    assert not p.current and p.end_run.started == RUNS[2] and p.start_run.started == RUNS[1]
    assert {(f.item_key, f.code) for f in p.change.new} == {("WEB-1", "PMO-RES-001")}
    assert p.trend[-1][0] == "2026-08" and p.trend[0][0] == "2026-03"
    assert p.trend[0][1]["compliance_pct"] is None  # no run in March
    assert any("as of 2026-11-25" in n for n in p.notes)


def test_month_option_is_checked():
    for bad in ("2026-13", "11/2026", "2026-1"):
        with pytest.raises(PmoError, match="expected YYYY-MM"):
            parse_month(bad, NOW)
    with pytest.raises(PmoError, match="has not started"):
        parse_month("2027-01", NOW)
    with pytest.raises(PmoError, match="from 1900 on"):
        parse_month("0000-01", NOW)
    assert parse_month("previous", NOW) == date(2026, 10, 1)  # what the first working day's pack reports on
    assert parse_month("previous", datetime(2027, 1, 4, tzinfo=timezone.utc)) == date(2026, 12, 1)


def test_every_format_renders_the_pack_and_unknown_options_are_refused(history):
    store, m = history
    _, ctx = pack(store, m)
    monthly = next(r for r in REPORTS if r.name == "monthly")
    html = monthly.render(ctx, "html")
    assert "chart-kpi-compliance_pct" in html and "<polyline" in html and "Decisions needed" in html
    data = json.loads(monthly.render(ctx, "json"))
    assert data["strategy-ranking"][0]["Epic"] == "WEB-1"
    assert monthly.render(ctx, "xlsx")[:2] == b"PK"
    assert "KPI trend" in monthly.render(ctx, "markdown")
    resources = next(r for r in REPORTS if r.name == "resources")
    with pytest.raises(PmoError, match="has no option 'month'"):
        resources.render(replace(ctx, options={"month": "2026-11"}), "html")


def test_a_moved_target_end_shows_in_the_month_it_moved_with_or_without_approval(history):
    store, m = history
    moved = {mo: {(b.key, b.days, b.approved) for b in pack(store, m, month=mo)[0].change.baselines}
             for mo in ("2026-08", "2026-09", "2026-10", "2026-11")}
    assert moved["2026-08"] == {("WEB-1", 0, False)}  # its date did not move; its scope grew by WEB-13 and WEB-14
    assert moved["2026-09"] == {("OPS-1", 42, True)}  # 2026-12-18 -> 2027-01-29, OPS-90 approved in September
    assert moved["2026-10"] == {("WEB-2", 40, False)}  # 2026-12-15 -> 2027-01-24, no change request
    assert moved["2026-11"] == set()
    aug = pack(store, m, month="2026-08")[0].change.baselines[0]
    assert (aug.children_before, aug.children_after, aug.scope) == (2, 4, 2)
    oct_pack, _ = pack(store, m, month="2026-10")
    assert any(topic == "Baselines moved without approval" and "WEB-2" in text for topic, text in oct_pack.decisions)
    assert not any(topic == "Baselines moved without approval" for topic, _ in pack(store, m, month="2026-09")[0].decisions)


def test_baselines_moved_in_the_pack_html_and_workbook(history):
    from openpyxl import load_workbook

    store, m = history
    _, ctx = pack(store, m, month="2026-10")
    monthly = next(r for r in REPORTS if r.name == "monthly")
    html = monthly.render(ctx, "html")
    section = html[html.index("Baselines moved</"):]
    assert "WEB-2" in section and "2026-12-15" in section and "2027-01-24" in section and "+40" in section
    sheet = load_workbook(BytesIO(monthly.render(ctx, "xlsx")))["baselines"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:6] == ["Epic", "Summary", "Site", "Target end before", "Target end after", "Moved (days)"]
    (web2,) = rows[1:]
    assert web2[0] == "WEB-2" and web2[5] == 40 and web2[9] == "none"
    assert web2[3].date() == date(2026, 12, 15) and web2[4].date() == date(2027, 1, 24)
    data = json.loads(next(r for r in REPORTS if r.name == "monthly").render(
        replace(ctx, options={"month": "2026-09"}), "json"))
    assert data["baselines"][0]["Change request"] == "approved: OPS-90"
    assert {r["What"]: r["Count"] for r in data["changes"]}["Baselines moved (target end or scope)"] == 1


def test_baselines_moved_are_unknown_when_the_month_start_kept_no_plans(tmp_path):
    m = office_mapping()
    with HistoryStore(tmp_path / "h.sqlite") as store:
        result, snaps, _ = audit_all(m, now=RUNS[4])
        facts = collect_run_facts(result, snaps, m, RUNS[4])
        del facts["office"]["plans"]  # as a run recorded before plans were kept
        store.record_run(result, facts=facts)
        p, ctx = pack(store, m)
    assert not p.change.baselines_known and any("Baselines moved are unknown" in n for n in p.notes)
    data = json.loads(next(r for r in REPORTS if r.name == "monthly").render(ctx, "json"))
    assert {r["What"]: r["Count"] for r in data["changes"]}["Baselines moved (target end or scope)"] is None


def test_ranked_tables_link_the_epic_key_not_the_rank(history):
    from openpyxl import load_workbook

    store, m = history
    _, ctx = pack(store, m)
    monthly = next(r for r in REPORTS if r.name == "monthly")
    html = monthly.render(ctx, "html")
    ranking = html[html.index('id="table-strategy-ranking"'):]
    ranking = ranking[:ranking.index("</table>")]
    assert 'rel="noopener noreferrer">WEB-1</a>' in ranking and ">1</a>" not in ranking
    sheet = load_workbook(BytesIO(monthly.render(ctx, "xlsx")))["s-ranking"]
    assert sheet["C2"].value == "WEB-1" and sheet["C2"].hyperlink.target.endswith("/browse/WEB-1")
    assert sheet["A2"].hyperlink is None


def test_workbook_sheets_have_a_frozen_filtered_bold_header_and_mark_unapproved_moves(history):
    from openpyxl import load_workbook

    store, m = history
    _, ctx = pack(store, m, month="2026-10")
    book = load_workbook(BytesIO(next(r for r in REPORTS if r.name == "monthly").render(ctx, "xlsx")))
    assert book["Summary"]["A1"].font.b and book["Summary"]["A1"].value.startswith("Monthly PMO pack 2026-10")
    for name in ("baselines", "kpis", "s-ranking"):
        sheet = book[name]
        assert sheet.freeze_panes == "A2" and all(c.font.b for c in sheet[1])
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
        assert all(sheet.column_dimensions[c.column_letter].width >= 8 for c in sheet[1])
    baselines = book["baselines"]
    web2 = baselines[2]  # moved without a change request: marked like over-allocation on the page
    assert web2[0].value == "WEB-2" and all(c.fill.fgColor.rgb == "00FFC7CE" for c in web2)
    assert baselines["A2"].hyperlink.target.endswith("/browse/WEB-2")
    assert baselines.column_dimensions["B"].width == min(max(len(str(web2[1].value)), len("Summary")) + 2, 60)


def test_findings_of_one_standard_on_one_item_are_one_row_with_their_count(history):
    from pmo_jira_office.views import monthly_document

    from pmo_jira.history.models import FindingRef

    store, m = history
    p, _ = pack(store, m)

    def ref(fp, key, code, severity="high"):
        return FindingRef(fp, code, "acme", "WEB", key, severity, "fail", "execution")

    # PMO-RES-001 fires once per unassigned child: three subjects on WEB-1, which read as three equal rows
    resolved = (ref("a", "WEB-1", "PMO-RES-001"), ref("b", "WEB-1", "PMO-RES-001"), ref("c", "WEB-1", "PMO-RES-001"),
                ref("d", "WEB-1", "PMO-GOV-001"), ref("e", "WEB-2", "PMO-RES-001", "medium"))
    doc = monthly_document(replace(p, change=replace(p.change, resolved=resolved, new=resolved[:1])))
    tables = {t.id: t for t in doc.tables()}
    assert [c.header for c in tables["resolved"].columns] == ["Site", "Item", "Standard", "Severity", "Findings"]
    assert tables["resolved"].rows == (("acme", "WEB-1", "PMO-RES-001", "high", 3), ("acme", "WEB-1", "PMO-GOV-001", "high", 1),
                                       ("acme", "WEB-2", "PMO-RES-001", "medium", 1))
    assert tables["new"].rows == (("acme", "WEB-1", "PMO-RES-001", "high", 1),)
    assert dict((r[0], r[1]) for r in tables["changes"].rows)["Resolved findings"] == 5  # the summary counts findings


def test_the_pack_from_the_history_alone_is_the_pack_of_a_run_that_read_the_same_jira(history):
    """Two sites, one person with accounts on both and namesakes on each: the views' input kept
    with the newest run gives the same people, load, ranking and changes as the snapshots."""
    from pmo_jira_office.monthly import build_monthly_from_history
    from pmo_jira_office.render_other import render_json
    from pmo_jira_office.views import monthly_document

    from pmo_jira.reports import HistoryContext

    store, m = history
    now = RUNS[-1]  # the newest recorded run read exactly this
    live, _ = pack(store, m, month="2026-10", now=now)
    kept = build_monthly_from_history(HistoryContext(history=store, mapping=m, sites=("acme", "beta"), now=now,
                                                     options={"month": "2026-10"}))
    assert render_json(monthly_document(kept)) == render_json(monthly_document(live))
    people = kept.resources.people.set_index("name")
    assert people.loc["Ann Lee", "sites"] == "acme, beta" and people.loc["Ann Lee", "issues"] == 3
    assert {"Cy Young (acme)", "Cy Young (beta)"} <= set(people.index)
    assert kept.end_run.started == RUNS[4] and [b.key for b in kept.change.baselines] == ["WEB-2"]


def test_the_months_median_time_to_fix_is_the_kpis_median(tmp_path):
    # WEB-2 lost its owner on 2026-09-01, OPS-1 on 2026-10-01; both were fixed by 2026-11-02:
    # 62 and 32 days, median 47 (not the longer of the two)
    m = office_mapping([{"code": "PMO-GOV-001"}])
    runs = {datetime(2026, 9, 1, 6, tzinfo=timezone.utc): {"WEB-2"},
            datetime(2026, 10, 1, 6, tzinfo=timezone.utc): {"WEB-2", "OPS-1"},
            datetime(2026, 11, 2, 6, tzinfo=timezone.utc): set()}
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for when, unowned in runs.items():
            snaps = [replace(s, issues=tuple(replace(i, fields={**i.fields, "owner": None}) if i.key in unowned else i
                                             for i in s.issues)) for s in snapshots()]
            result, snaps, _ = audit_all(m, snaps, now=when)
            store.record_run(result, facts=collect_run_facts(result, snaps, m, when))
        p, ctx = pack(store, m, month="2026-11", now=datetime(2026, 12, 2, 12, tzinfo=timezone.utc))
        assert sorted(p.change.fixed_days) == [32.0, 62.0] and p.trend[-1][1]["time_to_fix_days"] == 47.0
        monthly = next(r for r in REPORTS if r.name == "monthly")
        data = json.loads(monthly.render(ctx, "json"))
    assert data["figures"]["Time to fix (median days)"] == "47"
    resolved = next(row for row in data["changes"] if row["What"] == "Resolved findings")
    assert resolved["Count"] == 2 and resolved["Detail"] == "median time to fix 47.0 days"


def test_decisions_about_one_epic_or_one_person_read_in_the_singular(history):
    p, _ = pack(*history, month="2026-10")
    decisions = dict(p.decisions)
    assert decisions["Baselines moved without approval"].startswith(
        "1 epic moved its target end or scope this month without a change request approved in the month (WEB-2)")
    assert decisions["WEB-1 (rank 1)"].startswith("top-ranked and in execution with 1 person on its open work")
    assert decisions["Low-ranked busy epics"].startswith("1 low-ranked epic in execution keeps people busy: WEB-2")
    assert decisions["Unassigned work"].startswith("2 open issues in execution have no assignee in 1 epic,")
    assert decisions["Strategy"] == "1 open epic past initiation serves no objective: link it or stop it"


def test_the_terminal_table_wraps_long_text_to_the_terminal_and_cuts_nothing(history):
    store, m = history
    _, ctx = pack(store, m, month="2026-10")
    monthly = next(r for r in REPORTS if r.name == "monthly")
    decision = ("1 low-ranked epic in execution keeps people busy: WEB-2 (rank 3): confirm its priority or move "
                "people to higher-ranked work")
    whole = monthly.render(ctx, "table")  # to a file or a pipe: no width, every line whole
    assert any(line.endswith(decision) for line in whole.splitlines())
    narrow = monthly.render(replace(ctx, width=72), "table")
    assert max(len(line) for line in narrow.splitlines()) <= 72
    assert " ".join(narrow.split()).count(decision) == 1  # wrapped over lines, not cut
