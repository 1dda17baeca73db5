"""Governance standards on hand-built epics with changelogs: baselines and change control, gate
approvals, closing acceptance and lessons, RAID and sponsorship."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from pmo_jira.findings import Outcome
from pmo_jira.model import Change, Comment, FieldChange, Flavour, Issue, IssueLink, Site, User
from pmo_jira.run.audit import read_plan, run_audit
from pmo_jira.standards.context import AuditContext
from pmo_jira.standards.timeline import gate_passed
from pmo_jira.state import STATE_PROPERTY, parse_state, state_for

from standards_fixtures import ALL_FIELDS, ANN, GONE, NOW, TODAY, audit, child, day, days_ago, epic, issue, mapping, only, risk, snapshot

BOB = User("acc-bob2", "Bob Planner")
DANA = User("acc-dana", "Dana Sponsor")
FIELDS = ALL_FIELDS | {"sponsor", "gate_approval", "sponsor_acceptance", "reporter"}


def ch(ago: int, who: User | None, *items: tuple[str, str | None, str | None], cid: str = "") -> Change:
    """A changelog entry ``ago`` days back changing (field, from, to) as Jira sends them."""
    return Change(cid or f"{1000 - ago}", who, days_ago(ago),
                  tuple(FieldChange(f, a, a, b, b) for f, a, b in items))


def gated(e: Issue, *later: Change, gate_ago: int = 40, end_at_gate: date | None = None) -> Issue:
    """The epic with a history: created in planning, moved to execution ``gate_ago`` days ago by Ann."""
    history = (ch(gate_ago, ANN, ("phase", "Planning", "Execution")), *later)
    if end_at_gate is not None and not any(i.field == "target_end" for c in later for i in c.items):
        e = replace(e, fields={**e.fields, "target_end": end_at_gate})
    return replace(e, changelog=history)


def linked(e: Issue, *others: Issue, link: str = "Relates") -> Issue:
    return replace(e, links=e.links + tuple(IssueLink(link, "inward", "relates to", o.key, o.issue_type)
                                            for o in others))


def run(issues: list[Issue], code: str, fields: frozenset[str] = FIELDS, **options: object):
    m = only(code, options=options) if options else only(code)
    return [f for f in audit(issues, m, fields=fields).findings if f.code == code]


# --- PMO-CHG-001 schedule slippage under change control -----------------------------------------

def slipped() -> Issue:
    return gated(epic(target_end=day(60)),
                 ch(20, BOB, ("target_end", day(20).isoformat(), day(45).isoformat())),
                 ch(10, BOB, ("target_end", day(45).isoformat(), day(60).isoformat())))


def test_target_end_moved_after_the_gate_without_a_cr_says_by_how_much_when_and_by_whom():
    (f,) = run([slipped()], "PMO-CHG-001")
    assert f.outcome is Outcome.FAIL and f.subject == "slip"
    assert f.message == (
        f"target end moved from {day(20)} to {day(60)} (+40 days, 80% of the baselined 50 days) since the "
        f"baseline of {days_ago(40).date()}; last moved on {days_ago(10).date()} by Bob Planner "
        f"({day(45)} -> {day(60)}); no approved Change Request linked")
    assert "Raise a Change Request" in f.fix and "WEB-1" in f.fix


def test_an_approved_change_request_linked_clears_the_slippage():
    request = replace(issue("CHG-7", "Change Request"), status="Approved")
    assert run([linked(slipped(), request), request], "PMO-CHG-001") == []


def test_a_change_request_not_yet_approved_is_named():
    request = replace(issue("CHG-7", "Change Request"), status="In Review")
    (f,) = run([linked(slipped(), request), request], "PMO-CHG-001")
    assert f.message.endswith("no approved change request linked (CHG-7 is In Review)")


def test_change_request_link_type_and_status_are_options():
    request = replace(issue("CHG-7", "RFC"), status="Accepted")
    e = linked(slipped(), request, link="Governs")
    assert run([e, request], "PMO-CHG-001", change_request_types=["RFC"], approved_statuses=["Accepted"],
               change_link_types=["governs"]) == []
    assert len(run([e, request], "PMO-CHG-001", change_request_types=["RFC"], approved_statuses=["Accepted"],
                   change_link_types=["Relates"])) == 1


def test_small_slips_and_few_replans_pass_thresholds_in_days_or_percent():
    e = gated(epic(target_end=day(25)), ch(10, BOB, ("target_end", day(20).isoformat(), day(25).isoformat())))
    assert run([e], "PMO-CHG-001") == []  # +5 days, limit 10
    (f,) = run([e], "PMO-CHG-001", slip_days=None, slip_percent=5)  # 5 of 50 days = 10% > 5%
    assert "(+5 days, 10% of the baselined 50 days)" in f.message


def test_too_many_replans_is_its_own_finding_even_when_the_date_came_back():
    moves = [ch(30 - i, BOB, ("target_end", day(20 + i % 2).isoformat(), day(20 + (i + 1) % 2).isoformat()))
             for i in range(4)]
    e = gated(epic(target_end=day(20)), *moves)
    (f,) = run([e], "PMO-CHG-001")
    assert f.subject == "replans" and f.message.startswith(
        f"4 re-plans of the target end since the baseline of {days_ago(40).date()} (limit 2)")


def test_moves_before_the_gate_are_planning_not_replans():
    e = replace(epic(target_end=day(60)), changelog=(
        ch(50, BOB, ("target_end", day(20).isoformat(), day(60).isoformat())),
        ch(40, ANN, ("phase", "Planning", "Execution"))))
    assert run([e], "PMO-CHG-001") == []


def test_a_mapped_baseline_field_wins_over_the_history():
    e = replace(slipped(), fields={**slipped().fields, "baseline_end": day(58), "baseline_start": day(-30)})
    assert run([e], "PMO-CHG-001", fields=FIELDS | {"baseline_end", "baseline_start"}) == []


def test_without_history_the_change_standards_cannot_judge():
    (f,) = run([epic()], "PMO-CHG-001")
    assert f.outcome is Outcome.NOT_APPLICABLE and "history of WEB-1 was not read" in f.message


def test_the_gate_is_found_by_status_rules_too():
    m = mapping([{"code": "PMO-CHG-001"}], phases={
        "epic": [{"when": {"status": ["Planning"]}, "phase": "planning"},
                 {"when": {"status": ["In Progress"]}, "phase": "execution"}],
        "project": [{"when": {"epics": "majority"}}]})
    e = replace(epic(target_end=day(60), status="In Progress"), changelog=(
        ch(40, ANN, ("status", "Planning", "In Progress")),
        ch(10, BOB, ("target_end", day(20).isoformat(), day(60).isoformat()))))
    (f,) = [f for f in audit([e], m, fields=FIELDS).findings if f.code == "PMO-CHG-001"]
    assert f"since the baseline of {days_ago(40).date()}" in f.message and "by Bob Planner" in f.message


def test_the_rules_tell_a_past_phase_from_what_differed_as_from_the_epic_as_it_was():
    """The gate replay classifies each past state from the attributes that differed then; that
    is the phase the rules give the epic rebuilt as it was, for rules on labels, status and fields."""
    m = mapping([{"code": "PMO-BSL-001"}], phases={
        "epic": [{"when": {"label": "pmo-closing"}, "phase": "closing"},
                 {"when": {"field": "phase", "in": ["Execution"]}, "phase": "execution"},
                 {"when": {"status": ["Planning"]}, "phase": "planning"},
                 {"when": {"status_category": ["indeterminate"]}, "phase": "execution"},
                 {"when": {"status_category": ["new"]}, "phase": "initiation"}],
        "project": [{"when": {"epics": "majority"}}]})
    e = replace(epic(phase="Execution", status="Done"), labels=("pmo-closing",), changelog=(
        ch(90, ANN, ("status", "Idea", "Planning")),
        ch(70, BOB, ("status", "Planning", "In Progress"), ("phase", None, "Planning")),
        ch(50, ANN, ("phase", "Planning", "Execution")),
        ch(30, BOB, ("labels", "", "pmo-closing"), ("status", "In Progress", "Done"))))
    e = replace(e, status_category="done")
    others = [replace(epic("WEB-2", status=s), status_category=c)
              for s, c in (("Idea", "new"), ("Planning", "indeterminate"), ("In Progress", "indeterminate"))]
    ctx = AuditContext.build(snapshot([e, *others]), m, today=TODAY, now=NOW)
    for phase in ("initiation", "planning", "execution", "closing"):
        built = gate_passed(e, phase, ctx.phase_rules, ctx.status_categories)
        assert ctx.gate(e, phase) == built
    assert [ctx.gate(e, p).at for p in ("planning", "execution", "closing")] == [
        days_ago(90), days_ago(70), days_ago(30)]


# --- PMO-BSL-001 baseline set ------------------------------------------------------------------

def test_no_target_end_at_the_gate_nor_since_is_a_missing_baseline():
    e = gated(epic(target_end=None))
    (f,) = run([e], "PMO-BSL-001")
    assert f.message == (f"passed the planning gate on {days_ago(40).date()} (moved by Ann Lee) without a "
                         f"target end, and none was set since: no baseline")


def test_a_target_end_set_after_the_gate_becomes_the_baseline():
    e = gated(epic(target_end=day(30)), ch(35, BOB, ("target_end", None, day(30).isoformat())))
    assert run([e], "PMO-BSL-001") == []
    assert run([e], "PMO-CHG-001") == []  # the first date set is the baseline, not a re-plan


def test_an_epic_created_in_execution_is_baselined_at_creation():
    e = replace(epic(target_end=day(30)), changelog=())
    assert run([e], "PMO-BSL-001") == []


# --- PMO-CHG-002 scope growth --------------------------------------------------------------------

def grown() -> list[Issue]:
    base = [child(f"WEB-{n}", "WEB-1", created=days_ago(50)) for n in range(2, 7)]
    added = [child("WEB-7", "WEB-1", created=days_ago(20), reporter=BOB, points=5.0),
             child("WEB-8", "WEB-1", created=days_ago(5), reporter=ANN, points=8.0)]
    return [gated(epic()), *base, *added]


def test_children_added_after_the_gate_without_a_cr_are_scope_growth():
    (f,) = run(grown(), "PMO-CHG-002")
    assert f.message == (f"scope grew by 2 children (+40%, +13 points) since the planning gate of "
                         f"{days_ago(40).date()}: WEB-7 on {days_ago(20).date()} by Bob Planner; WEB-8 on "
                         f"{days_ago(5).date()} by Ann Lee; no approved Change Request linked")


def test_scope_growth_with_an_approved_cr_or_within_the_threshold_passes():
    request = replace(issue("CHG-1", "Change Request"), status="Approved")
    issues = grown()
    assert run([linked(issues[0], request), *issues[1:], request], "PMO-CHG-002") == []
    assert run(issues, "PMO-CHG-002", max_growth_percent=50) == []


# --- PMO-GAT-001 execution gate approval ----------------------------------------------------------

def test_missing_gate_approval_names_who_may_approve_and_recording_it_clears_it():
    e = epic(gate_approval=None, sponsor=DANA)
    opts = {"approvers": ["Pat Director"], "approver_fields": ["sponsor"]}
    (f,) = run([e], "PMO-GAT-001", **opts)
    assert f.message == "no execution gate approval recorded (may approve: Pat Director, Dana Sponsor (sponsor))"
    assert f.fix.startswith("Ask Pat Director, Dana Sponsor (sponsor) to record")
    assert run([replace(e, fields={**e.fields, "gate_approval": DANA})], "PMO-GAT-001", **opts) == []


def test_an_approval_by_someone_not_entitled_does_not_count():
    e = epic(gate_approval=BOB, sponsor=DANA)
    (f,) = run([e], "PMO-GAT-001", approver_fields=["sponsor"])
    assert "recorded by Bob Planner, who may not approve it" in f.message


def test_gate_approval_not_applicable_when_the_field_is_not_on_the_site():
    (f,) = run([epic()], "PMO-GAT-001", fields=ALL_FIELDS)
    assert f.outcome is Outcome.NOT_APPLICABLE and "gate_approval" in f.message


def test_gate_approval_as_a_linked_approval_issue():
    approval = replace(issue("APR-1", "Approval"), status="Waiting")
    e = linked(epic(), approval)
    (f,) = run([e, approval], "PMO-GAT-001", method="linked_issue", approvers=["PMO Board"])
    assert "as a linked Approval issue in status Approved (APR-1 is Waiting)" in f.fix
    assert run([e, replace(approval, status="Approved")], "PMO-GAT-001", method="linked_issue") == []


def test_gate_approval_as_a_comment_by_an_approver():
    said = Comment("1", BOB, "Approved for execution", days_ago(3), days_ago(3))
    e = replace(epic(sponsor=DANA), comments=(said,))
    opts = {"method": "comment", "approver_fields": ["sponsor"]}
    assert len(run([e], "PMO-GAT-001", **opts)) == 1  # Bob is not the sponsor
    dana = replace(said, author=DANA)
    assert run([replace(e, comments=(said, dana))], "PMO-GAT-001", **opts) == []
    (f,) = run([replace(e, comments=None)], "PMO-GAT-001", **opts)
    assert f.outcome is Outcome.NOT_APPLICABLE


def test_approval_options_are_validated():
    with pytest.raises(Exception, match="regular expression"):
        audit([epic()], only("PMO-GAT-001", options={"method": "comment", "comment_pattern": "(unclosed"}))


# --- closing: PMO-CLS-002 acceptance, PMO-CLS-003 lessons ---------------------------------------

def test_closing_needs_the_sponsors_acceptance():
    e = epic(phase="Closing", sponsor=DANA, sponsor_acceptance=None)
    (f,) = run([e], "PMO-CLS-002")
    assert f.message == "no sponsor acceptance recorded (may approve: Dana Sponsor (sponsor))"
    assert run([replace(e, fields={**e.fields, "sponsor_acceptance": DANA})], "PMO-CLS-002") == []


def test_lessons_learned_section_link_or_linked_issue():
    e = epic(phase="Closing")
    (f,) = run([e], "PMO-CLS-003")
    assert f.message == "no lessons learned recorded before closing"
    assert run([replace(e, description="h2. Lessons learned\nStart risk reviews earlier.")], "PMO-CLS-003") == []
    assert len(run([replace(e, description="h2. Lessons learned\n")], "PMO-CLS-003")) == 1  # empty heading
    lesson = issue("LL-1", "Lessons Learned")
    assert run([linked(e, lesson), lesson], "PMO-CLS-003", lessons_types=["Lessons Learned"]) == []


# --- RAID ----------------------------------------------------------------------------------------

def scored(key: str, likelihood: str | None, impact: str, **kw: object) -> Issue:
    r = risk(key, "WEB-1", impact=impact, **kw)
    return replace(r, fields={**r.fields, "risk_likelihood": likelihood})


def test_risks_scored_on_the_matrix():
    issues = [epic(), scored("WEB-2", "High", "High"), scored("WEB-3", None, "High"),
              scored("WEB-4", "Sometimes", "Huge")]
    found = run(issues, "PMO-RSK-003")
    assert [(f.subject, f.message) for f in found] == [
        ("WEB-3", "risk WEB-3 cannot be scored: no likelihood"),
        ("WEB-4", "risk WEB-4 cannot be scored: likelihood 'Sometimes' not on the matrix and impact 'Huge' "
                  "not on the matrix")]
    assert run(issues, "PMO-RSK-003", probability={"Sometimes": 2, "High": 3}, impact={"Huge": 5, "High": 3},
               ) == [f for f in run(issues, "PMO-RSK-003", probability={"Sometimes": 2, "High": 3},
                                    impact={"Huge": 5, "High": 3}) if f.subject == "WEB-3"]


def test_open_high_risks_reviewed_within_n_days():
    issues = [epic(), scored("WEB-2", "High", "High", updated=days_ago(45)),       # 9: high, stale
              scored("WEB-3", "Low", "High", updated=days_ago(90)),                # 3: not high
              scored("WEB-4", "High", "Critical", updated=days_ago(5))]            # 12: reviewed
    (f,) = run(issues, "PMO-RSK-004")
    assert f.subject == "WEB-2" and f.message == (
        f"high risk WEB-2 (score 9) not reviewed for 45 days (last {days_ago(45).date()}, limit 30)")
    assert f.fix.startswith("Have Ann Lee review WEB-2")
    assert run(issues, "PMO-RSK-004", max_days=60) == []


def test_issue_log_needs_owner_and_due_date():
    logged = [replace(issue("OPS-1", "Issue"), assignee=None, due=None),
              replace(issue("OPS-2", "Issue"), assignee=ANN, due=day(-3)),
              replace(issue("OPS-3", "Issue"), assignee=ANN, due=day(3)),
              child("WEB-2", "WEB-1", labels=("raid-issue",), assignee=GONE, due=day(5))]
    e = linked(epic(), *logged[:3])
    found = run([e, *logged], "PMO-ISS-001")
    assert [(f.subject, f.message) for f in found] == [
        ("OPS-1", "logged issue OPS-1 has no owner and has no due date"),
        ("OPS-2", f"logged issue OPS-2 is 3 days past its due date {day(-3)}"),
        ("WEB-2", "logged issue WEB-2 has no owner")]


def test_dependencies_on_late_unowned_or_closing_work_in_other_projects():
    other_epic = epic("PAY-1", phase="Closing", status="In Progress")
    blockers = [replace(issue("PAY-2", "Story"), due=day(-4), assignee=ANN),           # late
                replace(issue("PAY-3", "Story"), assignee=None, due=day(10)),          # unowned
                replace(issue("PAY-4", "Story", parent_key="PAY-1"), assignee=ANN),    # under a closing epic
                replace(issue("PAY-5", "Story"), assignee=ANN, due=day(10)),           # healthy
                replace(issue("WEB-9", "Story"), assignee=None)]                       # same project
    e = replace(epic(), links=tuple(IssueLink("Blocks", "inward", "is blocked by", b.key) for b in blockers))
    found = run([e, other_epic, *blockers], "PMO-DEP-001")
    assert [(f.subject, f.message) for f in found] == [
        ("PAY-2", f"blocked by PAY-2 (PAY), which is 4 days late ({day(-4)})"),
        ("PAY-3", "blocked by PAY-3 (PAY), which has no owner"),
        ("PAY-4", "blocked by PAY-4 (PAY), which is open under PAY-1, which is closing")]


def test_assumptions_and_decisions_logged_from_planning():
    e = epic(phase="Planning")
    (f,) = run([e], "PMO-PLN-004")
    assert f.message == "no assumptions and no decisions logged"
    decision = issue("WEB-5", "Decision")
    assumption = child("WEB-6", "WEB-1", labels=("raid-assumption",))
    assert run([linked(e, decision), decision, assumption], "PMO-PLN-004") == []
    (f,) = run([linked(e, decision), decision], "PMO-PLN-004")
    assert f.message == "no assumptions logged"


# --- PMO-GOV-003 sponsor ------------------------------------------------------------------------

@pytest.mark.parametrize("sponsor, message", [
    (None, "sponsor is not set"), (GONE, "sponsor Bob Gone is deactivated"),
    (ANN, "sponsor and owner are the same person (Ann Lee)")])
def test_sponsor_set_active_and_not_the_owner(sponsor, message):
    (f,) = run([epic(sponsor=sponsor)], "PMO-GOV-003")
    assert f.message == message
    assert run([epic(sponsor=DANA)], "PMO-GOV-003") == []


# --- what the run reads --------------------------------------------------------------------------

def test_history_comments_and_linked_types_are_read_only_when_a_standard_needs_them():
    assert read_plan(only("PMO-GOV-001")).history == frozenset()
    plan = read_plan(mapping([{"code": "PMO-CHG-001"}, {"code": "PMO-GAT-001", "options": {"method": "comment"}},
                              {"code": "PMO-PLN-004"}]))
    assert {"target_end", "status", "phase"} <= plan.history and plan.comments
    assert plan.issue_types == ("Change Request", "Assumption", "Decision")
    assert "gate_approval" not in plan.fields  # the comment method reads no approval field
    assert "gate_approval" in read_plan(only("PMO-GAT-001")).fields


def test_changelog_dates_in_a_localised_display_format():
    e = gated(epic(target_end=day(60)), ch(10, BOB, ("target_end", None, None)))
    moved = replace(e.changelog[1], items=(FieldChange("target_end", None, "05/Dec/26", None, "24/Jan/27"),))
    e = replace(e, changelog=(e.changelog[0], moved), fields={**e.fields, "target_end": date(2027, 1, 24)})
    (f,) = run([e], "PMO-CHG-001")
    assert "from 2026-12-05 to 2027-01-24 (+50 days" in f.message
    assert isinstance(moved.created, datetime)


# --- PMO-DEP-001 across sites -------------------------------------------------------------------

OPS = Site("ops", "https://ops.example.org/jira", Flavour.DC)
CROSS_SITE = only("PMO-DEP-001", options={"cross_site_field": "blocked_by"})


def _on_ops(i: Issue) -> Issue:
    return replace(i, site="ops", browse=f"{OPS.url}/browse/")


def test_work_on_another_site_of_the_run_blocks_an_epic_through_its_blocked_by_field():
    """A remote issue link is read one issue at a time, so the blocked epic names its blockers on
    other sites in a field; both sites are audited together, and the blockers are judged there."""
    late = _on_ops(replace(issue("OPS-7", "Story"), due=day(-6), assignee=ANN))
    healthy = _on_ops(replace(issue("OPS-8", "Story"), due=day(6), assignee=ANN))
    unowned = _on_ops(replace(issue("OPS-9", "Story"), due=day(6), assignee=None))
    e = epic(blocked_by=f"{OPS.url}/browse/OPS-7, ops:OPS-8\nOPS:ops-9 https://elsewhere.example.com/browse/X-1")
    fields = FIELDS | {"blocked_by"}
    result = run_audit([snapshot([e], fields=fields), snapshot([late, healthy, unowned], site=OPS, fields=fields)],
                       CROSS_SITE, today=TODAY, now=NOW)
    found = [(f.site, f.item_key, f.subject, f.message) for f in result.findings if f.code == "PMO-DEP-001"]
    assert found == [
        ("acme", "WEB-1", "ops:OPS-7", f"blocked by OPS-7 (OPS on ops), which is 6 days late ({day(-6)})"),
        ("acme", "WEB-1", "ops:OPS-9", "blocked by OPS-9 (OPS on ops), which has no owner")]
    alone = run_audit([snapshot([e], fields=fields)], CROSS_SITE, today=TODAY, now=NOW)
    assert [f.outcome for f in alone.findings if f.code == "PMO-DEP-001"] == []  # the other site was not read
    unset = run_audit([snapshot([e], fields=fields), snapshot([late, healthy, unowned], site=OPS, fields=fields)],
                      only("PMO-DEP-001"), today=TODAY, now=NOW)
    assert [f for f in unset.findings if f.code == "PMO-DEP-001"] == []  # no field named: links only
    assert "blocked_by" in read_plan(CROSS_SITE).fields and "blocked_by" not in read_plan(only("PMO-DEP-001")).fields


def test_a_cross_site_blocker_in_the_same_project_key_still_counts():
    """Two sites may both have a WEB project: 'other projects only' never hides another site's work."""
    late = _on_ops(replace(issue("WEB-7", "Story"), due=day(-2), assignee=ANN))
    e = epic(blocked_by=(f"{OPS.url}/browse/WEB-7",))
    fields = FIELDS | {"blocked_by"}
    result = run_audit([snapshot([e], fields=fields), snapshot([late], site=OPS, fields=fields)],
                       CROSS_SITE, today=TODAY, now=NOW)
    assert [f.subject for f in result.findings if f.code == "PMO-DEP-001"] == ["ops:WEB-7"]


