"""Waivers: active ones mark findings WAIVED (still visible), expired ones re-open them."""

from __future__ import annotations

from pmo_jira.findings import Outcome

from standards_fixtures import TODAY, audit, child, day, epic, mapping


def waiver(standard="PMO-GOV-001", expires=day(30), **kw):  # noqa: B008 - one fixed date for every call
    return {"standard": standard, "owner": "ann", "reason": "interim owner being hired", "expires": expires, **kw}


ORPHANS = [epic("WEB-1", owner=None), epic("WEB-2", owner=None)]


def test_active_waiver_keeps_the_finding_visible_but_waived():
    m = mapping([{"code": "PMO-GOV-001"}], [waiver(item="WEB-1")])
    waived, still_open = audit(ORPHANS, m).findings
    assert waived.item_key == "WEB-1" and waived.outcome is Outcome.WAIVED and not waived.counts
    assert waived.waiver.owner == "ann" and waived.waiver.expires == day(30)
    assert waived.note == f"waived by ann until {day(30)}: interim owner being hired"
    assert still_open.outcome is Outcome.FAIL and still_open.waiver is None


def test_waiver_item_matches_whatever_the_case_as_jira_keys_do():
    m = mapping([{"code": "PMO-GOV-001"}], [waiver(item="web-1")])
    assert [f.outcome for f in audit(ORPHANS, m).findings] == [Outcome.WAIVED, Outcome.FAIL]


def test_waiver_valid_through_its_expiry_day():
    m = mapping([{"code": "PMO-GOV-001"}], [waiver(item="WEB-1", expires=TODAY)])
    assert audit(ORPHANS, m).findings[0].outcome is Outcome.WAIVED


def test_expired_waiver_reopens_the_finding_and_says_so():
    m = mapping([{"code": "PMO-GOV-001"}], [waiver(item="WEB-1", expires=day(-1))])
    f = audit(ORPHANS, m).findings[0]
    assert f.outcome is Outcome.FAIL and f.counts and f.waiver is None
    assert f.note == f"waiver by ann expired {day(-1)}: finding re-opened"


def test_active_waiver_wins_over_an_expired_one():
    m = mapping([{"code": "PMO-GOV-001"}], [waiver(item="WEB-1", expires=day(-5)), waiver(item="WEB-1")])
    assert audit(ORPHANS, m).findings[0].outcome is Outcome.WAIVED


def test_jql_waiver_uses_the_keys_the_source_matched():
    m = mapping([{"code": "PMO-GOV-001"}], [waiver(item="WEB-9"), waiver(jql="labels = legacy")])
    result = audit(ORPHANS, m, waived_keys={1: frozenset({"WEB-2"})})
    assert [(f.item_key, f.outcome) for f in result.findings] == [("WEB-1", Outcome.FAIL), ("WEB-2", Outcome.WAIVED)]
    assert result.findings[1].waiver.jql == "labels = legacy"


def test_waiver_only_covers_its_own_standard():
    m = mapping([{"code": "PMO-GOV-001"}, {"code": "PMO-PLN-001"}], [waiver(item="WEB-1")])
    found = audit([epic("WEB-1", owner=None, start=None)], m).findings
    assert [(f.code, f.outcome) for f in found] == [("PMO-GOV-001", Outcome.WAIVED), ("PMO-PLN-001", Outcome.FAIL)]


def test_waiver_on_a_child_key_covers_the_finding_about_that_child():
    m = mapping([{"code": "PMO-PLN-003"}], [waiver("PMO-PLN-003", item="WEB-2")])
    issues = [epic(target_end=day(10)), child("WEB-2", "WEB-1", due=day(20)), child("WEB-3", "WEB-1", due=day(20))]
    assert [(f.subject, f.outcome) for f in audit(issues, m).findings] == [
        ("WEB-2", Outcome.WAIVED), ("WEB-3", Outcome.FAIL)]


def test_not_applicable_findings_are_not_waived():
    m = mapping([{"code": "PMO-EXE-002"}], [waiver("PMO-EXE-002", item="WEB-1")])
    (f,) = audit([epic(target_end=None)], m).findings
    assert f.outcome is Outcome.NOT_APPLICABLE and f.waiver is None
