"""End to end against the in-process sandbox, both flavours: full reads, writes, faults, cost."""

from __future__ import annotations

import math

import pytest

from pmo_jira.jira.client import JiraClient
from pmo_jira.jira.payloads import parse_comment, parse_issue
from pmo_jira.model import Doc, Flavour, Paragraph, Text
from pmo_jira.sandbox.faults import Faults
from pmo_jira.sandbox.server import SandboxServer

from client_fixtures import FakeTime

# The logical fields of mappings/sandbox.yaml, bound by name or schema as the mapping does.
SPECS = {"owner": "assignee", "start": "Start date",
         "target_end": {"schema": "com.atlassian.jpo:jpo-custom-field-baseline-end"},
         "story_points": ["Story point estimate", "Story Points"], "phase": "PMO Phase",
         "risk_impact": "Risk Impact", "risk_mitigation": "Mitigation", "epic_link": "Epic Link"}
BASE_FIELDS = ["summary", "status", "issuetype", "project", "created", "updated", "labels", "assignee",
               "reporter", "priority", "description", "duedate", "resolutiondate", "statuscategorychangedate",
               "parent", "issuelinks"]


def _client(sb: SandboxServer, time: FakeTime, **kwargs) -> JiraClient:
    return JiraClient(sb.url, sb.credentials, sleep=time.sleep, clock=time.clock, site_name="sandbox", **kwargs)


def _read_all(client: JiraClient):
    keys = [p["key"] for p in client.projects()]
    fieldmap = {name: f["id"] for name, spec in SPECS.items() if (f := client.resolve_field(spec))}
    jql = f"project in ({', '.join(keys)}) ORDER BY key ASC"
    props = ["pmo.sync"] if client.flavour is Flavour.CLOUD else []  # Data Center search has none
    raws = list(client.search(jql, BASE_FIELDS + sorted(set(fieldmap.values())), properties=props))
    return [parse_issue(r, site="sandbox", base_url=client.base_url, flavour=client.flavour, fieldmap=fieldmap)
            for r in raws]


def _visible(sb: SandboxServer) -> set[str]:
    return {i.key for i in sb.store.issues if sb.store.projects[i.project].browsable}


@pytest.mark.parametrize("page_size", [7, 23, 50, 100])
def test_dc_reads_past_the_result_window_in_key_windows(monkeypatch, page_size):
    # Data Center refuses pages past max_result_window (10,000 by default); shrink it to keep this
    # quick. Several page sizes put project boundaries at page ends and in the middle of pages.
    monkeypatch.setattr("pmo_jira.sandbox.server.DC_RESULT_WINDOW", 300)
    monkeypatch.setattr("pmo_jira.jira.client.DC_RESULT_WINDOW", 300)
    with SandboxServer(flavour="dc", issues=900, seed=3) as sb:
        client = _client(sb, FakeTime(), page_size=page_size)
        issues = _read_all(client)
        keys = [i.key for i in issues]
        assert len(keys) == len(set(keys)), "no issue is read twice"
        assert sorted(keys) == sorted(_visible(sb))
        assert not sb.log.count(status=400) and not sb.log.count(status=500)
        searches = sb.log.matching(path=r"/search$")
        assert any("key+%3E" in r.query for r in searches), "the read went past the window by key"
        # one extra request at most per project (to see it end) plus the first, discarded page
        assert len(searches) <= math.ceil(len(issues) / page_size) + 2 * len(sb.store.projects) + 1


@pytest.mark.parametrize("order, reread", [("ORDER BY key ASC", False), ("ORDER BY key", False),
                                           ("ORDER BY created DESC", True)])
