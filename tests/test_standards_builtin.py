"""Each built-in standard on hand-built epics: passes, fails with a fix, or says why it cannot judge."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from pmo_jira.findings import Outcome, Severity
from pmo_jira.model import IssueLink
from pmo_jira.standards.builtin.initiation import section_status
from pmo_jira.state import STATE_PROPERTY

from standards_fixtures import (
    ALL_FIELDS,
    ANN,
    GONE,
    TODAY,
    audit,
    child,
    day,
    days_ago,
    epic,
    findings,
    mapping,
    only,
    project,
    risk,
)

# --- PMO-GOV-001 accountable owner ----------------------------------------------------------------


def test_owner_set_passes_in_every_phase():
    for phase in ("Initiation", "Planning", "Execution", "Closing"):
        assert findings([epic(phase=phase)], "PMO-GOV-001") == []


@pytest.mark.parametrize("owner, message", [(None, "owner is not set"), (GONE, "owner Bob Gone is deactivated")])
def test_owner_missing_or_deactivated_fails(owner, message):
    (f,) = findings([epic("WEB-7", owner=owner)], "PMO-GOV-001")
    assert (f.outcome, f.severity, f.message) == (Outcome.FAIL, Severity.HIGH, message)
    assert f.item_key == "WEB-7" and f.item_kind == "epic" and f.phase == "execution"
    assert '"assignee"' in f.fix and "WEB-7" in f.fix


def test_owner_not_mapped_on_site_is_not_applicable_never_a_pass():
    (f,) = findings([epic(owner=None)], "PMO-GOV-001", fields=ALL_FIELDS - {"owner"})
    assert f.outcome is Outcome.NOT_APPLICABLE
    assert f.message == ("not applicable: field 'owner' is not mapped/resolved on site acme "
                         "(map it in fields.owner)")
    assert not f.counts


# --- PMO-GOV-002 project lead ---------------------------------------------------------------------


def test_project_without_lead_fails_project_with_lead_passes():
    issues = [epic("WEB-1"), epic("OPS-1")]
    found = findings(issues, "PMO-GOV-002", projects=[project("WEB", lead=None), project("OPS")])
    assert [(f.item_key, f.item_kind, f.message) for f in found] == [("WEB", "project", "project lead is not set")]
    assert "Project lead" in found[0].fix


# --- PMO-INI-001 charter --------------------------------------------------------------------------


@pytest.mark.parametrize("description", [
    "h2. Objective\nCut checkout time in half.",          # wiki markup
    "Objective\nCut checkout time in half.",              # ADF heading flattened to a line
    "## objective\n\nCut checkout time in half.",         # markdown, any case
    "Objective: cut checkout time in half.",              # lead-in
    "*Objective:* cut checkout time in half.",            # wiki bold lead-in
])
def test_charter_section_found_in_every_text_form(description):
    assert findings([epic(description=description)], "PMO-INI-001") == []


@pytest.mark.parametrize("description, status", [
    ("", "missing"),
    ("We will make checkout faster.", "missing"),
    ("Our objectives are many", "missing"),
    ("h2. Objective\n\nh2. Scope\nWeb only.", "empty"),
    ("Objective:\n", "empty"),
])
def test_charter_missing_or_unfilled(description, status):
    assert section_status(description, "Objective") == status


def test_charter_failure_lists_missing_and_empty_sections():
    m = only("PMO-INI-001", options={"sections": ["Objective", "Business case", "Scope"]})
    result = audit([epic(description="h2. Objective\nFaster.\nh2. Scope\n")], m)
    (f,) = result.findings
    assert f.message == "description has no 'Business case' section and empty 'Scope' section"
    assert "Edit the description of WEB-1" in f.fix and f.severity is Severity.MEDIUM


def test_charter_linked_document_counts_when_pattern_matches():
    m = only("PMO-INI-001", options={"document_url_pattern": r"/wiki/spaces/PMO/"})
    linked = epic("WEB-1", description="Charter: https://acme.example.net/wiki/spaces/PMO/pages/42")
    elsewhere = epic("WEB-2", description="Charter: https://docs.example.com/charter")
    assert [f.item_key for f in audit([linked, elsewhere], m).findings] == ["WEB-2"]


def test_charter_objective_field_counts_when_the_mapping_binds_one():
    written = epic("WEB-1", description="", objective="Halve checkout time by Q3.")
    blank = epic("WEB-2", description="", objective="  ")
    assert [f.item_key for f in findings([written, blank], "PMO-INI-001")] == ["WEB-2"]


def test_charter_not_applicable_when_the_description_was_not_read():
    (f,) = findings([epic(description="")], "PMO-INI-001", fields=ALL_FIELDS - {"description"})
    assert f.outcome is Outcome.NOT_APPLICABLE and "field 'description'" in f.message


# --- PMO-PLN-001 dates ----------------------------------------------------------------------------


def test_dates_set_passes_and_is_not_checked_in_initiation():
    assert findings([epic(), epic("WEB-2", "Initiation", start=None, target_end=None)], "PMO-PLN-001") == []


def test_dates_missing_fail_with_the_mapped_field_names():
    (f,) = findings([epic("WEB-1", "Planning", start=None, target_end=None)], "PMO-PLN-001")
    assert f.message == "no start date and target end"
    assert '"Start date"' in f.fix and '"Target end"' in f.fix


def test_dates_in_wrong_order_fail_on_their_own_subject():
    (f,) = findings([epic(start=day(10), target_end=day(5))], "PMO-PLN-001")
    assert f.subject == "order" and "is after target end" in f.message


def test_dates_not_applicable_names_every_missing_field():
    (f,) = findings([epic()], "PMO-PLN-001", fields=ALL_FIELDS - {"start", "target_end"})
    assert f.outcome is Outcome.NOT_APPLICABLE
    assert "fields 'start', 'target_end'" in f.message and "fields.target_end" in f.message


# --- PMO-PLN-002 estimates ------------------------------------------------------------------------


def test_estimates_ratio_counts_only_open_children():
    children = [child(f"WEB-{n}", "WEB-1") for n in range(2, 10)]           # 8 estimated
    children += [child("WEB-10", "WEB-1", points=None), child("WEB-11", "WEB-1", points=None, status="Done")]
    assert findings([epic(), *children], "PMO-PLN-002") == []                  # 8 of 9 open = 89%


def test_estimates_below_ratio_fail_with_keys_to_estimate():
    children = [child("WEB-2", "WEB-1"), child("WEB-3", "WEB-1", points=None), child("WEB-4", "WEB-1", points=None)]
    (f,) = findings([epic(), *children], "PMO-PLN-002")
    assert f.message == "1 of 3 open children estimated (33%, minimum 80%); unestimated: WEB-3, WEB-4"
    assert '"Story point estimate"' in f.fix


def test_estimates_zero_is_an_estimate_and_min_ratio_is_an_option():
    children = [child("WEB-2", "WEB-1", points=0.0), child("WEB-3", "WEB-1", points=None)]
    assert len(findings([epic(), *children], "PMO-PLN-002")) == 1
    assert audit([epic(), *children], only("PMO-PLN-002", options={"min_ratio": 0.5})).findings == ()


def test_estimates_ignore_risks_and_other_epics_children():
    issues = [epic(), epic("WEB-9"), child("WEB-2", "WEB-9", points=None), risk("WEB-3", "WEB-1")]
    assert [f.item_key for f in findings(issues, "PMO-PLN-002")] == ["WEB-9"]


# --- PMO-PLN-003 children inside dates ------------------------------------------------------------


def test_children_inside_dates_pass():
    issues = [epic(start=day(-30), target_end=day(60)), child("WEB-2", "WEB-1", due=day(30)),
              child("WEB-3", "WEB-1", due=day(90), status="Done"), child("WEB-4", "WEB-1")]
    assert findings(issues, "PMO-PLN-003") == []


def test_each_child_outside_dates_is_its_own_finding():
    issues = [epic(start=day(-30), target_end=day(60)),
              child("WEB-2", "WEB-1", due=day(74)),
              child("WEB-3", "WEB-1", due=day(-40)),
              child("WEB-4", "WEB-1", fields={"target_end": day(61)}),
              child("WEB-5", "WEB-1", fields={"start": day(-31)}, due=day(10))]
    found = findings(issues, "PMO-PLN-003")
    assert [f.subject for f in found] == ["WEB-2", "WEB-3", "WEB-4", "WEB-5"]
    assert found[0].message == f"WEB-2 ends {day(74)}, 14 days after the epic's target end {day(60)}"
    assert "before the epic starts" in found[1].message and "before the epic starts" in found[3].message
    assert all(f.item_key == "WEB-1" and "Re-plan" in f.fix for f in found)


def test_children_dates_not_applicable_when_epic_has_no_dates():
    (f,) = findings([epic(start=None, target_end=None), child("WEB-2", "WEB-1", due=day(5))], "PMO-PLN-003")
    assert f.outcome is Outcome.NOT_APPLICABLE and "PMO-PLN-001" in f.message


# --- PMO-EXE-001 freshness ------------------------------------------------------------------------


def test_fresh_when_epic_or_any_child_was_updated_recently():
    assert findings([epic(updated=days_ago(40)), child("WEB-2", "WEB-1", updated=days_ago(3))], "PMO-EXE-001") == []


def test_stale_epic_fails_with_days_and_latest_issue():
    issues = [epic(updated=days_ago(40)), child("WEB-2", "WEB-1", updated=days_ago(20))]
    (f,) = findings(issues, "PMO-EXE-001")
    assert f.message == ("no update on the epic or its children for 20 days "
                         f"(last {days_ago(20).date()}, WEB-2; limit 14)")
    assert "status update" in f.fix


def _written(at, seen, *codes):
    """The state property a previous sync left on an issue: written ``at``, people last ``seen``."""
    return {STATE_PROPERTY: {"v": 1, "fingerprint": "ab" * 8, "comment_id": "10001", "mapping": "x",
                             "labels": ["pmo-stale"], "findings": {f"{i:016x}": c for i, c in enumerate(codes)},
                             "titles": {}, "updated": at.isoformat(), "seen": seen.isoformat()}}


def test_our_own_write_back_does_not_make_a_stale_epic_fresh():
    synced = days_ago(3)
    stale = epic(updated=synced + timedelta(minutes=2), properties=_written(synced, days_ago(30), "PMO-EXE-001"))
    (f,) = findings([stale, child("WEB-2", "WEB-1", updated=days_ago(40))], "PMO-EXE-001")
    assert f.message == (f"no update on the epic or its children for 30 days "
                         f"(last {days_ago(30).date()}, not counting pmo-jira's write-back; limit 14)")
    assert f.fingerprint == findings([epic(updated=days_ago(30))], "PMO-EXE-001")[0].fingerprint


def test_a_write_back_of_other_findings_does_not_hide_staleness_either():
    synced = days_ago(3)
    quiet = epic(updated=synced + timedelta(minutes=2), properties=_written(synced, days_ago(20), "PMO-GOV-001"))
    (f,) = findings([quiet], "PMO-EXE-001")
    assert "20 days" in f.message and "not counting pmo-jira's write-back" in f.message


def test_our_own_write_stays_ours_when_jiras_clock_is_a_little_behind():
    synced = days_ago(3)
    stale = epic(updated=synced - timedelta(seconds=2), properties=_written(synced, days_ago(30), "PMO-EXE-001"))
    (f,) = findings([stale, child("WEB-2", "WEB-1", updated=days_ago(40))], "PMO-EXE-001")
    assert "not counting pmo-jira's write-back" in f.message


def test_people_updating_after_our_write_count():
    synced = days_ago(3)
    touched_later = epic("WEB-1", updated=synced + timedelta(hours=2),
                         properties=_written(synced, days_ago(30), "PMO-EXE-001"))
    fresh_child = epic("WEB-3", updated=synced + timedelta(minutes=2),
                       properties=_written(synced, days_ago(30), "PMO-EXE-001"))
    issues = [touched_later, fresh_child, child("WEB-4", "WEB-3", updated=days_ago(1))]
    assert findings(issues, "PMO-EXE-001") == []


def test_freshness_limit_is_an_option_and_only_checked_in_execution():
    issues = [epic(updated=days_ago(20)), epic("WEB-2", "Planning", updated=days_ago(99))]
    assert audit(issues, only("PMO-EXE-001", options={"max_days": 21})).findings == ()


def test_done_epic_still_marked_execution_is_not_called_stale():
    # the "PMO Phase" field says Execution, but the work is finished: nobody updates finished work
    assert findings([epic(status="Done", updated=days_ago(90))], "PMO-EXE-001") == []


# --- PMO-EXE-002 overdue --------------------------------------------------------------------------


def test_overdue_open_epic_fails_with_days_late():
    (f,) = findings([epic(target_end=day(-23))], "PMO-EXE-002")
    assert f.message == f"target end {day(-23)} passed 23 days ago and the epic is still In Progress"
    assert f.severity is Severity.HIGH and "re-baseline" in f.fix


def test_not_overdue_when_end_is_today_or_later_or_within_grace():
    assert findings([epic(target_end=TODAY), epic("WEB-2", target_end=day(1))], "PMO-EXE-002") == []
    assert audit([epic(target_end=day(-2))], only("PMO-EXE-002", options={"grace_days": 2})).findings == ()


def test_done_work_is_not_overdue():
    assert findings([epic(status="Done", target_end=day(-5))], "PMO-EXE-002") == []


def test_overdue_not_applicable_without_a_target_end():
    (f,) = findings([epic(target_end=None)], "PMO-EXE-002")
    assert f.outcome is Outcome.NOT_APPLICABLE


# --- PMO-EXE-003 blocked --------------------------------------------------------------------------


def test_blocked_too_long_flags_each_blocked_issue():
    issues = [epic(status="Blocked", status_category_changed=days_ago(12)),
              child("WEB-2", "WEB-1", status="Blocked", status_category_changed=days_ago(30)),
              child("WEB-3", "WEB-1", status="Blocked", status_category_changed=days_ago(2)),
              child("WEB-4", "WEB-1", status="In Progress", status_category_changed=days_ago(90))]
    found = findings(issues, "PMO-EXE-003")
    assert [f.subject for f in found] == ["WEB-1", "WEB-2"]
    assert found[1].message == f"WEB-2 has been Blocked for 30 days (since {days_ago(30).date()}, limit 10)"
    assert "Escalate" in found[1].fix


def test_blocked_falls_back_to_updated_and_says_so():
    (f,) = findings([epic(), child("WEB-2", "WEB-1", status="Blocked", updated=days_ago(15))], "PMO-EXE-003")
    assert "measured from the last update" in f.message


def test_blocked_statuses_and_limit_are_options():
    issues = [epic(), child("WEB-2", "WEB-1", status="In Review", status_category_changed=days_ago(6))]
    m = only("PMO-EXE-003", options={"blocked_statuses": ["in review"], "max_days": 5})
    assert [f.subject for f in audit(issues, m).findings] == ["WEB-2"]


# --- PMO-RSK-001 risk register --------------------------------------------------------------------


def test_risk_register_any_link_direction_or_parent_counts():
    linked_from_risk = [epic("WEB-1"), risk("WEB-2", "WEB-1")]
    linked_from_epic = [epic("WEB-3", links=(IssueLink("Relates", "inward", "relates to", "WEB-4"),)), risk("WEB-4")]
    parented = [epic("WEB-5"), risk("WEB-6", parent_key="WEB-5")]
    assert findings(linked_from_risk + linked_from_epic + parented, "PMO-RSK-001") == []


def test_risk_register_counts_a_linked_risk_in_a_project_outside_the_scope():
    # a central risk project the mapping does not read: the link still says the other end is a Risk
    link = IssueLink("Relates", "inward", "relates to", "RAID-7", other_type="Risk")
    story = IssueLink("Relates", "inward", "relates to", "OPS-9", other_type="Story")
    found = findings([epic("WEB-1", links=(link,)), epic("WEB-2", links=(story,))], "PMO-RSK-001")
    assert [f.item_key for f in found] == ["WEB-2"]


def test_risk_register_missing_fails_while_the_work_is_planned_or_running():
    issues = [epic("WEB-1", "Initiation"), epic("WEB-2", "Planning"), epic("WEB-3", "Closing"),
              epic("WEB-5", "Execution"), child("WEB-4", "WEB-2")]
    found = findings(issues, "PMO-RSK-001")
    assert [(f.item_key, f.message) for f in found] == [("WEB-2", "no risk is linked to the epic"),
                                                        ("WEB-5", "no risk is linked to the epic")]
    assert "Risk issue linked" in found[0].fix and found[0].severity is Severity.HIGH


def test_risk_register_explicit_none_label():
    m = only("PMO-RSK-001", options={"none_label": "no-risks-identified"})
    issues = [epic("WEB-1", labels=("no-risks-identified",)), epic("WEB-2")]
    (f,) = audit(issues, m).findings
    assert f.item_key == "WEB-2" and "no-risks-identified" in f.fix


def test_risk_register_not_applicable_without_risk_types():
    m = mapping([{"code": "PMO-RSK-001"}], issue_types={"epic": ["Epic"], "child": ["Story"], "risk": []})
    (f,) = audit([epic()], m).findings
    assert f.outcome is Outcome.NOT_APPLICABLE and "issue_types.risk" in f.message


# --- PMO-RSK-002 high risks managed ---------------------------------------------------------------


def test_high_risks_need_owner_and_mitigation_one_finding_per_risk():
    issues = [epic(),
              risk("WEB-2", "WEB-1"),                                        # managed
              risk("WEB-3", "WEB-1", owner=None, mitigation="  "),          # neither
              risk("WEB-4", "WEB-1", impact="critical", owner=GONE),       # owner left
              risk("WEB-5", "WEB-1", impact="Low", owner=None, mitigation=None),
              risk("WEB-6", "WEB-1", status="Closed", owner=None)]
    found = findings(issues, "PMO-RSK-002")
    assert [(f.subject, f.message) for f in found] == [
        ("WEB-3", "risk WEB-3 (impact High) has no owner and no mitigation"),
        ("WEB-4", "risk WEB-4 (impact critical) has an owner who left (Bob Gone)"),
    ]
    assert all(f.severity is Severity.CRITICAL for f in found)
    assert "Assignee" in found[0].fix and '"Mitigation"' in found[0].fix


def test_high_risk_fix_asks_only_for_what_is_missing():
    (f,) = findings([epic(), risk("WEB-2", "WEB-1", mitigation=None)], "PMO-RSK-002")
    assert f.message == "risk WEB-2 (impact High) has no mitigation"
    assert f.fix == ('On WEB-2, describe the response in "Mitigation" (avoid, mitigate, transfer or accept).')
    (f,) = findings([epic(), risk("WEB-2", "WEB-1", owner=None)], "PMO-RSK-002")
    assert f.fix == "On WEB-2, set Assignee to the person managing the risk."


def test_risk_owner_field_used_when_mapped():
    m = mapping([{"code": "PMO-RSK-002"}])
    r = risk("WEB-2", "WEB-1", owner=ANN)  # assignee set, but the mapped risk owner is empty
    r = replace(r, fields={**r.fields, "risk_owner": None})
    (f,) = audit([epic(), r], m, fields=ALL_FIELDS | {"risk_owner"}).findings
    assert f.message == "risk WEB-2 (impact High) has no owner" and "set the risk owner field" in f.fix


def test_high_values_option():
    issues = [epic(), risk("WEB-2", "WEB-1", impact="Medium", owner=None)]
    assert findings(issues, "PMO-RSK-002") == []
    assert len(audit(issues, only("PMO-RSK-002", options={"high_values": ["Medium"]})).findings) == 1


def test_risk_fields_missing_on_site_is_not_applicable():
    (f,) = findings([epic(), risk("WEB-2", "WEB-1")], "PMO-RSK-002", fields=ALL_FIELDS - {"risk_mitigation"})
    assert f.outcome is Outcome.NOT_APPLICABLE and "fields.risk_mitigation" in f.message


# --- PMO-CLS-001 closing gate ---------------------------------------------------------------------


def test_closing_gate_passes_when_all_children_are_resolved():
    issues = [epic(phase="Closing"), child("WEB-2", "WEB-1", status="Done")]
    assert findings(issues, "PMO-CLS-001") == []


def test_closing_gate_flags_wip_per_child_and_unstarted_together():
    issues = [epic(phase="Closing"), child("WEB-2", "WEB-1", status="In Progress"),
              child("WEB-3", "WEB-1"), child("WEB-4", "WEB-1"), child("WEB-5", "WEB-1", status="Done")]
    found = findings(issues, "PMO-CLS-001")
    assert [(f.subject, f.message) for f in found] == [
        ("WEB-2", "WEB-2 is still In Progress under an epic in closing"),
        ("children", "2 children not resolved: WEB-3, WEB-4"),
    ]


def test_closing_gate_lists_a_few_keys_and_counts_the_rest():
    issues = [epic(phase="Closing"), *(child(f"WEB-{n}", "WEB-1") for n in range(2, 9))]
    (f,) = findings(issues, "PMO-CLS-001")
    assert f.message == "7 children not resolved: WEB-2, WEB-3, WEB-4, WEB-5, WEB-6 (+2 more)"


def test_closing_gate_only_in_closing():
    assert findings([epic(), child("WEB-2", "WEB-1", status="In Progress")], "PMO-CLS-001") == []


def test_an_epic_one_day_past_its_target_end_passed_it_one_day_ago():
    (f,) = findings([epic(target_end=day(-1))], "PMO-EXE-002")
    assert f.message == f"target end {day(-1)} passed 1 day ago and the epic is still In Progress"
