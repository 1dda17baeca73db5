"""The sandbox's search index: narrowing by project, key and type never changes what a query finds."""

from __future__ import annotations

import pytest

from pmo_jira.sandbox import jql as jqlmod
from pmo_jira.sandbox.generator import REFERENCE_NOW, generate
from pmo_jira.sandbox.server import SandboxApp
from pmo_jira.sandbox.store import IssueRec

QUERIES = [
    "project = WEB",
    'project in (web, "Mobile App", 10002) AND issuetype = epic',
    "issuetype in (Story, Risk) ORDER BY key DESC",
    "project = WEB AND key > WEB-20 ORDER BY key ASC",
    "project = WEB AND key >= WEB-20",
    "key > DIG-5 OR issuetype = Epic",
    "key in (WEB-3, dig-4) OR key = WEB-7",
    "NOT project = WEB AND issuetype = Bug",
    "project != WEB AND issuetype = Bug",
    "(project = WEB OR project = DIG) AND status = Done",
    "project = WEB AND assignee is EMPTY",
    "key = 10005",
    "updated > -30d AND project = DIG",
]


def _scan(app: SandboxApp, text: str) -> list[str]:
    """What a search finds without the index: every visible issue tested, Jira's default order."""
    query = jqlmod.parse(text)
    pred = query.predicate(app.store.clock())

    class Acc:
        rec: IssueRec | None = None

        def jql_value(self, name: str):
            return app.jql_getters[name](self.rec)

    acc = Acc()
    found = []
    for rec in app.store.issues:
        acc.rec = rec
        if app.store.projects[rec.project].browsable and pred(acc):
            found.append(rec)
    if query.order_by:
        def key(rec: IssueRec) -> tuple:
            acc.rec = rec
            return query.sort_key(acc) + (-rec.id,)
        found.sort(key=key)
    else:
        found.reverse()
    return [r.key for r in found]


@pytest.fixture(scope="module", params=["cloud", "dc"])
def app(request) -> SandboxApp:
    return SandboxApp(generate(request.param, 600, seed=3, now=REFERENCE_NOW))


@pytest.mark.parametrize("text", QUERIES)
def test_indexed_search_finds_what_a_full_scan_finds(app: SandboxApp, text: str):
    _, found = app.matches(app.parse_jql(text, cloud_search=False))
    assert [r.key for r in found] == _scan(app, text)


def test_a_key_range_looks_only_at_the_rest_of_that_project(app: SandboxApp):
    web = [r for r in app.store.issues if r.project == "WEB"]
    assert len(web) > 30
    candidates = app.index.candidates(jqlmod.parse("project in (WEB, DIG) AND key > WEB-10"))
    assert {r.key for r in candidates} == {r.key for r in web if int(r.key.split("-")[1]) > 10}


def test_project_lookup_by_key_name_or_id_ignores_case(app: SandboxApp):
    web = app.store.projects["WEB"]
    for ref in ("WEB", "web", web.name.upper(), web.id):
        assert app.find_project(ref) is web
    assert app.find_project("no such project") is None


def test_an_edit_and_a_new_issue_are_seen_by_the_next_search():
    app = SandboxApp(generate("cloud", 300, seed=5, now=REFERENCE_NOW))
    text = "project = DIG AND issuetype = Bug"
    before = [r.key for r in app.matches(app.parse_jql(text, cloud_search=True))[1]]
    story = next(r for r in app.store.issues if r.project == "DIG" and r.type == "Story")
    app.store.edit(story.key, type="Bug")  # a person changes the type
    after = [r.key for r in app.matches(app.parse_jql(text, cloud_search=True))[1]]
    assert story.key in after and story.key not in before
    assert after == _scan(app, text)

    last = app.store.issues[-1]
    added = IssueRec(last.id + 1, f"DIG-{10_000}", "DIG", "Bug", "new", "To Do", last.created, last.updated,
                     last.updated)
    app.store.add_issue(added)
    app.store.edit(added.key, summary="filed today")
    found = [r.key for r in app.matches(app.parse_jql(text, cloud_search=True))[1]]
    assert found[0] == added.key and found == _scan(app, text)


