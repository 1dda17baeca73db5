"""Applying a plan: order, convergence after crashes, people's work untouched, errors isolated.

These run against ``FakeJira`` (an in-memory Jira with the client's error behaviour) in both
flavours; ``test_writeback_sandbox.py`` repeats the main path over HTTP against the sandbox.
"""

from __future__ import annotations

import pytest

from pmo_jira.errors import JiraApiError, WriteBackError
from pmo_jira.jira.payloads import parse_comment
from pmo_jira.jira.retry import RateGate
from pmo_jira.model import Flavour
from pmo_jira.writeback import STATE_PROPERTY, apply_plan, plan_writeback

from writeback_fixtures import NOW, FakeClient, FakeJira, finding, mapping, result, writes


@pytest.fixture(params=[Flavour.CLOUD, Flavour.DC], ids=["cloud", "dc"])
def jira(request):
    j = FakeJira(request.param)
    for n in range(1, 5):
        j.add(f"ABC-{n}")
    return j


def sync(jira, res, m=None, client=None, **kw):
    m = m or mapping()
    plan = plan_writeback(res, jira.snapshot(), m, now=NOW)
    kw.setdefault("notify", m.writeback.notify)
    kw.setdefault("on_notify_refused", m.writeback.on_notify_refused)
    report = apply_plan(plan, {"jira": client or FakeClient(jira)}, **kw)
    return plan, report


def text_of(jira, raw):
    return parse_comment(raw, jira.flavour).body_text


FINDINGS = [finding("ABC-1"), finding("ABC-1", "PMO-EXE-001"), finding("ABC-2", "PMO-RSK-001")]


def test_first_apply_then_nothing(jira):
    plan, report = sync(jira, result(FINDINGS))
    assert report.all_applied and report.applied == 2 and report.comments_created == 2
    assert sorted(jira.issues["ABC-1"].labels) == ["pmo-exe-001", "pmo-gov-001", "pmo-noncompliant"]
    for key in ("ABC-1", "ABC-2"):
        (c,) = jira.owned_comments(key)
        assert jira.issues[key].properties[STATE_PROPERTY]["comment_id"] == c["id"]
    assert "PMO-RSK-001 Risk register" in text_of(jira, jira.owned_comments("ABC-2")[0])
    assert jira.issues["ABC-3"].labels == [] and jira.issues["ABC-3"].comments == []
    jira.log.clear()
    plan2, report2 = sync(jira, result(FINDINGS))
    assert plan2.empty and report2.all_applied and jira.log == []


def test_writes_per_issue_go_comment_labels_state(jira):
    sync(jira, result([finding("ABC-1")]))
    ops = [op for op, key in writes(jira.log) if key == "ABC-1"]
    assert ops == ["add_comment", "edit_labels", "set_property"]


def test_fix_removes_labels_and_comment_says_what_was_fixed(jira):
    jira.issues["ABC-1"].labels.append("pmo-review")  # a person's label with our prefix
    sync(jira, result(FINDINGS))
    jira.person_comments("ABC-1", "I'll fix the dates tomorrow [~bob]")
    jira.issues["ABC-1"].labels.append("customer-x")
    sync(jira, result([finding("ABC-1"), finding("ABC-2", "PMO-RSK-001")]))
    assert sorted(jira.issues["ABC-1"].labels) == ["customer-x", "pmo-gov-001", "pmo-noncompliant",
                                                   "pmo-review"]
    (ours,) = jira.owned_comments("ABC-1")
    text = text_of(jira, ours)
    assert "Fixed since last check:" in text and "PMO-EXE-001 Status fresh" in text
    assert "1 open finding" in text
    person = [c for c in jira.issues["ABC-1"].comments if c["author"] == jira.person]
    assert len(person) == 1 and "[~bob]" in str(person[0]["body"])  # untouched
    _, report = sync(jira, result([finding("ABC-2", "PMO-RSK-001")]))
    assert report.comments_edited == 1 and report.comments_created == 0
    assert sorted(jira.issues["ABC-1"].labels) == ["customer-x", "pmo-review"]
    assert "All PMO standards met as of 2026-11-25" in text_of(jira, jira.owned_comments("ABC-1")[0])
    assert sync(jira, result([finding("ABC-2", "PMO-RSK-001")]))[0].empty


