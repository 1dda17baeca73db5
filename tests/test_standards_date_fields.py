"""Date standards on sites whose start / target end are Date Time Picker custom fields.

Jira sends such a field as ``2026-03-29T01:30:00.000+0100`` (in the offset of the account that
reads it); a date picker as ``2026-03-29``. Both are plans of a calendar day: a standard compares
them with dates and tells the day Jira shows, never crashes or shifts it to UTC. Durations
count from the change that started them, as the changelog tells it.
"""

from __future__ import annotations

from datetime import date

from pmo_jira.findings import Outcome
from pmo_jira.jira.payloads import normalise_value
from pmo_jira.model import Flavour
from pmo_jira.standards.timeline import baseline

from standards_fixtures import ALL_FIELDS, audit, child, day, epic, only


def jira_datetime(text: str):
    """A custom field's value as the client reads it from a search page."""
    return normalise_value(text, Flavour.CLOUD)


def outcomes(issues, code):
    return [(f.item_key, f.outcome, f.message) for f in audit(issues, only(code)).findings]


def test_an_overdue_epic_with_a_date_time_target_end_fails_with_the_day_jira_shows():
    # 23:30 at UTC-8 is already the next day in UTC: the day shown in Jira is the 20th
    late = epic("WEB-1", target_end=jira_datetime("2026-11-20T23:30:00.000-0800"))
    assert outcomes([late], "PMO-EXE-002") == [
        ("WEB-1", Outcome.FAIL, "target end 2026-11-20 passed 5 days ago and the epic is still In Progress")]
    on_time = epic("WEB-2", target_end=jira_datetime("2026-11-25T00:30:00.000+0100"))  # due today: not late
    assert outcomes([on_time], "PMO-EXE-002") == []


def test_dates_in_order_and_children_inside_with_date_time_fields():
    e = epic("WEB-1", start=jira_datetime("2026-03-29T01:30:00.000+0100"),  # the night clocks go forward
             target_end=jira_datetime("2026-12-31T18:00:00.000+0100"))
    inside = child("WEB-2", "WEB-1", due=day(10))
    late = child("WEB-3", "WEB-1", fields={"target_end": jira_datetime("2027-01-04T09:00:00.000+0100")})
    assert outcomes([e, inside, late], "PMO-PLN-001") == []
    assert outcomes([e, inside, late], "PMO-PLN-003") == [
        ("WEB-1", Outcome.FAIL, "WEB-3 ends 2027-01-04, 4 days after the epic's target end 2026-12-31")]

    backwards = epic("WEB-4", start=jira_datetime("2026-06-02T08:00:00.000+0200"),
                     target_end=jira_datetime("2026-06-01T20:00:00.000+0200"))
    assert outcomes([backwards], "PMO-PLN-001") == [
        ("WEB-4", Outcome.FAIL, "start 2026-06-02 is after target end 2026-06-01")]


def test_a_target_end_bound_to_a_text_field_is_told_not_called_missing():
    e = epic("WEB-1", target_end="Q3 2026")
    [(key, outcome, message)] = outcomes([e], "PMO-PLN-001")
    assert (key, outcome) == ("WEB-1", Outcome.FAIL)
    assert message == "\"Target end\" holds 'Q3 2026', not a date"


def test_a_date_time_baseline_field_is_the_baseline():
    e = epic("WEB-1", baseline_start=jira_datetime("2026-01-05T09:00:00.000+0100"),
             baseline_end=jira_datetime("2026-06-30T17:00:00.000+0200"))
    base = baseline(e, None, [], lambda name: name in ALL_FIELDS | {"baseline_start", "baseline_end"})
    assert base is not None and base.source == "field"
    assert (base.start, base.end) == (date(2026, 1, 5), date(2026, 6, 30))


def test_blocked_counts_from_the_move_into_blocked_when_the_history_was_read():
    """Blocked sits in the In Progress category on most sites: the category changed when work
    started (30 days ago), the epic was blocked 3 days ago; that is not an escalation yet."""
    from dataclasses import replace

    from pmo_jira.model import Change, FieldChange

    from standards_fixtures import ANN, days_ago

    def status_move(days: int, before: str, after: str) -> Change:
        return Change(str(days), ANN, days_ago(days), (FieldChange("status", "3", before, "10", after),))

    e = epic(status="Blocked", status_category_changed=days_ago(30))
    recent = replace(e, changelog=(status_move(30, "To Do", "In Progress"), status_move(3, "In Progress", "Blocked")))
    assert outcomes([recent], "PMO-EXE-003") == []

    # blocked 20 days ago, then moved between two blocked statuses: counted from the first
    long = replace(e, status="On Hold", changelog=(status_move(30, "To Do", "In Progress"),
                                                   status_move(20, "In Progress", "Blocked"),
                                                   status_move(4, "Blocked", "On Hold")))
    m = only("PMO-EXE-003", options={"blocked_statuses": ["Blocked", "On Hold"]})
    [finding] = audit([long], m).findings
    assert finding.message == f"WEB-1 has been On Hold for 20 days (since {days_ago(20).date()}, limit 10)"
