"""The monthly pack from a run history replayed over six months (office_fixtures' portfolio)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import pytest
from pmo_jira_office.monthly import build_monthly, parse_month
from pmo_jira_office.reports import REPORTS

from pmo_jira.errors import PmoError
from pmo_jira.history import HistoryStore
from pmo_jira.reports import ReportContext
from pmo_jira.run.facts import collect_run_facts

from office_fixtures import audit_all, office_mapping, snapshots

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


@pytest.fixture
def history(tmp_path):
    m = office_mapping([{"code": "PMO-GOV-001"}, {"code": "PMO-RES-001", "options": {"max_unassigned": 1}},
                        {"code": "PMO-STR-001"}])
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for i, when in enumerate(RUNS):
            snaps = swapped_scores(snapshots()) if when.month < 11 else snapshots()
            if i < 2:  # WEB-1 had no unassigned work in June and July
                snaps[0] = replace(snaps[0], issues=tuple(i for i in snaps[0].issues if i.key not in ("WEB-13", "WEB-14")))
            result, snaps, _ = audit_all(m, snaps, now=when)
            store.record_run(result, facts=collect_run_facts(result, snaps, m, when))
        yield store, m


def pack(store, m, month=None, now=NOW):
    result, snaps, _ = audit_all(m, now=now)
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
