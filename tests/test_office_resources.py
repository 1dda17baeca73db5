"""The resource view and its standards on a hand-built two-site portfolio (see office_fixtures)."""

from __future__ import annotations

import pytest
from pmo_jira_office.config import Resources
from pmo_jira_office.document import Text
from pmo_jira_office.resources import build_resources
from pmo_jira_office.views import resources_document

from pmo_jira.errors import ConfigError

from office_fixtures import ANN, RESOURCES, TODAY, audit_all, office_mapping
from standards_fixtures import load, mapping_data


def view(**resources):
    m = office_mapping(**({"resources": resources} if resources else {}))
    result, snaps, m = audit_all(m)
    return build_resources(result, snaps, m, TODAY)


def person(v, name):
    return v.people.set_index("name").loc[name]


def month(v, name, label):
    return v.load.set_index(["name", "month"]).loc[(name, label)]


def test_one_person_on_two_sites_is_one_row_with_work_from_both():
    v = view()
    ann = person(v, "Ann Lee")
    assert ann["sites"] == "acme, beta"
    assert ann["issues"] == 3 and ann["estimate"] == 28.0  # WEB-11, WEB-12 (acme) and OPS-11 (beta)
    assert ann["epics_owned"] == 1 and ann["owned_estimate"] == 25.0  # WEB-1's open work: 20 + 3 + 2 + 0


def test_an_account_on_a_site_the_run_did_not_read_is_named_not_silently_dropped():
    people = [{"name": "Ann Lee", "accounts": {"acme": "acc-ann", "betaa": "JIRAUSER1"}, "team": "Core"}]
    m = office_mapping(resources={**RESOURCES, "people": people})
    result, snaps, m = audit_all(m)
    v = build_resources(result, snaps, m, TODAY)
    assert person(v, "Ann Lee")["issues"] == 2  # OPS-11 on beta is JIRAUSER1's, not Ann's, under this mapping
    (note,) = v.notes
    assert "Ann Lee on 'betaa'" in note and "sites read: acme, beta" in note
    doc = resources_document(v, "test")
    assert doc.blocks[0] == Text(note, "warn")
    assert view().notes == ()


def test_unmapped_accounts_sharing_a_display_name_are_shown_with_their_site():
    v = view()
    assert {"Cy Young (acme)", "Cy Young (beta)"} <= set(v.people["name"])


def test_load_is_spread_to_due_dates_and_capacity_excludes_holidays():
    v = view()
    nov = month(v, "Ann Lee", "2026-11")
    # 25, 27 and 30 November are working days (26 is a holiday): 3 days x 5 points / 5 days a week.
    assert nov["capacity"] == 3.0
    # 3 of the 7 working days up to 4 December: 3/7 of WEB-11 and OPS-11, plus a sliver of WEB-12.
    assert nov["load"] == pytest.approx(25 * 3 / 7 + 3 * 3 / 65, abs=0.1)
    assert month(v, "Ann Lee", "2026-12")["capacity"] == 22.0  # 23 working days less 24 December


def test_a_person_with_more_work_than_capacity_is_over_allocated_in_that_month():
    v = view()
    assert list(v.over_allocated["name"]) == ["Ann Lee"]
    assert person(v, "Ann Lee")["over_months"] == "2026-11"
    assert not person(v, "Cy Young (acme)")["over"]


def test_own_capacity_and_holidays_override_the_default():
    v = view(capacity={"default": 5}, people=[{"name": "Ann Lee", "accounts": {"acme": "acc-ann", "beta": "JIRAUSER1"},
                                               "capacity": 50, "holidays": ["2026-11-27"]}])
    nov = month(v, "Ann Lee", "2026-11")
    assert nov["capacity"] == 30.0  # 3 working days (25, 26, 30) x 10 points a day
    assert not person(v, "Ann Lee")["over"]


def test_team_rows_sum_their_members_or_use_the_team_figure():
    v = view()
    core = v.teams.set_index(["team", "month"]).loc[("Core", "2026-11")]
    assert core["members"] == 3 and core["capacity"] == 9.0
    v = view(teams={"Core": {"members": ["Ann Lee"], "capacity": 100}},
             people=[{"name": "Ann Lee", "accounts": {"acme": "acc-ann"}, "team": "Core"}])
    # 100 points a week over November's 4 remaining working days (no holidays configured here).
    assert v.teams.set_index(["team", "month"]).loc[("Core", "2026-11")]["capacity"] == 80.0


