"""The run history with per-site jobs and narrowed runs, end to end on two sandbox sites.

`sync --site cloud-prod` between two full runs must not make the next full run (or the
portfolio report it renders before it is recorded) call the other site's open findings new; a
run narrowed by --project is recorded as such and never compared."""

from __future__ import annotations

import json
from datetime import timedelta

from test_e2e_multisite import cloud, dc, tokens, write_config  # noqa: F401 - fixtures

from pmo_jira.sandbox.generator import REFERENCE_NOW


def at(minutes: int) -> dict[str, str]:
    return {"PMO_JIRA_NOW": (REFERENCE_NOW + timedelta(minutes=minutes)).isoformat()}


def runs(pmo, env, *args: str) -> list[dict]:
    return json.loads(pmo.run(["history", "--format", "json", *args], env=env).stdout)["runs"]


def test_a_site_job_then_a_full_run_reports_nothing_new(pmo, cloud, dc, tmp_path):  # noqa: F811
    write_config(tmp_path, cloud.url, dc.url)
    env = tokens(cloud, dc)
    first = pmo.run(["audit", "--fail-on", "never", "--format", "json"], env={**env, **at(1)})
    assert first.exit_code == 0, first.stderr
    assert {f["site"] for f in json.loads(first.stdout)["findings"] if f["open"]} == {"cloud-prod", "dc-prod"}
    site_job = pmo.run(["sync", "--site", "cloud-prod"], env={**env, **at(2)})
    assert site_job.exit_code == 0, site_job.stderr

    # the portfolio report of a full run compares before the run is recorded
    report = pmo.run(["report", "portfolio", "--format", "json"], env={**env, **at(3)})
    assert report.exit_code == 0, report.stderr
    changes = json.loads(report.stdout)["changes"]
    assert changes["new"] == [] and changes["resolved"] == []

    full = runs(pmo, env)[0]
    assert full["sites"] == ["cloud-prod", "dc-prod"] and (full["new"], full["resolved"]) == (0, 0)
    shown = json.loads(pmo.run(["history", "show", str(full["id"]), "--format", "json"], env=env).stdout)
    assert shown["new"] == [] and shown["resolved"] == [] and shown["persisting"]


def test_a_narrowed_run_is_recorded_as_such_and_never_compared(pmo, cloud, dc, tmp_path):  # noqa: F811
    write_config(tmp_path, cloud.url, dc.url)
    env = tokens(cloud, dc)
    assert pmo.run(["audit", "--fail-on", "never"], env={**env, **at(1)}).exit_code == 0
    narrowed = pmo.run(["audit", "--fail-on", "never", "--project", "DIG"], env={**env, **at(2)})
    assert narrowed.exit_code == 0, narrowed.stderr
    assert pmo.run(["audit", "--fail-on", "never"], env={**env, **at(3)}).exit_code == 0
    every = runs(pmo, env, "--all")
    assert [(r["narrowed"], r["compared"]) for r in every] == [(None, True), ("--project DIG", False), (None, True)]
    latest = every[0]
    assert (latest["new"], latest["resolved"], latest["previous"]) == (0, 0, every[2]["id"])


def test_a_report_narrowed_by_project_resolves_nothing_outside_it(pmo, cloud, dc, tmp_path):  # noqa: F811
    write_config(tmp_path, cloud.url, dc.url)
    env = tokens(cloud, dc)
    first = pmo.run(["audit", "--fail-on", "never", "--format", "json"], env={**env, **at(1)})
    assert first.exit_code == 0, first.stderr
    outside = [f for f in json.loads(first.stdout)["findings"] if f["open"] and f["project"] != "DIG"]
    assert outside  # the full run had open findings in other projects

    report = pmo.run(["report", "portfolio", "--format", "json", "--project", "DIG"], env={**env, **at(2)})
    assert report.exit_code == 0, report.stderr
    changes = json.loads(report.stdout)["changes"]
    assert changes["resolved"] == [] and changes["new"] == []
