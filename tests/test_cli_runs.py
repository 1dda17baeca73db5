"""What a run leaves behind: report and plan files, and its entry in the run history."""

from __future__ import annotations

import json

import pytest

from cli_fixtures import MAPPING, one_error_line
from sandbox_fixtures import module_site

site = module_site("cloud", issues=60, seed=3)


@pytest.mark.parametrize("args", [
    ["audit", "--fail-on", "never", "-o", "{blocker}/audit.txt"],
    ["report", "portfolio", "--format", "markdown", "-o", "{blocker}/portfolio.md"],
    ["sync", "--plan-json", "{blocker}/plan.json"],
])
def test_unwritable_output_path_is_one_error_line_naming_it(pmo, site, args):
    blocker = pmo.home / "not-a-folder"
    blocker.write_text("a file where a folder is expected\n")
    result = pmo.run([a.format(blocker=blocker) for a in args], sb=site)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith(f"Error: cannot write {blocker}/") and "unexpected" not in line


def test_a_run_narrowed_by_project_or_jql_stays_out_of_the_history(pmo, site):
    # recorded, it would "resolve" every finding outside the narrowed part, then make them new again
    assert pmo.run(["audit", "--fail-on", "never"], sb=site).exit_code == 0
    assert pmo.run(["audit", "--fail-on", "never", "--project", "dig"], sb=site).exit_code == 0
    assert pmo.run(["sync", "--jql", "issuetype = Epic"], sb=site).exit_code == 0
    runs = json.loads(pmo.run(["history", "--format", "json"], sb=site).stdout)["runs"]
    assert [(r["kind"], r["resolved"]) for r in runs] == [("audit", 0)]


def test_a_scope_category_the_site_lacks_stops_the_site_naming_the_nearest(pmo, site):
    # it would check nothing, and an empty audit reads as "all compliant"
    typo = pmo.home / "typo.yaml"
    typo.write_text(MAPPING.read_text().replace("  categories: []", "  categories: [Digitl]"))
    result = pmo.run(["audit", "--no-history"], sb=site, env={"PMO_JIRA_MAPPING": str(typo)})
    assert result.exit_code == 2
    assert f"{typo}:11: scope.categories[0]: no project the account can see on jira is in category 'Digitl'" \
        in result.stderr
    assert "did you mean 'Digital'?" in result.stderr


def test_a_scope_that_selects_no_project_says_nothing_was_checked(pmo, site):
    empty = pmo.home / "empty.yaml"
    empty.write_text(MAPPING.read_text().replace("  categories: []", "  categories: [Ideas]")
                     .replace("  exclude_projects: []", "  exclude_projects: [IDEA]"))
    result = pmo.run(["audit", "--no-history"], sb=site, env={"PMO_JIRA_MAPPING": str(empty)})
    assert "0 items checked" in result.stdout
    assert "site jira: no project is in scope, nothing was checked (projects: any; categories: Ideas;" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--format", "pdf"], "Error: report 'portfolio' has no format 'pdf' (formats: "),
    (["--format", "all"], "Error: --format all needs --out-dir DIR"),
])
def test_report_format_mistakes_are_caught_before_jira_is_read(pmo, site, args, message):
    before = len(site.log)
    result = pmo.run(["report", "portfolio", *args], sb=site)
    assert result.exit_code == 2 and one_error_line(result).startswith(message)
    assert len(site.log) == before  # no request: a big site is not read for nothing


def test_unwritable_summary_json_is_one_error_line(pmo, site):
    blocker = pmo.home / "not-a-folder"
    blocker.write_text("a file where a folder is expected\n")
    result = pmo.run(["audit", "--no-history", "--summary-json", f"{blocker}/summary.json"], sb=site)
    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"Error: cannot write the run summary {blocker}/summary.json: ")
