"""The roll-up's figures on a portfolio small enough to work out by hand (see portfolio_fixtures)."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from pmo_jira.findings import Severity
from pmo_jira.model import Flavour, Site
from pmo_jira_portfolio.config import Threshold
from pmo_jira_portfolio.rag import rate, worst
from pmo_jira_portfolio.rollup import SEVERITIES, UNCATEGORISED, build_rollup

from portfolio_fixtures import portfolio_context, portfolio_mapping, portfolio_snapshot
from standards_fixtures import day, days_ago, epic, project, snapshot


def row(frame, **match):
    hits = frame
    for k, v in match.items():
        hits = hits[hits[k] == v]
    assert len(hits) == 1, f"expected one row for {match}, got {len(hits)}"
    return hits.iloc[0]


@pytest.fixture(scope="module")
def rollup():
    return build_rollup(portfolio_context())


def test_rate_is_inclusive_at_each_threshold_and_none_never_decides():
    t = Threshold(amber=7, red=30)
    assert [rate(v, t) for v in (0, 6.9, 7, 29, 30, 400)] == ["green", "green", "amber", "amber", "red", "red"]
    assert rate(None, t) == "none"
    assert worst(["green", "none", "amber"]) == "amber"
    assert worst(["none", "none"]) == "none"
    assert worst(["green", "red", "amber"]) == "red"


def test_projects_are_grouped_by_category_and_uncategorised_last(rollup):
    assert list(rollup.portfolios["portfolio"]) == ["Digital", "Operations", UNCATEGORISED]
    assert row(rollup.projects, project="LAB")["portfolio"] == UNCATEGORISED
    assert list(rollup.epics["key"]) == ["WEB-1", "WEB-2", "WEB-3", "OPS-1", "LAB-1"]


def test_percent_complete_by_count_and_by_estimate(rollup):
    web1 = row(rollup.epics, key="WEB-1")
    assert (web1["children"], web1["children_done"]) == (4, 2)
    assert web1["pct_done_count"] == 50.0  # 2 of 4 children done
    assert web1["pct_done_estimate"] == 80.0  # 3 + 5 of 3 + 5 + 2 points (the unestimated child weighs 0)
    assert web1["pct_estimated"] == 75.0
    ops = row(rollup.projects, project="OPS")
    assert ops["pct_done_count"] == 100.0
    assert pd.isna(ops["pct_done_estimate"])  # no estimates at all: unknown, not 0 %
    assert pd.isna(row(rollup.epics, key="WEB-2")["pct_done_count"])  # no children


def test_days_late_only_for_open_epics_and_max_upwards(rollup):
    assert row(rollup.epics, key="WEB-1")["days_late"] == 10
    assert row(rollup.epics, key="WEB-3")["days_late"] == 0  # done 40 days after target: not late any more
    assert row(rollup.projects, project="WEB")["days_late"] == 10
    assert row(rollup.projects, project="OPS")["days_late"] == 45
    assert row(rollup.portfolios, portfolio="Operations")["days_late"] == 45
    assert row(rollup.projects, project="WEB")["epics_overdue"] == 1


def test_risk_measure_counts_unmanaged_high_risks_and_epics_without_register(rollup):
    web = row(rollup.projects, project="WEB")
    assert (web["open_high_risks"], web["unmanaged_risks"], web["epics_without_risks"]) == (1, 1, 1)
    assert web["m_risk"] == 2
    ops = row(rollup.projects, project="OPS")
    assert (ops["open_high_risks"], ops["unmanaged_risks"], ops["m_risk"]) == (1, 0, 0)


def test_default_thresholds_and_worst_of_overall(rollup):
    web = row(rollup.projects, project="WEB")
    # schedule 10 days (amber 7), risk 2 (amber 1), compliance 2 of 4 items = 50 % (red 25; the
    # done epic is past the owner and charter checks), freshness 20 days (amber 14); scope
    # unmeasured without a previous run.
    assert web["m_compliance"] == 50.0
    assert web["m_freshness"] == 20
    assert [web[f"rag_{d}"] for d in ("schedule", "scope", "risk", "compliance", "freshness")] == [
        "amber", "none", "amber", "red", "amber"]
    assert web["rag_overall"] == "red"
    lab = row(rollup.projects, project="LAB")
    assert (lab["m_freshness"], lab["rag_freshness"], lab["rag_overall"]) == (40, "red", "red")


def test_mapping_thresholds_are_honoured():
    m = portfolio_mapping(rag={"schedule": {"amber": 10, "red": 45}, "freshness": {"amber": 50, "red": 60},
                               "compliance": {"amber": 90, "red": 100}, "risk": {"amber": 5, "red": 9}})
    r = build_rollup(portfolio_context(m=m))
    assert row(r.projects, project="WEB")["rag_schedule"] == "amber"  # 10 >= amber 10
    assert row(r.projects, project="OPS")["rag_schedule"] == "red"  # 45 >= red 45
    lab = row(r.projects, project="LAB")
    assert [lab[f"rag_{d}"] for d in ("schedule", "risk", "compliance", "freshness")] == ["green"] * 4
    assert lab["rag_overall"] == "green"
    assert r.thresholds["schedule"] == Threshold(amber=10, red=45)


def test_definitions_come_from_the_mapping_merged_over_the_defaults():
    m = portfolio_mapping(rag={"definitions": {"schedule": "Weeks behind the baseline, in days."}})
    r = build_rollup(portfolio_context(m=m))
    assert r.definitions["schedule"] == "Weeks behind the baseline, in days."
    assert r.definitions["red"].startswith("A decision or intervention")


def test_groups_from_the_mapping():
    m = portfolio_mapping(group_by="mapping", groups={"Customer": ["WEB", "LAB"]})
    r = build_rollup(portfolio_context(m=m))
    assert list(r.portfolios["portfolio"]) == ["Customer", UNCATEGORISED]
    assert row(r.projects, project="OPS")["portfolio"] == UNCATEGORISED
    assert row(r.portfolios, portfolio="Customer")["projects"] == 2


def test_open_findings_by_severity_equal_the_audit_at_every_level(rollup):
    ctx = portfolio_context()
    audit = {s.value: 0 for s in Severity}
    for f in ctx.result.open_findings():
        audit[f.severity.value] += 1
    for frame in (rollup.projects, rollup.portfolios):
        assert {s: int(frame[f"open_{s}"].sum()) for s in SEVERITIES} == audit
    assert rollup.open_by_severity == {s: audit[s] for s in SEVERITIES}
    assert rollup.open_by_severity["critical"] == 1  # WEB-20: high risk without mitigation


def test_two_sites_keep_their_projects_apart_and_totals_still_match():
    beta = Site("beta", "https://beta.example.net", Flavour.DC)
    snap = portfolio_snapshot()
    moved = dataclasses.replace(snap, site=beta,
                                issues=tuple(dataclasses.replace(i, site="beta") for i in snap.issues),
                                projects=tuple(dataclasses.replace(p, site="beta") for p in snap.projects))
    snaps = [snap, moved]
    ctx = portfolio_context(snapshots=snaps)
    r = build_rollup(ctx)
    assert sorted(zip(r.projects["site"], r.projects["project"])) == [
        ("acme", "LAB"), ("acme", "OPS"), ("acme", "WEB"), ("beta", "LAB"), ("beta", "OPS"), ("beta", "WEB")]
    assert int(r.projects["findings_open"].sum()) == len(ctx.result.open_findings())
    assert row(r.portfolios, portfolio="Digital")["epics"] == 6


def _with_findings(*severities):
    """The fixture's audit with WEB-2's open findings replaced by one per given severity."""
    ctx = portfolio_context()
    base = next(f for f in ctx.result.findings if f.item_key == "WEB-1")
    others = tuple(f for f in ctx.result.findings if f.item_key != "WEB-2")
    extra = tuple(dataclasses.replace(base, item_key="WEB-2", subject=str(i), severity=Severity(s))
                  for i, s in enumerate(severities))
    return dataclasses.replace(ctx, result=dataclasses.replace(ctx.result, findings=others + extra))


@pytest.mark.parametrize("severities, colour", [
    ((), "green"), (("low", "info"), "green"), (("medium",), "amber"), (("medium", "medium"), "amber"),
    (("high",), "amber"), (("critical", "medium"), "red"),
], ids=["none", "low", "medium", "two-medium", "high", "critical"])
def test_an_epic_is_red_for_compliance_only_on_a_critical_gap(severities, colour):
    web2 = row(build_rollup(_with_findings(*severities)).epics, key="WEB-2")
    assert web2["rag_compliance"] == colour


def test_medium_gaps_alone_make_a_project_amber_at_most():
    m = portfolio_mapping(rag={"compliance": {"amber": 10, "red": 25}})
    ctx = _with_findings("medium")
    ctx = dataclasses.replace(ctx, mapping=m, result=dataclasses.replace(ctx.result, findings=tuple(
        dataclasses.replace(f, severity=Severity.MEDIUM) for f in ctx.result.findings)))
    web = row(build_rollup(ctx).projects, project="WEB")
    assert web["m_compliance"] >= 25  # over the red threshold, but every gap is medium
    assert web["rag_compliance"] == "amber"
    assert "compliance" not in web["why"] or not web["why"].startswith("Red")


def test_every_row_says_why_it_has_its_colour(rollup):
    assert row(rollup.projects, project="WEB")["why"] == (
        "Red: compliance - 50 % of items with high or critical gaps (red from 25 %).")
    assert row(rollup.projects, project="OPS")["why"] == (
        "Red: schedule - 45 days late (red from 30); compliance - 50 % of items with high or critical gaps "
        "(red from 25 %).")
    assert row(rollup.epics, key="WEB-1")["why"].startswith("Red: compliance - critical gap PMO-RSK-002 (")
    web2 = row(rollup.epics, key="WEB-2")["why"]
    assert web2.startswith("Amber: risk - 1 unmanaged risk or missing risk register (amber from 1); compliance - ")
    assert web2.endswith("; freshness - 20 days without an update (amber from 14).")
    assert row(rollup.epics, key="WEB-3")["why"] == "Green: every measured dimension is below its amber threshold."
    assert all(isinstance(w, str) and w for w in (*rollup.epics["why"], *rollup.projects["why"],
                                                   *rollup.portfolios["why"]))


def test_decisions_and_late_epics_list_keys_in_reading_order():
    # equally red and equally late: DIG-9 comes before DIG-10, as Jira and every other table list them
    late = [epic(k, "Execution", target_end=day(-45), updated=days_ago(1)) for k in ("DIG-10", "DIG-9", "DIG-100")]
    r = build_rollup(portfolio_context(snapshots=[snapshot(late, projects=[project("DIG")])]))
    assert [d.key for d in r.summary.decisions if d.level == "epic"] == ["DIG-9", "DIG-10", "DIG-100"]
    assert list(r.summary.late["key"]) == ["DIG-9", "DIG-10", "DIG-100"]