# --- baselines recorded in the issue state --------------------------------------------------------

def _recorded(e: Issue, record: dict) -> Issue:
    """The epic as a sync leaves it: its state property holds the baseline the audit took."""
    state = state_for([], comment_id=None, mapping="h", labels=(), updated=NOW.isoformat(), baseline=record)
    return replace(e, properties={**e.properties, STATE_PROPERTY: state.to_json()})


def test_the_audit_takes_the_baseline_at_the_gate_for_the_state_to_record():
    result = audit([slipped()], only("PMO-CHG-001"))
    assert result.baselines == {("acme", "WEB-1"): {
        "at": days_ago(40).isoformat(), "by": "Ann Lee", "start": day(-30).isoformat(), "end": day(20).isoformat(),
        "children": 0, "points": 0}}
    assert audit([slipped()], only("PMO-GOV-001"), fields=FIELDS).baselines  # whatever the standards, when history was read
    assert audit([replace(slipped(), changelog=None)], only("PMO-CHG-001")).baselines == {}


def test_a_later_run_judges_against_the_recorded_baseline_once_the_history_no_longer_reaches_the_gate():
    (record,) = audit([slipped()], only("PMO-CHG-001")).baselines.values()
    # Jira's changelog now holds only the last move; replayed, the gate would look like the epic's
    # creation and the baseline like 45 days out
    truncated = replace(slipped(), changelog=(ch(10, BOB, ("target_end", day(45).isoformat(), day(60).isoformat())),))
    (recomputed,) = run([truncated], "PMO-CHG-001")
    assert f"from {day(45)} to {day(60)} (+15 days" in recomputed.message
    (f,) = run([_recorded(truncated, record)], "PMO-CHG-001")
    assert f.message.startswith(f"target end moved from {day(20)} to {day(60)} (+40 days, 80% of the baselined 50 "
                                f"days) since the baseline of {days_ago(40).date()}; last moved on "
                                f"{days_ago(10).date()} by Bob Planner")
    (gone,) = run([_recorded(replace(slipped(), changelog=()), record)], "PMO-CHG-001")
    assert gone.message == (f"target end moved from {day(20)} to {day(60)} (+40 days, 80% of the baselined 50 days) "
                            f"since the baseline of {days_ago(40).date()}; no approved Change Request linked")
    assert audit([_recorded(slipped(), record)], only("PMO-CHG-001")).baselines == {}  # recorded once


