"""The resource, strategy and monthly views end to end: the CLI against the sandbox, sandbox mapping."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pmo_jira.demo import demo_mapping
from pmo_jira.sandbox.generator import REFERENCE_NOW
from pmo_jira.sandbox.server import SandboxServer

TODAY = REFERENCE_NOW.date()


@pytest.fixture
def office_env(tmp_path):
    """The demo's mapping: the sandbox preset with the office plugin's sections and standards."""
    return {"PMO_JIRA_MAPPING": str(demo_mapping(tmp_path))}


@pytest.fixture
def sb():
    with SandboxServer("cloud", issues=400, seed=5) as server:
        yield server


def open_execution_epic(store, *, objective=True):
    return next(r for r in store.issues if r.type == "Epic" and r.status == "In Progress" and r.phase is None
                and (r.objective is not None) == objective)


def least_busy_person(store):
    """The active person with the fewest open issues assigned."""
    load = {u.account_id: 0 for u in store.users.values() if u.active and "bot" not in u.name}
    for r in store.issues:
        if r.assignee in load and r.status_category != "done":
            load[r.assignee] += 1
    return store.users[min(load, key=lambda a: (load[a], a))]


def test_a_person_given_more_work_than_capacity_is_over_allocated_and_gets_the_finding_on_their_epic(sb, pmo, office_env):
    store = sb.store
    person, epic = least_busy_person(store), open_execution_epic(store)
    store.edit(epic.key, assignee=person.account_id)  # the sandbox maps owner to the assignee
    children = [r for r in store.issues if r.parent == epic.key and r.status_category != "done"][:4]
    for child in children:  # 4 x 13 points due in a week, against 10 points a week
        store.edit(child.key, assignee=person.account_id, points=13.0, due=TODAY + timedelta(days=7))

    report = pmo.run(["report", "resources", "--format", "json", "--no-history"], sb=sb, env=office_env)
    assert report.exit_code == 0, report.stderr
    people = {p["Person"]: p for p in json.loads(report.stdout)["people"]}
    row = people[person.display_name]
    assert row["Assigned (points)"] >= 52
    assert row["Over-allocated in"].startswith(TODAY.strftime("%Y-%m"))
    assert json.loads(report.stdout)["figures"]["Over-allocated"] != "0"

    audit = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb, env=office_env)
    found = [f for f in json.loads(audit.stdout)["findings"] if f["code"] == "PMO-RES-002" and f["open"]]
    assert [f["item"] for f in found if person.display_name in f["message"]] == [epic.key]


def test_an_epic_serving_no_objective_gets_the_strategy_finding(sb, pmo, office_env):
    epic = open_execution_epic(sb.store)
    audit = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb, env=office_env)
    codes = {(f["item"], f["code"]) for f in json.loads(audit.stdout)["findings"] if f["open"]}
    assert (epic.key, "PMO-STR-001") not in codes
    sb.store.edit(epic.key, objective=None)
    audit = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb, env=office_env)
    found = [f for f in json.loads(audit.stdout)["findings"] if f["code"] == "PMO-STR-001" and f["item"] == epic.key]
    assert found and found[0]["open"] and "serves no strategic objective" in found[0]["message"]


def test_the_monthly_pack_shows_the_ranking_and_its_change_since_last_month(sb, pmo, office_env):
    last_month = (REFERENCE_NOW.replace(day=1) - timedelta(days=20)).isoformat()
    first = pmo.run(["audit", "--format", "json", "--fail-on", "never"], sb=sb, env={**office_env, "PMO_JIRA_NOW": last_month})
    assert first.exit_code == 0, first.stderr
    riser = next(r for r in reversed(sb.store.issues) if r.type == "Epic" and r.status_category != "done"
                 and r.job_size is not None)
    sb.store.edit(riser.key, business_value=100.0, time_criticality=100.0, job_size=1.0)  # now the top score

    pack = pmo.run(["report", "monthly", "--format", "json"], sb=sb, env=office_env)
    assert pack.exit_code == 0, pack.stderr
    data = json.loads(pack.stdout)
    ranking = {r["Epic"]: r for r in data["strategy-ranking"]}
    assert data["strategy-ranking"][0]["Epic"] == riser.key
    assert ranking[riser.key]["Change"] > 0  # it climbed since the run before this month
    assert any(isinstance(r["Change"], int) and r["Change"] < 0 for r in data["strategy-ranking"])
    trend = {row["KPI"]: row for row in data["kpis"]}
    months = [k for k in trend["Compliance %"] if k != "KPI"]
    assert len(months) == 6 and trend["Compliance %"][months[-2]] != "-"  # last month's run is in the trend

    # On the first working day the schedule asks for the month just ended: it ends with last month's run.
    previous = pmo.run(["report", "monthly", "--month", "previous", "--format", "json", "--no-history"],
                       sb=sb, env=office_env)
    assert previous.exit_code == 0, previous.stderr
    data = json.loads(previous.stdout)
    assert f"Monthly PMO pack {months[-2]} " in data["title"]
    assert [k for k in data["kpis"][0] if k != "KPI"][-1] == months[-2]


def test_month_option_errors_are_one_line(sb, pmo, office_env):
    for month, says in (("2026-13", "expected YYYY-MM"), ("last", "expected YYYY-MM"),
                        ("0000-01", "from 1900 on"), ("2999-01", "has not started yet")):
        bad = pmo.run(["report", "monthly", "--month", month, "--no-history"], sb=sb, env=office_env)
        assert bad.exit_code == 2 and says in bad.stderr, month
        assert "Traceback" not in bad.stderr and bad.stderr.count("Error:") == 1, bad.stderr
    other = pmo.run(["report", "resources", "--month", "2026-01"], sb=sb, env=office_env)
    assert other.exit_code == 2 and "takes no --month" in other.stderr


def test_the_office_reports_of_a_site_that_cannot_be_read_end_with_its_error_line(sb, pmo, office_env, no_sleep):
    for name in ("resources", "strategy", "monthly"):
        done = pmo.run(["report", name, "--format", "json", "--no-history"], sb=sb,
                       env={**office_env, "PMO_JIRA_URL": "http://127.0.0.1:9"})  # nothing answers there
        assert done.exit_code == 2, (name, done.stderr)
        assert "cannot reach 127.0.0.1:9" in done.stderr and "unexpected" not in done.stderr, done.stderr
        assert json.loads(done.stdout)["title"]  # an empty report, as the portfolio's, with the site's error


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_the_office_reports_of_a_site_without_issues_or_configured_people_say_none(sandbox, pmo, flavour):
    """A new Jira site read with a mapping that has no resources section: nobody to load, nothing to rank."""
    empty = sandbox(flavour, issues=0)
    for name in ("resources", "strategy", "monthly"):
        done = pmo.run(["report", name, "--format", "json", "--no-history"], sb=empty)
        assert done.exit_code == 0, (name, done.stderr)
        assert "unexpected" not in done.stderr
        data = json.loads(done.stdout)
        if name != "strategy":
            assert data["figures"]["Over-allocated" if name == "resources" else "Over-allocated people"] == "0"
    monthly = json.loads(pmo.run(["report", "monthly", "--format", "json", "--no-history"], sb=empty).stdout)
    assert not any(row["About"] == "Over-allocated people" for row in monthly["decisions"])
    page = pmo.run(["report", "monthly", "--format", "html", "--no-history"], sb=empty).stdout
    # this run is recorded nowhere but measured: what it cannot measure is "no figures", not "no runs"
    assert "no figures for these months" in page and "no runs recorded" not in page
    resources = pmo.run(["report", "resources", "--format", "html", "--no-history"], sb=empty).stdout
    assert "(% of capacity; everyone with work)" in resources and "the 0 most loaded" not in resources


def test_a_month_not_started_is_refused_before_jira_is_read(pmo, office_env, no_sleep):
    # nothing answers on the site's address: the month is refused first, in the one line that matters
    env = {**office_env, "PMO_JIRA_URL": "http://127.0.0.1:9", "PMO_JIRA_TOKEN": "t", "PMO_JIRA_FLAVOUR": "dc"}
    for source in ("--no-history", "--from-history"):
        done = pmo.run(["report", "monthly", "--month", "2999-01", source], env=env)
        assert done.exit_code == 2
        assert [line for line in done.stderr.splitlines() if "Error:" in line] == [
            "Error: --month 2999-01: the month has not started yet (today is 2026-01-15)"], done.stderr
