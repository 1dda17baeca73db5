"""Issue history on the sandbox: generated changelogs that tell a believable story, the Cloud and
Data Center ways of reading them, and writes that log who changed what."""

from __future__ import annotations

from datetime import date

import pytest
from jira import JIRA
from test_sandbox_shapes import validate

from pmo_jira.sandbox.generator import generate
from pmo_jira.sandbox.server import SANDBOX_EMAIL, SANDBOX_TOKEN

from sandbox_fixtures import api, session_for


def _visible(site):
    return [r for r in site.store.issues if site.store.projects[r.project].browsable]


def _richest(site):
    """The visible issue with the longest history."""
    return max(_visible(site), key=lambda r: (len(site.store.history(r)), -r.id))


def _field_changes(store, rec, field_id):
    return [i for h in store.history(rec) for i in h.items if i.field_id == field_id]


# --- the generated story ---------------------------------------------------------------------


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_generated_history_ends_where_the_issue_is(flavour):
    store = generate(flavour, 400, seed=5)
    target = store.field_by_attr["target_end"].id
    slipped = reassigned = reestimated = 0
    for rec in store.issues:
        history = store.history(rec)
        assert all(rec.created <= h.created <= rec.updated for h in history), rec.key
        assert [h.created for h in history] == sorted(h.created for h in history)
        statuses = _field_changes(store, rec, "status")
        if statuses:
            assert statuses[-1].to_string == rec.status
            last = [h for h in history if any(i.field_id == "status" for i in h.items)][-1]
            assert last.created == rec.status_changed
            assert all(a.to_string == b.from_string for a, b in zip(statuses, statuses[1:]))
        ends = _field_changes(store, rec, target)
        if ends:
            assert ends[-1].to_id == rec.target_end.isoformat()
            if any(i.from_id and i.from_id < i.to_id for i in ends):
                slipped += 1
        assignees = _field_changes(store, rec, "assignee")
        if assignees:
            reassigned += 1
        points = _field_changes(store, rec, store.field_by_attr["points"].id)
        if len(points) > 1:
            reestimated += 1
            assert points[-1].to_string == f"{rec.points:g}"
    # enough of each kind of change for baselines, slippage and hand-overs to be measurable
    assert slipped >= 20 and reassigned >= 20 and reestimated >= 10


def test_generated_history_is_reproducible():
    a, b = generate("cloud", 200, seed=9), generate("cloud", 200, seed=9)
    for rec in reversed(b.issues):  # built in another order: same story
        b.history(rec)
    assert [a.history(r) for r in a.issues] == [b.history(r) for r in b.issues]
    other = generate("cloud", 200, seed=10)
    assert [len(a.history(r)) for r in a.issues] != [len(other.history(r)) for r in other.issues]


# --- unmodified libraries --------------------------------------------------------------------


def _jira_client(site):
    if site.flavour.value == "cloud":
        return JIRA(site.url, basic_auth=(SANDBOX_EMAIL, SANDBOX_TOKEN), max_retries=0)
    return JIRA(site.url, token_auth=SANDBOX_TOKEN, max_retries=0)


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_jira_library_reads_and_extends_an_issue_changelog(sandbox, flavour):
    site = sandbox(flavour)
    rec = _richest(site)
    client = _jira_client(site)
    histories = client.issue(rec.key, expand="changelog").changelog.histories
    assert len(histories) == len(site.store.history(rec)) >= 3
    ordered = sorted(histories, key=lambda h: h.created)
    statuses = [i for h in ordered for i in h.items if i.field == "status"]
    if statuses:
        assert statuses[-1].toString == rec.status
    assert all(h.author.displayName for h in histories)

    client.issue(rec.key).update(fields={"labels": ["pmo-reviewed"]}, notify=True)
    after = client.issue(rec.key, expand="changelog").changelog.histories
    newest = max(after, key=lambda h: h.created)
    assert newest.author.displayName == "PMO Bot"
    assert [(i.field, i.toString) for i in newest.items] == [("labels", "pmo-reviewed")]


# --- Cloud endpoints -------------------------------------------------------------------------


def test_cloud_changelog_pages_oldest_first(cloud_site):
    http = session_for(cloud_site)
    rec = _richest(cloud_site)
    expected = [str(h.id) for h in cloud_site.store.history(rec)]
    got, start = [], 0
    while True:
        page = http.get(api(cloud_site, f"issue/{rec.key}/changelog"), params={"startAt": start, "maxResults": 2}).json()
        validate(page, "PageBeanChangelog")
        assert page["total"] == len(expected)
        got += [h["id"] for h in page["values"]]
        if page["isLast"]:
            assert "nextPage" not in page
            break
        assert f"startAt={start + 2}" in page["nextPage"]
        start += 2
    assert got == expected
    for version in ("2", "3"):
        assert http.get(api(cloud_site, "issue/NOPE-1/changelog", version)).status_code == 404


