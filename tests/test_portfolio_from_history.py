"""`pmo-jira report portfolio --from-history`: the per-site runs rolled up without reading Jira.

Two sites recorded by two per-site jobs; the report from the history must equal the report that
reads both sites from Jira in the same state, in every text format.
"""

from __future__ import annotations

import json
import re

import pytest
from test_e2e_multisite import _closed_port, tokens, write_config

from cli_fixtures import MAPPING
from sandbox_fixtures import module_site

cloud = module_site("cloud", issues=150, seed=7)
dc = module_site("dc", issues=150, seed=8)

CSV_LEVELS = ("portfolios", "projects", "epics", "findings", "definitions")
FORMATS = ("json", *(f"csv --level {level}" for level in CSV_LEVELS), "markdown", "table", "html")


def errors(done):
    """The ``Error:`` lines (a run that stops ends with its summary line, after the error)."""
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") or lines[-1].endswith("stopped early (the error is above)")
    return [line for line in lines if "Error:" in line]


def _reports(pmo, env, *extra):
    out = {}
    for fmt in FORMATS:
        done = pmo.run(["report", "portfolio", "--format", *fmt.split(), *extra], env=env)
        assert done.exit_code == 0, done.stderr
        out[fmt] = done.stdout
    return out


def test_the_report_from_the_history_equals_the_one_read_from_jira(pmo, cloud, dc, tmp_path):
    write_config(tmp_path, cloud.url, dc.url)
    env = tokens(cloud, dc)
    for site in ("cloud-prod", "dc-prod"):  # two per-site jobs, as on two machines
        assert pmo.run(["audit", "--site", site, "--fail-on", "never", "-q"], env=env).exit_code == 0
    from_history = _reports(pmo, {**env, "PMO_JIRA_TOKEN_CLOUD_PROD": "", "PMO_JIRA_TOKEN_DC_PROD": ""},
                            "--from-history")  # no credentials: Jira cannot be read
    from_jira = _reports(pmo, env, "--no-history")
    for fmt in FORMATS:
        assert from_history[fmt] == from_jira[fmt], fmt
    doc = json.loads(from_history["json"])
    assert doc["run"]["sites"] == ["cloud-prod", "dc-prod"]
    assert {p["site"] for portfolio in doc["portfolios"] for p in portfolio["projects"]} == {"cloud-prod", "dc-prod"}
    assert doc["totals"]["open_by_severity"] and sum(doc["totals"]["open_by_severity"].values()) > 0


def test_every_format_from_the_history_to_a_folder_records_nothing(pmo, cloud, dc, tmp_path):
    write_config(tmp_path, cloud.url, dc.url)
    env = tokens(cloud, dc)
    assert pmo.run(["audit", "--fail-on", "never", "-q"], env=env).exit_code == 0
    before = (tmp_path / "history.sqlite").read_bytes()
    out = tmp_path / "out"
    done = pmo.run(["report", "portfolio", "--from-history", "--format", "all", "--out-dir", str(out)], env=env)
    assert done.exit_code == 0, done.stderr
    assert len(list(out.iterdir())) == 6
    assert (tmp_path / "history.sqlite").read_bytes() == before
    assert re.search(r"INFO +report portfolio: 2 sites from the run history, Jira not read, [0-9.]+s, exit 0$",
                     done.stderr, re.MULTILINE), done.stderr  # not "0 issues read, findings: none"


def test_a_site_never_recorded_is_named_with_the_command_that_records_it(pmo, cloud, dc, tmp_path):
    write_config(tmp_path, cloud.url, dc.url)
    env = tokens(cloud, dc)
    assert pmo.run(["audit", "--site", "cloud-prod", "--fail-on", "never", "-q"], env=env).exit_code == 0
    done = pmo.run(["report", "portfolio", "--from-history"], env=env)
    assert done.exit_code == 2 and done.stdout == ""
    assert errors(done) == [
        "Error: site dc-prod has never been recorded in the run history with mapping 'sandbox': "
        "run `pmo-jira audit --site dc-prod` (or `sync --site dc-prod`) first"]
    only_cloud = pmo.run(["report", "portfolio", "--from-history", "--site", "cloud-prod", "--format", "json"], env=env)
    assert only_cloud.exit_code == 0, only_cloud.stderr
    assert json.loads(only_cloud.stdout)["run"]["sites"] == ["cloud-prod"]


def test_a_site_only_recorded_as_unreadable_has_no_full_run(pmo, cloud, tmp_path):
    write_config(tmp_path, cloud.url, f"http://127.0.0.1:{_closed_port()}")
    env = {**tokens(cloud, cloud), "PMO_JIRA_TOKEN_DC_PROD": "x"}
    assert pmo.run(["audit", "--fail-on", "never", "-q"], env=env).exit_code == 2  # dc could not be read
    done = pmo.run(["report", "portfolio", "--from-history"], env=env)
    assert done.exit_code == 2
    (line,) = errors(done)
    assert line.startswith("Error: site dc-prod: the run history has no full run of it with mapping 'sandbox'")
    assert line.endswith("run `pmo-jira audit --site dc-prod` first")


@pytest.mark.parametrize(("args", "message"), [
    (["report", "portfolio", "--from-history"], "Error: no run history at "),
    (["report", "portfolio", "--from-history", "--project", "WEB"],
     "Error: --from-history rolls up whole sites as last recorded: --project/--jql need a read of Jira"),
    (["report", "portfolio", "--from-history", "--no-history"],
     "Error: --from-history records nothing anyway: leave out --no-history"),
    (["report", "resources", "--from-history"],
     "Error: report 'resources' cannot be rendered from the run history (it needs a read of Jira): "
     "leave out --from-history"),
])
def test_what_cannot_be_rendered_from_the_history_is_one_line(pmo, cloud, tmp_path, args, message):
    write_config(tmp_path, cloud.url, cloud.url)
    done = pmo.run(args, env={**tokens(cloud, cloud), "PMO_JIRA_MAPPING": str(MAPPING)})
    assert done.exit_code == 2 and done.stdout == ""
    (line,) = errors(done)
    assert line.startswith(message), line


def test_a_site_recorded_days_before_the_other_is_named_with_its_date(pmo, cloud, dc, tmp_path):
    # the dc job last ran four days before the cloud job: the report must not pass its figures off as today's
    write_config(tmp_path, cloud.url, dc.url)
    env = tokens(cloud, dc)
    for site, when in (("dc-prod", "2026-11-21T06:00:00+00:00"), ("cloud-prod", "2026-11-25T06:00:00+00:00")):
        done = pmo.run(["audit", "--site", site, "--fail-on", "never", "-q"], env={**env, "PMO_JIRA_NOW": when})
        assert done.exit_code == 0, done.stderr
    table = pmo.run(["report", "portfolio", "--from-history", "--format", "table"], env=env)
    assert table.exit_code == 0, table.stderr
    assert ("run 2026-11-25T06:00:00Z - sites cloud-prod, dc-prod (dc-prod as of 2026-11-21T06:00:00Z) - "
            in table.stdout.splitlines()[1])
    doc = json.loads(pmo.run(["report", "portfolio", "--from-history", "--format", "json"], env=env).stdout)
    assert doc["run"]["sites_as_of"] == {"cloud-prod": "2026-11-25T06:00:00Z", "dc-prod": "2026-11-21T06:00:00Z"}
