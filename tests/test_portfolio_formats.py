"""Every format of the portfolio report renders, carries the definitions and escapes Jira text."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from openpyxl import load_workbook

from pmo_jira.errors import PmoError
from pmo_jira.history import HistoryStore
from pmo_jira.plugin_manager import collect, reset_plugin_manager
from pmo_jira.reports import Report
from pmo_jira.run.facts import collect_run_facts
from pmo_jira_portfolio.report import PortfolioReport

from portfolio_fixtures import NOW, portfolio_context, portfolio_snapshot
from standards_fixtures import project

HOSTILE = '=HYPERLINK("http://evil") <script>alert(1)</script> & "Q4" |'


@pytest.fixture(scope="module")
def ctx():
    snap = portfolio_snapshot()
    issues = tuple(dataclasses.replace(i, summary=HOSTILE) if i.key == "WEB-1" else i for i in snap.issues)
    return portfolio_context(snapshots=[dataclasses.replace(snap, issues=issues)])


@pytest.fixture(scope="module")
def report():
    return PortfolioReport()


def test_the_plugin_registers_the_report_through_the_hook():
    reset_plugin_manager()
    reports = collect("pmo_jira_reports", what="report", name_of=lambda r: r.name)
    assert isinstance(reports["portfolio"], Report)
    assert reports["portfolio"].formats == ("table", "csv", "xlsx", "markdown", "json", "html")


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "json", "html"])
def test_text_formats_print_the_definitions_and_are_deterministic(ctx, report, fmt):
    def render():  # csv is a folder of files, one of them the definitions
        out = report.render(ctx, fmt)
        return "".join(out.values()) if fmt == "csv" else out

    out = render()
    assert isinstance(out, str)
    assert "Percent of classified items with an open finding of medium severity or worse" in out
    assert "A decision or intervention is needed above the project manager" in out
    assert out == render()


def test_unknown_format_is_one_clear_error(ctx, report):
    with pytest.raises(PmoError, match="report portfolio has no format 'pdf' .formats: table, csv"):
        report.render(ctx, "pdf")


def test_xlsx_has_one_sheet_per_level_plus_definitions(ctx, report):
    wb = load_workbook(io.BytesIO(report.render(ctx, "xlsx")))
    assert wb.sheetnames == ["Portfolios", "Projects", "Epics", "Definitions", "Findings", "Summary", "Changes"]
    assert [c.value for c in wb["Portfolios"]["A"]][1:] == ["Digital", "Operations", "Uncategorised"]
    assert wb["Projects"].max_row == 1 + 3 and wb["Epics"].max_row == 1 + 5
    epics = wb["Epics"]
    header = [c.value for c in epics[1]]
    web1 = [c.value for c in epics[2]]
    assert web1[header.index("Epic")] == "WEB-1"
    assert web1[header.index("Done % (estimate)")] == 0.8  # a percentage cell (0.0%), not the number 80
    assert web1[header.index("Summary")].startswith("'=HYPERLINK")  # text, never a formula
    assert web1[header.index("Overall")] == "RED"
    assert epics.cell(2, header.index("Overall") + 1).fill.fgColor.rgb.endswith("FFC7CE")
    assert epics.cell(2, header.index("Epic") + 1).hyperlink.target == "https://acme.example.net/browse/WEB-1"
    definitions = {r[0]: r[1:] for r in wb["Definitions"].iter_rows(min_row=2, values_only=True) if r[0]}
    assert definitions["schedule"][:2] == (7, 30)


def test_csv_has_a_file_per_level_and_the_definitions(ctx, report):
    files = {name: list(csv.DictReader(io.StringIO(text))) for name, text in report.render(ctx, "csv").items()}
    assert sorted(files) == ["definitions.csv", "epics.csv", "findings.csv", "portfolios.csv", "projects.csv"]
    assert (len(files["portfolios.csv"]), len(files["projects.csv"]), len(files["epics.csv"])) == (3, 3, 5)
    assert len(files["definitions.csv"]) == 8
    web1 = next(r for r in files["epics.csv"] if r["key"] == "WEB-1")
    assert web1["summary"].startswith("'=HYPERLINK")  # a spreadsheet shows it, never evaluates it
    assert (web1["pct_done_count"], web1["pct_done_estimate"], web1["days_late"]) == ("50", "80", "10")
    schedule = next(r for r in files["definitions.csv"] if r["name"] == "schedule")
    assert (schedule["amber"], schedule["red"]) == ("7", "30")


def test_json_is_versioned_nested_and_its_totals_equal_the_audit(ctx, report):
    doc = json.loads(report.render(ctx, "json"))
    assert (doc["schema"], doc["version"]) == ("pmo-jira/portfolio", 1)
    audit = {}
    for f in ctx.result.open_findings():
        audit[f.severity.value] = audit.get(f.severity.value, 0) + 1
    assert {k: v for k, v in doc["totals"]["open_by_severity"].items() if v} == audit
    digital = doc["portfolios"][0]
    assert digital["name"] == "Digital" and digital["project_count"] == 1
    web = digital["projects"][0]
    assert web["key"] == "WEB" and [e["key"] for e in web["epics"]] == ["WEB-1", "WEB-2", "WEB-3"]
    assert web["percent_complete"] == {"by_count": 50, "by_estimate": 80}
    assert web["rag"]["overall"] == "red" and web["rag"]["scope"] == "none"
    assert doc["rag"]["thresholds"]["schedule"] == {"amber": 7.0, "red": 30.0}
    assert doc["changes"]["baseline"] == "no previous run (no run history kept)"


def test_markdown_escapes_jira_text(ctx, report):
    out = report.render(ctx, "markdown")
    assert "<script>" not in out and "\\<script\\>" in out
    assert "| Digital |" in out


def test_html_is_self_contained_and_escapes_jira_text(ctx, report):
    out = report.render(ctx, "html")
    assert "<script>alert(1)" not in out and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q4&quot;" in out
    # nothing is loaded from anywhere: no src / external stylesheet, and a CSP that forbids it
    assert not re.search(r"""\b(src|srcset)\s*=""", out)
    assert "<link rel=\"stylesheet\"" not in out and "@import" not in out
    assert "default-src 'none'" in out
    links = re.findall(r'href="([^"]*)"', out)
    assert set(links) - {"data:,"} <= {f"https://acme.example.net/browse/{k}"
                                        for k in ("WEB", "OPS", "LAB", "WEB-1", "WEB-2", "WEB-3", "OPS-1", "LAB-1")}
    for chart in ("chart-phases", "chart-heatmap", "chart-trend"):
        svg = re.search(rf'<svg id="{chart}".*?</svg>', out, re.S).group(0)
        ElementTree.fromstring(svg)  # well-formed


def test_a_portfolio_of_one_project_and_one_epic_reads_in_the_singular(tmp_path):
    # one project, one epic, findings first seen a day before: no "1 projects", "1 epics", "(1 days)"
    snap = portfolio_snapshot()
    one = dataclasses.replace(snap, issues=tuple(i for i in snap.issues if i.key.startswith("WEB-1") or i.key == "WEB-20"),
                              projects=(project("WEB", category="Digital"),))
    with HistoryStore(tmp_path / "h.sqlite") as store:
        before = portfolio_context(snapshots=[one], now=NOW - timedelta(days=1))
        store.record_run(before.result, facts=collect_run_facts(before.result, before.snapshots, before.mapping,
                                                                before.now, store))
        ctx = portfolio_context(store, snapshots=[one])
        html, table = PortfolioReport().render(ctx, "html"), PortfolioReport().render(ctx, "table")
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "sites acme - 1 project, 1 epic - open findings: 3" in table
    assert "sites acme - 1 project, 1 epic - open findings: 3" in text
    assert "Digital 1 project 1 red" in text and "owner Ann Lee, 1 epic, 3 open findings" in text
    assert "since 2026-11-24 (1 day)" in text
    assert not re.findall(r"\b1 (?:project|epic|day|finding|risk|re-plan|link)s\b", text)


def test_one_red_item_is_one_red_item():
    # WEB-2 alone (an epic in planning without a risk register): one row is red
    snap = portfolio_snapshot()
    one = dataclasses.replace(snap, issues=tuple(i for i in snap.issues if i.key == "WEB-2"),
                              projects=(project("WEB", category="Digital"),))
    text = " ".join(re.sub(r"<[^>]+>", " ", PortfolioReport().render(portfolio_context(snapshots=[one]), "html")).split())
    assert "Decisions needed 1 red item. Red means a decision" in text
