"""JQL naming values a site does not have fails the whole query with Jira's 400, on both flavours."""

from __future__ import annotations

import pytest

from sandbox_fixtures import api, session_for


def _search(site, jql):
    path = "search/jql" if site.flavour.value == "cloud" else "search"
    return session_for(site).get(api(site, path), params={"jql": jql})


@pytest.fixture(scope="module", params=[("cloud", "pmo-ready"), ("dc", "pmo-ready"),
                                        ("cloud", "default-cloud"), ("dc", "default-dc")], ids=lambda p: p[1] + "-" + p[0])
def site(request):
    from pmo_jira.sandbox.server import SandboxServer

    flavour, profile = request.param
    with SandboxServer(flavour, issues=80, seed=3, profile=profile) as server:
        yield server


@pytest.mark.parametrize("jql, message", [
    ("issuetype = Nonexistent", "The value 'Nonexistent' does not exist for the field 'issuetype'."),
    ("type in (Epic, Initiative)", "The value 'Initiative' does not exist for the field 'type'."),
    ("status = Nope", "The value 'Nope' does not exist for the field 'status'."),
    ("priority != Urgent", "The value 'Urgent' does not exist for the field 'priority'."),
    ("resolution = Nope", "The value 'Nope' does not exist for the field 'resolution'."),
    ("assignee = nobody", "The value 'nobody' does not exist for the field 'assignee'."),
    ("fixVersion = 1.0", "The value '1.0' does not exist for the field 'fixVersion'."),
    ("component = Backend", "The value 'Backend' does not exist for the field 'component'."),
])
def test_unknown_values_answer_400_with_jiras_message(site, jql, message):
    answer = _search(site, f"project = DIG AND {jql}")
    assert answer.status_code == 400
    assert answer.json() == {"errorMessages": [message], "errors": {}}


def test_every_unknown_value_is_named(site):
    answer = _search(site, "issuetype in (Nope1, Epic) AND status in (Nope2, Nope3)")
    assert answer.status_code == 400
    assert [m.split("'")[1] for m in answer.json()["errorMessages"]] == ["Nope1", "Nope2", "Nope3"]


def test_values_the_site_has_are_accepted_by_name_or_id_in_any_case(site):
    store = site.store
    status = store.statuses[0]
    person = next(u for u in store.users.values() if u.active and u.account_id != store.bot.account_id)
    who = person.account_id if site.flavour.value == "cloud" else person.name
    for jql in (f'issuetype = "{store.issue_types[0].upper()}"', f'status = "{status.lower()}"',
                "priority in (High, 3)", "resolution = Unresolved", f'assignee = "{who}"',
                "assignee = currentUser()", "fixVersion is EMPTY"):
        assert _search(site, f"project = DIG AND {jql}").status_code == 200, jql


def test_options_are_checked_where_the_field_exists(site):
    answer = _search(site, '"PMO Phase" = Foo')
    if site.store.profile.name == "pmo-ready":
        assert answer.json()["errorMessages"] == ["The option 'Foo' for field 'PMO Phase' does not exist."]
        assert _search(site, '"PMO Phase" = Planning').status_code == 200
    else:  # a bare site has no such field at all
        assert answer.json()["errorMessages"] == [
            "Field 'PMO Phase' does not exist or you do not have permission to view it."]
    assert answer.status_code == 400
