"""Reading epics' history in bulk: Cloud ``POST /rest/api/3/changelog/bulkfetch`` (1,000 issues per
request, paged by token) and Data Center ``expand=changelog`` on search pages, into plain model
objects; only when an active standard needs history."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from pmo_jira.errors import JiraApiError
from pmo_jira.jira.payloads import decode_changes, encode_changes, parse_changes
from pmo_jira.jira.source import read_site
from pmo_jira.mapping.schema import Mapping
from pmo_jira.model import Flavour, ReadPlan
from pmo_jira.run.audit import read_plan

from client_fixtures import CLOUD_URL, DC_URL, make_client, payload

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)
AUTHOR_CLOUD = {"self": f"{CLOUD_URL}/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
                "accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof", "active": True,
                "timeZone": "Australia/Sydney", "accountType": "atlassian"}
AUTHOR_DC = {"self": f"{DC_URL}/rest/api/2/user?username=mia", "name": "mia", "key": "JIRAUSER10100",
             "emailAddress": "mia@acme.example", "displayName": "Mia Krystof", "active": True,
             "timeZone": "Europe/Berlin"}


def mapping(**standards_extra) -> Mapping:
    return Mapping.model_validate({
        "version": 1, "name": "history",
        "fields": {"target_end": "Target end", "phase": "PMO Phase", "start": "Start date"},
        "phases": {"epic": [{"when": {"field": "phase", "in": ["Execution"]}, "phase": "execution"}]},
        "standards": [{"code": "PMO-CHG-001"}, {"code": "PMO-BSL-001"}],
        **standards_extra})


def history(hid: str, created: str, author: dict, *items: dict) -> dict:
    return {"id": hid, "author": author, "created": created, "items": list(items)}


def cloud_item(field_id: str, name: str, a: str | None, b: str | None) -> dict:
    return {"field": name, "fieldtype": "custom" if field_id.startswith("customfield") else "jira",
            "fieldId": field_id, "from": a, "fromString": a, "to": b, "toString": b}


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


def test_cloud_reads_epic_history_in_bulk_pages_filtered_to_the_fields_standards_read(rsps):
    page = payload("cloud", "search_jql_page")
    page["isLast"], page["nextPageToken"] = True, None
    rsps.get(f"{CLOUD_URL}/rest/api/3/field", json=payload("cloud", "field"))
    rsps.get(f"{CLOUD_URL}/rest/api/3/project/search", json=payload("cloud", "project_search_page2"))
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", json=page)
    first = {"issueChangeLogs": [{"issueId": "10068", "changeHistories": [
        history("10400", "2026-09-01T09:00:00.000+0000", AUTHOR_CLOUD,
                cloud_item("customfield_10050", "PMO Phase", "Planning", "Execution"))]}],
             "nextPageToken": "UxAQBFRF"}
    second = {"issueChangeLogs": [{"issueId": "10068", "changeHistories": [
        history("10512", "2026-10-20T16:30:12.512+0200", AUTHOR_CLOUD,
                cloud_item("customfield_10023", "Target end", "2026-12-01", "2027-02-15"),
                cloud_item("status", "status", "10000", "3"))]}], "nextPageToken": None}
    rsps.post(f"{CLOUD_URL}/rest/api/3/changelog/bulkfetch", json=first)
    rsps.post(f"{CLOUD_URL}/rest/api/3/changelog/bulkfetch", json=second)

    snap = read_site(make_client(Flavour.CLOUD), mapping(), read_plan(mapping()), now=NOW)

    posts = [c for c in rsps.calls if c.request.method == "POST"]
    bodies = [json.loads(c.request.body) for c in posts]
    assert bodies[0] == {"issueIdsOrKeys": ["10068"], "maxResults": 10000,
                         "fieldIds": ["customfield_10015", "customfield_10023", "customfield_10050", "status"]}
    assert bodies[1]["nextPageToken"] == "UxAQBFRF"
    by_key = {i.key: i for i in snap.issues}
    assert by_key["PM-2"].changelog is None and by_key["PM-5"].changelog is None  # epics only
    phase_move, end_move = by_key["PM-1"].changelog
    assert phase_move.author.display_name == "Mia Krystof" and phase_move.items[0].field == "phase"
    assert [(i.field, i.from_string, i.to_string) for i in end_move.items] == [
        ("target_end", "2026-12-01", "2027-02-15"), ("status", "10000", "3")]
    assert snap.requests == 5  # field, projects, one search page, two bulkfetch pages


def test_cloud_bulkfetch_batches_a_thousand_issues_per_request(rsps):
    rsps.post(f"{CLOUD_URL}/rest/api/3/changelog/bulkfetch",
              json={"issueChangeLogs": [], "nextPageToken": None})
    client = make_client(Flavour.CLOUD)
    assert list(client.bulk_changelogs([str(n) for n in range(2500)], ["status"])) == []
    sizes = [len(json.loads(c.request.body)["issueIdsOrKeys"]) for c in rsps.calls]
    assert sizes == [1000, 1000, 500]


def test_cloud_bulkfetch_answers_that_are_not_a_changelog_page_are_errors(rsps):
    rsps.post(f"{CLOUD_URL}/rest/api/3/changelog/bulkfetch", json={"values": []})
    with pytest.raises(JiraApiError, match="no 'issueChangeLogs' list"):
        list(make_client(Flavour.CLOUD).bulk_changelogs(["10068"]))


def test_bulkfetch_is_cloud_only():
    with pytest.raises(ValueError, match="expand=changelog"):
        list(make_client(Flavour.DC).bulk_changelogs(["1"]))


def test_dc_reads_epic_history_with_expand_changelog_matching_fields_by_name(rsps):
    page = payload("dc", "search_page")
    rsps.get(f"{DC_URL}/rest/api/2/field", json=payload("dc", "field"))
    rsps.get(f"{DC_URL}/rest/api/2/project", json=payload("dc", "project"))
    rsps.get(f"{DC_URL}/rest/api/2/search", json=page)
    epics = {"startAt": 0, "maxResults": 100, "total": 1, "expand": "names,schema", "issues": [
        {"expand": "operations,changelog", "id": "20010", "self": f"{DC_URL}/rest/api/2/issue/20010",
         "key": "INF-1", "fields": {},
         "changelog": {"startAt": 0, "maxResults": 2, "total": 2, "histories": [
             history("30001", "2026-09-01T09:00:00.000+0200", AUTHOR_DC,
                     {"field": "PMO Phase", "fieldtype": "custom", "from": None, "fromString": "Planning",
                      "to": None, "toString": "Execution"}),
             history("30002", "2026-10-02T11:00:00.000+0200", AUTHOR_DC,
                     {"field": "Target end", "fieldtype": "custom", "from": "2026-12-01",
                      "fromString": "01/Dec/26", "to": "2027-01-31", "toString": "31/Jan/27"})]}}]}
    rsps.get(f"{DC_URL}/rest/api/2/search", json=epics)

    snap = read_site(make_client(Flavour.DC), mapping(), read_plan(mapping()), now=NOW)

    searches = [c.request for c in rsps.calls if urlsplit(c.request.url).path == "/rest/api/2/search"]
    q = {k: v[0] for k, v in parse_qs(urlsplit(searches[1].url).query).items()}
    assert q["expand"] == "changelog" and q["fields"] == "key"
    assert q["jql"] == 'key in ("INF-1") ORDER BY key ASC'  # the epics whose history the standards judge
    assert "expand" not in parse_qs(urlsplit(searches[0].url).query)
    epic = next(i for i in snap.issues if i.key == "INF-1")
    assert [c.items[0].field for c in epic.changelog] == ["phase", "target_end"]
    assert epic.changelog[1].author.account_id == "JIRAUSER10100"
    assert not any("bulkfetch" in c.request.url for c in rsps.calls)


def test_no_history_is_read_when_no_active_standard_needs_it(rsps):
    page = payload("cloud", "search_jql_page")
    page["isLast"], page["nextPageToken"] = True, None
    rsps.get(f"{CLOUD_URL}/rest/api/3/field", json=payload("cloud", "field"))
    rsps.get(f"{CLOUD_URL}/rest/api/3/project/search", json=payload("cloud", "project_search_page2"))
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", json=page)
    m = mapping(standards=[{"code": "PMO-GOV-001"}])
    snap = read_site(make_client(Flavour.CLOUD), m, read_plan(m), now=NOW)
    assert all(i.changelog is None for i in snap.issues) and len(rsps.calls) == 3


def test_linked_record_types_and_comments_are_part_of_the_one_search(rsps):
    page = payload("cloud", "search_jql_page")
    page["isLast"], page["nextPageToken"] = True, None
    page["issues"][0]["fields"]["comment"] = {"comments": [{
        "id": "10400", "author": AUTHOR_CLOUD, "created": "2026-11-20T10:00:00.000+0000",
        "updated": "2026-11-20T10:00:00.000+0000",
        "body": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
            {"type": "text", "text": "Approved for execution"}]}]}}], "maxResults": 1, "total": 1, "startAt": 0}
    rsps.get(f"{CLOUD_URL}/rest/api/3/project/search", json=payload("cloud", "project_search_page2"))
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", json=page)
    plan = ReadPlan(comments=True, issue_types=("Change Request",))
    snap = read_site(make_client(Flavour.CLOUD), mapping(), plan, now=NOW)
    q = {k: v[0] for k, v in parse_qs(urlsplit(rsps.calls[-1].request.url).query).items()}
    assert '"Change Request"' in q["jql"] and "comment" in q["fields"].split(",")
    (said,) = snap.issues[0].comments
    assert said.body_text == "Approved for execution" and said.author.display_name == "Mia Krystof"


def test_a_kept_history_gives_back_the_very_changes_read_and_a_damaged_one_is_read_again():
    histories = [
        history("30001", "2026-09-01T09:00:00.000+0200", AUTHOR_DC,
                {"field": "PMO Phase", "fieldtype": "custom", "from": None, "fromString": "Planning",
                 "to": None, "toString": "Execution"}),
        {**history("30002", "2026-10-02T11:00:00.000+0200", AUTHOR_DC,
                   {"field": "Target end", "fieldtype": "custom", "from": "2026-12-01",
                    "fromString": "01/Dec/26", "to": "2027-01-31", "toString": "31/Jan/27"}), "author": None}]
    changes = parse_changes(histories, logical_by_id={}, logical_by_name={"pmo phase": "phase", "target end": "target_end"},
                            issue="INF-1", flavour=Flavour.DC)
    kept = json.loads(json.dumps(encode_changes(changes)))  # as stored in the SQLite cache
    assert decode_changes(kept) == list(changes)
    assert "avatarUrls" not in json.dumps(kept) and "mia@acme.example" not in json.dumps(kept)
    for damaged in ("not a list", [[1]], [["1", "yesterday", None, []]], [["1", "2026-09-01T09:00:00+02:00", [1], []]]):
        assert decode_changes(damaged) is None
