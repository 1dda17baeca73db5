"""Objectives, prioritisation scores, the ranking and its agreement with execution (office_fixtures)."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from pmo_jira_office.config import Objectives, Strategy
from pmo_jira_office.reports import REPORTS
from pmo_jira_office.resources import build_resources
from pmo_jira_office.strategy import build_strategy, objectives_of, rank_order
from pmo_jira_office.views import strategy_blocks

from pmo_jira.reports import ReportContext

from office_fixtures import STRATEGY, TODAY, audit_all, office_mapping, snapshots
from standards_fixtures import NOW, epic


def view(strategy=None, previous=None, snaps=None):
    m = office_mapping(**({"strategy": strategy} if strategy else {}))
    result, snaps, m = audit_all(m, snaps)
    return build_strategy(snaps, result.items, m, build_resources(result, snaps, m, TODAY), previous, "last month")


def test_objectives_come_from_a_link_type_a_field_or_the_parent():
    e = replace(epic("WEB-9", "Execution", strategic_objective="Run cheaper"), parent_key="OBJ-7")
    assert objectives_of(e, Objectives(source="field", field="strategic_objective")) == ("Run cheaper",)
    assert objectives_of(e, Objectives(source="parent")) == ("OBJ-7",)
    assert objectives_of(e, Objectives(source="link", link_type="Supports")) == ()


def test_objectives_table_shows_keys_only_when_they_differ_from_the_names():
    def headers(v):
        return [c.header for c in next(b for b in strategy_blocks(v) if getattr(b, "id", "") == "objectives").columns]

    assert headers(view())[:2] == ["Objective", "Key"]  # OBJ-1 is "Grow digital sales"
    unnamed = {**STRATEGY, "objectives": {**STRATEGY["objectives"], "names": {}}}
    assert headers(view(unnamed))[:2] == ["Objective", "Epics"]  # no names: the key is the name shown
    with_field = view(snaps=[replace(s, issues=tuple(replace(i, fields={**i.fields, "objective": "Run cheaper"})
                                                     for i in s.issues)) for s in snapshots()],
                      strategy={**STRATEGY, "objectives": {"source": "field", "field": "objective"}})
    assert headers(with_field)[:2] == ["Objective", "Epics"]


def test_wsjf_ranks_open_epics_highest_first_and_names_their_objectives():
    r = view().ranking
    assert list(r["key"]) == ["WEB-1", "OPS-1", "WEB-2"]
    assert list(r["score"]) == [10.0, 3.0, 1.0]
    assert list(r["objectives"]) == ["Grow digital sales", "Run cheaper", ""]


def test_weighted_score_and_unscored_epics_last():
    strategy = {**STRATEGY, "score": {"method": "weighted", "weights": {"business_value": 1, "job_size": -1}}}
    r = view(strategy).ranking
    assert list(zip(r["key"], r["score"])) == [("WEB-1", 6.0), ("OPS-1", 2.0), ("WEB-2", -2.0)]
    snaps = snapshots()
    web1 = next(i for i in snaps[0].issues if i.key == "WEB-1")
    fields = {k: v for k, v in web1.fields.items() if k != "job_size"}
    snaps[0] = replace(snaps[0], issues=tuple(replace(i, fields=fields) if i.key == "WEB-1" else i
                                              for i in snaps[0].issues))
    r = view(snaps=snaps).ranking
    assert list(r["key"])[-1] == "WEB-1" and r["score"].isna().iloc[-1]


def test_rank_changes_against_the_previous_ranking():
    r = view(previous={("acme", "WEB-2"): 1, ("beta", "OPS-1"): 2}).ranking.set_index("key")
    assert r.loc["WEB-2", "change"] == -2  # from 1 to 3
    assert r.loc["OPS-1", "change"] == 0
    assert pd.isna(r.loc["WEB-1", "previous_rank"])  # not ranked last month: new
    table = next(b for b in strategy_blocks(view(previous={("acme", "WEB-2"): 1, ("beta", "OPS-1"): 2}))
                 if getattr(b, "id", "") == "ranking")
    assert [(row[2], row[1]) for row in table.rows] == [("WEB-1", "new"), ("OPS-1", 0), ("WEB-2", -2)]
    assert [c.header for c in table.columns][2:4] == ["Epic", "Site"]  # two sites may share a key
    assert [row[3] for row in table.rows] == ["acme", "beta", "acme"]
    one_site = next(b for b in strategy_blocks(view(snaps=snapshots()[:1])) if getattr(b, "id", "") == "ranking")
    assert "Site" not in [c.header for c in one_site.columns]
    assert rank_order(snapshots(), office_mapping()) == [("acme", "WEB-1"), ("beta", "OPS-1"), ("acme", "WEB-2")]


def test_top_ranked_starved_and_low_ranked_busy():
    v = view()
    # WEB-1 is top-ranked in execution with one person (Ann) on its open work: fewer than 2.
    assert list(v.starved["key"]) == ["WEB-1"]
    # WEB-2 is the lowest ranked, in execution, with one person: busy_from 1.
    assert list(v.busy["key"]) == ["WEB-2"]
    assert list(v.unaligned["key"]) == ["WEB-2"]


def test_epic_serving_no_objective_gets_the_strategy_finding_past_initiation():
    result, _, _ = audit_all(office_mapping([{"code": "PMO-STR-001"}]))
    found = [f for f in result.open_findings() if f.code == "PMO-STR-001"]
    assert [f.item_key for f in found] == ["WEB-2"]
    assert "'Supports' link" in found[0].fix


def test_strategy_config_errors_are_clear():
    with pytest.raises(ValueError, match="needs objectives.link_type"):
        Strategy.model_validate({"objectives": {"source": "link"}})
    with pytest.raises(ValueError, match="needs weights"):
        Strategy.model_validate({"score": {"method": "weighted"}})


def test_jira_text_in_the_markdown_stays_inert_and_readable():
    # a summary typed in Jira: a link, emphasis, an @mention and code must not work in the rendered Markdown
    typed = "[click](javascript:alert(1)) **now** @alice `x` a|b <b>bold</b> (Q4) - ok"
    snaps = [replace(s, issues=tuple(replace(i, summary=typed) if i.key == "WEB-1" else i for i in s.issues))
             for s in snapshots()]
    result, snaps, m = audit_all(snaps=snaps)
    ctx = ReportContext(result=result, snapshots=snaps, mapping=m, now=NOW)
    for report in REPORTS:
        out = report.render(ctx, "markdown")
        lines = [line for line in out.splitlines() if "click" in line]
        assert lines, report.name
        for line in lines:
            assert "\\[click](javascript:alert(1)) \\*\\*now\\*\\* \\@alice \\`x\\` a\\|b \\<b\\>bold\\</b\\> (Q4) - ok" in line
