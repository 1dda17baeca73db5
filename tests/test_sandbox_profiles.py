"""`--profile`: a bare Cloud or Data Center site as Atlassian ships it, or one prepared for the PMO;
the bot is not an admin unless asked."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pmo_jira.cli.main import cli
from pmo_jira.sandbox.generator import generate

from sandbox_fixtures import api, session_for


def _names(site, path):
    return [x["name"] for x in session_for(site).get(api(site, path)).json()]


def test_default_cloud_is_a_bare_site(sandbox):
    site = sandbox("cloud", profile="default-cloud")
    assert "Risk" not in _names(site, "issuetype") and "Epic" in _names(site, "issuetype")
    assert _names(site, "status") == ["To Do", "In Progress", "In Review", "Done"]
    fields = _names(site, "field")
    assert {"Start date", "Story point estimate", "Sprint", "Rank", "Team"} <= set(fields)
    assert not {"PMO Phase", "Risk Impact", "Target end", "Epic Link"} & set(fields)
    # the generated portfolio lives in the site's own workflow and types
    assert {r.status for r in site.store.issues} <= set(site.store.statuses)
    assert {r.type for r in site.store.issues} <= set(site.store.issue_types)


def test_default_dc_has_the_classic_workflow_and_software_fields(sandbox):
    site = sandbox("dc", profile="default-dc")
    assert {"Open", "Reopened", "Resolved", "Closed", "Selected for Development"} <= set(_names(site, "status"))
    assert {"Improvement", "New Feature"} <= set(_names(site, "issuetype"))
    fields = _names(site, "field")
    assert {"Epic Link", "Parent Link", "Sprint", "Rank", "Story Points", "Target start", "Target end"} <= set(fields)
    assert "Fixed" in _names(site, "resolution")


def test_pmo_ready_has_fields_that_share_a_name(sandbox):
    site = sandbox("cloud")
    fields = session_for(site).get(api(site, "field")).json()
    starts = [f for f in fields if f["name"] == "Start date"]
    assert len(starts) == 2 and {f["schema"]["custom"] for f in starts} == {
        "com.atlassian.jira.plugin.system.customfieldtypes:datepicker", "com.example.timesheets:start-date"}
    assert {"Sprint", "Rank", "Team", "Target start", "Target end", "PMO Phase"} <= {f["name"] for f in fields}
    issue = session_for(site).get(api(site, "issue/DIG-2")).json()["fields"]
    sprint_field = next(f["id"] for f in fields if f["name"] == "Sprint")
    assert issue[sprint_field] is None or issue[sprint_field][0]["name"].startswith("DIG Sprint")


def test_a_profile_must_match_the_flavour():
    with pytest.raises(ValueError, match="default-dc"):
        generate("cloud", 10, profile="default-dc")
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--flavour", "cloud", "--profile", "default-dc", "--port", "0"])
    assert result.exit_code == 2 and "is a dc site" in result.output


def test_the_bot_is_not_an_admin_unless_asked(sandbox):
    plain, admin = sandbox("cloud", issues=40), sandbox("cloud", issues=40, bot_is_admin=True)
    for site, expected in ((plain, False), (admin, True)):
        http = session_for(site)
        perms = http.get(api(site, "mypermissions"), params={"permissions": "ADMINISTER,ADMINISTER_PROJECTS"})
        assert {p["havePermission"] for p in perms.json()["permissions"].values()} == {expected}
        quiet = http.put(api(site, "issue/DIG-1"), params={"notifyUsers": "false"},
                         json={"update": {"labels": [{"add": "pmo-x"}]}})
        assert quiet.status_code == (204 if expected else 403)
        prop = http.put(api(site, "project/DIG/properties/pmo.phase"), json={"phase": "planning"})
        assert prop.status_code == (201 if expected else 403)
