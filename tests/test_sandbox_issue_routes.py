"""Transitions, issue create, user search, comment visibility and ADF checks answer like Jira,
over plain HTTP and through the unmodified `jira` and `atlassian-python-api` libraries."""

from __future__ import annotations

import pytest
from atlassian import Jira
from jira import JIRA
from jira.exceptions import JIRAError

from pmo_jira.sandbox.adf import problem
from pmo_jira.sandbox.server import SANDBOX_EMAIL, SANDBOX_TOKEN

from sandbox_fixtures import api, session_for

INVALID = {"errorMessages": [], "errors": {"comment": "Comment body is not valid!"}}


def _jira(site) -> JIRA:
    if site.flavour.value == "cloud":
        return JIRA(site.url, basic_auth=(SANDBOX_EMAIL, SANDBOX_TOKEN), max_retries=0)
    return JIRA(site.url, token_auth=SANDBOX_TOKEN, max_retries=0)


def _apa(site) -> Jira:
    if site.flavour.value == "cloud":
        return Jira(url=site.url, username=SANDBOX_EMAIL, password=SANDBOX_TOKEN, cloud=True)
    return Jira(url=site.url, token=SANDBOX_TOKEN)


def _open_story(site):
    return next(r for r in site.store.issues if r.type == "Story" and r.status_category != "done"
                and site.store.projects[r.project].browsable)


# --- transitions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_transitions_list_the_workflow_and_move_the_issue(sandbox, flavour):
    site = sandbox(flavour)
    rec = _open_story(site)
    client = _jira(site)
    offered = {t["name"]: t["id"] for t in client.transitions(rec.key)}
    assert rec.status not in offered and set(offered) <= set(site.store.statuses)
    done = "Done" if "Done" in offered else "Closed"
    client.transition_issue(rec.key, done)
    assert rec.status == done and rec.resolution and rec.resolved is not None
    last = site.store.history(rec)[-1]
    assert last.author == site.store.bot.account_id
    assert {(i.field_id, i.to_string) for i in last.items} >= {("status", done)}
    assert site.store.history(rec)[-1] is last
    again = _apa(site)
    back = next(t for t in again.get_issue_transitions(rec.key) if site.store.statuses.index(t["to"]) >= 0
                and t["to"] != done and site.store.workflow(rec).index(t["to"]) == 1)
    again.set_issue_status(rec.key, back["to"])
    assert rec.status == back["to"] and rec.resolved is None


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_an_invalid_transition_is_a_400_and_changes_nothing(sandbox, flavour):
    site = sandbox(flavour)
    rec = _open_story(site)
    http = session_for(site)
    before = (rec.status, len(site.store.history(rec)))
    for body, message in (({"transition": {"id": "999"}}, "Transition id '999' is not valid for this issue."),
                          ({}, "Missing 'transition' identifier")):
        answer = http.post(api(site, f"issue/{rec.key}/transitions"), json=body)
        assert answer.status_code == 400
        assert answer.json() == {"errorMessages": [message], "errors": {}}
    current = next(t["id"] for t in http.get(api(site, f"issue/{rec.key}/transitions")).json()["transitions"])
    assert http.get(api(site, f"issue/{rec.key}/transitions"), params={"transitionId": current}).json()[
        "transitions"][0]["id"] == current
    assert (rec.status, len(site.store.history(rec))) == before


def test_transitioning_needs_the_permission(sandbox):
    site = sandbox("cloud", deny_permissions=["TRANSITION_ISSUES"])
    rec = _open_story(site)
    answer = session_for(site).post(api(site, f"issue/{rec.key}/transitions"), json={"transition": {"id": "21"}})
    assert answer.status_code == 403


# --- issue create ----------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_libraries_create_issues(sandbox, flavour):
    site = sandbox(flavour)
    created = _jira(site).create_issue(project="DIG", summary="Vendor contract renewal", issuetype={"name": "Task"},
                                       labels=["pmo-intake"])
    rec = site.store.issue(created.key)
    assert created.key.startswith("DIG-") and rec.summary == "Vendor contract renewal"
    assert rec.labels == ["pmo-intake"] and rec.status == site.store.workflow(rec)[0]
    assert rec.reporter == site.store.bot.account_id
    other = _apa(site).issue_create(fields={"project": {"key": "DIG"}, "summary": "Second", "issuetype": {"name": "Bug"}})
    assert int(other["key"].split("-")[1]) == int(created.key.split("-")[1]) + 1
    found = session_for(site).get(api(site, "search/jql" if flavour == "cloud" else "search"),
                                  params={"jql": f"key = {other['key']}"}).json()["issues"]
    assert [i["key"] for i in found] == [other["key"]]


@pytest.mark.parametrize("flavour, missing", [
    ("cloud", {"project": "Specify a valid project ID or key", "issuetype": "Specify an issue type",
               "summary": "You must specify a summary of the issue."}),
    ("dc", {"project": "project is required", "issuetype": "issue type is required",
            "summary": "You must specify a summary of the issue."})])