def test_cloud_expand_changelog_is_truncated_like_jira(sandbox):
    site = sandbox("cloud", issues=60)
    rec = _visible(site)[0]
    for n in range(120):
        site.store.edit(rec.key, summary=f"Rename {n}")
    http = session_for(site)
    issue = http.get(api(site, f"issue/{rec.key}"), params={"expand": "changelog", "fields": "summary"}).json()
    log = issue["changelog"]
    assert log["total"] == len(site.store.history(rec)) > 100 and len(log["histories"]) == 100
    assert log["histories"][0]["items"][0]["toString"] == "Rename 119"  # newest first
    found = http.get(api(site, "search/jql"), params={"jql": f"key = {rec.key}", "expand": "changelog"}).json()
    assert len(found["issues"][0]["changelog"]["histories"]) == 40


def _bulk(http, site, **body):
    return http.post(api(site, "changelog/bulkfetch"), json=body)


def test_cloud_bulk_changelog_streams_oldest_first_across_pages(cloud_site):
    """One stream ordered by date then issue, cut into pages; a page groups its entries by issue."""
    http = session_for(cloud_site)
    recs = _visible(cloud_site)[:40]
    keys = [r.key for r in recs]
    whole = _bulk(http, cloud_site, issueIdsOrKeys=keys + ["NOPE-1"]).json()
    validate(whole, "BulkChangelogResponseBean")
    assert "nextPageToken" not in whole
    entries = [h for g in whole["issueChangeLogs"] for h in g["changeHistories"]]
    assert len(entries) == sum(len(cloud_site.store.history(r)) for r in recs) > 40
    for group in whole["issueChangeLogs"]:
        dates = [h["created"] for h in group["changeHistories"]]
        assert dates == sorted(dates)

    pages, token = [], None
    while True:
        body = {"issueIdsOrKeys": keys, "maxResults": 7, **({"nextPageToken": token} if token else {})}
        page = _bulk(http, cloud_site, **body).json()
        pages.append(sorted((h["created"], int(g["issueId"]), h["id"])
                            for g in page["issueChangeLogs"] for h in g["changeHistories"]))
        token = page.get("nextPageToken")
        if not token:
            break
    assert all(len(p) == 7 for p in pages[:-1])
    assert all(a[-1][:2] <= b[0][:2] for a, b in zip(pages, pages[1:]))  # oldest first across pages
    assert sorted(e[2] for p in pages for e in p) == sorted(h["id"] for h in entries)

    only = _bulk(http, cloud_site, issueIdsOrKeys=keys, fieldIds=["status"]).json()
    assert {i["fieldId"] for g in only["issueChangeLogs"] for h in g["changeHistories"] for i in h["items"]} == {"status"}


@pytest.mark.parametrize("body, message", [
    ({}, "issueIdsOrKeys"),
    ({"issueIdsOrKeys": []}, "issueIdsOrKeys"),
    ({"issueIdsOrKeys": [f"DIG-{n}" for n in range(1001)]}, "at most 1000"),
    ({"issueIdsOrKeys": ["DIG-1"], "fieldIds": [f"f{n}" for n in range(11)]}, "at most 10"),
    ({"issueIdsOrKeys": ["DIG-1"], "maxResults": 0}, "maxResults"),
    ({"issueIdsOrKeys": ["DIG-1"], "nextPageToken": "garbage"}, "token"),
])
def test_cloud_bulk_changelog_refuses_bad_requests(cloud_site, body, message):
    answer = _bulk(session_for(cloud_site), cloud_site, **body)
    assert answer.status_code == 400 and message in answer.json()["errorMessages"][0]


# --- Data Center -----------------------------------------------------------------------------


def test_data_center_reads_history_through_expand_only(dc_site):
    http = session_for(dc_site)
    rec = _richest(dc_site)
    page = http.get(api(dc_site, "search"), params={"jql": f"project = {rec.project} ORDER BY key ASC",
                                                    "expand": "changelog", "maxResults": 1000}).json()
    found = next(i for i in page["issues"] if i["key"] == rec.key)
    log = found["changelog"]
    assert log["total"] == len(log["histories"]) == len(dc_site.store.history(rec))
    assert [h["created"] for h in log["histories"]] == sorted(h["created"] for h in log["histories"])
    users = [i for h in log["histories"] for i in h["items"] if i["field"] == "assignee" and i["to"]]
    assert all(i["to"].startswith("JIRAUSER") for i in users)
    assert all("fieldId" not in i for h in log["histories"] for i in h["items"])
    assert http.get(api(dc_site, f"issue/{rec.key}/changelog")).status_code == 404
    assert http.post(api(dc_site, "changelog/bulkfetch"), json={"issueIdsOrKeys": [rec.key]}).status_code == 404


# --- writes log their author -----------------------------------------------------------------


def test_a_person_editing_in_the_ui_is_the_author(sandbox):
    site = sandbox("dc", issues=60)
    rec = next(r for r in _visible(site) if r.status == "In Progress")
    person = next(u for u in site.store.users.values() if u.account_id != site.store.bot.account_id)
    site.store.edit(rec.key, as_user=person.name, status="Done", due=date(2026, 3, 1))
    newest = site.store.history(rec)[-1]
    assert newest.author == person.account_id
    changed = {i.field_id: (i.from_string, i.to_string) for i in newest.items}
    assert changed["status"] == ("In Progress", "Done") and changed["resolution"] == (None, "Done")
    assert changed["duedate"][1] == "2026-03-01 00:00:00.0"
    with pytest.raises(KeyError):
        site.store.edit(rec.key, as_user="nobody", summary="x")
