"""Phase classification: ordered rules, first match wins, the deciding rule named, never a guess."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from pmo_jira.mapping import Mapping, classify, load_mapping
from pmo_jira.mapping.phases import EpicRules
from pmo_jira.model import ClassifiedItem, Flavour, Issue, Project, Site, Snapshot, User

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
SITE = Site(name="acme", url="https://acme.atlassian.net", flavour=Flavour.CLOUD)
SANDBOX = Path(__file__).parent.parent / "mappings" / "sandbox.yaml"


def epic(key: str, status: str = "Idea", category: str = "new", *, issue_type: str = "Epic",
         labels: tuple[str, ...] = (), **fields: Any) -> Issue:
    return Issue(site="acme", key=key, id=key.split("-")[1], project_key=key.split("-")[0], issue_type=issue_type,
                 hierarchy_level=1 if issue_type != "Story" else 0, summary=f"Summary of {key}", status=status,
                 status_category=category, created=T0, updated=T0, labels=labels, fields=fields,
                 browse="https://acme.atlassian.net/browse/")


def project(key: str, category: str | None = None, **properties: Any) -> Project:
    return Project(site="acme", key=key, id="1", name=f"Project {key}", category=category, properties=properties,
                   url=f"https://acme.atlassian.net/browse/{key}")


def snapshot(*items: Issue | Project) -> Snapshot:
    return Snapshot(site=SITE, projects=tuple(i for i in items if isinstance(i, Project)),
                    issues=tuple(i for i in items if isinstance(i, Issue)), fetched_at=T0)


def mapping(epic_rules: list[dict] | None = None, project_rules: list[dict] | None = None, **extra: Any) -> Mapping:
    return Mapping.model_validate({"version": 1, "name": "t", "fields": {"phase": "PMO Phase", "points": "SP"},
                                   "phases": {"epic": epic_rules or [], "project": project_rules or []}, **extra})


def one(snap: Snapshot, m: Mapping, key: str) -> ClassifiedItem:
    return next(i for i in classify(snap, m) if i.key == key)


@pytest.fixture(scope="module")
def sandbox() -> Mapping:
    return load_mapping(SANDBOX)


# --- epics ----------------------------------------------------------------------------------------


def test_status_rule_names_the_status_and_rule_number(sandbox: Mapping) -> None:
    item = one(snapshot(epic("WEB-1", "In Progress", "indeterminate")), sandbox, "WEB-1")
    assert (item.phase, item.rule) == ("execution", "status 'In Progress' (rule 7)")
    assert (item.site, item.kind, item.project_key, item.summary) == ("acme", "epic", "WEB", "Summary of WEB-1")
    assert item.url == "https://acme.atlassian.net/browse/WEB-1"


def test_first_matching_rule_wins(sandbox: Mapping) -> None:
    # The explicit PMO Phase field (rules 1-4) beats the status (rule 7).
    item = one(snapshot(epic("WEB-1", "In Progress", "indeterminate", phase="Closing")), sandbox, "WEB-1")
    assert (item.phase, item.rule) == ("closing", "field phase = 'Closing' (rule 4)")


def test_status_category_rule(sandbox: Mapping) -> None:
    item = one(snapshot(epic("WEB-1", "Closed", "done")), sandbox, "WEB-1")
    assert (item.phase, item.rule) == ("closing", "status category 'done' (rule 8)")


def test_unmatched_epic_stays_unmapped_with_the_facts(sandbox: Mapping) -> None:
    item = one(snapshot(epic("WEB-1", "Waiting for Budget", "new", phase=None)), sandbox, "WEB-1")
    assert item.phase is None
    assert item.rule == "unmapped: no rule matched status 'Waiting for Budget' (category new)"


def test_status_names_compare_case_insensitively() -> None:
    m = mapping([{"when": {"status": ["in progress"]}, "phase": "execution"}])
    assert one(snapshot(epic("A-1", "IN PROGRESS", "indeterminate")), m, "A-1").phase == "execution"


def test_label_rule_single_or_any_of_a_list() -> None:
    m = mapping([{"when": {"label": "pmo-gate-2"}, "phase": "planning"},
                 {"when": {"label": ["pmo-exec", "pmo-run"]}, "phase": "execution"}])
    snap = snapshot(epic("A-1", labels=("x", "pmo-gate-2")), epic("A-2", labels=("pmo-run",)), epic("A-3", labels=("pmo",)))
    got = {i.key: (i.phase, i.rule) for i in classify(snap, m)}
    assert got["A-1"] == ("planning", "label 'pmo-gate-2' (rule 1)")
    assert got["A-2"] == ("execution", "label 'pmo-run' (rule 2)")
    assert got["A-3"][0] is None


def test_field_rule_in_and_equals_normalise_values() -> None:
    m = mapping([{"when": {"field": "points", "equals": 3}, "phase": "planning"},
                 {"when": {"field": "phase", "in": ["Execution", "Delivery"]}, "phase": "execution"}])
    snap = snapshot(epic("A-1", points=3.0), epic("A-2", phase="execution"), epic("A-3", phase=("Other", "Delivery")),
                    epic("A-4", phase=None), epic("A-5"))
    got = {i.key: (i.phase, i.rule) for i in classify(snap, m)}
    assert got["A-1"] == ("planning", "field points = '3' (rule 1)")
    assert got["A-2"] == ("execution", "field phase = 'Execution' (rule 2)")
    assert got["A-3"] == ("execution", "field phase = 'Delivery' (rule 2)")
    assert got["A-4"][0] is None and got["A-5"][0] is None  # empty, and absent on the site


def test_epics_alike_but_for_a_value_that_compares_equal_are_told_apart() -> None:
    """Epics sharing status and values share their rule text, but True is not 1.0 to a rule."""
    m = mapping([{"when": {"field": "points", "equals": True}, "phase": "planning"},
                 {"when": {"field": "phase", "in": ["Execution"]}, "phase": "execution"}])
    snap = snapshot(epic("A-1", points=True), epic("A-2", points=1.0), epic("A-3", phase="Execution"),
                    epic("A-4", phase="execution"), epic("A-5", phase="Execution"))
    got = {i.key: (i.phase, i.rule) for i in classify(snap, m)}
    assert got["A-1"] == ("planning", "field points = 'True' (rule 1)") and got["A-2"][0] is None
    assert got["A-3"] == got["A-4"] == got["A-5"] == ("execution", "field phase = 'Execution' (rule 2)")
    assert [i.key for i in classify(snap, m)] == ["A-1", "A-2", "A-3", "A-4", "A-5"]


def test_field_rule_matches_a_user_by_name() -> None:
    m = mapping([{"when": {"field": "phase", "equals": "PMO Office"}, "phase": "initiation"}])
    owner = User(account_id="5b10a2844c20165700ede21g", display_name="PMO Office")
    assert one(snapshot(epic("A-1", phase=owner)), m, "A-1").phase == "initiation"


def test_only_epic_issue_types_are_classified() -> None:
    m = mapping([{"when": {"status_category": ["new"]}, "phase": "initiation"}],
                issue_types={"epic": ["initiative"], "child": ["Story"]})
    snap = snapshot(epic("A-1", issue_type="Initiative"), epic("A-2", issue_type="Story"), epic("A-3", issue_type="Epic"))
    assert [i.key for i in classify(snap, m)] == ["A-1"]


def test_the_phase_alone_is_the_phase_the_full_classification_gives() -> None:
    """A gate's replay asks only for the phase of each state an epic passed through: for every
    kind of rule, in any order, the first matching rule still decides."""
    m = mapping([{"when": {"field": "phase", "in": ["Closing"]}, "phase": "closing"},
                 {"when": {"label": ["pmo-exec", "pmo-run"]}, "phase": "execution"},
                 {"when": {"field": "phase", "in": ["Execution", "Delivery"]}, "phase": "execution"},
                 {"when": {"field": "phase", "in": ["delivery", "Planning"]}, "phase": "planning"},
                 {"when": {"field": "points", "equals": 3}, "phase": "planning"},
                 {"when": {"status": ["Approved", "PLANNING"]}, "phase": "planning"},
                 {"when": {"status": ["In Progress"]}, "phase": "execution"},
                 {"when": {"status_category": ["done"]}, "phase": "closing"},
                 {"when": {"label": "pmo-idea"}, "phase": "initiation"},
                 {"when": {"status_category": ["new"]}, "phase": "initiation"}])
    owner = User(account_id="u1", display_name="Closing")
    epics = [epic("A-1", phase="closing", labels=("pmo-run",)), epic("A-2", phase=" Delivery ", status="Approved"),
             epic("A-3", phase=("Other", "delivery")), epic("A-4", phase=owner), epic("A-5", points=3.0),
             epic("A-6", "planning", "indeterminate", phase=None), epic("A-7", "in progress", "indeterminate"),
             epic("A-8", "Shipped", "done", labels=("pmo-idea",)), epic("A-9", "Idea", labels=("pmo-idea",)),
             epic("A-10", "Parked", "indeterminate"), epic("A-11", "Parked", "indeterminate", labels=("pmo-exec",)),
             epic("A-12", "In Progress", "indeterminate", phase="PLANNING")]
    classified = {i.key: i.phase for i in classify(snapshot(*epics), m)}
    rules = EpicRules(m)
    assert {e.key: rules.phase(e) for e in epics} == classified
    assert classified == {"A-1": "closing", "A-2": "execution", "A-3": "execution", "A-4": "closing",
                          "A-5": "planning", "A-6": "planning", "A-7": "execution", "A-8": "closing",
                          "A-9": "initiation", "A-10": None, "A-11": "execution", "A-12": "planning"}


# --- projects -------------------------------------------------------------------------------------


def test_project_property_wins_over_category(sandbox: Mapping) -> None:
    item = one(snapshot(project("WEB", "Ideas", **{"pmo.phase": "Execution"})), sandbox, "WEB")
    assert (item.kind, item.phase, item.rule) == ("project", "execution", "property pmo.phase = 'Execution' (rule 1)")
    assert (item.summary, item.project_key) == ("Project WEB", "WEB")


def test_project_property_may_be_an_object() -> None:
    m = mapping(project_rules=[{"when": {"property": "pmo.phase"}}])
    assert one(snapshot(project("WEB", **{"pmo.phase": {"phase": "planning"}})), m, "WEB").phase == "planning"


def test_project_property_that_is_not_a_phase_falls_through_and_is_reported() -> None:
    m = mapping(project_rules=[{"when": {"property": "pmo.phase"}}])
    item = one(snapshot(project("WEB", "Digital", **{"pmo.phase": "go-live"})), m, "WEB")
    assert item.phase is None
    assert item.rule == ("unmapped: no rule matched (category 'Digital'; 0 epics (0 open); "
                         "property pmo.phase = 'go-live' is not a PMO phase)")


def test_project_category_rule(sandbox: Mapping) -> None:
    item = one(snapshot(project("LAB", "ideas")), sandbox, "LAB")
    assert (item.phase, item.rule) == ("initiation", "category 'ideas' (rule 2)")


def test_project_key_rule() -> None:
    m = mapping(project_rules=[{"when": {"projects": {"web": "closing"}}}])
    snap = snapshot(project("WEB"), project("OPS"))
    got = {i.key: (i.phase, i.rule) for i in classify(snap, m)}
    assert got == {"WEB": ("closing", "project key 'WEB' (rule 1)"),
                   "OPS": (None, "unmapped: no rule matched (no category; 0 epics (0 open))")}


STATUS_RULES = [{"when": {"status": ["Idea"]}, "phase": "initiation"},
                {"when": {"status": ["Planning"]}, "phase": "planning"},
                {"when": {"status": ["In Progress"]}, "phase": "execution"},
                {"when": {"status_category": ["done"]}, "phase": "closing"}]


def _portfolio() -> Snapshot:
    return snapshot(
        project("WEB"),
        epic("WEB-1", "Planning", "new"), epic("WEB-2", "In Progress", "indeterminate"),
        epic("WEB-3", "In Progress", "indeterminate"), epic("WEB-4", "Done", "done"),
        epic("WEB-5", "Parked", "new"),  # unmapped: does not count
    )


@pytest.mark.parametrize("mode, phase, rule", [
    ("least_advanced_open", "planning", "epics least_advanced_open of 3 open epics (rule 1)"),
    ("most_advanced", "closing", "epics most_advanced of 4 epics (rule 1)"),
    ("majority", "execution", "epics majority (2 of 3 open epics) (rule 1)"),
])
def test_project_phase_from_its_epics(mode: str, phase: str, rule: str) -> None:
    m = mapping(STATUS_RULES, [{"when": {"epics": mode}}])
    item = one(_portfolio(), m, "WEB")
    assert (item.phase, item.rule) == (phase, rule)


def test_project_whose_epics_are_all_done_is_closing() -> None:
    m = mapping(STATUS_RULES, [{"when": {"epics": "least_advanced_open"}}])
    snap = snapshot(project("OLD"), epic("OLD-1", "Done", "done"), epic("OLD-2", "Done", "done"))
    assert one(snap, m, "OLD").phase == "closing"


def test_majority_tie_goes_to_the_less_advanced_phase() -> None:
    m = mapping(STATUS_RULES, [{"when": {"epics": "majority"}}])
    snap = snapshot(project("WEB"), epic("WEB-1", "In Progress", "indeterminate"), epic("WEB-2", "Planning", "new"))
    assert one(snap, m, "WEB").phase == "planning"


def test_project_without_classified_epics_is_unmapped() -> None:
    m = mapping(STATUS_RULES, [{"when": {"epics": "majority"}}])
    snap = snapshot(project("WEB", "Digital"), epic("WEB-1", "Parked", "new"), epic("OPS-1", "Idea", "new"))
    assert one(snap, m, "WEB").rule == "unmapped: no rule matched (category 'Digital'; 1 epic (1 open))"


def test_epics_come_first_then_projects_in_snapshot_order(sandbox: Mapping) -> None:
    snap = snapshot(project("OPS"), project("WEB"), epic("WEB-1", "Idea"), epic("OPS-1", "Idea"))
    assert [(i.kind, i.key) for i in classify(snap, sandbox)] == [
        ("epic", "WEB-1"), ("epic", "OPS-1"), ("project", "OPS"), ("project", "WEB")]
    assert all(i.phase == "initiation" for i in classify(snap, sandbox))
