"""`pmo-jira mappings check FILE --site NAME` and `doctor` prove a mapping on the live site; a run
stops a site whose mapping names an issue type the site lacks before anything is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmo_jira.cli.main import cli

from cli_fixtures import PINNED_NOW
from ops_fixtures import write_config

MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"
TOKEN = {"PMO_JIRA_TOKEN_JIRA": "sandbox-token", "PMO_JIRA_NOW": PINNED_NOW}  # waivers expire relative to it


def _config(folder: Path, site, mapping: Path) -> Path:
    email = 'email = "pmo-bot@example.com"\n' if site.flavour.value == "cloud" else ""
    return write_config(folder, f'mapping = "{mapping}"\nhistory = "{folder / "history.sqlite"}"\n\n'
                                f'[sites.jira]\nurl = "{site.url}"\nflavour = "{site.flavour.value}"\n{email}')


def _run(*args: str):
    result = CliRunner().invoke(cli, list(args), env=TOKEN)
    return result.exit_code, result.output


@pytest.mark.parametrize("example, flavour, profile", [
    ("jira-cloud-example.yaml", "cloud", "default-cloud"),
    ("datacenter-example.yaml", "dc", "default-dc"),
    ("pmbok-default.yaml", "cloud", "default-cloud"),
    ("pmbok-default.yaml", "dc", "default-dc"),
    ("sandbox.yaml", "cloud", "pmo-ready"),
    ("sandbox.yaml", "dc", "pmo-ready"),
])
def test_every_shipped_example_passes_on_its_sandbox_profile(clean_env, memory_keyring, sandbox,
                                                              example, flavour, profile):
    site = sandbox(flavour, profile=profile)
    config = _config(clean_env, site, MAPPINGS / example)
    code, out = _run("mappings", "check", str(MAPPINGS / example), "--site", "jira", "--config", str(config))
    assert code == 0, out
    assert re.search(rf"{example}: ok \(.*proven on site jira .*: all \d+ fields, \d+ issue types on the site", out)
    if example != "pmbok-default.yaml":  # the generic preset lists planning statuses some sites have
        assert "warning" not in out
    if profile != "pmo-ready":  # a bare site has no Risk type: say so instead of failing every epic
        assert "not applicable on jira: PMO-RSK-001 (the mapping names no risk issue type the site has)" in out
    else:
        assert "not applicable" not in out


BROKEN = """version: 1
name: broken
scope: {projects: [DIG, DGI], categories: [Digital], jql: 'assignee = "nobody at all"'}
issue_types: {epic: [Epic, Initiative], child: [Story, Taks], risk: [Risk]}
fields:
  target_end: {schema: "com.atlassian.jpo:jpo-custom-field-baseline-end"}
  phase: "PMO Phase"
phases:
  epic:
    - {when: {field: phase, in: [Planing]}, phase: planning}
    - {when: {status: [Propsed, In Progress]}, phase: execution}
standards:
  - code: PMO-GOV-001
  - code: PMO-EXE-002
  - code: PMO-EXE-003
    options: {blocked_statuses: [On Hold]}
"""


def test_a_mapping_naming_what_the_site_lacks_fails_with_the_nearest_names(clean_env, memory_keyring, sandbox):
    site = sandbox("cloud")
    mapping = clean_env / "broken.yaml"
    mapping.write_text(BROKEN)
    config = _config(clean_env, site, mapping)
    code, out = _run("mappings", "check", str(mapping), "--site", "jira", "--config", str(config))
    assert code == 2, out
    lines = out.splitlines()

    def line(key: str) -> list[str]:
        return [x for x in lines if f": {key}: " in x]

    assert line("issue_types.epic[1]") == [
        f"{mapping}:4: issue_types.epic[1]: issue type 'Initiative' does not exist on {site.url} "
        "(the site's issue types: 'Epic', 'Story', 'Task', 'Bug', 'Risk', 'Sub-task', 'Change Request', 'Decision', 'Assumption')"]
    assert "did you mean 'Task'?" in line("issue_types.child[1]")[0]
    assert "did you mean 'DIG'?" in line("scope.projects[1]")[0]
    assert "The value 'nobody at all' does not exist for the field 'assignee'." in line("scope.jql")[0]
    # rules that can never match on this site are warnings, with the site's nearest names
    assert line("phases.epic[1].when.status")[0].startswith("warning: ")
    assert "status 'Propsed' does not exist" in line("phases.epic[1].when.status")[0]
    assert "did you mean 'Proposed'?" in line("phases.epic[1].when.status")[0]
    assert "The option 'Planing' for field" in line("phases.epic[0].when.in")[0]
    assert "status 'On Hold' does not exist" in line("standards[2].options.blocked_statuses")[0]
    assert not [x for x in lines if "status 'In Progress'" in x]  # names the site has pass


def test_doctor_fails_the_site_and_says_what_will_be_not_applicable(clean_env, memory_keyring, sandbox):
    site = sandbox("cloud", profile="default-cloud")
    mapping = clean_env / "m.yaml"
    mapping.write_text("version: 1\nname: m\nissue_types: {epic: [Epic, Initiative], risk: [Risk]}\n"
                       "fields:\n  start: {schema: \"com.atlassian.jpo:jpo-custom-field-baseline-start\"}\n"
                       "standards:\n  - code: PMO-PLN-001\n  - code: PMO-RSK-001\n")
    _config(clean_env, site, mapping)
    code, out = _run("doctor")
    assert code == 1, out
    assert re.search(r"FAIL\s+mapping issue_types\.epic\[1\]\s+issue type 'Initiative' does not exist", out)
    assert re.search(r"FAIL\s+mapping issue_types\.risk\[0\]\s+issue type 'Risk' does not exist", out)
    assert re.search(r"warn\s+standard PMO-PLN-001\s+not applicable on this site: no field on the site for 'start'",
                     out)
    assert re.search(r"warn\s+standard PMO-RSK-001\s+not applicable on this site: the mapping names no risk issue",
                     out)


@pytest.mark.parametrize("flavour, profile", [("cloud", "default-cloud"), ("dc", "default-dc")])
def test_a_run_stops_the_site_before_any_write(clean_env, memory_keyring, sandbox, flavour, profile):
    site = sandbox(flavour, profile=profile)
    _config(clean_env, site, MAPPINGS / "sandbox.yaml")  # names the Risk type a bare site lacks
    site.log.clear()
    code, out = _run("sync", "--apply")
    assert code == 2, out
    assert "issue_types.risk[0]: issue type 'Risk' does not exist on site jira" in out
    assert "nothing was read or written on this site" in out
    assert {r.method for r in site.log} == {"GET"}  # not one write
    searches = [r for r in site.log if r.path.endswith(("/api/2/search", "/search/jql"))]
    assert searches and {r.status for r in searches} == {400}


def test_a_category_the_site_lacks_is_an_error_not_a_warning(clean_env, memory_keyring, sandbox):
    site = sandbox("dc")
    mapping = clean_env / "m.yaml"
    mapping.write_text("version: 1\nname: m\nscope: {categories: [Digital]}\n"
                       "phases:\n  project:\n    - {when: {category: {Digtal: execution}}}\n")
    config = _config(clean_env, site, mapping)
    code, out = _run("mappings", "check", str(mapping), "--site", "jira", "--config", str(config))
    assert code == 2, out
    (line,) = [x for x in out.splitlines() if "Digtal" in x]
    assert line == (f"{mapping}:6: phases.project[0].when.category: category 'Digtal' does not exist on "
                    f"{site.url} (did you mean 'Digital'?)")
