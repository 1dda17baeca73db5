"""The write-back planner: pure, minimal, and never touching what people own."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pmo_jira.errors import WriteBackError
from pmo_jira.findings import Outcome, Severity
from pmo_jira.state import STATE_PROPERTY
from pmo_jira.writeback import CommentOp, check_blast_radius, plan_writeback
from pmo_jira.writeback.plan import PLAN_VERSION

from writeback_fixtures import NOW, FakeClient, FakeJira, finding, issue, issues, mapping, result


def written_state(plan, key, comment_id="10001"):
    """The property value as apply would leave it."""
    p = next(p for p in plan.issues if p.key == key)
    return p.new_state.with_comment_id(comment_id).to_json()


def after(plan, before, comment_id="10001"):
    """The issues as the next run would read them once ``plan`` was applied."""
    out = dict(before)
    for p in plan.issues:
        i = before[(p.site, p.key)]
        labels = [lb for lb in i.labels if lb not in p.remove_labels] + list(p.add_labels)
        props = dict(i.properties)
        if p.new_state is not None:
            props[STATE_PROPERTY] = written_state(plan, p.key, p.comment_id or comment_id)
        out[(p.site, p.key)] = issue(p.key, labels=labels, state=props.get(STATE_PROPERTY))
    return out


def test_first_plan_labels_comment_and_state_for_noncompliant_issue():
    plan = plan_writeback(result([finding("ABC-1")]), issues(issue("ABC-1", labels=["team-x"])),
                          mapping(), now=NOW)
    (p,) = plan.issues
    assert p.add_labels == ("pmo-gov-001", "pmo-noncompliant")
    assert p.remove_labels == ()
    assert p.comment is CommentOp.CREATE and p.comment_id is None
    assert p.new_state.fingerprint and p.new_state.labels == ("pmo-gov-001", "pmo-noncompliant")
    t = plan.totals
    assert (t.issues_touched, t.label_adds, t.comments_created, t.property_writes, t.writes) == (1, 2, 1, 1, 3)


def test_second_run_with_nothing_changed_plans_zero_writes():
    res = result([finding("ABC-1"), finding("ABC-2", "PMO-EXE-001")], epics={"ABC-1": "execution",
                                                                             "ABC-3": "planning"})
    before = issues(issue("ABC-1"), issue("ABC-2"), issue("ABC-3"), issue("ABC-4"))
    first = plan_writeback(res, before, mapping(), now=NOW)
    assert {p.key for p in first.issues} == {"ABC-1", "ABC-2", "ABC-3"}  # ABC-4: nothing to say
    second = plan_writeback(res, after(first, before), mapping(), now=NOW + timedelta(days=1))
    assert second.empty and second.totals.writes == 0 and second.unchanged == 3


def test_changed_message_figures_alone_do_not_rewrite_the_comment():
    before = issues(issue("ABC-1"))
    first = plan_writeback(result([finding("ABC-1", message="Not updated for 15 days.")]), before,
                           mapping(), now=NOW)
    later = result([finding("ABC-1", message="Not updated for 16 days.")])
    assert plan_writeback(later, after(first, before), mapping(), now=NOW + timedelta(days=1)).empty


def test_only_changed_issues_are_planned():
    res = result([finding("ABC-1"), finding("ABC-2")])
    before = issues(issue("ABC-1"), issue("ABC-2"))
    now_state = after(plan_writeback(res, before, mapping(), now=NOW), before)
    res2 = result([finding("ABC-1"), finding("ABC-2"), finding("ABC-2", "PMO-EXE-001")])
    plan = plan_writeback(res2, now_state, mapping(), now=NOW)
    (p,) = plan.issues
    assert p.key == "ABC-2" and p.add_labels == ("pmo-exe-001",) and p.comment is CommentOp.EDIT
    assert p.comment_id == "10001"


def test_people_labels_are_never_removed_even_with_our_prefix():
    before = issues(issue("ABC-1", labels=["pmo-review", "Team-A", "pmo-gov-001", "pmo-noncompliant",
                                           "pmo-phase-planning"]))
    plan = plan_writeback(result([], epics={"ABC-1": "execution"}), before, mapping(), now=NOW)
    (p,) = plan.issues
    assert p.remove_labels == ("pmo-gov-001", "pmo-noncompliant", "pmo-phase-planning")
    assert p.add_labels == ("pmo-phase-execution",)
    assert "pmo-review" not in p.remove_labels and "Team-A" not in p.remove_labels
    assert p.comment is None  # never commented, nothing to clear


def test_labels_recorded_in_state_are_removable_even_for_retired_codes():
    state = {"v": 1, "fingerprint": "ab12", "comment_id": None, "mapping": "m0",
             "labels": ["pmo-old-042"], "findings": {}, "titles": {}, "updated": ""}
    plan = plan_writeback(result([]), issues(issue("ABC-1", labels=["pmo-old-042", "pmo-new-1"],
                                                   state=state)), mapping(), now=NOW)
    assert plan.issues[0].remove_labels == ("pmo-old-042",)


def test_plan_sends_only_add_and_remove_so_labels_added_meanwhile_survive():

    jira = FakeJira()
    jira.add("ABC-1", labels=["pmo-noncompliant"])
    plan = plan_writeback(result([finding("ABC-1")]), jira.snapshot(), mapping(), now=NOW)
    jira.issues["ABC-1"].labels.append("added-by-ann")  # between read and write
    p = plan.issues[0]
    FakeClient(jira).edit_labels("ABC-1", p.add_labels, p.remove_labels, notify=False)
    assert sorted(jira.issues["ABC-1"].labels) == ["added-by-ann", "pmo-gov-001", "pmo-noncompliant"]


def test_comment_transitions_create_edit_clear_then_quiet():
    m = mapping()
    before = issues(issue("ABC-1"))
    p1 = plan_writeback(result([finding("ABC-1"), finding("ABC-1", "PMO-EXE-001")]), before, m, now=NOW)
    assert p1.issues[0].comment is CommentOp.CREATE
    s1 = after(p1, before)
    p2 = plan_writeback(result([finding("ABC-1")]), s1, m, now=NOW)
    e = p2.issues[0]
    assert e.comment is CommentOp.EDIT and e.remove_labels == ("pmo-exe-001",)
    assert e.fixed == (("PMO-EXE-001", "Status fresh", 1),)
    s2 = after(p2, s1)
    p3 = plan_writeback(result([]), s2, m, now=NOW)
    c = p3.issues[0]
    assert c.comment is CommentOp.CLEAR and c.comment_id == "10001"
    assert set(c.remove_labels) == {"pmo-gov-001", "pmo-noncompliant"}
    assert c.new_state.comment_id == "10001" and not c.new_state.has_findings
    s3 = after(p3, s2)
    assert plan_writeback(result([]), s3, m, now=NOW).empty


def test_no_comment_just_to_say_all_is_fine():
    plan = plan_writeback(result([], epics={"ABC-1": "planning"}), issues(issue("ABC-1")), mapping(),
                          now=NOW)
    (p,) = plan.issues
    assert p.comment is None and p.add_labels == ("pmo-phase-planning",)


def test_written_findings_follow_counts_and_severities():
    res = result([finding("ABC-1", severity=Severity.LOW),
                  finding("ABC-2", outcome=Outcome.WAIVED),
                  finding("ABC-3", outcome=Outcome.NOT_APPLICABLE),
                  finding("ABC-4", outcome=Outcome.ERROR, severity=Severity.MEDIUM)])
    plan = plan_writeback(res, issues(*(issue(f"ABC-{n}") for n in range(1, 5))), mapping(), now=NOW)
    assert plan.issues == ()  # low is below the written severities; a crashed standard stays in reports
    low = plan_writeback(res, issues(issue("ABC-1")), mapping(severities=["low"]), now=NOW)
    assert low.issues[0].add_labels == ("pmo-gov-001", "pmo-noncompliant")


def test_comment_disabled_writes_labels_and_state_only():
    plan = plan_writeback(result([finding("ABC-1")]), issues(issue("ABC-1")), mapping(comment=False),
                          now=NOW)
    p = plan.issues[0]
    assert p.comment is None and p.comment_body is None and p.add_labels and p.new_state


def test_site_that_failed_to_audit_is_not_cleared():
    state = {"v": 1, "fingerprint": "ab12", "comment_id": "10001", "mapping": "m1",
             "labels": ["pmo-gov-001", "pmo-noncompliant"], "findings": {"f": "PMO-GOV-001"},
             "titles": {}, "updated": ""}
    before = issues(issue("ABC-1", labels=["pmo-gov-001", "pmo-noncompliant"], state=state))
    plan = plan_writeback(result([], site_errors={"jira": "cannot reach"}), before, mapping(), now=NOW)
    assert plan.empty


def test_project_findings_are_reported_as_not_written():
    f = finding("ABC-1")
    proj = type(f)(**{**{s: getattr(f, s) for s in f.__slots__}, "item_key": "ABC", "item_kind": "project"})
    plan = plan_writeback(result([proj]), issues(), mapping(), now=NOW)
    assert plan.empty and plan.not_written == (("jira", "ABC"),)


def test_edited_or_garbage_state_is_treated_as_absent():
    for junk in ("hello", {"v": 2}, {"v": 1, "fingerprint": 5}, {"v": 1, "fingerprint": "ab",
                 "comment_id": "drop table"}, {"v": 1, "fingerprint": "ab", "labels": ["a b"]}, [1]):
        plan = plan_writeback(result([finding("ABC-1")]), issues(issue("ABC-1", state=junk)),
                              mapping(), now=NOW)
        assert plan.issues[0].comment is CommentOp.CREATE  # and, above all, no crash


def test_numeric_comment_id_in_state_is_accepted():
    state = {"v": 1, "fingerprint": "", "comment_id": 10001, "labels": []}
    plan = plan_writeback(result([finding("ABC-1")]), issues(issue("ABC-1", state=state)), mapping(),
                          now=NOW)
    assert plan.issues[0].comment is CommentOp.EDIT and plan.issues[0].comment_id == "10001"


def test_unusable_prefix_is_refused():
    with pytest.raises(WriteBackError, match="label_prefix"):
        plan_writeback(result([]), issues(), mapping_with_prefix(""), now=NOW)


def mapping_with_prefix(prefix):
    m = mapping()
    m.writeback = m.writeback.model_copy(update={"label_prefix": prefix})
    return m


def test_label_scheme_for_foreign_codes_and_other_prefixes():
    res = result([finding("ABC-1", "ACME-SEC-001")])
    p = plan_writeback(res, issues(issue("ABC-1")), mapping(), now=NOW).issues[0]
    assert "pmo-acme-sec-001" in p.add_labels
    p = plan_writeback(result([finding("ABC-1")]), issues(issue("ABC-1")),
                       mapping(label_prefix="gov:"), now=NOW).issues[0]
    assert p.add_labels == ("gov:noncompliant", "gov:pmo-gov-001")


def test_blast_radius_names_counts_and_the_way_forward():
    res = result([finding(f"ABC-{n}") for n in range(1, 6)])
    plan = plan_writeback(res, issues(*(issue(f"ABC-{n}") for n in range(1, 6))), mapping(), now=NOW)
    check_blast_radius(plan, 15)
    with pytest.raises(WriteBackError) as err:
        check_blast_radius(plan, 14)
    text = str(err.value)
    assert "15 writes to 5 issues" in text and "cap of 14" in text and "--max-writes 15" in text


def test_plan_json_is_versioned_and_serialisable():
    plan = plan_writeback(result([finding("ABC-1")]), issues(issue("ABC-1")), mapping(), now=NOW)
    data = json.loads(json.dumps(plan.to_json()))
    assert data["format"] == "pmo-jira/writeback-plan" and data["version"] == PLAN_VERSION
    (i,) = data["issues"]
    assert i["comment"] == "create" and "PMO-GOV-001" in i["comment_text"]
    assert data["totals"]["writes"] == 3


def test_describe_lists_changes_and_totals():
    text = plan_writeback(result([finding("ABC-1")]), issues(issue("ABC-1")), mapping(),
                          now=NOW).describe()
    assert "ABC-1" in text and "add labels pmo-gov-001, pmo-noncompliant" in text
    assert "post comment (1 finding)" in text
    assert "1 issues to write (3 writes)" in text
    assert "      | PMO standards: 1 open finding" not in text
    verbose = plan_writeback(result([finding("ABC-1")]), issues(issue("ABC-1")), mapping(),
                             now=NOW).describe(comments=True)
    assert "      | PMO standards: 1 open finding" in verbose


def test_state_remembers_when_people_last_touched_the_issue_across_our_own_writes():
    from dataclasses import replace

    person_edit = NOW - timedelta(days=20)
    first = plan_writeback(result([finding("ABC-1")]), issues(replace(issue("ABC-1"), updated=person_edit)),
                           mapping(), now=NOW)
    (p,) = first.issues
    assert p.new_state.seen == person_edit.isoformat()
    # Next night: Jira's `updated` is our own write (a minute after it); a new finding is written.
    later = NOW + timedelta(days=1)
    ours = replace(issue("ABC-1", state=p.new_state.to_json()), updated=NOW + timedelta(minutes=1))
    second = plan_writeback(result([finding("ABC-1"), finding("ABC-1", "PMO-EXE-001")]), issues(ours),
                            mapping(), now=later)
    assert second.issues[0].new_state.seen == person_edit.isoformat()  # still the person's edit
    # A person edits after our write: that time is the new "seen".
    theirs = replace(ours, updated=NOW + timedelta(hours=5))
    third = plan_writeback(result([finding("ABC-1"), finding("ABC-1", "PMO-EXE-001")]), issues(theirs),
                           mapping(), now=later)
    assert third.issues[0].new_state.seen == (NOW + timedelta(hours=5)).isoformat()


def _night_after_fixes(fixed: int, total: int = 20, **writeback):
    """The second night's plan after ``fixed`` of ``total`` epics with one open finding each were fixed."""
    keys = [f"ABC-{n}" for n in range(1, total + 1)]
    before = issues(*(issue(k) for k in keys))
    first = plan_writeback(result([finding(k) for k in keys]), before, mapping(**writeback), now=NOW)
    return plan_writeback(result([finding(k) for k in keys[fixed:]]), after(first, before), mapping(**writeback),
                          now=NOW + timedelta(days=1))


