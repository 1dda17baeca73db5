"""The sandbox's JQL must select, order and reject exactly like Jira for the queries pmo-jira sends."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from pmo_jira.sandbox.jql import CURRENT_USER, JqlError, parse

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc)  # a Wednesday


class Rec:
    """In-test accessor: a dict of canonical field -> value; unknown fields fail like the site would."""

    def __init__(self, **values):
        base = {"project": None, "key": None, "id": None, "issuetype": "Task", "status": "To Do",
                "statuscategory": "new", "labels": [], "parent": None, "epic link": None, "created": NOW,
                "updated": NOW, "resolved": None, "due": None, "assignee": None, "reporter": "alice",
                "priority": "Medium", "resolution": None, "summary": "", CURRENT_USER: "bob"}
        self.values = {**base, **values}
        proj = self.values["key"].split("-")[0]
        self.values["project"] = self.values["project"] or [proj, proj.title()]

    def jql_value(self, name):
        if name not in self.values:
            raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
        return self.values[name]

    @property
    def key(self):
        return self.values["key"]


ISSUES = [
    Rec(key="APOLLO-1", id="10001", issuetype="Epic", status="In Progress", statuscategory="indeterminate",
        labels=["pmo-noncompliant"], summary="Launch the Apollo programme", assignee="bob",
        created=NOW - timedelta(days=30), updated=NOW - timedelta(hours=2), due=date(2026, 4, 1)),
    Rec(key="APOLLO-2", id="10002", parent="APOLLO-1", status="Done", statuscategory="done", resolution="Done",
        labels=["pmo-noncompliant", "other"], summary="Write the launch checklist",
        created=datetime(2026, 1, 1, 9, 30, tzinfo=timezone.utc), updated=NOW - timedelta(days=3),
        resolved=NOW - timedelta(days=2), due=date(2026, 1, 1)),
    Rec(key="APOLLO-10", id="10010", parent="APOLLO-1", status="To Do", summary="Launch-pad safety review",
        created=datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc), updated=NOW - timedelta(minutes=30),
        **{"epic link": "APOLLO-1"}),
    Rec(key="APOLLO-9", id="10009", issuetype="Bug", status="Blocked", statuscategory="indeterminate",
        labels=["other"], summary="Telemetry drops packets", assignee="carol",
        created=datetime(2025, 12, 31, 23, 0, tzinfo=timezone.utc), updated=NOW - timedelta(days=8)),
    Rec(key="ORION-3", id="20003", issuetype="Risk", status="Open", summary="Vendor may slip",
        project=["ORION", "Orion Platform"], updated=NOW - timedelta(days=1, minutes=1), parent="ORION-1",
        **{"epic link": "ORION-1"}),
    Rec(key="VEGA-1", id="30001", issuetype="Epic", status="Closed", statuscategory="done", summary="Old epic",
        created=NOW - timedelta(days=100), updated=NOW - timedelta(days=40)),
]


def keys(jql: str) -> list[str]:
    q = parse(jql)
    return sorted((r.key for r in ISSUES if q.matches(r, NOW)), key=lambda k: (k.split("-")[0], int(k.split("-")[1])))


@pytest.mark.parametrize("jql, expected", [
    ("project in (APOLLO, ORION) AND issuetype in (Epic, Story, Task, Bug, Risk) ORDER BY key ASC",
     ["APOLLO-1", "APOLLO-2", "APOLLO-10", "APOLLO-9", "ORION-3"]),
    ('project = "Orion Platform"', ["ORION-3"]),  # by name
    ("PROJECT = apollo AND Type = epic", ["APOLLO-1"]),  # names and values are case-insensitive
    ("parent = APOLLO-1", ["APOLLO-2", "APOLLO-10"]),
    ('"Epic Link" = APOLLO-1', ["APOLLO-10"]),
    ("key in (APOLLO-1, apollo-2, NOPE-1)", ["APOLLO-1", "APOLLO-2"]),
    ("issuekey = APOLLO-9", ["APOLLO-9"]),
    ("id = 10010", ["APOLLO-10"]),
    ("key in (10001, ORION-3)", ["APOLLO-1", "ORION-3"]),
    ('updated >= "-1d"', ["APOLLO-1", "APOLLO-10"]),
    ("updated >= -1w", ["APOLLO-1", "APOLLO-2", "APOLLO-10", "ORION-3"]),
    ("updated > -60", ["APOLLO-10"]),  # a number without unit in a period = minutes
    ('updated >= "-1w 2d"', ["APOLLO-1", "APOLLO-2", "APOLLO-10", "APOLLO-9", "ORION-3"]),
    ('created < "2026/01/01 10:00"', ["APOLLO-2", "APOLLO-9", "VEGA-1"]),
    ("created < 2026-01-01 10:00", ["APOLLO-2", "APOLLO-9", "VEGA-1"]),  # unquoted date and time
    ('created >= "2026-01-01"', ["APOLLO-1", "APOLLO-2", "APOLLO-10", "ORION-3"]),  # 00:00 of the day
    ("created < 1767225600000", ["APOLLO-9", "VEGA-1"]),  # epoch milliseconds = 2026-01-01 00:00 UTC
    ("due < 2026-01-02", ["APOLLO-2"]),
    ("due <= endOfDay(21d)", ["APOLLO-1", "APOLLO-2"]),
    ("due is EMPTY", ["APOLLO-10", "APOLLO-9", "ORION-3", "VEGA-1"]),
    ("resolved >= startOfWeek()", ["APOLLO-2"]),  # Monday 2026-03-09
    ("updated < startOfDay(-2)", ["APOLLO-2", "APOLLO-9", "VEGA-1"]),
    ("created > startOfMonth(-1M) AND created < startOfMonth()", ["APOLLO-1"]),
    ("created <= endOfYear(-1)", ["APOLLO-9", "VEGA-1"]),
    ("updated > now()", []),
    ("labels = pmo-noncompliant AND labels != other", ["APOLLO-1"]),
    ("labels in (other)", ["APOLLO-2", "APOLLO-9"]),
    ("labels not in (pmo-noncompliant)", ["APOLLO-9"]),  # empty labels never match a negative
    ("labels is not empty", ["APOLLO-1", "APOLLO-2", "APOLLO-9"]),
    ("statusCategory != Done", ["APOLLO-1", "APOLLO-10", "APOLLO-9", "ORION-3"]),
    ('statusCategory = "In Progress"', ["APOLLO-1", "APOLLO-9"]),
    ("statuscategory in (new, done)", ["APOLLO-2", "APOLLO-10", "ORION-3", "VEGA-1"]),
    ("NOT (status = Done OR labels IS EMPTY)", ["APOLLO-1", "APOLLO-9"]),
    ("NOT labels = other", ["APOLLO-1"]),  # Jira pushes NOT into the clause: like labels != other
    ("assignee != bob", ["APOLLO-9"]),  # unassigned issues are not "not bob"
    ("assignee = currentUser()", ["APOLLO-1"]),
    ("assignee in (EMPTY, carol)", ["APOLLO-2", "APOLLO-10", "ORION-3", "VEGA-1", "APOLLO-9"]),
    ("resolution = Unresolved AND project = VEGA", ["VEGA-1"]),
    ("summary ~ launch", ["APOLLO-1", "APOLLO-2", "APOLLO-10"]),  # words, not substrings of words
    ('summary ~ "LAUNCH checklist"', ["APOLLO-2"]),  # every word, any order
    ('summary ~ "\\"safety review\\""', ["APOLLO-10"]),  # exact phrase
    ("summary ~ 'pack*'", ["APOLLO-9"]),
    ("summary !~ launch", ["APOLLO-9", "ORION-3", "VEGA-1"]),
    # negative operators never match an empty field (Jira excludes them)
    ("parent != APOLLO-1", ["ORION-3"]),
    ("parent not in (APOLLO-1)", ["ORION-3"]),
    ('"Epic Link" != APOLLO-1', ["ORION-3"]),
    ("due < 2030-01-01 AND due > 2000-01-01", ["APOLLO-1", "APOLLO-2"]),
    ("key > APOLLO-9", ["APOLLO-10"]),  # numeric, same project only
    ("key <= APOLLO-2", ["APOLLO-1", "APOLLO-2"]),
    ("", ["APOLLO-1", "APOLLO-2", "APOLLO-10", "APOLLO-9", "ORION-3", "VEGA-1"]),
    ("ORDER BY key DESC", ["APOLLO-1", "APOLLO-2", "APOLLO-10", "APOLLO-9", "ORION-3", "VEGA-1"]),
])
def test_selects_the_issues_jira_would(jql, expected):
    assert keys(jql) == sorted(expected, key=lambda k: (k.split("-")[0], int(k.split("-")[1])))


@pytest.mark.parametrize("jql, expected", [
    # AND binds tighter than OR; NOT tighter than AND; keywords in any case
    ("project = VEGA OR issuetype = Bug AND status = Blocked", ["APOLLO-9", "VEGA-1"]),
    ("(project = VEGA OR issuetype = Bug) and status = Blocked", ["APOLLO-9"]),
    ("not status = Done AND project = APOLLO", ["APOLLO-1", "APOLLO-10", "APOLLO-9"]),
    ("NOT (status = Done AND project = APOLLO) AND project = APOLLO", ["APOLLO-1", "APOLLO-10", "APOLLO-9"]),
    ("project = ORION || issuetype = Epic && status != Closed", ["APOLLO-1", "ORION-3"]),
    ("NOT NOT status = Done", ["APOLLO-2"]),
])
def test_precedence(jql, expected):
    assert keys(jql) == sorted(expected, key=lambda k: (k.split("-")[0], int(k.split("-")[1])))


def ordered(jql: str) -> list[str]:
    q = parse(jql)
    return [r.key for r in sorted(ISSUES, key=q.sort_key)]


def test_order_by_key_is_numeric_within_project():
    assert ordered("project is not empty ORDER BY key") == [
        "APOLLO-1", "APOLLO-2", "APOLLO-9", "APOLLO-10", "ORION-3", "VEGA-1"]
    assert ordered("ORDER BY issuekey DESC") == [
        "VEGA-1", "ORION-3", "APOLLO-10", "APOLLO-9", "APOLLO-2", "APOLLO-1"]


def test_order_by_several_fields_with_directions_and_empty_last():
    assert ordered("ORDER BY issuetype ASC, key DESC") == [
        "APOLLO-9", "VEGA-1", "APOLLO-1", "ORION-3", "APOLLO-10", "APOLLO-2"]
    assert ordered("ORDER BY due DESC, key") == [
        "APOLLO-1", "APOLLO-2", "APOLLO-9", "APOLLO-10", "ORION-3", "VEGA-1"]
    assert ordered("ORDER BY due ASC, key") == [
        "APOLLO-2", "APOLLO-1", "APOLLO-9", "APOLLO-10", "ORION-3", "VEGA-1"]
    assert ordered("ORDER BY assignee DESC, created") == [
        "APOLLO-9", "APOLLO-1", "VEGA-1", "APOLLO-2", "APOLLO-10", "ORION-3"]


def test_query_shape_for_the_server():
    q = parse('project = APOLLO AND "Epic Link" in (APOLLO-1) AND cf[10014] = APOLLO-1 '
              "ORDER BY updatedDate DESC, key")
    assert q.bounded
    assert q.order_by == [("updated", "DESC"), ("key", "ASC")]
    assert q.fields == {"project", "epic link", "cf[10014]", "updated", "key"}
    unbounded = parse("order by key desc")
    assert not unbounded.bounded and unbounded.where is None
    assert not parse("").bounded


def test_unknown_fields_are_reported_by_the_site_check():
    q = parse('"Start date" <= now() AND bogus = 1')
    parse('"Start date" <= now() ORDER BY Key').check_fields({"start date", "key"})
    with pytest.raises(JqlError, match="Field 'bogus' does not exist or you do not have permission to view it"):
        q.check_fields({"start date", "key"})
    with pytest.raises(JqlError, match="Field 'bogus' does not exist"):
        q.matches(Rec(key="X-1", **{"start date": date(2026, 1, 1)}), NOW)


def test_custom_fields_compare_by_the_value_type():
    r = Rec(key="X-1", **{"start date": date(2026, 3, 1), "story points": 5.0, "pmo phase": "Execution"})
    assert parse('"Start date" < startOfMonth()').matches(r, NOW) is False
    assert parse('"Start date" >= 2026/03/01').matches(r, NOW) is True
    assert parse('"Story Points" > 3 AND "story points" in (5, 8)').matches(r, NOW) is True
    assert parse('"PMO Phase" = execution AND "PMO Phase" != Closing').matches(r, NOW) is True
    with pytest.raises(JqlError, match="Date value 'soon'"):
        parse('"Start date" > soon').matches(r, NOW)


def test_server_can_compile_once_per_search():
    q = parse("project = APOLLO AND statusCategory != Done ORDER BY key DESC")
    hits = sorted(filter(q.predicate(NOW), ISSUES), key=q.sort_key)
    assert [r.key for r in hits] == ["APOLLO-10", "APOLLO-9", "APOLLO-1"]
    assert parse("ORDER BY key").predicate(NOW)(ISSUES[0])


def test_repeated_sort_fields_are_ignored_like_jira():
    assert parse("ORDER BY key DESC, created, KEY ASC").order_by == [("key", "DESC"), ("created", "ASC")]


def test_now_is_injected_and_recompiled_when_it_changes():
    q = parse("updated >= -1d")
    r = Rec(key="X-1", updated=NOW - timedelta(hours=23))
    assert q.matches(r, NOW)
    assert not q.matches(r, NOW + timedelta(hours=2))


def test_naive_and_aware_datetimes_compare_as_utc():
    r = Rec(key="X-1", created=datetime(2026, 1, 1, 9, 0))
    assert parse('created < "2026-01-01 10:00"').matches(r, NOW)
    assert parse('created > "2026-01-01 08:59"').matches(r, NOW.replace(tzinfo=None))
    aware = Rec(key="X-1", created=datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc))
    assert parse('created = "2026-01-01 09:00"').matches(aware, NOW.replace(tzinfo=None))


@pytest.mark.parametrize("jql, message", [
    ("project = APOLLO foo", "Expecting either 'OR' or 'AND' but got 'foo'. (line 1, character 18)"),
    ("project = APOLLO AND", "Expecting a field name at the end of the query"),
    ("project =", "Expecting either a value, list or function before the end of the query"),
    ("project APOLLO", "Expecting operator but got 'APOLLO'. The valid operators are"),
    ("project", "Expecting operator before the end of the query"),
    ('summary ~ "unfinished', "The quoted string 'unfinished' has not been completed. (line 1, character 11)"),
    ("(project = APOLLO", "Expecting ')' before the end of the query"),
    ("project = APOLLO)", "Expecting either 'OR' or 'AND' but got ')'"),
    ("project in (A, )", "Expecting either a value, list or function but got ')'"),
    ("project in A", "Expecting '(' but got 'A'"),
    ("project = (A, B)", "does not support the multi-value operand"),
    ("status ~ Done", "The operator '~' is not supported by the 'status' field."),
    ("summary = foo", "The operator '=' is not supported by the 'summary' field."),
    ("labels was x", "The operator 'was' is not supported by the 'labels' field"),
    ("status == Done", "Expecting either a value, list or function but got '='"),
    ("project = APOLLO AND ()", "Expecting a field name but got ')'"),
    ("AND project = A", "'and' is a reserved JQL word"),
    ('issueFunction in linkedIssuesOf("project = A")',
     "Field 'issueFunction' does not exist or you do not have permission to view it."),
    ("text = launch", "The operator '=' is not supported by the 'text' field."),
    ("assignee in membersOf(admins)", "Unable to find JQL function 'membersOf(admins)'."),
    ("updated > yesterday()", "Unable to find JQL function 'yesterday()'."),
    ("updated > now(1)", "Function 'now' expected '0' arguments but received '1'."),
    ("updated > startOfDay(soon)", "expected '(+/-)nn(y|M|w|d|h|m)'"),
    ("status = now()", "A value provided by the function 'now' is invalid for the field 'status'."),
    ("created > yesterday", "Date value 'yesterday' for field 'created' is invalid. Valid formats include"),
    ('created > "2026-13-01"', "Date value '2026-13-01' for field 'created' is invalid"),
    ("key = launch", "The issue key 'launch' for field 'key' is invalid."),
    ("parent = 'APOLLO 1'", "The issue key 'APOLLO 1' for field 'parent' is invalid."),
    ("statusCategory = Finished", "The value 'Finished' does not exist for the field 'statusCategory'."),
    ("assignee is bob", "Expecting 'EMPTY' or 'NULL' but got 'bob'"),
    ("due > EMPTY", "does not support the value EMPTY"),
    ("summary ~ EMPTY", "The operator '~' does not support the value EMPTY"),
    ("assignee > currentUser()", "The operator '>' is not supported by the 'assignee' field."),
    ('"Team lead" > currentUser()', "The operator '>' does not support the function 'currentuser'"),
    ("summary ~ now()", "The operator '~' does not support the function 'now'"),
    ("created = currentUser()", "A value provided by the function 'currentUser' is invalid for the field 'created'."),
    ("summary ~ ''", "does not support searching for an empty string"),
    ("summary ~ '*pad'", "not allowed to start with a wildcard"),
    ("labels = a*", "The character '*' is a reserved JQL character"),
    (r'summary ~ "a\qb"', "'\\q' is an illegal JQL escape sequence"),
    ("ORDER BY key, created, updated, status, priority, summary, due, assignee",
     "The ORDER BY clause can have at most 7 fields"),
    ("ORDER BY", "Expecting a field name at the end of the query"),
    ("project = A ORDER BY key sideways", "Expecting either 'OR' or 'AND' but got 'sideways'"),
    ("project = A\nAND status = ", "Expecting either a value, list or function before the end of the query"),
    ("project = A\n AND foo bar", "Expecting operator but got 'bar'. The valid operators are '=', '!=', '<', '>', "
                                  "'<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'. (line 2, character 10)"),
])
def test_invalid_queries_are_rejected_with_jira_wording(jql, message):
    with pytest.raises(JqlError) as err:
        parse(jql)
    assert message in str(err.value)
    assert isinstance(err.value, ValueError)


def test_string_escapes_and_single_quotes():
    r = Rec(key="X-1", labels=['say "hi"'], summary="it's done")
    assert parse(r'labels = "say \"hi\""').matches(r, NOW)
    assert parse("labels = 'say \"hi\"'").matches(r, NOW)
    assert parse(r"labels = 'say \u0022hi\u0022'").matches(r, NOW)