def test_dc_key_windows_take_over_from_a_first_page_in_key_order_without_reading_it_again(monkeypatch, order,
                                                                                       reread):
    monkeypatch.setattr("pmo_jira.sandbox.server.DC_RESULT_WINDOW", 300)
    monkeypatch.setattr("pmo_jira.jira.client.DC_RESULT_WINDOW", 300)
    with SandboxServer(flavour="dc", issues=900, seed=3) as sb:
        client = _client(sb, FakeTime(), page_size=50)
        keys = [p["key"] for p in client.projects()]
        raws = list(client.search(f"project in ({', '.join(keys)}) {order}", ["summary"]))
        assert sorted(r["key"] for r in raws) == sorted(_visible(sb)) and len(raws) == len(_visible(sb))
        firsts = [r for r in sb.log.matching(path=r"/search$")
                  if "startAt=0" in r.query and "key+%3E" not in r.query and "not+in" not in r.query]
        # the first page of the search and, only when it was in another order, the first window's
        assert len(firsts) == (2 if reread else 1)


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_reads_every_visible_issue(flavour):
    with SandboxServer(flavour=flavour, issues=400, seed=3) as sb:
        client = _client(sb, FakeTime())
        assert client.flavour is Flavour(flavour)
        issues = _read_all(client)
        assert {i.key for i in issues} == _visible(sb) and len(issues) == len(_visible(sb))
        epics = [i for i in issues if i.issue_type == "Epic"]
        assert epics and all(i.hierarchy_level == 1 for i in epics)
        children = [i for i in issues if i.parent_key and i.hierarchy_level == 0]
        assert children and {c.parent_key for c in children} <= {e.key for e in epics}
        assert {"start", "target_end", "story_points", "phase"} <= set(issues[0].fields)


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_writes_round_trip(flavour):
    with SandboxServer(flavour=flavour, issues=60, seed=4, bot_is_admin=True) as sb:
        client = _client(sb, FakeTime())
        key = next(iter(sorted(_visible(sb))))
        client.edit_labels(key, ["pmo-gov-001", "pmo-managed"], [], notify=False)
        client.edit_labels(key, [], ["pmo-gov-001"], notify=False)
        assert "pmo-managed" in client.issue(key, ["labels"])["fields"]["labels"]
        assert "pmo-gov-001" not in client.issue(key, ["labels"])["fields"]["labels"]

        doc = Doc((Paragraph((Text("PMO audit: owner missing [~admin] *x*"),)),))
        created = client.add_comment(key, doc)
        comments = [parse_comment(c, client.flavour) for c in client.comments(key)]
        assert comments[-1].id == str(created["id"])
        assert comments[-1].body_text == "PMO audit: owner missing [~admin] *x*"
        client.edit_comment(key, str(created["id"]), Doc((Paragraph((Text("resolved"),)),)), notify=False)
        assert parse_comment(client.comments(key)[-1], client.flavour).body_text == "resolved"

        assert client.get_property(key, "pmo.sync") is None
        client.set_property(key, "pmo.sync", {"hash": "abc", "comment_id": str(created["id"])})
        assert client.get_property(key, "pmo.sync") == {"hash": "abc", "comment_id": str(created["id"])}
        raw = client.issue(key, ["summary"], properties=["pmo.sync"])
        assert raw["properties"]["pmo.sync"]["hash"] == "abc"


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_faults_do_not_change_what_is_read(flavour):
    with SandboxServer(flavour=flavour, issues=400, seed=5) as sb:
        clean = [(i.key, i.updated, i.fields) for i in _read_all(_client(sb, FakeTime()))]
        sb.faults = Faults(rate_429=0.2, rate_503=0.05, retry_after=1, seed=11)
        time = FakeTime()
        client = _client(sb, time, page_size=25)
        faulty = [(i.key, i.updated, i.fields) for i in _read_all(client)]
        assert faulty == clean
        retried = sb.log.count(status=429) + sb.log.count(status=503)
        assert retried > 5 and len(time.sleeps) == retried
        assert min(time.sleeps) >= 1  # Retry-After: 1 honoured as a minimum


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_full_read_costs_one_request_per_page(flavour):
    with SandboxServer(flavour=flavour, issues=10_000, seed=6) as sb:
        client = _client(sb, FakeTime(), page_size=100)
        keys = [p["key"] for p in client.projects()]
        sb.log.clear()
        count = sum(len(page) for page in client.search_pages(
            f"project in ({', '.join(keys)})", ["summary", "status"]))
        assert count == len(_visible(sb))
        assert sb.log.count(path=r"/search") == math.ceil(count / 100)
        assert len(sb.log) == sb.log.count(path=r"/search")
