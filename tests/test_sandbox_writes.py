"""Writes to the sandbox are applied like Jira applies them, and refused where Jira refuses them."""

from __future__ import annotations

import pytest

from sandbox_fixtures import api, session_for

ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "PMO findings"}]}]}


def _labels(http, site, key="DIG-1"):
    return http.get(api(site, f"issue/{key}"), params={"fields": "labels"}).json()["fields"]["labels"]


def _updated(http, site, key="DIG-1"):
    return http.get(api(site, f"issue/{key}"), params={"fields": "updated"}).json()["fields"]["updated"]


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_label_operations_apply_and_keep_other_peoples_labels(sandbox, flavour):
    site = sandbox(flavour, issues=60)
    http = session_for(site)
    site.store.edit("DIG-1", labels=["customer"])
    before = _updated(http, site)
    response = http.put(api(site, "issue/DIG-1"), json={"update": {"labels": [{"add": "pmo-gov-001"}, {"add": "pmo-x"}]}})
    assert response.status_code == 204 and response.content == b""
    site.store.add_label("DIG-1", "added-by-a-person")  # someone edits in between
    http.put(api(site, "issue/DIG-1"), json={"update": {"labels": [{"remove": "pmo-x"}]}})
    assert _labels(http, site) == ["customer", "pmo-gov-001", "added-by-a-person"]
    assert _updated(http, site) > before
    http.put(api(site, "issue/DIG-1"), json={"update": {"labels": [{"set": ["only"]}]}})
    assert _labels(http, site) == ["only"]
    http.put(api(site, "issue/DIG-1"), json={"fields": {"labels": ["a", "b"]}})
    assert _labels(http, site) == ["a", "b"]


def test_label_edit_refusals_match_jira(sandbox):
    site = sandbox("cloud", issues=60)
    http = session_for(site)
    both = http.put(api(site, "issue/DIG-1"), json={"fields": {"labels": ["a"]}, "update": {"labels": [{"add": "b"}]}})
    assert both.status_code == 400 and "labels" in both.json()["errors"]
    bare = http.put(api(site, "issue/DIG-1"), json={"update": {"labels": ["AAA"]}})
    assert bare.status_code == 400 and "FieldOperation" in bare.json()["errors"]["labels"]
    spaces = http.put(api(site, "issue/DIG-1"), json={"update": {"labels": [{"add": "two words"}]}})
    assert spaces.status_code == 400 and "contains spaces" in spaces.json()["errors"]["labels"]
    empty = http.put(api(site, "issue/DIG-1"), json={})
    assert empty.status_code == 400
    assert _labels(http, site) == (site.store.issue("DIG-1").labels or [])


def test_comments_are_created_edited_and_listed_oldest_first(sandbox):
    site = sandbox("cloud", issues=60)
    http = session_for(site)
    site.store.add_comment_as(site.store.issues[5].assignee or next(iter(site.store.users)), "DIG-1", "first, by a person")
    before = _updated(http, site)
    created = http.post(api(site, "issue/DIG-1/comment"), json={"body": ADF}).json()
    assert created["body"] == ADF and created["author"]["accountId"] == site.store.bot.account_id
    assert _updated(http, site) > before
    edited_body = {**ADF, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "edited"}]}]}
    edited = http.put(api(site, f"issue/DIG-1/comment/{created['id']}"), json={"body": edited_body})
    assert edited.status_code == 200 and edited.json()["updated"] >= created["updated"]
    listing = http.get(api(site, "issue/DIG-1/comment")).json()
    assert [c["id"] for c in listing["comments"]][-1] == created["id"]
    assert listing["comments"][-1]["body"] == edited_body and listing["total"] == len(listing["comments"])
    page = http.get(api(site, "issue/DIG-1/comment"), params={"startAt": 1, "maxResults": 1}).json()
    assert page["startAt"] == 1 and page["maxResults"] == 1 and len(page["comments"]) == 1
    assert page["total"] == listing["total"]
    # a v2 reader of the same Cloud site sees wiki text
    v2 = http.get(api(site, "issue/DIG-1/comment", "2")).json()["comments"][-1]["body"]
    assert v2 == "edited"
    missing = http.put(api(site, "issue/DIG-1/comment/999999"), json={"body": ADF})
    assert missing.status_code == 404


def test_comment_body_format_follows_the_api_version(sandbox):
    cloud = sandbox("cloud", issues=60)
    http = session_for(cloud)
    wrong_v3 = http.post(api(cloud, "issue/DIG-1/comment"), json={"body": "plain text"})
    assert wrong_v3.status_code == 400 and wrong_v3.json()["errors"] == {"comment": "Comment body is not valid!"}
    assert http.post(api(cloud, "issue/DIG-1/comment", "2"), json={"body": "h2. wiki"}).status_code == 201
    dc = sandbox("dc", issues=60)
    dc_http = session_for(dc)
    assert dc_http.post(api(dc, "issue/DIG-1/comment"), json={"body": ADF}).status_code == 400
    made = dc_http.post(api(dc, "issue/DIG-1/comment"), json={"body": "*bold* text"})
    assert made.status_code == 201 and made.json()["author"]["name"] == "pmo-bot"


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_issue_properties_round_trip_and_404_like_jira(sandbox, flavour):
    site = sandbox(flavour, issues=60)
    http = session_for(site)
    url = api(site, "issue/DIG-1/properties/pmo-jira.state")
    missing = http.get(url)
    assert missing.status_code == 404
    assert missing.json() == {"errorMessages": ["The property with key 'pmo-jira.state' does not exist."], "errors": {}}
    before = _updated(http, site)
    assert http.put(url, json={"fingerprint": "a", "comment_id": "10001"}).status_code == 201
    assert http.put(url, json={"fingerprint": "b"}).status_code == 200
    assert http.get(url).json() == {"key": "pmo-jira.state", "value": {"fingerprint": "b"}}
    assert _updated(http, site) > before  # the sandbox's documented choice
    keys = http.get(api(site, "issue/DIG-1/properties")).json()["keys"]
    assert [k["key"] for k in keys] == ["pmo-jira.state"]
    assert http.delete(url).status_code == 204
    assert http.get(url).status_code == 404 and http.delete(url).status_code == 404
    assert http.get(api(site, "issue/NOPE-1/properties/x")).status_code == 404


