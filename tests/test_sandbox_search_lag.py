"""Cloud's search is eventually consistent: with a search lag the sandbox shows an issue as it was
before a write until more writes happened, unless the search reconciles it; the client reconciles
its own writes."""

from __future__ import annotations

import pmo_jira.jira.client as client_module
from pmo_jira.jira.client import JiraClient, note_own_write

from sandbox_fixtures import api, session_for


def _keys(site, http, jql, **params):
    path = "search/jql" if site.flavour.value == "cloud" else "search"
    answer = http.get(api(site, path), params={"jql": jql, "fields": "labels", **params})
    assert answer.status_code == 200, answer.text
    return [i["key"] for i in answer.json()["issues"]]


def _label(http, site, key, label):
    assert http.put(api(site, f"issue/{key}"), json={"update": {"labels": [{"add": label}]}}).status_code == 204


def test_a_lagging_search_sees_the_old_issue_until_reconciled_or_caught_up(sandbox):
    site = sandbox("cloud", issues=60, search_lag=2)
    http = session_for(site)
    issue_id = site.store.by_key["DIG-1"].id
    _label(http, site, "DIG-1", "pmo-fresh")
    assert _keys(site, http, "labels = pmo-fresh") == []  # not indexed yet
    assert _keys(site, http, "labels = pmo-fresh", reconcileIssues=issue_id) == ["DIG-1"]
    assert http.get(api(site, "issue/DIG-1")).json()["fields"]["labels"][-1] == "pmo-fresh"  # GET is consistent
    _label(http, site, "DIG-2", "other")
    assert _keys(site, http, "labels = pmo-fresh") == []
    _label(http, site, "DIG-3", "other")  # two more writes: the index caught up
    assert _keys(site, http, "labels = pmo-fresh") == ["DIG-1"]
    too_many = http.get(api(site, "search/jql"), params={"jql": "project = DIG",
                                                          "reconcileIssues": list(range(10000, 10051))})
    assert too_many.status_code == 400 and "at most 50" in too_many.json()["errorMessages"][0]


def test_data_center_and_the_default_have_no_lag(sandbox, monkeypatch):
    monkeypatch.delenv("PMO_SANDBOX_SEARCH_LAG", raising=False)
    for site in (sandbox("dc", issues=60, search_lag=5), sandbox("cloud", issues=60)):
        http = session_for(site)
        _label(http, site, "DIG-1", "pmo-fresh")
        assert _keys(site, http, "labels = pmo-fresh") == ["DIG-1"]


def test_the_environment_switches_the_lag_on(sandbox, monkeypatch):
    monkeypatch.setenv("PMO_SANDBOX_SEARCH_LAG", "1")
    site = sandbox("cloud", issues=60)
    http = session_for(site)
    _label(http, site, "DIG-1", "pmo-fresh")
    assert _keys(site, http, "labels = pmo-fresh") == []


def test_the_client_reads_its_own_writes_back(sandbox, monkeypatch):
    monkeypatch.setattr(client_module, "_OWN_WRITES", {})
    site = sandbox("cloud", issues=60, search_lag=10)
    http = session_for(site)
    client = JiraClient(site.url, site.credentials)
    _label(http, site, "DIG-1", "pmo-fresh")
    assert [i["key"] for i in client.search("labels = pmo-fresh", ["labels"])] == []  # what Jira may answer
    note_own_write(site.url, site.store.by_key["DIG-1"].id)  # as the write-back does for each issue it writes
    assert [i["key"] for i in client.search("labels = pmo-fresh", ["labels"])] == ["DIG-1"]
    searches = [r for r in site.log if r.path.endswith("/search/jql")]
    assert f"reconcileIssues={site.store.by_key['DIG-1'].id}" in searches[-1].query


def test_a_sync_reconciles_its_own_writes_when_it_reads_them_back(pmo, monkeypatch):
    from urllib.parse import parse_qs

    from pmo_jira.sandbox.server import SandboxServer

    monkeypatch.setattr(client_module, "_OWN_WRITES", {})
    with SandboxServer("cloud", issues=150, seed=7, search_lag=10_000) as sb:  # nothing catches up by itself
        assert pmo.run(["sync", "--apply"], sb=sb).exit_code == 0
        written = {sb.store.by_key[r.path.split("/")[5]].id for r in sb.log
                   if r.method in ("PUT", "POST") and "/issue/" in r.path}
        assert written
        sb.log.clear()
        again = pmo.run(["sync"], sb=sb)
        assert again.exit_code == 0 and "0 issues to write (0 writes)" in again.output
        searches = [r for r in sb.log if r.path.endswith("/search/jql")]
        assert searches and all(written <= {int(i) for i in parse_qs(r.query)["reconcileIssues"]} for r in searches)
        # the control: a process that did not write (nothing to reconcile) still sees the old issues
        monkeypatch.setattr(client_module, "_OWN_WRITES", {})
        stale = pmo.run(["sync"], sb=sb)
        assert stale.exit_code == 0 and "0 issues to write (0 writes)" not in stale.output
