"""Searching the sandbox: paging in both flavours, limits, JQL errors, visibility, authentication."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import requests

from pmo_jira.sandbox import jql as jqlmod
from pmo_jira.sandbox.server import SandboxServer

from sandbox_fixtures import api, session_for

BOUNDED = "project is not EMPTY ORDER BY key ASC"


def _visible_count(site) -> int:
    return sum(1 for i in site.store.issues if site.store.projects[i.project].browsable)


def test_cloud_pages_to_the_end_with_next_page_tokens(cloud_site):
    http = session_for(cloud_site)
    keys, token, pages = [], None, 0
    while True:
        params = {"jql": BOUNDED, "fields": "summary", "maxResults": 40}
        if token:
            params["nextPageToken"] = token
        page = http.get(api(cloud_site, "search/jql"), params=params).json()
        pages += 1
        assert "total" not in page and "startAt" not in page
        keys += [i["key"] for i in page["issues"]]
        if page["isLast"]:
            assert "nextPageToken" not in page
            break
        token = page["nextPageToken"]
    assert len(keys) == len(set(keys)) == _visible_count(cloud_site)
    assert pages == -(-len(keys) // 40)
    assert not any(k.startswith("VAULT-") for k in keys)


def test_cloud_post_search_pages_like_get(cloud_site):
    http = session_for(cloud_site)
    first = http.post(api(cloud_site, "search/jql"), json={"jql": BOUNDED, "maxResults": 10, "fields": ["summary"]}).json()
    second = http.post(api(cloud_site, "search/jql"), json={"jql": BOUNDED, "maxResults": 10, "fields": ["summary"],
                                                           "nextPageToken": first["nextPageToken"]}).json()
    assert [i["key"] for i in first["issues"]] != [i["key"] for i in second["issues"]]
    assert second["issues"][0]["fields"]["summary"]


def test_data_center_pages_to_the_end_with_start_at(dc_site):
    http = session_for(dc_site)
    keys, start = [], 0
    while True:
        page = http.get(api(dc_site, "search"), params={"jql": BOUNDED, "startAt": start, "maxResults": 70}).json()
        assert page["total"] == _visible_count(dc_site) and page["startAt"] == start
        keys += [i["key"] for i in page["issues"]]
        start += len(page["issues"])
        if start >= page["total"]:
            break
    assert len(keys) == len(set(keys)) == _visible_count(dc_site)
    post = http.post(api(dc_site, "search"), json={"jql": BOUNDED, "startAt": 5, "maxResults": 3}).json()
    assert [i["key"] for i in post["issues"]] == keys[5:8]


def test_page_size_limits_and_default_fields(cloud_site, dc_site):
    http = session_for(cloud_site)
    ids_only = http.get(api(cloud_site, "search/jql"), params={"jql": BOUNDED, "maxResults": 9999}).json()
    assert len(ids_only["issues"]) == _visible_count(cloud_site)  # under the 5000 cap for ids only
    assert "fields" not in ids_only["issues"][0]  # default fields: id only
    with_fields = http.get(api(cloud_site, "search/jql"), params={"jql": BOUNDED, "maxResults": 9999,
                                                                 "fields": "summary"}).json()
    assert len(with_fields["issues"]) == 100
    default = http.get(api(cloud_site, "search/jql"), params={"jql": BOUNDED, "fields": "summary"}).json()
    assert len(default["issues"]) == 50
    dc = session_for(dc_site).get(api(dc_site, "search"), params={"jql": BOUNDED, "maxResults": 5000}).json()
    assert dc["maxResults"] == 1000 and "summary" in dc["issues"][0]["fields"]  # DC default: navigable fields


def test_field_selection(cloud_site):
    http = session_for(cloud_site)

    def fields(spec):
        return set(http.get(api(cloud_site, "issue/DIG-1"), params={"fields": spec}).json().get("fields", {}))

    everything = fields("*all")
    assert {"summary", "comment", "customfield_10015", "issuelinks"} <= everything
    assert "comment" not in fields("*navigable")
    assert fields("*all,-comment,-summary") == everything - {"comment", "summary"}
    assert fields("summary,status,nosuchfield") == {"summary", "status"}


def test_jql_is_evaluated_and_ordered(cloud_site):
    http = session_for(cloud_site)
    page = http.get(api(cloud_site, "search/jql"),
                    params={"jql": 'issuetype = Epic AND statusCategory != Done ORDER BY created DESC',
                            "fields": "issuetype,status,created", "maxResults": 100}).json()
    issues = page["issues"]
    assert issues and all(i["fields"]["issuetype"]["name"] == "Epic" for i in issues)
    assert all(i["fields"]["status"]["statusCategory"]["key"] != "done" for i in issues)
    created = [i["fields"]["created"] for i in issues]
    assert created == sorted(created, reverse=True)
    children = http.get(api(cloud_site, "search/jql"), params={"jql": "parent = DIG-1", "fields": "parent"}).json()
    assert children["issues"] and all(i["fields"]["parent"]["key"] == "DIG-1" for i in children["issues"])


def test_epic_link_on_data_center_only(cloud_site, dc_site):
    dc = session_for(dc_site).get(api(dc_site, "search"), params={"jql": '"Epic Link" = DIG-1'}).json()
    assert dc["total"] > 0
    cloud = session_for(cloud_site).get(api(cloud_site, "search/jql"), params={"jql": '"Epic Link" = DIG-1'})
    assert cloud.status_code == 400
    assert "Epic Link" in cloud.json()["errorMessages"][0]


@pytest.mark.parametrize("jql, message", [
    ("project = DIG AND nosuchfield = 1", "Field 'nosuchfield' does not exist"),
    ("project = DIG AND", "Expecting a field name"),
    ("project = DIG ORDER BY key", None),
    ("project = VAULT", "The value 'VAULT' does not exist for the field 'project'."),
    ("project in (DIG, NOPE)", "The value 'NOPE' does not exist for the field 'project'."),
    ("key = VAULT-1", "An issue with key 'VAULT-1' does not exist for field 'key'."),
    ("ORDER BY key", "Unbounded JQL queries are not allowed here."),
    ("", "Unbounded JQL queries are not allowed here."),
])
def test_cloud_rejects_bad_jql_with_jira_400(cloud_site, jql, message):
    response = session_for(cloud_site).get(api(cloud_site, "search/jql"), params={"jql": jql})
    if message is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {} and message in body["errorMessages"][0]


def test_data_center_allows_unbounded_but_not_invisible_projects(dc_site):
    http = session_for(dc_site)
    assert http.get(api(dc_site, "search"), params={"jql": ""}).json()["total"] == _visible_count(dc_site)
    assert http.get(api(dc_site, "search"), params={"jql": "project = VAULT"}).status_code == 400


def test_hidden_project_is_invisible_everywhere(cloud_site):
    http = session_for(cloud_site)
    missing = http.get(api(cloud_site, "issue/VAULT-1"))
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == ["Issue does not exist or you do not have permission to see it."]
    projects = http.get(api(cloud_site, "project/search"), params={"maxResults": 100}).json()["values"]
    assert "VAULT" not in {p["key"] for p in projects}
    assert "VAULT" in cloud_site.store.projects  # it exists; the bot just may not browse it


def test_legacy_search_is_gone_on_cloud_and_enhanced_search_absent_on_dc(cloud_site, dc_site):
    for version in ("2", "3"):
        gone = session_for(cloud_site).get(api(cloud_site, "search", version), params={"jql": BOUNDED})
        assert gone.status_code == 410 and "CHANGE-2046" in gone.json()["errorMessages"][0]
    assert session_for(dc_site).get(api(dc_site, "search/jql"), params={"jql": BOUNDED}).status_code == 404
    assert session_for(dc_site).get(api(dc_site, "serverInfo", "3")).status_code == 404


def test_properties_come_inline_with_search_results(sandbox):
    site = sandbox("cloud", issues=60)
    site.store.set_property("DIG-1", "pmo-jira.state", {"fingerprint": "abc"})
    page = session_for(site).get(api(site, "search/jql"), params={"jql": "key = DIG-1", "properties": "pmo-jira.state",
                                                                 "fields": "summary"}).json()
    assert page["issues"][0]["properties"] == {"pmo-jira.state": {"fingerprint": "abc"}}


def test_paging_evaluates_the_query_once(sandbox, monkeypatch):
    site = sandbox("cloud", issues=300)
    compiled = []
    original = jqlmod.Query.predicate
    monkeypatch.setattr(jqlmod.Query, "predicate", lambda self, now: compiled.append(1) or original(self, now))
    http = session_for(site)
    token, pages = None, 0
    while True:
        params = {"jql": BOUNDED, "maxResults": 25, "fields": "summary", **({"nextPageToken": token} if token else {})}
        page = http.get(api(site, "search/jql"), params=params).json()
        pages += 1
        if page["isLast"]:
            break
        token = page["nextPageToken"]
    assert pages > 5 and len(compiled) == 1
    site.store.add_label("DIG-1", "fresh")  # a write changes the version: the next search re-evaluates
    http.get(api(site, "search/jql"), params={"jql": BOUNDED})
    assert len(compiled) == 2


def test_page_tokens_are_opaque_and_checked(cloud_site):
    http = session_for(cloud_site)
    first = http.get(api(cloud_site, "search/jql"), params={"jql": BOUNDED, "maxResults": 5}).json()
    reused = http.get(api(cloud_site, "search/jql"), params={"jql": "project = DIG",
                                                            "nextPageToken": first["nextPageToken"]})
    assert reused.status_code == 400
    forged = base64.urlsafe_b64encode(b"garbage").decode()
    assert http.get(api(cloud_site, "search/jql"), params={"jql": BOUNDED, "nextPageToken": forged}).status_code == 400


@pytest.mark.parametrize("flavour, headers", [
    ("cloud", {}),
    ("cloud", {"Authorization": "Basic " + base64.b64encode(b"pmo-bot@example.com:wrong").decode()}),
    ("cloud", {"Authorization": "Bearer sandbox-token"}),
    ("dc", {}),
    ("dc", {"Authorization": "Bearer wrong"}),
    ("dc", {"Authorization": "Basic " + base64.b64encode(b"pmo-bot@example.com:sandbox-token").decode()}),
])
def test_every_endpoint_but_server_info_requires_authentication(cloud_site, dc_site, flavour, headers):
    site = cloud_site if flavour == "cloud" else dc_site
    for path in ("myself", "field", "issue/DIG-1", "project"):
        response = requests.get(api(site, path), headers=headers)
        assert response.status_code == 401
        assert response.json()["errorMessages"][0].startswith("You are not authenticated")
    # as on Jira, serverInfo answers anyone; refused credentials show only in a header
    info = requests.get(api(site, "serverInfo"), headers=headers)
    assert info.status_code == 200 and info.json()["deploymentType"] == ("Cloud" if flavour == "cloud" else "Server")
    assert info.headers.get("X-Seraph-LoginReason") == ("AUTHENTICATED_FAILED" if headers else None)
    assert requests.put(api(site, "issue/DIG-1/properties/x"), json={"a": 1}, headers=headers).status_code == 401


def test_cloud_approximate_count(cloud_site):
    response = session_for(cloud_site).post(api(cloud_site, "search/approximate-count"), json={"jql": "project = DIG"})
    assert response.json() == {"count": sum(1 for i in cloud_site.store.issues if i.project == "DIG")}


def test_relative_dates_follow_the_site_clock(sandbox):
    site = sandbox("cloud", issues=120)
    http = session_for(site)
    jql = "project = DIG AND updated <= -30d"

    def count():
        return len(http.get(api(site, "search/jql"), params={"jql": jql, "maxResults": 5000}).json()["issues"])

    before = count()
    start = site.store.now
    site.store.clock = lambda: start + timedelta(days=60)  # two months pass without a write
    assert count() > before


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_sandbox_refuses_to_listen_beyond_loopback(host):
    with pytest.raises(ValueError, match="only listens on loopback"):
        SandboxServer("cloud", issues=0, host=host)
