"""Search paging, flavour detection and metadata reads against captured-shape Jira payloads."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from pmo_jira.jira.client import LONG_JQL
from pmo_jira.jira.source import read_site
from pmo_jira.mapping import load_mapping
from pmo_jira.model import Flavour
from pmo_jira.state import STATE_PROPERTY

from client_fixtures import CLOUD_URL, DC_URL, issues_like, make_client, payload

FIELDS = ["summary", "status", "issuetype", "customfield_10015"]


def _query(request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


def test_flavour_detected_from_server_info(rsps):
    rsps.get(f"{CLOUD_URL}/rest/api/2/serverInfo", json=payload("cloud", "serverInfo"))
    rsps.get(f"{DC_URL}/rest/api/2/serverInfo", json=payload("dc", "serverInfo"))
    assert make_client(None).flavour is Flavour.CLOUD
    dc = make_client(None, url=DC_URL)
    assert dc.flavour is Flavour.DC and dc.api == "/rest/api/2"
    assert dc.site.flavour is Flavour.DC and dc.site.url == DC_URL


def test_cloud_search_follows_next_page_token_to_the_end(rsps):
    template = payload("cloud", "search_jql_page")["issues"][0]
    pages = [issues_like(template, 1, 2), issues_like(template, 3, 2), issues_like(template, 5, 1)]
    seen = []

    def answer(request):
        q = _query(request)
        seen.append(q)
        index = int(q.get("nextPageToken", "t0")[1:])
        body = {"issues": pages[index], "isLast": index == 2}
        if index < 2:
            body["nextPageToken"] = f"t{index + 1}"
        return 200, {}, json.dumps(body)

    rsps.add_callback("GET", f"{CLOUD_URL}/rest/api/3/search/jql", callback=answer)
    client = make_client(Flavour.CLOUD, page_size=2)
    keys = [i["key"] for i in client.search("project = PM", FIELDS, properties=["pmo.sync"])]
    assert keys == ["PM-1", "PM-2", "PM-3", "PM-4", "PM-5"]
    assert client.requests_made == 3
    assert [q.get("nextPageToken") for q in seen] == [None, "t1", "t2"]
    assert all(q["fields"] == ",".join(FIELDS) and q["properties"] == "pmo.sync"
               and q["maxResults"] == "2" and q["jql"] == "project = PM" for q in seen)


def test_cloud_search_is_lazy(rsps):
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", json=payload("cloud", "search_jql_page"))
    client = make_client(Flavour.CLOUD)
    pages = client.search_pages("project = PM", FIELDS)
    assert client.requests_made == 0
    first = next(pages)
    assert len(first) == 3 and client.requests_made == 1


def test_cloud_search_never_uses_removed_endpoint_and_stops_on_empty_last_page(rsps):
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", json=payload("cloud", "search_jql_last"))
    client = make_client(Flavour.CLOUD)
    assert list(client.search("project = EMPTY", FIELDS)) == []
    assert [c.request.url.split("?")[0] for c in rsps.calls] == [f"{CLOUD_URL}/rest/api/3/search/jql"]


def test_dc_search_pages_by_start_at_and_tolerates_a_server_cap(rsps):
    template = payload("dc", "search_page")["issues"][0]
    starts = []

    def answer(request):
        q = _query(request)
        start = int(q["startAt"])
        starts.append((start, q["maxResults"]))
        issues = issues_like(template, start + 1, min(40, 95 - start), project="INF")  # server caps at 40
        return 200, {}, json.dumps({"startAt": start, "maxResults": 40, "total": 95, "issues": issues})

    rsps.add_callback("GET", f"{DC_URL}/rest/api/2/search", callback=answer)
    client = make_client(Flavour.DC, page_size=100)
    issues = list(client.search('project = INF', FIELDS))
    assert [i["key"] for i in issues] == [f"INF-{n}" for n in range(1, 96)]
    assert starts == [(0, "100"), (40, "100"), (80, "100")]


def test_dc_search_stops_on_an_empty_page_even_if_total_is_wrong(rsps):
    rsps.get(f"{DC_URL}/rest/api/2/search", json=payload("dc", "search_page") | {"total": 500})
    rsps.get(f"{DC_URL}/rest/api/2/search", json={"startAt": 3, "maxResults": 50, "total": 500, "issues": []})
    client = make_client(Flavour.DC)
    assert len(list(client.search("project = INF", FIELDS))) == 3
    assert client.requests_made == 2


def test_empty_result_is_one_request(rsps):
    rsps.get(f"{DC_URL}/rest/api/2/search", json={"startAt": 0, "maxResults": 50, "total": 0, "issues": []})
    client = make_client(Flavour.DC)
    assert list(client.search_pages("project = NONE", FIELDS)) == []
    assert client.requests_made == 1


@pytest.mark.parametrize("flavour,url,path", [(Flavour.CLOUD, CLOUD_URL, "/rest/api/3/search/jql"),
                                              (Flavour.DC, DC_URL, "/rest/api/2/search")])
def test_long_jql_goes_in_a_post_body_and_is_retried_as_a_read(rsps, flavour, url, path):
    jql = "key in (" + ",".join(f"PM-{n}" for n in range(1, 400)) + ")"
    assert len(jql) > LONG_JQL
    last = ({"issues": [], "isLast": True} if flavour is Flavour.CLOUD
            else {"startAt": 0, "maxResults": 50, "total": 0, "issues": []})
    rsps.post(url + path, status=503, json={"errorMessages": ["busy"]})
    rsps.post(url + path, json=last)
    client = make_client(flavour)
    cloud = flavour is Flavour.CLOUD
    assert list(client.search(jql, FIELDS, properties=["pmo.sync"] if cloud else ())) == []
    body = json.loads(rsps.calls[1].request.body)
    assert body["jql"] == jql and body["fields"] == FIELDS
    assert body.get("properties") == (["pmo.sync"] if cloud else None)
    assert urlsplit(rsps.calls[1].request.url).query == ""


def test_dc_search_refuses_properties_it_cannot_return():
    """Data Center's /search has no `properties` parameter (JRASERVER-62898): asking would get none."""
    client = make_client(Flavour.DC)
    with pytest.raises(ValueError, match="get_property"):
        next(client.search_pages("project = INF", FIELDS, properties=["pmo.sync"]))
    assert client.requests_made == 0