def test_a_recorded_baseline_does_not_hide_the_sites_own_baseline_field():
    (record,) = audit([slipped()], only("PMO-CHG-001")).baselines.values()
    e = _recorded(replace(slipped(), fields={**slipped().fields, "baseline_end": day(55)}), record)
    assert run([e], "PMO-CHG-001", fields=FIELDS | {"baseline_end"}) == []  # 5 days past the field: tolerated


@pytest.mark.parametrize("bad", [
    {"at": "yesterday", "end": "2026-01-01"}, {"at": "2026-01-01T00:00:00+00:00", "end": "2026-13-01"},
    {"at": "2026-01-01T00:00:00+00:00", "end": "2026-02-01", "children": -1}, "2026-02-01",
    {"at": "2026-01-01T00:00:00+00:00", "end": "2026-02-01", "points": "many"}])
def test_a_hand_edited_baseline_is_ignored_not_trusted(bad):
    state = state_for([], comment_id=None, mapping="h", labels=(), updated=NOW.isoformat()).to_json()
    parsed = parse_state({**state, "baseline": bad})
    assert parsed is not None and parsed.baseline is None


def test_one_day_late_reads_one_day():
    logged = replace(issue("OPS-2", "Issue"), assignee=ANN, due=day(-1))
    blocker = replace(issue("PAY-2", "Story"), due=day(-1), assignee=ANN)
    e = linked(epic(), logged)
    e = replace(e, links=(*e.links, IssueLink("Blocks", "inward", "is blocked by", "PAY-2")))
    assert [f.message for f in run([e, logged, blocker], "PMO-ISS-001")] == [
        f"logged issue OPS-2 is 1 day past its due date {day(-1)}"]
    assert [f.message for f in run([e, logged, blocker], "PMO-DEP-001")] == [
        f"blocked by PAY-2 (PAY), which is 1 day late ({day(-1)})"]