def test_a_query_is_parsed_once_and_still_checked_against_the_site(app: SandboxApp):
    text = "project = WEB AND issuetype = Epic"
    first = app.parse_jql(text, cloud_search=True)
    assert app.parse_jql(text, cloud_search=True) is first
    from pmo_jira.sandbox.server import HttpError
    with pytest.raises(HttpError) as err:
        app.parse_jql("project = VAULT", cloud_search=True)
    assert "does not exist for the field" in err.value.body["errorMessages"][0]



WINDOWS = [  # Data Center's key windows: (the scope query) AND projects done AND after the last key read
    ("project in (WEB, DIG, MOB) AND issuetype in (Epic, Story)", 'project not in ("DIG")'),
    ("issuetype in (Epic, Story, Bug)", 'project not in (DIG, "WEB") AND key > "MOB-3"'),
    ("issuetype = Story", 'key > "web-10"'),
    ("issuetype = Story", 'project not in (WEB) AND key > "WEB-10"'),
    ("issuetype = Story", 'project not in ("Mobile App", 10002)'),
    ("issuetype = Story", 'key > "NOPE-1"'),
    ("(issuetype = Story) AND project not in (DIG)", 'key > "WEB-2"'),
]


@pytest.mark.parametrize("scope, window", WINDOWS)
def test_a_key_window_is_cut_from_its_scope_query_and_finds_what_a_full_scan_finds(app: SandboxApp, scope: str,
                                                                                    window: str, monkeypatch):
    evaluated: list[jqlmod.Query] = []
    evaluate = app._evaluate
    monkeypatch.setattr(app, "_evaluate", lambda query, stale: evaluated.append(query) or evaluate(query, stale))
    text = f"({scope}) AND {window} ORDER BY key ASC"
    _, found = app.matches(app.parse_jql(text, cloud_search=False))
    assert [r.key for r in found] == _scan(app, text)
    # at most the scope query itself is evaluated (once per site: an earlier window may have done it)
    assert [q.where for q in evaluated] in ([], [jqlmod.parse(scope).where])
    done = len(evaluated)
    other = f"({scope}) AND project not in (OPS) ORDER BY key ASC"
    assert [r.key for r in app.matches(app.parse_jql(other, cloud_search=False))[1]] == _scan(app, other)
    assert len(evaluated) == done  # the next window is cut from the same result


def test_a_query_written_differently_but_parsed_alike_is_evaluated_once(app: SandboxApp, monkeypatch):
    """A Data Center client's first key window is its scope query in parentheses: one evaluation
    serves both, while a query that selects something else is evaluated on its own."""
    app._cache.clear()
    evaluated: list[jqlmod.Query] = []
    evaluate = app._evaluate
    monkeypatch.setattr(app, "_evaluate", lambda query, stale: evaluated.append(query) or evaluate(query, stale))
    texts = ["project in (WEB, DIG) AND issuetype in (Epic, Story) ORDER BY key ASC",
             "(project in (WEB, DIG) AND issuetype in (Epic, Story)) ORDER BY key ASC",
             "project  in (WEB,DIG) and issuetype in (Epic,Story) order by key asc"]
    results = [[r.key for r in app.matches(app.parse_jql(t, cloud_search=False))[1]] for t in texts]
    assert results[0] == results[1] == results[2] == _scan(app, texts[0])
    assert len(evaluated) == 1
    other = "project in (WEB, DIG) AND issuetype in (Epic, Story) ORDER BY key DESC"
    assert [r.key for r in app.matches(app.parse_jql(other, cloud_search=False))[1]] == _scan(app, other)
    assert len(evaluated) == 2