def test_create_errors_are_keyed_by_field_like_jira(sandbox, flavour, missing):
    site = sandbox(flavour)
    http = session_for(site)
    answer = http.post(api(site, "issue"), json={"fields": {"project": {"key": "NOPE"}, "issuetype": {"name": "Risk!"}}})
    assert answer.status_code == 400 and answer.json() == {"errorMessages": [], "errors": missing}
    bad_field = http.post(api(site, "issue"), json={"fields": {"project": {"key": "DIG"}, "summary": "x",
                                                               "issuetype": {"name": "Task"}, "customfield_99999": 1}})
    assert bad_field.json()["errors"] == {
        "customfield_99999": "Field 'customfield_99999' cannot be set. It is not on the appropriate screen, or unknown."}
    orphan = http.post(api(site, "issue"), json={"fields": {"project": {"key": "DIG"}, "summary": "x",
                                                           "issuetype": {"name": "Sub-task"}}})
    assert orphan.json()["errors"] == {"parent": "Given parent issue does not belong to appropriate hierarchy."}
    hidden = http.post(api(site, "issue"), json={"fields": {"project": {"key": "VAULT"}, "summary": "x",
                                                           "issuetype": {"name": "Task"}}})
    assert hidden.status_code == 400 and "project" in hidden.json()["errors"]
    with pytest.raises(JIRAError) as err:
        _jira(site).create_issue(project="DIG", issuetype={"name": "Task"})
    assert err.value.status_code == 400


# --- users -----------------------------------------------------------------------------------------


def test_cloud_user_search_by_query(sandbox):
    site = sandbox("cloud")
    person = next(u for u in site.store.users.values() if u.account_id != site.store.bot.account_id)
    first = person.display_name.split()[0]
    found = _jira(site).search_users(query=first[:3])
    assert person.account_id in {u.accountId for u in found}
    assert all(first[:3].lower() in u.displayName.lower() for u in found)
    assert _apa(site).user_find_by_user_string(query=person.email)[0]["accountId"] == person.account_id
    assert session_for(site).get(api(site, "user/search")).status_code == 400


def test_data_center_user_search_by_username(sandbox):
    site = sandbox("dc")
    person = next(u for u in site.store.users.values() if u.account_id != site.store.bot.account_id)
    found = _jira(site).search_users(user=person.name)
    assert [u.name for u in found] == [person.name]
    assert person.key in {u["key"] for u in _apa(site).user_find_by_user_string(username=".")}
    answer = session_for(site).get(api(site, "user/search"))
    assert answer.status_code == 400
    assert answer.json()["errorMessages"] == ["The username query parameter was not provided"]


# --- comments: delete, visibility, ADF ------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_library_deletes_its_comment(sandbox, flavour):
    site = sandbox(flavour)
    rec = _open_story(site)
    client = _jira(site)
    comment = client.add_comment(rec.key, "temporary note")
    assert any(str(c.id) == comment.id for c in rec.comments)
    comment.delete()
    assert not any(str(c.id) == comment.id for c in rec.comments or ())


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_visibility_is_stored_echoed_and_enforced(sandbox, flavour):
    site = sandbox(flavour)
    rec = _open_story(site)
    http = session_for(site)
    client = _jira(site)
    mine = client.add_comment(rec.key, "for the software team", visibility={"type": "group",
                                                                            "value": "jira-software-users"})
    echoed = http.get(api(site, f"issue/{rec.key}/comment/{mine.id}")).json()["visibility"]
    assert echoed["type"] == "group" and echoed["value"] == "jira-software-users"
    assert ("identifier" in echoed) == (flavour == "cloud")
    by_role = http.post(api(site, f"issue/{rec.key}/comment"),
                        json={"body": _doc("devs") if flavour == "cloud" else "devs",
                              "visibility": {"type": "role", "value": "Developers"}})
    assert by_role.status_code == 201 and by_role.json()["visibility"]["value"] == "Developers"
    # a person's comment for a group the bot is not in: the bot does not see it anywhere
    author = next(u for u in site.store.users.values() if u.account_id != site.store.bot.account_id)
    secret = site.store.add_comment_as(author.account_id, rec.key, "board-only quokka plan", ("group", "executives"))
    listed = http.get(api(site, f"issue/{rec.key}/comment")).json()
    assert str(secret.id) not in {c["id"] for c in listed["comments"]}
    assert listed["total"] == len(rec.comments) - 1
    assert http.get(api(site, f"issue/{rec.key}/comment/{secret.id}")).status_code == 404
    assert str(secret.id) not in {str(c.id) for c in client.comments(rec.key)}
    path = "search/jql" if flavour == "cloud" else "search"
    assert http.get(api(site, path), params={"jql": 'text ~ "quokka"'}).json()["issues"] == []
    fields = http.get(api(site, f"issue/{rec.key}"), params={"fields": "comment"}).json()["fields"]["comment"]
    assert str(secret.id) not in {c["id"] for c in fields["comments"]}


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_admin_bot_sees_admin_comments(sandbox, flavour):
    site = sandbox(flavour, bot_is_admin=True)
    rec = _open_story(site)
    author = next(u for u in site.store.users.values() if u.account_id != site.store.bot.account_id)
    hidden = site.store.add_comment_as(author.account_id, rec.key, "admins only", ("role", "Administrators"))
    listed = session_for(site).get(api(site, f"issue/{rec.key}/comment")).json()["comments"]
    assert str(hidden.id) in {c["id"] for c in listed}


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
@pytest.mark.parametrize("visibility, message", [
    ({"type": "group", "value": "no-such-group"}, "Group: no-such-group does not exist."),
    ({"type": "role", "value": "Wizards"}, "Invalid role level specified."),
    ({"type": "group", "value": "executives"}, "You are currently not a member of the group: executives."),
    ({"type": "role", "value": "Administrators"}, "You are currently not a member of the project role: Administrators."),
    ({"type": "team", "value": "x"}, "Visibility type must be 'group' or 'role'."),
])
def test_bad_visibility_is_a_400_and_writes_nothing(sandbox, flavour, visibility, message):
    site = sandbox(flavour)
    rec = _open_story(site)
    before = len(rec.comments or ())
    answer = session_for(site).post(api(site, f"issue/{rec.key}/comment"),
                                    json={"body": _doc("x") if flavour == "cloud" else "x", "visibility": visibility})
    assert answer.status_code == 400
    assert answer.json() == {"errorMessages": [], "errors": {"commentLevel": message}}
    assert len(rec.comments or ()) == before


