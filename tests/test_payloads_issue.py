"""Jira issue/project/comment JSON of both flavours becomes flavour-neutral model objects."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from pmo_jira.errors import JiraApiError
from pmo_jira.jira.payloads import parse_comment, parse_issue, parse_project
from pmo_jira.model import Flavour, IssueLink, User

from client_fixtures import CLOUD_URL, DC_URL, payload

CLOUD_MAP = {"owner": "assignee", "start": "customfield_10015", "target_end": "customfield_10023",
             "story_points": "customfield_10016", "phase": "customfield_10050",
             "risk_impact": "customfield_10060", "risk_mitigation": "customfield_10061"}
DC_MAP = {"owner": "assignee", "start": "customfield_10101", "target_end": "customfield_10102",
          "story_points": "customfield_10106", "phase": "customfield_10105", "epic_link": "customfield_10100",
          "risk_impact": "customfield_10107", "risk_mitigation": "customfield_10108"}


def _cloud(n: int):
    raw = payload("cloud", "search_jql_page")["issues"][n]
    return parse_issue(raw, site="acme", base_url=CLOUD_URL, flavour=Flavour.CLOUD, fieldmap=CLOUD_MAP)


def _dc(n: int):
    raw = payload("dc", "search_page")["issues"][n]
    return parse_issue(raw, site="onprem", base_url=DC_URL + "/", flavour=Flavour.DC, fieldmap=DC_MAP)


def test_cloud_epic():
    epic = _cloud(0)
    assert (epic.key, epic.id, epic.project_key, epic.issue_type, epic.hierarchy_level) == ("PM-1", "10068", "PM", "Epic", 1)
    assert (epic.status, epic.status_category, epic.priority) == ("In Progress", "indeterminate", "Medium")
    assert epic.status_category_changed == datetime(2025, 11, 10, 15, 47, 42, 72000,
                                                    tzinfo=timezone(timedelta(hours=1)))
    assert epic.due == date(2026, 3, 31) and epic.resolved is None
    assert epic.assignee == User("5b10a2844c20165700ede21g", "Alice Martin", True)
    assert epic.labels == ("pmo-gov-001", "billing")
    assert epic.description.startswith("Objective\nMove the billing stack to the new platform by Q2.\nSponsor: @Alice Martin")
    assert "cut-over plan" in epic.description and "charter" in epic.description
    assert epic.fields["start"] == date(2025, 10, 1) and epic.fields["target_end"] == date(2026, 3, 31)
    assert epic.fields["phase"] == "Execution" and epic.fields["owner"].display_name == "Alice Martin"
    assert "story_points" in epic.fields and epic.fields["story_points"] is None
    assert epic.properties == {"pmo.sync": {"hash": "9f2c", "comment_id": "10201"}}
    assert epic.url == f"{CLOUD_URL}/browse/PM-1" and epic.site == "acme"
    assert epic.links == (IssueLink("Relates", "inward", "relates to", "PM-5", "Risk"),
                          IssueLink("Blocks", "outward", "blocks", "OPS-7", "Epic"))


def test_cloud_child_and_risk():
    story = _cloud(1)
    assert story.parent_key == "PM-1" and story.hierarchy_level == 0 and story.is_done
    assert story.fields["story_points"] == 5.0 and isinstance(story.fields["story_points"], float)
    assert story.assignee is None and story.description == ""
    risk = _cloud(2)
    assert risk.fields["risk_impact"] == "High"
    assert risk.fields["risk_mitigation"] == "Negotiate exit clause\nDual-source by March"


def test_dc_epic_and_children_use_epic_link_and_wiki():
    epic, story, risk = _dc(0), _dc(1), _dc(2)
    assert epic.hierarchy_level == 1  # DC issue types carry no hierarchyLevel: Epic by name
    assert epic.assignee == User("JIRAUSER10100", "Carol Diaz", True)
    assert epic.description == ("Objective\nReplace the core switches in both halls.\nphase one: hall A\n"
                                "phase two: hall B\nOwner: @carol")
    assert epic.fields["phase"] == "Planning" and epic.fields["story_points"] == 13.0
    assert epic.url == f"{DC_URL}/browse/INF-1"
    assert story.parent_key == "INF-1" and story.fields["epic_link"] == "INF-1"
    assert story.description == "Quote from vendor attached: quote.pdf"
    assert story.status_category == "indeterminate" and story.created.utcoffset() == timedelta(hours=2)
    assert risk.fields["risk_mitigation"] == "Order early\nsecond source\nbuffer stock"
    assert risk.fields["owner"] is None and risk.parent_key is None
    assert risk.links == (IssueLink("Relates", "outward", "relates to", "INF-1", "Epic"),)


def test_logical_field_absent_from_payload_is_present_as_none():
    issue = _dc(2)  # the risk payload has no start/target_end keys at all
    assert issue.fields["start"] is None and issue.fields["target_end"] is None
    assert set(issue.fields) == set(DC_MAP)


def test_hierarchy_level_defaults():
    raw = payload("dc", "search_page")["issues"][1]
    raw["fields"]["issuetype"] = {"name": "Sub-task", "subtask": True}
    issue = parse_issue(raw, site="s", base_url=DC_URL, flavour=Flavour.DC, fieldmap={})
    assert issue.hierarchy_level == -1 and issue.fields == {}
    raw["fields"]["issuetype"] = {"name": "Task", "subtask": False}
    assert parse_issue(raw, site="s", base_url=DC_URL, flavour=Flavour.DC, fieldmap={}).hierarchy_level == 0


@pytest.mark.parametrize("mutate", [
    lambda raw: raw.pop("fields"),
    lambda raw: raw.pop("key"),
    lambda raw: raw["fields"].pop("status"),
    lambda raw: raw["fields"].update(created="yesterday"),
])
def test_malformed_issue_names_the_issue(mutate):
    raw = payload("cloud", "search_jql_page")["issues"][1]
    mutate(raw)
    with pytest.raises(JiraApiError) as info:
        parse_issue(raw, site="s", base_url=CLOUD_URL, flavour=Flavour.CLOUD, fieldmap={})
    assert "malformed response body" in str(info.value)
    assert "PM-2" in str(info.value) or "10069" in str(info.value)


def test_projects_of_both_flavours():
    cloud = parse_project(payload("cloud", "project_search_page1")["values"][0], site="acme", base_url=CLOUD_URL)
    assert (cloud.key, cloud.id, cloud.name, cloud.category) == ("PM", "10000", "Portfolio Migration", "Digital")
    assert cloud.lead.account_id == "5b10a2844c20165700ede21g" and cloud.url == f"{CLOUD_URL}/browse/PM"
    dc = [parse_project(p, site="onprem", base_url=DC_URL) for p in payload("dc", "project")]
    assert [p.category for p in dc] == ["Infrastructure", "Ideas", None]
    assert dc[0].lead.account_id == "JIRAUSER10100"


def test_comments_of_both_flavours():
    cloud = parse_comment(payload("cloud", "comments_page1")["comments"][1], Flavour.CLOUD)
    assert (cloud.id, cloud.body_text, cloud.author.display_name) == ("10201", "PMO findings: none.", "Alice Martin")
    assert cloud.created == cloud.updated
    dc = [parse_comment(c, Flavour.DC) for c in payload("dc", "comments_page1")["comments"]]
    assert [c.body_text for c in dc] == ["Kick-off done.", "PMO findings\nnone"]
    assert dc[1].author.account_id == "JIRAUSER10100"


def test_field_values_hold_only_what_is_set_and_read_like_a_dict(monkeypatch):
    """Issues of one read keep only the field values they set; every mapped field still reads (an
    empty one as None), compares like a dict and copies, however many patterns of empty fields
    the issues have."""
    import copy

    from pmo_jira.model import FieldValues

    monkeypatch.setattr(FieldValues, "_KINDS_MAX", 2)  # past two patterns every field is held
    make = FieldValues.maker({"owner": 0, "start": 1, "points": 2})
    rows = [(User("a", "A"), None, 3.0), (None, None, None), (None, date(2026, 1, 5), None), (None, None, 1.0)]
    made = [make(row) for row in rows]
    for row, values in zip(rows, made):
        expected = dict(zip(("owner", "start", "points"), row))
        assert values == expected and dict(values) == expected and copy.deepcopy(values) == expected
        assert list(values) == ["owner", "start", "points"] and len(values) == 3
        assert values.get("points") == row[2] and values.get("nope", "x") == "x" and "nope" not in values
        with pytest.raises(KeyError):
            values["nope"]
    assert tuple.__len__(made[0]) == 2 and tuple.__len__(made[1]) == 0  # the empty fields take no room
    assert tuple.__len__(made[3]) == 3  # a third pattern: held whole
    with pytest.raises(ValueError):
        make((None, None))
