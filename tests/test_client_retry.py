"""The single retry layer: 429/503 honour the server's wait, transport errors only for reads."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
import requests
import responses

from pmo_jira.errors import JiraApiError, WritesStopped
from pmo_jira.jira.retry import RateGate, RetryPolicy, server_delay
from pmo_jira.model import Doc, Flavour, Paragraph, Text

from client_fixtures import CLOUD_URL, DC_URL, FakeTime, make_client, payload

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)
FIELDS = ["summary"]
DOC = Doc((Paragraph((Text("PMO audit"),)),))


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


def test_server_delay_reads_seconds_http_dates_and_iso_reset():
    assert server_delay({"Retry-After": "7"}, NOW) == 7
    assert server_delay({"Retry-After": "0"}, NOW) == 1  # DC sends 0 on 429; retrying at once just fails
    assert server_delay({"Retry-After": "Wed, 25 Nov 2026 18:00:30 GMT"}, NOW) == 30
    assert server_delay({"X-RateLimit-Reset": "2026-11-25T18:02Z"}, NOW) == 120
    assert server_delay({"Retry-After": "5", "X-RateLimit-Reset": "2026-11-25T18:00:20Z"}, NOW) == 20
    assert server_delay({"Retry-After": "soon"}, NOW) is None
    # digits int() refuses (superscripts) are no number of seconds, not a crash of the run
    assert server_delay({"RateLimit-Reset": "\u00b2"}, NOW) is None
    assert server_delay({"Retry-After": "\u00b2"}, NOW) is None
    assert server_delay({}, NOW) is None


def test_429_then_success_waits_at_least_retry_after(rsps):
    t = FakeTime()
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", status=429, headers={"Retry-After": "5"},
             json={"errorMessages": ["Rate limit exceeded."]})
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", json=payload("cloud", "search_jql_page") | {"isLast": True})
    client = make_client(Flavour.CLOUD, time=t)
    assert len(list(client.search("project = PM", FIELDS))) == 3
    assert len(t.sleeps) == 1 and t.sleeps[0] >= 5
    assert client.requests_made == 2
    assert client.gate.concurrency == 2  # halved after the 429


def test_429_with_reset_header_waits_until_reset(rsps):
    t = FakeTime()
    reset = (datetime.now(timezone.utc) + timedelta(seconds=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rsps.get(f"{CLOUD_URL}/rest/api/3/myself", status=429, headers={"X-RateLimit-Reset": reset})
    rsps.get(f"{CLOUD_URL}/rest/api/3/myself", json=payload("cloud", "myself"))
    make_client(Flavour.CLOUD, time=t).myself()
    assert 38 <= t.sleeps[0] <= 45


def test_503_then_success_backs_off(rsps):
    t = FakeTime()
    rsps.get(f"{DC_URL}/rest/api/2/field", status=503, body="Service Unavailable")
    rsps.get(f"{DC_URL}/rest/api/2/field", status=503, body="Service Unavailable")
    rsps.get(f"{DC_URL}/rest/api/2/field", json=payload("dc", "field"))
    client = make_client(Flavour.DC, time=t)
    assert len(client.fields()) == len(payload("dc", "field"))
    assert len(t.sleeps) == 2 and 0.7 <= t.sleeps[0] <= 1.3 and 1.4 <= t.sleeps[1] <= 2.6


def test_wait_budget_exhausted_names_status_and_budget(rsps):
    t = FakeTime()
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", status=429, headers={"Retry-After": "30"},
             json={"errorMessages": ["Rate limit exceeded."]})
    client = make_client(Flavour.CLOUD, time=t, max_wait=60)
    with pytest.raises(JiraApiError) as info:
        list(client.search("project = PM", FIELDS))
    err = info.value
    assert err.status == 429 and err.method == "GET" and err.url == "/rest/api/3/search/jql"
    assert "wait budget of 60s exhausted" in str(err) and "Rate limit exceeded." in str(err)
    assert sum(t.sleeps) <= 60


def test_connection_error_is_retried_for_a_get(rsps):
    t = FakeTime()
    rsps.get(f"{CLOUD_URL}/rest/api/3/issue/PM-1", body=requests.ConnectionError("reset by peer"))
    rsps.get(f"{CLOUD_URL}/rest/api/3/issue/PM-1", json=payload("cloud", "search_jql_page")["issues"][0])
    client = make_client(Flavour.CLOUD, time=t)
    assert client.issue("PM-1", FIELDS)["key"] == "PM-1"
    assert client.requests_made == 2


def test_connection_error_is_not_retried_for_comment_create(rsps):
    t = FakeTime()
    rsps.post(f"{CLOUD_URL}/rest/api/3/issue/PM-1/comment", body=requests.ConnectionError("reset by peer"))
    client = make_client(Flavour.CLOUD, time=t)
    with pytest.raises(JiraApiError) as info:
        client.add_comment("PM-1", DOC)
    assert client.requests_made == 1 and t.sleeps == []
    assert "cannot reach acme.atlassian.net" in str(info.value)
    assert "re-read before repeating" in str(info.value)


def test_comment_create_is_retried_on_429(rsps):
    t = FakeTime()
    rsps.post(f"{CLOUD_URL}/rest/api/3/issue/PM-1/comment", status=429, headers={"Retry-After": "2"})
    rsps.post(f"{CLOUD_URL}/rest/api/3/issue/PM-1/comment", status=201, json=payload("cloud", "comment_created"))
    client = make_client(Flavour.CLOUD, time=t)
    assert client.add_comment("PM-1", DOC)["id"] == "10203"
    assert t.sleeps[0] >= 2


def test_timeout_retried_for_reads_then_reported(rsps):
    t = FakeTime()
    rsps.get(f"{DC_URL}/rest/api/2/myself", body=requests.ReadTimeout("read timed out"))
    client = make_client(Flavour.DC, time=t, max_wait=5, timeout=12)
    with pytest.raises(JiraApiError) as info:
        client.myself()
    assert client.requests_made > 1
    assert "no answer from jira.acme.internal within 12s (timeout)" in str(info.value)
    assert info.value.status is None


def test_every_request_carries_a_timeout():
    seen = []

    class Recording(requests.Session):
        def request(self, method, url, **kwargs):
            seen.append(kwargs.get("timeout"))
            resp = requests.Response()
            resp.status_code, resp._content = 200, b'{"accountId": "x"}'
            resp.headers["Content-Type"] = "application/json"
            return resp

    make_client(Flavour.CLOUD, session=Recording(), timeout=9).myself()
    assert seen == [9]


def test_backoff_jitter_is_seeded():
    a = RetryPolicy(rng=random.Random(3))
    b = RetryPolicy(rng=random.Random(3))
    assert [a.backoff(n) for n in range(1, 6)] == [b.backoff(n) for n in range(1, 6)]
    assert all(0.7 * 2 ** (n - 1) <= a.backoff(n) <= 1.3 * 2 ** (n - 1) for n in range(1, 5))


def test_rate_gate_closes_for_everyone_after_429_and_recovers():
    t = FakeTime()
    gate = RateGate(concurrency=4, clock=t.clock, sleep=t.sleep, recover_after=2)
    gate.throttled(3.0)
    assert gate.wait_turn() == pytest.approx(3.0)
    assert gate.concurrency == 2
    for _ in range(4):
        gate.succeeded()
    assert gate.concurrency == 4
    assert gate.wait_turn() == 0.0


def test_rate_gate_keeps_each_issue_under_twenty_writes_per_two_seconds():
    t = FakeTime()
    gate = RateGate(clock=t.clock, sleep=t.sleep)
    waited = [gate.wait_turn("PM-1") for _ in range(45)]
    assert waited[:20] == [0.0] * 20 and waited[20] == pytest.approx(2.0)
    assert gate.wait_turn("PM-2") == 0.0  # other issues are not held back
    stamps = t.now
    assert stamps - 1000.0 == pytest.approx(4.0)


def test_writes_to_one_issue_are_paced(rsps):
    t = FakeTime()
    rsps.put(f"{CLOUD_URL}/rest/api/3/issue/PM-1/properties/pmo.sync", status=200, body="")
    client = make_client(Flavour.CLOUD, time=t)
    for n in range(21):
        client.set_property("PM-1", "pmo.sync", {"n": n})
    assert t.sleeps == [pytest.approx(2.0)]


def test_rate_gate_never_spins_when_sleep_does_not_move_the_clock():
    slept = []
    gate = RateGate(sleep=slept.append)  # real monotonic clock, simulated sleep
    gate.throttled(30.0)
    assert gate.wait_turn("PM-1") == pytest.approx(30.0, abs=0.5)
    assert len(slept) == 1


def test_attempt_cap_is_reported(rsps):
    t = FakeTime()
    rsps.get(f"{DC_URL}/rest/api/2/myself", status=503, headers={"Retry-After": "1"})
    client = make_client(Flavour.DC, time=t)
    client.retry.max_attempts = 3
    with pytest.raises(JiraApiError) as info:
        client.myself()
    assert client.requests_made == 3 and "gave up after 3 attempts" in str(info.value)
    assert info.value.status == 503 and "Jira is unavailable" in str(info.value)


# --- 429/503 and transport failures are counted apart; time, not count, bounds them -------------


def test_two_429_then_a_dropped_connection_is_retried_not_the_end_of_the_site(rsps):
    t = FakeTime()
    url = f"{CLOUD_URL}/rest/api/3/myself"
    rsps.get(url, status=429, headers={"Retry-After": "1"})
    rsps.get(url, status=429, headers={"Retry-After": "1"})
    rsps.get(url, body=requests.ConnectionError("connection reset by peer"))
    rsps.get(url, json=payload("cloud", "myself"))
    client = make_client(Flavour.CLOUD, time=t)
    assert client.myself()["accountId"] == payload("cloud", "myself")["accountId"]
    assert client.requests_made == 4


def test_three_transport_failures_end_a_request_even_between_429s(rsps):
    t = FakeTime()
    url = f"{DC_URL}/rest/api/2/myself"
    for body in ("drop", 429, "drop", 429, "drop"):
        if body == 429:
            rsps.get(url, status=429, headers={"Retry-After": "1"})
        else:
            rsps.get(url, body=requests.ConnectionError("connection reset by peer"))
    client = make_client(Flavour.DC, time=t)
    with pytest.raises(JiraApiError) as info:
        client.myself()
    assert client.requests_made == 5
    assert "cannot reach jira.acme.internal: connection failed" in str(info.value)
    assert "gave up after 5 attempts" in str(info.value)


def test_a_site_answering_429_is_retried_until_the_time_budget_not_a_count(rsps):
    t = FakeTime()
    rsps.get(f"{DC_URL}/rest/api/2/myself", status=429, headers={"Retry-After": "1"})
    client = make_client(Flavour.DC, time=t, max_wait=60)
    with pytest.raises(JiraApiError) as info:
        client.myself()
    assert client.requests_made > 30  # far past any count cap: every answer was a 429 and time was left
    assert sum(t.sleeps) <= 60
    assert f"exhausted after {client.requests_made} attempts and {sum(t.sleeps):.1f}s" in str(info.value)


class _Silent(requests.Session):
    """A server that accepts the connection and never answers: each attempt costs the timeout."""

    def __init__(self, t: FakeTime):
        super().__init__()
        self.t = t

    def request(self, method, url, **kwargs):
        self.t.now += kwargs["timeout"]
        raise requests.ReadTimeout("read timed out")


def test_a_silent_server_error_reports_the_true_time_spent():
    t = FakeTime()
    client = make_client(Flavour.DC, time=t, session=_Silent(t), timeout=30)
    started = t.now
    with pytest.raises(JiraApiError) as info:
        client.myself()
    took = t.now - started
    assert took > 90  # three timeouts of 30 s and the waits between them
    assert client.requests_made == 3
    assert f"gave up after 3 attempts and {took:.1f}s" in str(info.value)
    assert "no answer from jira.acme.internal within 30s (timeout)" in str(info.value)


def test_timed_out_attempts_count_against_the_time_budget():
    t = FakeTime()
    client = make_client(Flavour.DC, time=t, session=_Silent(t), timeout=30, max_wait=45)
    with pytest.raises(JiraApiError) as info:
        client.myself()
    assert client.requests_made == 2  # 30 s + a wait + 30 s: a third try would pass 45 s
    assert "retry wait budget of 45s exhausted after 2 attempts" in str(info.value)


def test_a_wait_longer_than_the_budget_stops_at_once_saying_so(rsps):
    t = FakeTime()
    rsps.get(f"{CLOUD_URL}/rest/api/3/myself", status=429, headers={"Retry-After": "1847"},
             json={"errorMessages": ["Rate limit exceeded."]})
    client = make_client(Flavour.CLOUD, time=t)
    with pytest.raises(JiraApiError) as info:
        client.myself()
    assert t.sleeps == [] and client.requests_made == 1
    assert "Jira asked to wait 1847s, more than the retry budget of 300s" in str(info.value)
    assert info.value.status == 429


def test_ratelimit_reset_in_seconds_is_honoured(rsps):
    t = FakeTime()
    rsps.get(f"{CLOUD_URL}/rest/api/3/myself", status=429, headers={"RateLimit-Reset": "12"})
    rsps.get(f"{CLOUD_URL}/rest/api/3/myself", json=payload("cloud", "myself"))
    make_client(Flavour.CLOUD, time=t).myself()
    assert 12 <= t.sleeps[0] <= 13.2


# --- the write breaker ------------------------------------------------------------------------------


def test_three_write_timeouts_in_a_row_stop_writes_not_reads(rsps):
    t = FakeTime()
    rsps.put(f"{DC_URL}/rest/api/2/issue/PM-1/properties/pmo.sync", body=requests.ReadTimeout("read timed out"))
    rsps.get(f"{DC_URL}/rest/api/2/field", json=payload("dc", "field"))
    client = make_client(Flavour.DC, time=t, timeout=30)
    with pytest.raises(JiraApiError) as info:
        client.set_property("PM-1", "pmo.sync", {"n": 1})  # three attempts, three timeouts
    assert "no answer from jira.acme.internal within 30s" in str(info.value)
    assert client.breaker.open and client.requests_made == 3
    with pytest.raises(WritesStopped) as stopped:
        client.set_property("PM-2", "pmo.sync", {"n": 2})
    assert client.requests_made == 3  # refused before it was sent
    assert "3 writes in a row got no answer within 30s (writeback.max_write_timeouts = 3)" in str(stopped.value)
    assert client.fields()  # reads still go


def test_an_answer_resets_the_count_of_write_timeouts(rsps):
    url = f"{DC_URL}/rest/api/2/issue/PM-1/properties/pmo.sync"
    rsps.put(url, body=requests.ReadTimeout("read timed out"))
    rsps.put(url, body=requests.ReadTimeout("read timed out"))
    rsps.put(url, status=200, body="")
    rsps.put(url, body=requests.ReadTimeout("read timed out"))
    rsps.put(url, body=requests.ReadTimeout("read timed out"))
    rsps.put(url, status=200, body="")
    client = make_client(Flavour.DC)
    client.set_property("PM-1", "pmo.sync", {"n": 1})
    client.set_property("PM-1", "pmo.sync", {"n": 2})
    assert not client.breaker.open and client.requests_made == 6