def test_resolution_guard_warns_when_more_than_the_share_would_resolve_at_once():
    ordinary = _night_after_fixes(10)  # half of them: the default share, not more
    assert (ordinary.open_before, ordinary.resolving, ordinary.warnings) == (20, 10, ())
    mass = _night_after_fixes(11)
    assert mass.warnings == (
        "jira: 11 of 20 open findings (55%) would be marked fixed in one run, more than "
        "writeback.max_resolved_share (50%); if that is real, apply it once with "
        "`pmo-jira sync --apply --allow-mass-resolve`",)
    assert mass.describe().splitlines()[-1] == "warning: " + mass.warnings[0]
    assert mass.to_json()["warnings"] == list(mass.warnings)
    assert _night_after_fixes(11, max_resolved_share=0.6).warnings == ()  # the mapping's own share
    assert _night_after_fixes(20, total=9).warnings == ()  # a small site fixing its last findings


def test_resolution_guard_can_be_overridden_for_one_run():
    keys = [f"ABC-{n}" for n in range(1, 21)]
    before = issues(*(issue(k) for k in keys))
    first = plan_writeback(result([finding(k) for k in keys]), before, mapping(), now=NOW)
    allowed = plan_writeback(result([]), after(first, before), mapping(), now=NOW, max_resolved_share=1.0)
    assert allowed.resolving == 20 and allowed.warnings == ()


def test_dry_run_plan_shows_site_text_escaped_so_it_cannot_forge_lines():
    forged = "Budget\n0 issues to write (0 writes)\x00\x1b[2J\u202eyrammus"
    plan = plan_writeback(result([finding("ABC-1")]), issues(issue("ABC-1", summary=forged)), mapping(), now=NOW)
    text = plan.describe(comments=True)
    assert text.splitlines()[0] == "jira:ABC-1  Budget\\n0 issues to write (0 writes)\\x00\\x1b[2J\\u202eyrammus"
    assert not any(c in text for c in "\x00\x1b\u202e")
    assert len([ln for ln in text.splitlines() if "issues to write" in ln]) == 2  # the forged one is on ABC-1's line
