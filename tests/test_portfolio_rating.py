"""The portfolio's RAG rating at its thresholds, on inputs built figure by figure: what the report
shows and what a run keeps in the history are the colours worked out here by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pmo_jira.findings import AuditResult, Finding, Outcome, Severity
from pmo_jira.history import HistoryStore
from pmo_jira.model import ClassifiedItem
from pmo_jira.run.audit import run_audit
from pmo_jira.run.facts import collect_run_facts
from pmo_jira_portfolio.inputs import EpicFacts, ProjectFacts, RollupInput
from pmo_jira_portfolio.rag import RAG_DIMENSIONS
from pmo_jira_portfolio.rag_rows import rate_rows
from pmo_jira_portfolio.rollup import roll_up
from pmo_jira_portfolio.runs import RowState, rag_rows

from portfolio_fixtures import ALL_STANDARDS, NOW, portfolio_mapping
from standards_fixtures import child, mapping, project, snapshot
from standards_fixtures import epic as epic_issue

SITE = "acme"
NO_RISK_TYPES = mapping(ALL_STANDARDS, issue_types={"epic": ["Epic"], "child": ["Story", "Task", "Bug"], "risk": []})


def item(key: str, kind: str = "epic", phase: str | None = "execution") -> ClassifiedItem:
    return ClassifiedItem(site=SITE, key=key, kind=kind, project_key=key.split("-")[0], summary=f"Summary {key}",
                          phase=phase, rule="test")


def gap(key: str, severity: str, code: str = "PMO-GOV-001", kind: str = "") -> Finding:
    return Finding(code=code, title="Owner set", severity=Severity(severity), outcome=Outcome.FAIL, site=SITE,
                   project_key=key.split("-")[0], item_key=key,
                   item_kind=kind or ("project" if "-" not in key else "epic"), item_summary="", phase="execution",
                   message="No owner.", fix="Set one.")


def portfolio(epics: dict[str, EpicFacts], findings: tuple[Finding, ...] = (),
              phases: dict[str, str] | None = None) -> RollupInput:
    """Projects WEB (category Digital) and OPS (Operations), each a project item, and ``epics``
    (key -> figures; open and in execution unless ``phases`` says otherwise)."""
    phases = phases or {}
    items = (item("WEB", "project"), item("OPS", "project"),
             *(item(k, phase=phases.get(k, "execution")) for k in epics))
    result = AuditResult(findings=findings, items=items, started=NOW, finished=NOW, mapping_name="test",
                         mapping_hash="h", sites=(SITE,))
    projects = {(SITE, "WEB"): ProjectFacts("Web shop", "Ann", "", "Digital"),
                (SITE, "OPS"): ProjectFacts("Operations", "Bob", "", "Operations")}
    return RollupInput(result, {(SITE, k): e for k, e in epics.items()}, projects)


def epic(**figures) -> EpicFacts:
    return EpicFacts(**{"open": True, "risks": 1, "days_since_update": 0, **figures})


def rated(inp: RollupInput, m=None, before=None) -> dict[tuple[str, str], dict[str, str]]:
    """(level, key) -> colours, as a run keeps them; without ``before`` (the previous run's rows),
    checked against what the report of ``inp`` shows."""
    m = m or portfolio_mapping()
    kept = {r.row_id: r.state for r in rate_rows(inp, m, before or {})}
    if before is None:
        report = roll_up(inp, m, NOW, None)
        frames = (("portfolio", report.portfolios, "portfolio"), ("project", report.projects, "project"),
                  ("epic", report.epics, "key"))
        shown = {(level, r.get("site", ""), r[key]): {d: r[f"rag_{d}"] for d in (*RAG_DIMENSIONS, "overall")}
                 for level, frame, key in frames for r in frame.to_dict("records")}
        assert shown == {row_id: dict(state.rag) for row_id, state in kept.items()}
    return {(level, key): dict(state.rag) for (level, _, key), state in kept.items()}


@pytest.mark.parametrize("dimension, figure", [("schedule", "days_late"), ("freshness", "days_since_update")])
@pytest.mark.parametrize("value, colour", [(6, "green"), (7, "amber"), (29, "amber"), (30, "red"), (400, "red")])
def test_days_late_and_without_an_update_turn_amber_and_red_at_the_thresholds(dimension, figure, value, colour):
    """Thresholds 7 / 30 (schedule) and 14 / 30 (freshness) here: amber and red from the figure on."""
    m = portfolio_mapping(rag={"freshness": {"amber": 7, "red": 30}})
    rows = rated(portfolio({"WEB-1": epic(**{figure: value}), "WEB-2": epic(**{figure: 5}), "OPS-1": epic()}), m)
    # the epic, its project (the worst epic, not the sum) and its portfolio; the other project stays green
    assert [rows[k][dimension] for k in (("epic", "WEB-1"), ("project", "WEB"), ("portfolio", "Digital"))] == [colour] * 3
    assert rows[("epic", "WEB-2")][dimension] == rows[("project", "OPS")][dimension] == "green"
    assert rows[("project", "WEB")]["overall"] == colour  # nothing else is off


def test_an_epic_that_is_not_open_has_no_freshness_and_a_project_without_epics_is_green_on_time():
    rows = rated(portfolio({"WEB-1": epic(open=False, days_since_update=None)}))
    assert rows[("epic", "WEB-1")]["freshness"] == rows[("project", "WEB")]["freshness"] == "none"
    assert rows[("project", "OPS")]["schedule"] == "green" and rows[("project", "OPS")]["freshness"] == "none"
    assert rows[("epic", "WEB-1")]["overall"] == "green"  # none never decides


@pytest.mark.parametrize("was, now, scope", [
    (100, 100, "green"), (100, 109, "green"), (100, 110, "amber"), (100, 119, "amber"), (100, 120, "red"),
    (100, 30, "green"), (0, 1, "red"), (0, 0, "green"), (None, 5, "none"),
], ids=["same", "9pc", "10pc", "19pc", "20pc", "fell", "from-zero", "zero", "no-previous-run"])
def test_scope_turns_amber_at_ten_and_red_at_twenty_percent_growth_since_the_previous_run(was, now, scope):
    inp = portfolio({"WEB-1": epic(children=now + 7, children_done=7)})  # open children count, not done ones
    before = {} if was is None else {("epic", SITE, "WEB-1"): RowState(was, {}),
                                      ("project", SITE, "WEB"): RowState(was, {}),
                                      ("portfolio", "", "Digital"): RowState(was, {})}
    rows = rated(inp, before=before)
    assert [rows[k]["scope"] for k in (("epic", "WEB-1"), ("project", "WEB"), ("portfolio", "Digital"))] == [scope] * 3
    assert rows[("project", "OPS")]["scope"] == "none"  # not in the previous run


def test_risk_counts_unmanaged_high_risks_and_open_epics_from_planning_on_without_a_register():
    """Amber from 1, red from 3: a project adds up its epics' unmanaged risks and missing registers."""
    inp = portfolio({"WEB-1": epic(unmanaged_risks=2), "WEB-2": epic(risks=0), "WEB-3": epic(risks=0),
                     "WEB-4": epic(risks=0, open=False), "OPS-1": epic(unmanaged_risks=1), "OPS-2": epic()},
                    phases={"WEB-3": "initiation", "WEB-4": "closing"})
    rows = rated(inp)
    assert {k: rows[("epic", k)]["risk"] for k in ("WEB-1", "WEB-2", "WEB-3", "WEB-4", "OPS-2")} == {
        "WEB-1": "amber", "WEB-2": "amber", "WEB-3": "green", "WEB-4": "green", "OPS-2": "green"}
    assert rows[("project", "WEB")]["risk"] == "red"  # 2 unmanaged + 1 without a register
    assert rows[("project", "OPS")]["risk"] == "amber"
    assert rows[("portfolio", "Digital")]["overall"] == "red"


def test_without_risk_types_in_the_mapping_risk_is_not_rated_and_never_decides():
    rows = rated(portfolio({"WEB-1": epic(unmanaged_risks=5, risks=0)}), NO_RISK_TYPES)
    assert {rows[k]["risk"] for k in rows} == {"none"}
    assert rows[("epic", "WEB-1")]["overall"] == "green"


@pytest.mark.parametrize("gaps, colour", [
    ((), "green"), ((("WEB-1", "low"), ("WEB", "info")), "green"),
    ((("WEB-1", "medium"),), "amber"),  # 1 of 4 items: 25 %, over red, but medium gaps stop at amber
    ((("WEB-1", "medium"), ("WEB-2", "medium"), ("WEB", "medium")), "amber"),  # 75 %
    ((("WEB-1", "high"),), "red"),  # 25 % with a high gap: red from 25
    ((("WEB-1", "high"), ("WEB-1", "critical")), "red"),  # one item, however many gaps
    ((("WEB", "high"),), "red"),  # the project item itself is one of the four
], ids=["none", "low", "one-medium", "three-medium", "one-high", "one-item-two-gaps", "project-item"])
@pytest.mark.parametrize("on_a_risk", [(), (gap("WEB-20", "critical", kind="risk"),)], ids=["", "risk-gap"])
def test_a_projects_compliance_is_the_share_of_its_items_with_gaps_red_only_for_high_ones(gaps, colour, on_a_risk):
    """WEB has four items (the project and three epics); thresholds 10 / 25 %. A gap on an issue
    that is not an item (a risk) is not an item with a gap."""
    inp = portfolio({"WEB-1": epic(), "WEB-2": epic(), "WEB-3": epic()},
                    findings=(*on_a_risk, *(gap(key, severity) for key, severity in gaps)))
    assert rated(inp)[("project", "WEB")]["compliance"] == colour


def test_a_share_of_high_gaps_below_red_makes_a_project_amber():
    """Red from 30 %: one high gap in four items (25 %) is amber, two (50 %) red."""
    m = portfolio_mapping(rag={"compliance": {"amber": 10, "red": 30}})
    epics = {"WEB-1": epic(), "WEB-2": epic(), "WEB-3": epic()}
    assert rated(portfolio(epics, (gap("WEB-1", "high"),)), m)[("project", "WEB")]["compliance"] == "amber"
    assert rated(portfolio(epics, (gap("WEB-1", "high"), gap("WEB-2", "high"))), m)[
        ("project", "WEB")]["compliance"] == "red"


@pytest.mark.parametrize("severity, colour", [("info", "green"), ("low", "green"), ("medium", "amber"),
                                              ("high", "amber"), ("critical", "red")])
def test_an_epics_compliance_is_red_only_for_a_critical_gap(severity, colour):
    rows = rated(portfolio({"WEB-1": epic(), "WEB-2": epic()}, (gap("WEB-1", severity),)))
    assert rows[("epic", "WEB-1")]["compliance"] == colour
    assert rows[("epic", "WEB-2")]["compliance"] == "green"


def test_overall_is_the_worst_dimension_and_portfolios_follow_the_mapping_groups():
    m = portfolio_mapping(group_by="mapping", groups={"Customer": ["WEB"]})
    inp = portfolio({"WEB-1": epic(days_late=8), "OPS-1": epic(days_since_update=31)},
                    (gap("WEB-1", "critical"),))
    rows = rated(inp, m)
    assert rows[("epic", "WEB-1")] == {"schedule": "amber", "scope": "none", "risk": "green", "compliance": "red",
                                       "freshness": "green", "overall": "red"}
    assert rows[("epic", "OPS-1")]["overall"] == "red"  # freshness, over 30 days
    assert {key for level, key in rows if level == "portfolio"} == {"Customer", "Uncategorised"}
    assert rows[("portfolio", "Uncategorised")]["freshness"] == "red"
    assert rows[("portfolio", "Customer")]["schedule"] == "amber"


def test_one_day_reads_in_the_singular_in_why():
    m = portfolio_mapping(rag={"schedule": {"amber": 1, "red": 30}, "freshness": {"amber": 1, "red": 30}})
    report = roll_up(portfolio({"WEB-1": epic(days_late=1, days_since_update=1)}), m, NOW, None)
    assert report.epics.set_index("key").loc["WEB-1", "why"] == (
        "Amber: schedule - 1 day late (amber from 1); freshness - 1 day without an update (amber from 1).")


def test_the_report_says_why_from_the_rated_measures():
    """Each row's why names the dimensions that decided its colour, with the measures rated."""
    inp = portfolio({"WEB-1": epic(days_late=45, days_since_update=20), "OPS-1": epic(unmanaged_risks=1)},
                    (gap("WEB-1", "critical", code="PMO-RSK-002"),))
    report = roll_up(inp, portfolio_mapping(), NOW, None)
    web1 = report.epics.set_index("key").loc["WEB-1"]
    assert web1["m_schedule"] == 45 and web1["m_freshness"] == 20 and web1["m_compliance"] == 100
    assert web1["why"] == ("Red: schedule - 45 days late (red from 30); "
                           "compliance - critical gap PMO-RSK-002 (Owner set).")
    assert report.projects.set_index("project").loc["OPS", "why"] == (
        "Amber: risk - 1 unmanaged risk or missing risk register (amber from 1).")
    assert report.projects.set_index("project").loc["WEB", "why"] == (
        "Red: schedule - 45 days late (red from 30); "
        "compliance - 50 % of items with high or critical gaps (red from 25 %).")


def test_a_run_keeps_its_rows_without_the_report_and_its_next_run_grows_against_them(tmp_path):
    """`audit` rates and keeps the rows itself (nothing rendered); the next run's scope is measured
    against them."""
    def run(store, children: int, now):
        issues = [epic_issue("WEB-1", "Execution", target_end=None, updated=now),
                  *(child(f"WEB-{10 + i}", "WEB-1", status="To Do", points=1.0) for i in range(children))]
        snaps = [snapshot(issues, projects=[project("WEB", category="Digital")])]
        m = portfolio_mapping()
        result = run_audit(snaps, m, today=now.date(), now=now)
        store.record_run(result, facts=collect_run_facts(result, snaps, m, now, store))
        return rag_rows(store, "test", result.started)

    with HistoryStore(tmp_path / "history.sqlite") as store:
        first = run(store, 10, NOW)
        second = run(store, 12, NOW + timedelta(days=1))
    assert first[("project", SITE, "WEB")].open_children == 10
    assert first[("project", SITE, "WEB")].rag["scope"] == "none"  # no previous run
    assert second[("project", SITE, "WEB")].open_children == 12
    assert {level: second[(level, site, key)].rag["scope"] for level, site, key in (
        ("epic", SITE, "WEB-1"), ("project", SITE, "WEB"), ("portfolio", "", "Digital"))} == {
        "epic": "red", "project": "red", "portfolio": "red"}  # 10 -> 12 open children: 20 %