@pytest.mark.parametrize("fields", [[], ["*all"], ["summary", "*navigable"]])
def test_fields_must_be_explicit(fields):
    client = make_client(Flavour.CLOUD)
    with pytest.raises(ValueError, match="explicitly"):
        next(client.search_pages("project = PM", fields))


def test_cloud_projects_page_until_is_last(rsps):
    rsps.get(f"{CLOUD_URL}/rest/api/3/project/search", json=payload("cloud", "project_search_page1"))
    rsps.get(f"{CLOUD_URL}/rest/api/3/project/search", json=payload("cloud", "project_search_page2"))
    client = make_client(Flavour.CLOUD)
    assert [p["key"] for p in client.projects()] == ["PM", "OPS", "LAB"]
    queries = [_query(c.request) for c in rsps.calls]
    assert [q["startAt"] for q in queries] == ["0", "2"]
    assert all(q["expand"] == "lead,description" for q in queries)


def test_dc_projects_in_one_call(rsps):
    rsps.get(f"{DC_URL}/rest/api/2/project", json=payload("dc", "project"))
    client = make_client(Flavour.DC)
    assert [p["key"] for p in client.projects()] == ["INF", "IDEA", "MISC"]
    assert _query(rsps.calls[0].request)["expand"] == "lead,description"


def test_project_property(rsps):
    rsps.get(f"{CLOUD_URL}/rest/api/3/project/PM/properties/pmo.phase",
             json={"key": "pmo.phase", "value": {"phase": "planning"}})
    rsps.get(f"{CLOUD_URL}/rest/api/3/project/OPS/properties/pmo.phase", status=404,
             json={"errorMessages": ["The property with key 'pmo.phase' does not exist."], "errors": {}})
    client = make_client(Flavour.CLOUD)
    assert client.project_property("PM", "pmo.phase") == {"phase": "planning"}
    assert client.project_property("OPS", "pmo.phase") is None


def test_my_permissions(rsps):
    rsps.get(f"{CLOUD_URL}/rest/api/3/mypermissions", json={"permissions": {
        "BROWSE_PROJECTS": {"id": "10", "key": "BROWSE_PROJECTS", "name": "Browse Projects", "type": "PROJECT",
                            "description": "", "havePermission": True},
        "ADMINISTER_PROJECTS": {"id": "23", "key": "ADMINISTER_PROJECTS", "name": "Administer Projects",
                                "type": "PROJECT", "description": "", "havePermission": False}}})
    client = make_client(Flavour.CLOUD)
    assert client.my_permissions("PM", ["BROWSE_PROJECTS", "ADMINISTER_PROJECTS"]) == {
        "BROWSE_PROJECTS": True, "ADMINISTER_PROJECTS": False}
    q = _query(rsps.calls[0].request)
    assert q == {"projectKey": "PM", "permissions": "BROWSE_PROJECTS,ADMINISTER_PROJECTS"}


def test_dc_source_reads_the_sync_state_per_issue_carrying_a_prefixed_label(rsps):
    """Real Data Center answers /search without properties, so the state is read issue by issue,
    only where a label with the write-back prefix says pmo-jira may have written one."""
    page = payload("dc", "search_page")
    page["issues"][0]["fields"]["labels"] = ["network", "pmo-noncompliant", "pmo-gov-001"]
    page["issues"][1]["fields"]["labels"] = ["pmo-review"]  # a person's label: no state behind it
    for issue in page["issues"]:
        issue.pop("properties", None)  # what DC sends when properties are not (cannot be) asked for
    state = {"v": 1, "fingerprint": "9f2c", "comment_id": "10201", "labels": ["pmo-noncompliant"]}
    rsps.get(f"{DC_URL}/rest/api/2/field", json=payload("dc", "field"))
    rsps.get(f"{DC_URL}/rest/api/2/project", json=payload("dc", "project"))
    rsps.get(f"{DC_URL}/rest/api/2/search", json=page)
    rsps.get(f"{DC_URL}/rest/api/2/issue/INF-1/properties/{STATE_PROPERTY}",
             json={"key": STATE_PROPERTY, "value": state})
    rsps.get(f"{DC_URL}/rest/api/2/issue/INF-2/properties/{STATE_PROPERTY}", status=404,
             json={"errorMessages": [f"The property with key '{STATE_PROPERTY}' does not exist."],
                   "errors": {}})
    mapping = load_mapping(Path(__file__).parent / "mappings" / "good" / "minimal.yaml")
    snapshot = read_site(make_client(Flavour.DC), mapping, [], now=datetime(2025, 11, 20, tzinfo=timezone.utc))

    by_key = {i.key: i for i in snapshot.issues}
    assert by_key["INF-1"].properties == {STATE_PROPERTY: state}
    assert by_key["INF-2"].properties == {} and by_key["INF-3"].properties == {}
    (search,) = [c for c in rsps.calls if urlsplit(c.request.url).path == "/rest/api/2/search"]
    assert "properties" not in _query(search.request)
    assert not any("INF-3" in c.request.url for c in rsps.calls)
