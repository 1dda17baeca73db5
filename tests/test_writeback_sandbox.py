"""Write-back end to end over HTTP: the real client and source against the sandbox, both flavours."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmo_jira.errors import WriteBackError
from pmo_jira.jira.client import JiraClient
from pmo_jira.jira.richtext import adf_to_text, wiki_to_text
from pmo_jira.jira.source import read_site
from pmo_jira.mapping import load_mapping
from pmo_jira.run.audit import required_fields, run_audit
from pmo_jira.sandbox.faults import Faults
from pmo_jira.sandbox.server import SandboxServer
from pmo_jira.writeback import STATE_PROPERTY, apply_plan, plan_writeback

MAPPING = Path(__file__).resolve().parent.parent / "mappings" / "sandbox.yaml"


@pytest.fixture(params=["cloud", "dc"])
def flavour(request):
    return request.param


@pytest.fixture
def sb(flavour):
    with SandboxServer(flavour=flavour, issues=60, seed=3) as server:
        yield server


def audit(sb, **client_options):
    """Read and audit the sandbox as ``pmo-jira sync`` does: real client, source and engine."""
    mapping = load_mapping(MAPPING)
    client = JiraClient(sb.url, sb.credentials, site_name="sandbox", **client_options)
    snapshot = read_site(client, mapping, required_fields(mapping), now=sb.now)
    result = run_audit([snapshot], mapping, today=sb.now.date(), now=sb.now)
    return result, mapping, client, {(i.site, i.key): i for i in snapshot.issues}


def plan_for(sb, **client_options):
    result, mapping, client, issues = audit(sb, **client_options)
    return client, plan_writeback(result, issues, mapping, now=sb.now)


def sync(sb, *, wrap=lambda c: c, on_notify_refused=None, client_options=None, **kw):
    result, mapping, client, issues = audit(sb, **(client_options or {}))
    plan = plan_writeback(result, issues, mapping, now=sb.now)
    wb = mapping.writeback
    report = apply_plan(plan, {"sandbox": wrap(client)}, notify=wb.notify,
                        on_notify_refused=on_notify_refused or wb.on_notify_refused, **kw)
    return client, plan, report


def comments(sb, key):
    with sb.store.lock:
        return list(sb.store.issue(key).comments or [])


def owned(sb, key):
    return [c for c in comments(sb, key) if c.author == sb.store.bot.account_id]


def text(c):
    return adf_to_text(c.body) if isinstance(c.body, dict) else wiki_to_text(c.body)


def person(sb):
    return next(u for u in sb.store.users.values() if u.account_id != sb.store.bot.account_id)


def epic_failing(plan, code):
    return next(p.key for p in plan.issues if code in p.open_codes)


def test_first_sync_writes_labels_and_one_comment_each_then_nothing(sb):
    _, plan, report = sync(sb)
    assert report.all_applied and report.applied == len(plan.issues) > 0
    assert report.comments_created == plan.totals.comments_created > 0
    for p in plan.issues:
        rec = sb.store.issue(p.key)
        assert set(p.add_labels) <= set(rec.labels)
        if p.open_codes:
            (c,) = owned(sb, p.key)
            assert rec.properties[STATE_PROPERTY]["comment_id"] == str(c.id)
            assert p.open_codes[0] in text(c)
    _, plan2 = plan_for(sb)
    assert plan2.empty and plan2.totals.writes == 0 and plan2.unchanged == len(plan.issues)


def test_fixing_an_issue_removes_its_labels_and_says_what_was_fixed(sb):
    _, plan, _ = sync(sb)
    key = epic_failing(plan, "PMO-GOV-001")
    ann = person(sb)
    sb.store.add_label(key, "pmo-review")
    sb.store.add_label(key, "customer-x")
    sb.store.add_comment_as(ann.account_id, key, "Owner arrives Monday")
    sb.store.edit(key, assignee=ann.account_id)  # the fix
    _, plan2, report = sync(sb)
    (p,) = [p for p in plan2.issues if p.key == key]
    assert "pmo-gov-001" in p.remove_labels and report.all_applied
    rec = sb.store.issue(key)
    assert "pmo-gov-001" not in rec.labels and {"pmo-review", "customer-x"} <= set(rec.labels)
    (c,) = owned(sb, key)
    body = text(c)
    assert "Fixed since last check:" in body and "PMO-GOV-001 Accountable owner" in body
    assert any(x.author == ann.account_id and "Owner arrives Monday" in text(x)
               for x in comments(sb, key))
    assert plan_for(sb)[1].empty


def test_person_deleting_our_comment_gets_it_back_once(sb):
    _, plan, _ = sync(sb)
    key = next(p.key for p in plan.issues if p.open_codes and "PMO-GOV-001" not in p.open_codes)
    with sb.store.lock:
        sb.store.issue(key).comments = []
    sb.store.edit(key, assignee=None)  # a new finding (no owner): the comment must be edited
    _, _, report = sync(sb)
    assert report.comments_recreated == 1 and report.all_applied
    (c,) = owned(sb, key)
    assert sb.store.issue(key).properties[STATE_PROPERTY]["comment_id"] == str(c.id)
    _, plan3, _ = sync(sb)
    assert plan3.empty and len(owned(sb, key)) == 1


class DiesAfterComment:
    """The real client, killed right after Jira accepted a new comment."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def add_comment(self, key, body):
        self._client.add_comment(key, body)
        raise KeyboardInterrupt("killed")


