"""Fault injection: scheduled and random 429/503/slow/dropped answers, and the request log."""

from __future__ import annotations

import time

import pytest
import requests

from pmo_jira.sandbox.faults import Fault, Faults, parse_schedule

from sandbox_fixtures import api, session_for


def _statuses(http, site, n, path="serverInfo"):
    out = []
    for _ in range(n):
        try:
            out.append(http.get(api(site, path)).status_code)
        except requests.ConnectionError:
            out.append("dropped")
    return out


def test_scheduled_faults_hit_exactly_the_named_requests(sandbox):
    site = sandbox("cloud", issues=30, faults=Faults(schedule=parse_schedule("2,3:429;5:503"), retry_after=7))
    http = session_for(site)
    assert _statuses(http, site, 6) == [200, 429, 429, 200, 503, 200]
    limited = site.log.matching(status=429)
    assert [r.path for r in limited] == ["/rest/api/3/serverInfo"] * 2


def test_429_carries_retry_after_and_rate_limit_headers(sandbox):
    cloud = sandbox("cloud", issues=30, faults=Faults(retry_after=3).at(1, "429"))
    response = session_for(cloud).get(api(cloud, "myself"))
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert response.headers["RateLimit-Reason"] == "jira-burst-based"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    dc = sandbox("dc", issues=30, faults=Faults().at("1", "429").at("2", "503"))
    http = session_for(dc)
    limited = http.get(api(dc, "myself"))
    assert limited.headers["X-RateLimit-FillRate"] and "RateLimit-Reason" not in limited.headers
    unavailable = http.get(api(dc, "myself"))
    assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "1"


def test_dropped_connection_gives_no_answer(sandbox):
    site = sandbox("cloud", issues=30, faults=Faults().at(1, "drop"))
    with pytest.raises(requests.ConnectionError):
        requests.get(api(site, "serverInfo"), headers=site.auth_headers)
    assert requests.get(api(site, "serverInfo"), headers=site.auth_headers).status_code == 200
    assert [r.status for r in site.log] == [0, 200]


def test_slow_responses_are_delayed(sandbox):
    site = sandbox("cloud", issues=30, faults=Faults().at(2, "slow", delay=0.3))
    http = session_for(site)
    http.get(api(site, "serverInfo"))
    began = time.perf_counter()
    assert http.get(api(site, "serverInfo")).status_code == 200
    assert time.perf_counter() - began >= 0.3


def test_rates_are_reproducible_with_a_seed_and_changeable_at_run_time(sandbox):
    runs = []
    for _ in range(2):
        site = sandbox("cloud", issues=30, faults=Faults(rate_429=0.3, rate_503=0.2, seed=5))
        runs.append(_statuses(session_for(site), site, 40))
    assert runs[0] == runs[1]
    assert 5 < runs[0].count(429) < 20 and 0 < runs[0].count(503) < 16
    site.faults.clear()
    assert set(_statuses(session_for(site), site, 10)) == {200}
    site.faults.rate_503 = 1.0
    assert set(_statuses(session_for(site), site, 3)) == {503}


def test_only_paths_limits_faults_to_matching_requests(sandbox):
    site = sandbox("cloud", issues=30, faults=Faults(rate_429=1.0, only_paths=r"/search/jql$"))
    http = session_for(site)
    assert http.get(api(site, "serverInfo")).status_code == 200
    assert http.get(api(site, "search/jql"), params={"jql": "project = DIG"}).status_code == 429


def test_request_log_counts_and_clears(sandbox):
    site = sandbox("dc", issues=30)
    http = session_for(site)
    http.get(api(site, "search"), params={"jql": "project = DIG"})
    http.get(api(site, "issue/DIG-1"))
    http.put(api(site, "issue/DIG-1/properties/p"), json={"a": 1})
    assert len(site.log) == 3
    assert site.log.count(method="GET") == 2 and site.log.count(path=r"/properties/") == 1
    assert site.log[0].query == "jql=project+%3D+DIG" and site.log[2].status == 201
    site.log.clear()
    assert len(site.log) == 0


def test_bad_fault_settings_are_rejected():
    with pytest.raises(ValueError, match="needs 'requests:fault'"):
        parse_schedule("3")
    with pytest.raises(ValueError, match="unknown fault"):
        parse_schedule("3:500")
    with pytest.raises(ValueError, match="between 0 and 1"):
        Faults(rate_429=2)
    with pytest.raises(ValueError, match="more than 1"):
        Faults(rate_429=0.6, rate_503=0.6)
    assert parse_schedule("1-2:slow=0.2;4:drop") == {1: Fault("slow", 0.2), 2: Fault("slow", 0.2), 4: Fault("drop")}
