"""Text search, linkedIssues() and the history operators (WAS, CHANGED) answer like Jira on both
flavours: what they select follows the issues' text, links and changelog; what Jira refuses is a 400."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sandbox_fixtures import api, session_for


@pytest.fixture(scope="module", params=["cloud", "dc"])
def site(request):
    from pmo_jira.sandbox.server import SandboxServer

    with SandboxServer(request.param, issues=120, seed=5) as server:
        yield server


def _search(site, jql: str):
    path = "search/jql" if site.flavour.value == "cloud" else "search"
    return session_for(site).get(api(site, path), params={"jql": jql, "maxResults": 100, "fields": "summary"})


def _keys(site, jql: str) -> set[str]:
    answer = _search(site, jql)
    assert answer.status_code == 200, answer.text
    return {i["key"] for i in answer.json()["issues"]}


def _visible(site):
    return [r for r in site.store.issues if site.store.projects[r.project].browsable]


def test_text_searches_summary_description_and_comments(site):
    rec = _visible(site)[7]
    site.store.add_comment_as(rec.reporter, rec.key, "the quokka budget was approved")
    assert _keys(site, 'text ~ "quokka"') == {rec.key}
    assert _keys(site, 'text ~ "quokka budget"') == {rec.key}
    word = rec.summary.split()[0]
    by_summary = _keys(site, f'summary ~ "{word}"')
    assert rec.key in by_summary and by_summary <= _keys(site, f'text ~ "{word}"')
    described = next(r for r in _visible(site) if r.description)
    term = next(w for w in described.description.split() if w.isalpha() and len(w) > 4)
    assert described.key in _keys(site, f'description ~ "{term}"')


@pytest.mark.parametrize("jql, message", [
    ('text !~ "x"', "The operator '!~' is not supported by the 'text' field."),
    ('text = "x"', "The operator '=' is not supported by the 'text' field."),
    ('description = "x"', "The operator '=' is not supported by the 'description' field."),
])
def test_text_operators_jira_refuses(site, jql, message):
    answer = _search(site, jql)
    assert answer.status_code == 400
    assert answer.json() == {"errorMessages": [message], "errors": {}}


def test_linked_issues_by_any_or_one_link_type(site):
    rec = next(r for r in _visible(site) if r.links)
    others = {link.other for link in rec.links}
    assert _keys(site, f"issue in linkedIssues({rec.key})") == others
    link = rec.links[0]
    by_type = {ln.other for ln in rec.links if ln.type == link.type}
    assert _keys(site, f'issue in linkedIssues({rec.key}, "{link.type}")') == by_type
    kept = _keys(site, f"project = {rec.project} AND issue not in linkedIssues({rec.key})")
    assert not kept & others and kept


@pytest.mark.parametrize("jql, message", [
    ("issue in linkedIssues(NOPE-1)", "Issue 'NOPE-1' could not be found in function 'linkedIssues'."),
    ("issue in linkedIssues()", "Function 'linkedIssues' expected between '1' and '2' arguments but received '0'."),
    ("issue = linkedIssues(DIG-1)", "The operator '=' does not support the function 'linkedIssues'"),
    ("status in linkedIssues(DIG-1)", "does not support the function 'linkedIssues' for the field 'status'"),
    ('issue in linkedIssues(DIG-1, "eats")', "Issue link type 'eats' could not be found in function 'linkedIssues'."),
])
def test_linked_issues_refusals(site, jql, message):
    answer = _search(site, jql)
    assert answer.status_code == 400
    assert message in answer.json()["errorMessages"][0]


def _status_changes(site, rec):
    return [(h, i) for h in site.store.history(rec) for i in h.items if i.field_id == "status"]


def test_status_was_sees_every_status_the_changelog_passed_through(site):
    moved = next(r for r in _visible(site) if len(_status_changes(site, r)) >= 2)
    first_change = _status_changes(site, moved)[0][1]
    earlier = first_change.from_string
    assert earlier != moved.status
    assert moved.key in _keys(site, f'project = {moved.project} AND status WAS "{earlier}"')
    assert moved.key in _keys(site, f'project = {moved.project} AND status WAS "{moved.status}"')  # now counts
    assert moved.key not in _keys(site, f'project = {moved.project} AND status WAS NOT "{earlier}"')
    assert moved.key in _keys(site, f'project = {moved.project} AND status WAS IN ("{earlier}", "{moved.status}")')
    assert moved.key not in _keys(site, f'project = {moved.project} AND status WAS NOT IN ("{earlier}", Done)')


def test_was_with_time_predicates_follows_the_dates_of_the_changelog(site):
    moved = next(r for r in _visible(site) if len(_status_changes(site, r)) >= 2)
    h, item = _status_changes(site, moved)[0]
    before = (h.created - timedelta(days=1)).strftime("%Y-%m-%d")
    after = (h.created + timedelta(days=1)).strftime("%Y-%m-%d")
    p = f"project = {moved.project} AND "
    # the first status held until the first change: it was there before that day, not after it
    assert moved.key in _keys(site, p + f'status WAS "{item.from_string}" BEFORE "{after}"')
    if all(c[1].to_string != item.from_string for c in _status_changes(site, moved)):  # never came back
        assert moved.key not in _keys(site, p + f'status WAS "{item.from_string}" AFTER "{after}"')
    assert moved.key in _keys(site, p + f'status WAS "{item.to_string}" DURING ("{before}", "{after}")')


def test_changed_with_from_to_by_and_dates(site):
    moved = next(r for r in _visible(site) if _status_changes(site, r) and _status_changes(site, r)[0][0].author)
    h, item = _status_changes(site, moved)[0]
    author = site.store.users[h.author]
    who = author.account_id if site.flavour.value == "cloud" else author.name
    day = h.created.strftime("%Y-%m-%d")
    p = f"project = {moved.project} AND "
    assert moved.key in _keys(site, p + "status CHANGED")
    assert moved.key in _keys(site, p + f'status CHANGED FROM "{item.from_string}" TO "{item.to_string}"')
    assert moved.key in _keys(site, p + f'status CHANGED BY "{who}" ON "{day}"')
    backwards = any(i.from_string == item.to_string and i.to_string == item.from_string
                    for _, i in _status_changes(site, moved))
    assert (moved.key in _keys(site, p + f'status CHANGED FROM "{item.to_string}" TO "{item.from_string}"')) == backwards
    never = next(r for r in _visible(site) if not _status_changes(site, r))
    assert never.key not in _keys(site, f"project = {never.project} AND status CHANGED")
    assert never.key in _keys(site, f"project = {never.project} AND NOT status CHANGED")


def test_a_rest_edit_is_found_by_changed_and_was(site):
    rec = next(r for r in _visible(site) if r.assignee)
    other = next(u for u in site.store.users.values() if u.account_id not in (rec.assignee, site.store.bot.account_id))
    old = site.store.users[rec.assignee]
    site.store.edit(rec.key, assignee=other.account_id)
    old_id = old.account_id if site.flavour.value == "cloud" else old.name
    new_id = other.account_id if site.flavour.value == "cloud" else other.name
    p = f"project = {rec.project} AND "
    assert rec.key in _keys(site, p + f'assignee CHANGED FROM "{old_id}" TO "{new_id}" AFTER -1d')
    assert rec.key in _keys(site, p + f'assignee WAS "{old_id}"')


@pytest.mark.parametrize("jql, message", [
    ("labels WAS x", "The operator 'was' is not supported by the 'labels' field."),
    ("summary CHANGED", "The operator 'changed' is not supported by the 'summary' field."),
    ("status WAS Nowhere", "The value 'Nowhere' does not exist for the field 'status'."),
    ("status CHANGED TO Nowhere", "The value 'Nowhere' does not exist for the field 'status'."),
    ("status WAS Done FROM Open", "The predicate 'FROM' is not supported by the 'WAS' operator."),
    ("status CHANGED AFTER soon", "Date value 'soon' for field 'status' is invalid."),
    ("status WAS IN Done", "Expecting '(' but got 'Done'."),
    ("status WAS (Done, Open)", "does not support the multi-value operand"),
    ("status CHANGED DURING (-5d)", "Expecting ',' but got ')'."),
])
def test_history_searches_jira_refuses(site, jql, message):
    answer = _search(site, jql)
    assert answer.status_code == 400
    assert message in answer.json()["errorMessages"][0]


def test_jql_parse_shows_history_clauses_like_cloud(site):
    if site.flavour.value != "cloud":
        pytest.skip("/jql/parse is Cloud's")
    answer = session_for(site).post(api(site, "jql/parse"), json={"queries": [
        'status WAS Done BY currentUser() AFTER -5d', "status CHANGED FROM Done TO \"In Progress\""]})
    assert answer.status_code == 200
    was, changed = (q["structure"]["where"] for q in answer.json()["queries"])
    assert was["operator"] == "was" and was["operand"]["value"] == "Done"
    assert [p["operator"] for p in was["predicates"]] == ["by", "after"]
    assert changed["operator"] == "changed" and "operand" not in changed
    assert [p["operand"]["value"] for p in changed["predicates"]] == ["Done", "In Progress"]
