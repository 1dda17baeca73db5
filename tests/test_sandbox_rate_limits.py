"""Jira Cloud's burst and per-issue write limits, opt-in on the sandbox, answer 429 with Cloud's
headers; the client waits them out; a write whose answer is lost still lands."""

from __future__ import annotations

import pytest
import requests

from pmo_jira.jira.client import JiraClient
from pmo_jira.sandbox.faults import Faults
from pmo_jira.sandbox.ratelimit import RateLimits
from pmo_jira.sandbox.server import SandboxServer

from sandbox_fixtures import api, session_for


def test_per_issue_writes_past_twenty_in_two_seconds_answer_429(sandbox):
    now = [0.0]  # the site's rate-limit clock stands still unless the test moves it
    site = sandbox("cloud", rate_limits=RateLimits(per_issue=True, clock=lambda: now[0]))
    http = session_for(site)
    rec = site.store.issue("DIG-1")
    answers = []
    for n in range(21):
        ref = rec.key if n % 2 else str(rec.id)  # key and id name the same issue, and share its window
        answers.append(http.put(api(site, f"issue/{ref}/properties/p{n}"), json={"n": n}))
    assert [a.status_code for a in answers[:20]] == [201] * 20
    assert answers[-1].status_code == 429
    h = answers[-1].headers
    assert h["RateLimit-Reason"] == "jira-per-issue-on-write"
    assert int(h["Retry-After"]) >= 1 and h["X-RateLimit-Limit"] == "20" and h["X-RateLimit-Remaining"] == "0"
    assert h["X-RateLimit-Reset"].endswith("Z") and "T" in h["X-RateLimit-Reset"]
    assert answers[16].headers.get("X-RateLimit-NearLimit") == "true"  # 17th of 20: under 20% left
    assert "X-RateLimit-NearLimit" not in answers[0].headers
    assert "p20" not in (rec.properties or {})  # refused writes do not land
    # other issues and reads are not limited by DIG-1's writes
    assert http.put(api(site, "issue/DIG-2/properties/p0"), json=1).status_code == 201
    assert http.get(api(site, "issue/DIG-1")).status_code == 200
    now[0] += 2.0  # the 2-second window has passed; the 30-second one still has room
    assert http.put(api(site, "issue/DIG-1/properties/p20"), json=20).status_code == 201


def test_burst_limit_is_per_endpoint_and_method(sandbox):
    now = [0.0]
    site = sandbox("cloud", rate_limits=RateLimits(burst_rate=2, clock=lambda: now[0]))
    http = session_for(site)
    answers = [http.get(api(site, "myself")) for _ in range(21)]
    assert [a.status_code for a in answers] == [200] * 20 + [429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2" and answers[0].headers["X-RateLimit-Remaining"] == "19"
    refused = answers[-1].headers
    assert refused["RateLimit-Reason"] == "jira-burst-based" and refused["Retry-After"] == "1"
    assert http.get(api(site, "serverInfo")).status_code == 200  # another endpoint, another bucket
    assert http.post(api(site, "jql/parse"), json={"queries": ["project = DIG"]}).status_code == 200
    now[0] += 0.5
    assert http.get(api(site, "myself")).status_code == 200  # refilled at 2 a second


def test_rate_limits_are_clouds():
    with pytest.raises(ValueError, match="Jira Cloud's"):
        SandboxServer("dc", issues=5, rate_limits=RateLimits(per_issue=True))
    with pytest.raises(ValueError, match="above 0"):
        RateLimits(burst_rate=0)


def test_the_client_waits_out_burst_429s(sandbox):
    now, slept = [0.0], []

    def sleep(seconds):  # simulated time for both sides: the bucket refills only while the client waits
        slept.append(seconds)
        now[0] += seconds

    site = sandbox("cloud", issues=40, rate_limits=RateLimits(burst_rate=4, clock=lambda: now[0]))
    client = JiraClient(site.url, site.credentials, sleep=sleep, clock=lambda: now[0])
    values = [client.get_property("DIG-1", "pmo-jira.state") for _ in range(45)]
    assert values == [None] * 45  # every read answered in the end
    refused = site.log.matching(status=429)
    assert len(refused) >= 1 and len(site.log.matching(status=404)) == 45
    assert slept and min(slept) >= 1  # Retry-After honoured


def test_drop_after_apply_lands_the_write_and_loses_the_answer(sandbox):
    site = sandbox("cloud", faults=Faults(rate_drop_after_apply=1.0, only_paths=r"/comment$",
                                          only_methods=frozenset({"POST"})))
    http = session_for(site)
    rec = site.store.issue("DIG-3")
    before = len(rec.comments or ())
    body = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}]}
    with pytest.raises(requests.ConnectionError):
        http.post(api(site, "issue/DIG-3/comment"), json={"body": body})
    assert len(rec.comments) == before + 1
    assert site.log.matching(method="POST", path="/comment$")[-1].status == 0
    assert http.get(api(site, "issue/DIG-3/comment")).status_code == 200  # GETs are not faulted
