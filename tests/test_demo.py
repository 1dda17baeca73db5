"""`pmo-jira demo`, the README's first command: a portfolio report that agrees with the audit."""

from __future__ import annotations

import json
import shlex
from collections import Counter

from click.testing import CliRunner
from openpyxl import load_workbook

from pmo_jira.cli.main import cli


def test_demo_ends_with_a_portfolio_report_whose_numbers_agree_with_the_audit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--out", "out", "--issues", "150"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert "a second sync would write 0." in result.stdout
    assert "out/portfolio.html" in result.stdout and (out / "portfolio.html").is_file()

    audit = json.loads((out / "audit.json").read_text())
    portfolio = json.loads((out / "portfolio.json").read_text())
    open_findings = [f for f in audit["findings"] if f["outcome"] in ("fail", "error")]
    assert open_findings, "the generated portfolio has non-compliant work"

    by_severity = Counter(f["severity"] for f in open_findings)
    totals = portfolio["totals"]["open_by_severity"]
    assert {s: n for s, n in totals.items() if n} == dict(by_severity)
    assert portfolio["run"]["sites"] == ["cloud-demo", "dc-demo"]

    # Every project row carries its site, and its counts are that site's and project's findings.
    per_project = Counter((f["site"], f["project"]) for f in open_findings)
    rows = {(p["site"], p["key"]): p["findings"]["open"]
            for group in portfolio["portfolios"] for p in group["projects"]}
    assert {k: n for k, n in rows.items() if n} == dict(per_project)
    assert {site for site, _ in rows} == {"cloud-demo", "dc-demo"}

    sheets = load_workbook(out / "portfolio.xlsx", read_only=True).sheetnames
    assert {"Portfolios", "Projects", "Epics"} <= set(sheets)


def test_demo_folder_that_cannot_be_made_is_one_error_line(tmp_path):
    (tmp_path / "file").write_text("not a folder\n")
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "file" / "demo")])
    assert result.exit_code == 2
    assert result.output == f"Error: cannot create the demo folder {tmp_path}/file/demo: Not a directory\n"


def test_demo_says_where_its_history_is_and_the_command_it_prints_shows_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PMO_JIRA_HISTORY", raising=False)
    result = CliRunner().invoke(cli, ["demo", "--out", "out dir", "--issues", "30"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Run history (this demo's own, not your default one): out dir/history.sqlite" in result.stdout
    command = next(line.strip() for line in result.stdout.splitlines()
                   if line.strip().startswith("pmo-jira history --db") and "show" not in line)
    assert command == "pmo-jira history --db 'out dir/history.sqlite'"
    shown = CliRunner().invoke(cli, shlex.split(command)[1:])
    assert shown.exit_code == 0, shown.output
    assert "sync" in shown.output and "No runs" not in shown.output


def test_the_demo_portfolio_has_green_amber_and_red_projects_and_epics(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["demo", "--out", "out"], catch_exceptions=False)  # the README's demo
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "portfolio.json").read_text())
    projects = [p for group in doc["portfolios"] for p in group["projects"]]
    epics = [e for p in projects for e in p["epics"]]
    by_project, by_epic = Counter(p["rag"]["overall"] for p in projects), Counter(e["rag"]["overall"] for e in epics)
    assert {"green", "amber", "red"} <= set(by_project) and {"green", "amber", "red"} <= set(by_epic)
    assert by_project["red"] < len(projects) * 0.6 and by_epic["red"] < len(epics) * 0.2  # red still means red
    assert all(p["why"].startswith(p["rag"]["overall"].title()) for p in projects)