def test_deleted_owned_comment_is_recreated_once(jira):
    sync(jira, result([finding("ABC-1")]))
    jira.issues["ABC-1"].comments.clear()  # a person deleted it
    _, report = sync(jira, result([finding("ABC-1"), finding("ABC-1", "PMO-EXE-001")]))
    assert report.comments_recreated == 1 and report.all_applied
    (c,) = jira.owned_comments("ABC-1")
    assert jira.issues["ABC-1"].properties[STATE_PROPERTY]["comment_id"] == c["id"]
    plan, report = sync(jira, result([finding("ABC-1"), finding("ABC-1", "PMO-EXE-001")]))
    assert plan.empty and len(jira.owned_comments("ABC-1")) == 1


def test_deleted_comment_is_not_recreated_only_to_say_all_is_met(jira):
    sync(jira, result([finding("ABC-1")]))
    jira.issues["ABC-1"].comments.clear()
    _, report = sync(jira, result([]))
    assert report.all_applied and jira.owned_comments("ABC-1") == []
    assert jira.issues["ABC-1"].labels == []
    assert jira.issues["ABC-1"].properties[STATE_PROPERTY]["comment_id"] is None


class CrashAfterComment(FakeClient):
    """Dies right after Jira accepted the comment, before labels and state are written."""

    def add_comment(self, key, body):
        super().add_comment(key, body)
        raise KeyboardInterrupt("killed")


def test_crash_after_posting_the_comment_converges_without_duplicate(jira):
    with pytest.raises(KeyboardInterrupt):
        sync(jira, result([finding("ABC-1")]), client=CrashAfterComment(jira), concurrency=1)
    assert len(jira.owned_comments("ABC-1")) == 1 and STATE_PROPERTY not in jira.issues["ABC-1"].properties
    _, report = sync(jira, result([finding("ABC-1")]))
    assert report.comments_adopted == 1 and report.comments_created == 0 and report.all_applied
    (c,) = jira.owned_comments("ABC-1")
    assert jira.issues["ABC-1"].properties[STATE_PROPERTY]["comment_id"] == c["id"]
    assert sync(jira, result([finding("ABC-1")]))[0].empty


class ConnectionDropsAfterPost(FakeClient):
    """Jira stored the comment but the answer never arrived."""

    def add_comment(self, key, body):
        super().add_comment(key, body)
        raise JiraApiError("cannot reach jira: connection failed (not retried)", method="POST",
                           url=f"/issue/{key}/comment")


def test_lost_answer_to_comment_post_is_checked_not_reposted(jira):
    _, report = sync(jira, result([finding("ABC-1")]), client=ConnectionDropsAfterPost(jira))
    assert report.all_applied and report.comments_created == 1
    (c,) = jira.owned_comments("ABC-1")
    assert jira.issues["ABC-1"].properties[STATE_PROPERTY]["comment_id"] == c["id"]


def test_marker_in_a_persons_comment_is_not_adopted(jira):
    jira.person_comments("ABC-1", "copied: pmo-jira · managed comment · do not edit")
    _, report = sync(jira, result([finding("ABC-1")]))
    assert report.comments_adopted == 0 and report.comments_created == 1
    assert "copied" in text_of(jira, jira.issues["ABC-1"].comments[0])


def test_notify_refused_falls_back_to_notifying_with_one_message(jira):
    jira.notify_needs_admin = True
    _, report = sync(jira, result(FINDINGS), m=mapping(on_notify_refused="notify"), concurrency=1)
    assert report.all_applied and report.applied == 2
    assert len(report.notices) == 1 and "writing with notifications instead" in report.notices[0]
    assert "pmo-noncompliant" in jira.issues["ABC-2"].labels


def test_notify_refused_with_fail_stops_with_one_clear_error(jira):
    jira.notify_needs_admin = True
    with pytest.raises(WriteBackError, match="on_notify_refused is 'fail'") as err:
        sync(jira, result(FINDINGS), m=mapping(on_notify_refused="fail"), concurrency=1)
    report = err.value.report
    assert len(report.notices) == 1 and not report.all_applied
    assert report.failed == 1 and report.not_attempted == 1
    assert jira.issues["ABC-1"].labels == [] and STATE_PROPERTY not in jira.issues["ABC-1"].properties
    assert jira.issues["ABC-2"].comments == [] and jira.issues["ABC-2"].labels == []


def test_issue_deleted_between_plan_and_apply_is_recorded_and_others_applied(jira):
    plan = plan_writeback(result(FINDINGS), jira.snapshot(), mapping(), now=NOW)
    del jira.issues["ABC-1"]
    report = apply_plan(plan, {"jira": FakeClient(jira)}, notify=False, on_notify_refused="fail")
    assert report.applied == 1 and report.failed == 1 and not report.all_applied
    (e,) = report.errors
    assert (e.key, e.status, e.step) == ("ABC-1", 404, "comment") and "deleted" in e.message
    assert jira.owned_comments("ABC-2")