def test_cloud_takes_a_group_by_identifier(sandbox):
    from pmo_jira.sandbox.store import GROUPS

    site = sandbox("cloud")
    rec = _open_story(site)
    answer = session_for(site).post(api(site, f"issue/{rec.key}/comment"), json={
        "body": _doc("x"), "visibility": {"type": "group", "identifier": GROUPS["jira-software-users"]}})
    assert answer.status_code == 201
    assert answer.json()["visibility"] == {"type": "group", "value": "jira-software-users",
                                           "identifier": GROUPS["jira-software-users"]}


def _doc(*content_text: str, **extra) -> dict:
    return {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": t} for t in content_text]}], **extra}


BAD_ADF = {
    "no version": {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}]},
    "unknown node": {"type": "doc", "version": 1, "content": [{"type": "sparkle", "content": []}]},
    "empty text": _doc(""),
    "text at top level": {"type": "doc", "version": 1, "content": [{"type": "text", "text": "x"}]},
    "mark on a paragraph": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "marks": [{"type": "strong"}],
                                                                     "content": [{"type": "text", "text": "x"}]}]},
    "unknown mark": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "x", "marks": [{"type": "glitter"}]}]}]},
    "code with strong": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "x", "marks": [{"type": "code"}, {"type": "strong"}]}]}]},
    "link without href": {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
        {"type": "text", "text": "x", "marks": [{"type": "link", "attrs": {}}]}]}]},
    "empty list": {"type": "doc", "version": 1, "content": [{"type": "bulletList", "content": []}]},
    "heading level 9": {"type": "doc", "version": 1, "content": [{"type": "heading", "attrs": {"level": 9},
                                                                 "content": [{"type": "text", "text": "x"}]}]},
    "wiki string": "just text",
}


@pytest.mark.parametrize("name", list(BAD_ADF))
def test_cloud_refuses_invalid_adf_on_create_and_update(sandbox, name):
    site = sandbox("cloud")
    rec = _open_story(site)
    http = session_for(site)
    assert problem(BAD_ADF[name]) is not None
    answer = http.post(api(site, f"issue/{rec.key}/comment"), json={"body": BAD_ADF[name]})
    assert answer.status_code == 400 and answer.json() == INVALID
    ok = http.post(api(site, f"issue/{rec.key}/comment"), json={"body": _doc("fine", "again")})
    assert ok.status_code == 201
    update = http.put(api(site, f"issue/{rec.key}/comment/{ok.json()['id']}"), json={"body": BAD_ADF[name]})
    assert update.status_code == 400 and update.json() == INVALID


def test_valid_rich_adf_is_taken():
    rich = {"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "PMO audit"}]},
        {"type": "paragraph", "content": [
            {"type": "text", "text": "see ", "marks": [{"type": "em"}, {"type": "strong"}]},
            {"type": "text", "text": "PMO-GOV-001", "marks": [{"type": "code"}, {"type": "link", "attrs": {"href": "https://x"}}]},
            {"type": "hardBreak"}, {"type": "mention", "attrs": {"id": "abc", "text": "@A"}}]},
        {"type": "bulletList", "content": [{"type": "listItem", "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "set an owner"}]}]}]},
        {"type": "codeBlock", "content": [{"type": "text", "text": "x = 1"}]},
        {"type": "table", "content": [{"type": "tableRow", "content": [{"type": "tableHeader", "content": [
            {"type": "paragraph", "content": []}]}]}]},
        {"type": "rule"}]}
    assert problem(rich) is None


def test_data_center_keeps_wiki_markup(sandbox):
    site = sandbox("dc")
    rec = _open_story(site)
    http = session_for(site)
    assert http.post(api(site, f"issue/{rec.key}/comment"), json={"body": "h2. Title\n* item"}).status_code == 201
    assert http.post(api(site, f"issue/{rec.key}/comment"), json={"body": _doc("adf")}).status_code == 400