def test_crash_between_comment_and_state_leaves_exactly_one_comment(sb):
    with pytest.raises(KeyboardInterrupt):
        sync(sb, wrap=DiesAfterComment, concurrency=1)
    commented = [k for k in sb.store.by_key if owned(sb, k)]
    assert commented and all(STATE_PROPERTY not in (sb.store.issue(k).properties or {}) for k in commented)
    _, plan, report = sync(sb)
    assert report.all_applied and report.comments_adopted == len(commented)
    for p in plan.issues:
        if p.open_codes:
            (c,) = owned(sb, p.key)
            assert sb.store.issue(p.key).properties[STATE_PROPERTY]["comment_id"] == str(c.id)
    assert plan_for(sb)[1].empty


def test_notify_refused_is_said_once_then_handled_per_setting(flavour):
    with SandboxServer(flavour=flavour, issues=60, seed=3, bot_is_admin=False) as sb:
        with pytest.raises(WriteBackError, match="on_notify_refused is 'fail'") as err:
            sync(sb, on_notify_refused="fail")
        assert len(err.value.report.notices) == 1 and not err.value.report.all_applied
        _, plan, report = sync(sb, on_notify_refused="notify")
        assert report.all_applied and len(report.notices) == 1
        assert "writing with notifications instead" in report.notices[0]
        assert all(set(p.add_labels) <= set(sb.store.issue(p.key).labels) for p in plan.issues)


def test_issue_deleted_between_plan_and_apply_is_recorded_others_applied(sb):
    client, plan = plan_for(sb)
    gone = plan.issues[0].key
    with sb.store.lock:
        rec = sb.store.by_key.pop(gone)
        sb.store.by_id.pop(rec.id, None)
        sb.store.issues.remove(rec)
        sb.store.version += 1
    report = apply_plan(plan, {"sandbox": client}, notify=False, on_notify_refused="notify")
    (e,) = report.errors
    assert (e.key, e.status) == (gone, 404) and "deleted" in e.message
    assert report.applied == len(plan.issues) - 1 and not report.all_applied


def test_rate_limited_sync_slows_down_and_completes(sb):
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds):  # simulated time: the waits are recorded, not spent
        slept.append(seconds)
        now[0] += seconds

    sb.faults = Faults(rate_429=0.3, retry_after=2, only_paths=r"/(comment|properties)", seed=5)
    client, plan, report = sync(sb, client_options={"sleep": sleep, "clock": lambda: now[0]})
    assert report.all_applied and report.applied == len(plan.issues)
    assert slept and max(slept) >= 2  # Retry-After honoured as a minimum
    assert client.gate.concurrency < 4  # fewer issues at once after the 429s
    sb.faults = Faults()
    assert plan_for(sb)[1].empty