def test_rejected_comment_is_recorded_and_issue_left_for_next_run(jira):
    jira.fail["add_comment", "ABC-1"] = (400, "The entered text is too long.")
    _, report = sync(jira, result(FINDINGS))
    (e,) = report.errors
    assert e.status == 400 and "Jira rejected the comment: The entered text is too long." in e.message
    assert jira.issues["ABC-1"].labels == [] and STATE_PROPERTY not in jira.issues["ABC-1"].properties
    del jira.fail["add_comment", "ABC-1"]
    _, report = sync(jira, result(FINDINGS))
    assert report.all_applied and len(jira.owned_comments("ABC-1")) == 1


def test_project_without_edit_permission_fails_alone(jira):
    jira.fail["edit_labels", "ABC-2"] = (403, "You do not have permission to edit issues in this project.")
    _, report = sync(jira, result(FINDINGS))
    (e,) = report.errors
    assert (e.key, e.step, e.status) == ("ABC-2", "labels", 403)
    assert str(e) == ("jira:ABC-2: permission denied writing the labels: You do not have permission to "
                      "edit issues in this project.")
    assert report.applied == 1 and "pmo-noncompliant" in jira.issues["ABC-1"].labels


def test_site_without_a_connection_is_an_error_per_issue(jira):
    plan = plan_writeback(result(FINDINGS), jira.snapshot(), mapping(), now=NOW)
    report = apply_plan(plan, {}, notify=False)
    assert report.failed == 2 and all("no Jira connection for site 'jira'" in e.message for e in report.errors)


def test_state_pointing_at_someone_elses_comment_never_edits_it(jira):
    jira.bot_edits_all = True  # an admin bot: Jira itself would allow the edit
    jira.person_comments("ABC-1", "my own words")
    theirs = jira.issues["ABC-1"].comments[0]["id"]
    jira.issues["ABC-1"].properties[STATE_PROPERTY] = {"v": 1, "fingerprint": "", "comment_id": theirs,
                                                       "labels": []}
    _, report = sync(jira, result([finding("ABC-1")]))
    assert report.all_applied and report.comments_created == 1
    assert any(f"comment {theirs}" in n and "left untouched" in n for n in report.notices)
    assert text_of(jira, jira.issues["ABC-1"].comments[0]) == "my own words"
    assert ("edit_comment", "ABC-1") not in jira.log and ("delete_comment", "ABC-1") not in jira.log
    (ours,) = jira.owned_comments("ABC-1")
    assert jira.issues["ABC-1"].properties[STATE_PROPERTY]["comment_id"] == ours["id"]


def test_rate_limit_pause_is_honoured_before_the_next_issue(jira):
    clock = [0.0]
    slept: list[float] = []

    def sleep(s):
        slept.append(s)
        clock[0] += s

    client = FakeClient(jira)
    client.gate = RateGate(concurrency=4, clock=lambda: clock[0], sleep=sleep)
    client.gate.throttled(7.0)  # a 429 said: wait 7 s
    _, report = sync(jira, result([finding("ABC-1")]), client=client, clock=lambda: clock[0], sleep=sleep)
    assert report.all_applied and slept == [7.0] and client.gate.concurrency == 2


def test_many_issues_in_parallel_all_applied(jira):
    for n in range(5, 60):
        jira.add(f"ABC-{n}")
    res = result([finding(f"ABC-{n}") for n in range(1, 60)])
    _, report = sync(jira, res, concurrency=4)
    assert report.applied == 59 and report.all_applied
    assert all(len(jira.owned_comments(f"ABC-{n}")) == 1 for n in range(1, 60))
    assert report.to_json()["all_applied"] is True


def test_concurrency_grows_back_after_a_run_of_clean_issues(jira):
    for n in range(5, 60):
        jira.add(f"ABC-{n}")
    client = FakeClient(jira)
    client.gate = RateGate(concurrency=4, clock=lambda: 0.0, sleep=lambda s: None)
    client.gate.throttled(0.0)  # an earlier 429 halved it
    assert client.gate.concurrency == 2
    _, report = sync(jira, result([finding(f"ABC-{n}") for n in range(1, 60)]), client=client)
    assert report.applied == 59 and client.gate.concurrency == 3  # +1 after 50 clean issues