def test_unassigned_work_in_execution_and_people_on_too_many_epics():
    v = view()
    row = v.unassigned.iloc[0]
    assert (row["key"], row["unassigned"], row["open_issues"], row["owner"]) == ("WEB-1", 2, 4, "Ann Lee")
    assert list(v.spread_thin["name"]) == ["Ann Lee"]  # WEB-1 and OPS-1, with max_epics 1


def test_unassigned_standard_fails_past_its_threshold():
    result, _, _ = audit_all(office_mapping([{"code": "PMO-RES-001", "options": {"max_unassigned": 1}}]))
    found = [f for f in result.open_findings() if f.code == "PMO-RES-001"]
    assert [f.item_key for f in found] == ["WEB-1"]
    assert "2 open child issues have no assignee" in found[0].message
    result, _, _ = audit_all(office_mapping([{"code": "PMO-RES-001", "options": {"max_unassigned": 2}}]))
    assert not [f for f in result.open_findings() if f.code == "PMO-RES-001"]


def test_owner_over_capacity_gets_the_finding_on_their_epics_counting_every_site():
    result, _, _ = audit_all(office_mapping([{"code": "PMO-RES-002"}]))
    found = {f.item_key: f for f in result.open_findings() if f.code == "PMO-RES-002"}
    assert set(found) == {"WEB-1"}  # Ann owns WEB-1; Cy's epics are within his capacity
    assert "owner Ann Lee has" in found["WEB-1"].message and "next 4 weeks" in found["WEB-1"].message
    # Without her beta work Ann would still be over; with a large tolerance she is not.
    result, _, _ = audit_all(office_mapping([{"code": "PMO-RES-002", "options": {"tolerance_pct": 100}}]))
    assert not [f for f in result.open_findings() if f.code == "PMO-RES-002"]


def test_config_errors_name_the_file_line_and_key(tmp_path):
    data = mapping_data([{"code": "PMO-GOV-001"}], resources={
        "capacity": {"default": 5},
        "people": [{"name": "A", "accounts": {"s": "x"}}, {"name": "B", "accounts": {"s": "x"}, "team": "Ops"}]})
    with pytest.raises(ConfigError) as err:
        load(tmp_path, data)
    text = str(err.value)
    assert "resources.people[1].accounts.s" in text and "belongs to 'A' and 'B'" in text
    data["resources"] = {"capacity": {"holidays": ["25/12/2026"]}}
    with pytest.raises(ConfigError, match="resources.capacity.holidays.0.*not a valid date"):
        load(tmp_path, data)
    data["resources"] = {"capacity": {"defualt": 5}}
    with pytest.raises(ConfigError, match="default"):
        load(tmp_path, data)
    assert Resources().capacity.default == 8.0 and ANN.account_id == "acc-ann"


def test_a_run_builds_its_resource_view_once_for_its_reports_and_kept_facts():
    from datetime import date

    result, snaps, m = audit_all(office_mapping())
    first = build_resources(result, snaps, m, date(TODAY.year, TODAY.month, TODAY.day))
    assert build_resources(result, snaps, m, date(TODAY.year, TODAY.month, TODAY.day)) is first  # same day, new object
    assert build_resources(result, snaps, m, date.fromordinal(TODAY.toordinal() + 1)) is not first  # another day



@pytest.mark.parametrize(("capacity", "over"), [(None, 1), ({"default": 40}, 0), ({"default": 0}, 2)])
def test_the_over_allocated_count_a_run_keeps_is_the_views_count(capacity, over):
    from pmo_jira_office.inputs import gather
    from pmo_jira_office.loads import people_over

    m = office_mapping(**({"resources": {**RESOURCES, "capacity": capacity}} if capacity else {}))
    result, snaps, m = audit_all(m)
    kept = people_over(gather(result.items, snaps, m), m, TODAY)
    assert kept == int(build_resources(result, snaps, m, TODAY).people["over"].sum()) == over


def test_the_heat_map_says_whom_it_shows():
    result, snaps, m = audit_all()
    doc = resources_document(build_resources(result, snaps, m, TODAY), "test")
    title = next(b.title for b in doc.blocks if getattr(b, "id", "") == "chart-utilisation")
    assert title == "Utilisation by person and month (% of capacity; everyone with work)"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pmo_jira_office.views.HEAT_PEOPLE", 1)
        doc = resources_document(build_resources(result, snaps, m, TODAY), "test")
    title = next(b.title for b in doc.blocks if getattr(b, "id", "") == "chart-utilisation")
    assert title.endswith("(% of capacity; the 1 most loaded of 2)")  # Ann and Cy (acme) have work