def test_project_properties(sandbox):
    site = sandbox("cloud", issues=60, bot_is_admin=True)
    http = session_for(site)
    url = api(site, "project/DIG/properties/pmo.phase")
    assert http.get(url).status_code == 404
    assert http.put(url, json={"phase": "execution"}).status_code == 201
    assert http.get(url).json()["value"] == {"phase": "execution"}
    assert http.get(api(site, "project/VAULT/properties/pmo.phase")).status_code == 404


def test_notify_users_false_needs_admin(sandbox):
    site = sandbox("cloud", issues=60, bot_is_admin=False)
    http = session_for(site)
    refused = http.put(api(site, "issue/DIG-1"), params={"notifyUsers": "false"},
                       json={"update": {"labels": [{"add": "pmo-x"}]}})
    assert refused.status_code == 403
    assert refused.json()["errorMessages"] == [
        "To discard the user notification either admin or project admin permissions are required."]
    assert "pmo-x" not in _labels(http, site)  # nothing written
    assert http.put(api(site, "issue/DIG-1"), json={"update": {"labels": [{"add": "pmo-x"}]}}).status_code == 204
    perms = http.get(api(site, "mypermissions"), params={"projectKey": "DIG", "permissions": "ADMINISTER_PROJECTS"})
    assert perms.json()["permissions"]["ADMINISTER_PROJECTS"]["havePermission"] is False
    for options in ({"bot_is_admin": True}, {"bot_is_admin": False, "notify_needs_admin": False}):
        other = sandbox("cloud", issues=60, **options)
        ok = session_for(other).put(api(other, "issue/DIG-1"), params={"notifyUsers": "false"},
                                    json={"update": {"labels": [{"add": "pmo-x"}]}})
        assert ok.status_code == 204


def test_denied_permissions_are_reported_and_enforced(sandbox):
    site = sandbox("dc", issues=60, deny_permissions={"EDIT_ISSUES", "ADD_COMMENTS"})
    http = session_for(site)
    perms = http.get(api(site, "mypermissions"), params={"projectKey": "DIG",
                                                        "permissions": "EDIT_ISSUES,ADD_COMMENTS,BROWSE_PROJECTS"}).json()
    assert {k: v["havePermission"] for k, v in perms["permissions"].items()} == {
        "EDIT_ISSUES": False, "ADD_COMMENTS": False, "BROWSE_PROJECTS": True}
    assert set(perms["permissions"]["EDIT_ISSUES"]) == {"id", "key", "name", "type", "description", "havePermission"}
    assert http.put(api(site, "issue/DIG-1"), json={"update": {"labels": [{"add": "x"}]}}).status_code == 403
    assert http.post(api(site, "issue/DIG-1/comment"), json={"body": "x"}).status_code == 403
    assert http.put(api(site, "issue/DIG-1/properties/p"), json={"a": 1}).status_code == 403
    assert http.get(api(site, "mypermissions"), params={"projectKey": "VAULT"}).status_code == 404


def test_store_helpers_simulate_people_and_searches_see_them(sandbox):
    site = sandbox("cloud", issues=60)
    http = session_for(site)
    owner = next(u for u in site.store.users.values() if u.name != "pmo-bot")
    site.store.edit("DIG-1", assignee=None, status="Blocked")
    found = http.get(api(site, "search/jql"), params={"jql": "key = DIG-1 AND assignee is EMPTY AND status = Blocked"})
    assert [i["key"] for i in found.json()["issues"]] == ["DIG-1"]
    site.store.edit("DIG-1", assignee=owner.name, status="Done")
    issue = http.get(api(site, "issue/DIG-1"), params={"fields": "assignee,status,resolutiondate,statuscategorychangedate"}).json()
    assert issue["fields"]["assignee"]["accountId"] == owner.account_id
    assert issue["fields"]["resolutiondate"] == issue["fields"]["statuscategorychangedate"]
    with pytest.raises(ValueError):
        site.store.edit("DIG-1", status="Nonsense")


def test_denied_browse_hides_every_project(sandbox):
    site = sandbox("cloud", issues=60, deny_permissions={"BROWSE_PROJECTS"})
    http = session_for(site)
    assert http.get(api(site, "project/search")).json()["values"] == []
    assert http.get(api(site, "issue/DIG-1")).status_code == 404
    assert http.get(api(site, "search/jql"), params={"jql": "project = DIG"}).status_code == 400
