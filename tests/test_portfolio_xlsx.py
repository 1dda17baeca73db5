"""The workbook opens on a Summary and has filtered, frozen, typed sheets (checked with openpyxl)."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from pmo_jira_portfolio.report import PortfolioReport

from portfolio_fixtures import portfolio_context

TABLES = ("Portfolios", "Projects", "Epics", "Findings")


@pytest.fixture(scope="module")
def ctx():
    return portfolio_context()


@pytest.fixture(scope="module")
def wb(ctx):
    return load_workbook(io.BytesIO(PortfolioReport().render(ctx, "xlsx")))


def rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]


def test_it_opens_on_the_summary_and_every_table_is_filtered_with_a_frozen_header(wb):
    assert wb.active.title == "Summary"
    assert set(TABLES) <= set(wb.sheetnames)
    for name in TABLES:
        ws = wb[name]
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert ws.auto_filter.ref.split(":")[1].rstrip("0123456789") == ws.cell(1, ws.max_column).column_letter


def test_cells_are_typed_numbers_percentages_and_dates(wb):
    ws = wb["Epics"]
    header = [c.value for c in ws[1]]
    web1 = next(r for r in ws.iter_rows(min_row=2) if r[header.index("Epic")].value == "WEB-1")
    done = web1[header.index("Done % (estimate)")]
    assert done.value == pytest.approx(0.8) and done.number_format == "0.0%"
    target = web1[header.index("Target end")]
    assert isinstance(target.value, datetime) and target.number_format == "yyyy-mm-dd"
    late = web1[header.index("Days late")]
    assert late.value == 10 and isinstance(late.value, int)
    assert web1[header.index("Epic")].hyperlink.target == "https://acme.example.net/browse/WEB-1"
    assert web1[header.index("Why")].value.startswith("Red: ")


def test_findings_sheet_lists_every_open_and_waived_finding_with_owner_fix_and_since(wb, ctx):
    findings = rows(wb["Findings"])
    expected = [f for f in ctx.result.findings if f.counts or f.outcome.value == "waived"]
    assert len(findings) == len(expected)
    assert [f["Severity"] for f in findings][0] == "critical"  # worst first
    first = findings[0]
    assert first["Message"] and first["Fix"] and isinstance(first["Open since"], datetime)
    assert isinstance(first["Days open"], int)
    ws = wb["Findings"]
    item = [c.value for c in ws[1]].index("Item")
    assert ws.cell(2, item + 1).hyperlink.target.startswith("https://acme.example.net/browse/")


def test_summary_counts_colours_and_lists_the_decisions(wb, ctx):
    ws = wb["Summary"]
    counts = [r for r in ws.iter_rows(min_row=2, max_row=7, values_only=True)]
    assert [(r[0], r[1]) for r in counts[:3]] == [("Projects", "RED"), ("Projects", "AMBER"), ("Projects", "GREEN")]
    assert all(isinstance(r[2], int) for r in counts)
    assert sum(r[2] for r in counts[:3]) == 3  # the fixture's three projects
    decisions = [r for r in ws.iter_rows(values_only=True) if r and r[0] in ("project", "epic")]
    assert decisions and all(r[5] and r[7] for r in decisions)  # owner and fix
