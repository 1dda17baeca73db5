"""`pmo-jira report portfolio` end to end on the sandbox: agrees with `audit`, writes every format."""

from __future__ import annotations

import json

from openpyxl import load_workbook

from sandbox_fixtures import module_site

cloud = module_site("cloud", issues=200, seed=5)


def test_report_totals_equal_the_audit_of_the_same_data(pmo, cloud):
    audit = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=cloud)
    assert audit.exit_code == 0, audit.stderr
    report = pmo.run(["report", "portfolio", "--format", "json"], sb=cloud)
    assert report.exit_code == 0, report.stderr
    audited = json.loads(audit.stdout)["summary"]["by_severity"]
    doc = json.loads(report.stdout)
    assert doc["totals"]["open_by_severity"] == {s: audited.get(s, 0) for s in doc["totals"]["open_by_severity"]}
    per_project = {}
    for portfolio in doc["portfolios"]:
        for project in portfolio["projects"]:
            for s, n in project["findings"]["open_by_severity"].items():
                per_project[s] = per_project.get(s, 0) + n
    assert per_project == doc["totals"]["open_by_severity"]
    names = [p["name"] for p in doc["portfolios"]]
    assert {"Digital", "Operations", "Infrastructure", "Ideas"} <= set(names)
    assert names[-1] == "Uncategorised"  # the sandbox project without a category


def test_every_format_to_a_folder_and_the_second_run_compares_with_the_first(pmo, cloud, tmp_path):
    out = tmp_path / "out"
    first = pmo.run(["report", "portfolio", "--format", "all", "--out-dir", str(out)], sb=cloud)
    assert first.exit_code == 0, first.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "portfolio-csv", "portfolio.html", "portfolio.json", "portfolio.md", "portfolio.txt", "portfolio.xlsx"]
    assert sorted(p.name for p in (out / "portfolio-csv").iterdir()) == [
        "definitions.csv", "epics.csv", "findings.csv", "portfolios.csv", "projects.csv"]
    assert load_workbook(out / "portfolio.xlsx").sheetnames[:4] == ["Portfolios", "Projects", "Epics", "Definitions"]
    assert "no previous run of this mapping" in (out / "portfolio.txt").read_text()
    second = pmo.run(["report", "portfolio", "--format", "json"], sb=cloud,
                     env={"PMO_JIRA_NOW": "2026-01-16T09:00:00+00:00"})
    assert second.exit_code == 0, second.stderr
    doc = json.loads(second.stdout)
    assert doc["changes"]["previous_run"] == 1 and doc["changes"]["baseline"].startswith("run 1 of ")
    assert len(doc["trend"]) == 2


def test_publish_confluence_is_a_pmo_jira_command_and_dry_run_prints_the_page(pmo, cloud):
    assert "publish-confluence" in pmo.run(["--help"]).stdout
    result = pmo.run(["publish-confluence", "--space", "PMO", "--dry-run", "--no-history"], sb=cloud)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<p><em>Report as of 2026-01-15T09:00:00Z</em></p>")
    assert "<h2>RAG by project</h2>" in result.stdout and 'ac:name="status"' in result.stdout
