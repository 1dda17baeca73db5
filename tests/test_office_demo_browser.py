"""The demo's resource and monthly pages (six months of replayed history) in a real headless Chromium.

Each page must open with no console error, no failed or outside request, and its charts drawn.
Screenshots go to the test's folder, or to ``$PMO_JIRA_SCREENSHOTS`` when set, for a person to look at.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from pmo_jira.cli.main import cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--issues", "200"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def shots(demo: Path) -> Path:
    folder = Path(os.environ.get("PMO_JIRA_SCREENSHOTS") or demo)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    outside: list[str] = []
    page.on("request", lambda r: r.url.startswith("file://") or outside.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems, outside


def drawn(page, selector: str, marks: str) -> int:
    box = page.locator(selector).bounding_box()
    assert box and box["width"] > 100 and box["height"] > 40, selector
    return page.locator(f"{selector} {marks}").count()


def test_demo_writes_the_pages_and_workbooks(demo):
    for name in ("resources.html", "monthly.html", "strategy.html", "resources.xlsx", "monthly.xlsx"):
        assert (demo / name).is_file(), name
    assert {"Summary", "kpis", "decisions", "s-ranking"} <= set(load_workbook(demo / "monthly.xlsx", read_only=True).sheetnames)
    pack = json.loads((demo / "monthly.json").read_text())
    compliance = next(r for r in pack["kpis"] if r["KPI"] == "Compliance %")
    assert all(v != "-" for k, v in compliance.items() if k != "KPI")  # six months, each from a run


def test_resources_page_in_chromium(browser, demo):
    page, problems, outside = open_page(browser, demo / "resources.html")
    assert drawn(page, "#chart-capacity", "rect.bar") == 12  # 6 months x (load, capacity)
    assert drawn(page, "#chart-utilisation", "rect.cell") >= 6 * 10
    assert page.locator("#table-people tbody tr").count() > 10
    assert page.locator("#table-people tbody tr.over").count() >= 1  # someone is over-allocated
    if page.locator("details:has(#table-people) > summary").count():  # a long table is folded: unfold it
        page.locator("details:has(#table-people) > summary").click()
    page.locator("#table-people th", has_text="Open issues").click()  # the sort script runs cleanly
    page.screenshot(path=str(shots(demo) / "resources.png"), full_page=True)
    assert problems == [] and outside == []
    page.close()


def test_monthly_page_in_chromium_has_six_months_of_trend(browser, demo):
    page, problems, outside = open_page(browser, demo / "monthly.html")
    for kpi in ("compliance_pct", "on_time_pct", "slippage_days", "open_high_risks", "people_over"):
        assert drawn(page, f"#chart-kpi-{kpi}", "circle.point") == 6, kpi
        assert page.locator(f"#chart-kpi-{kpi} polyline.line").count() == 1
    assert drawn(page, "#strategy-chart-objectives", "rect.bar") == 4  # the sandbox's four objectives
    assert drawn(page, "#resources-chart-capacity", "rect.bar") == 12
    assert page.locator("#table-strategy-ranking tbody tr").count() == 25
    assert page.locator("#table-decisions tbody tr").count() >= 1
    page.screenshot(path=str(shots(demo) / "monthly.png"), full_page=True)
    assert problems == [] and outside == []
    page.close()


def test_strategy_page_in_chromium(browser, demo):
    page, problems, outside = open_page(browser, demo / "strategy.html")
    assert drawn(page, "#chart-objectives", "rect.bar") == 4
    page.screenshot(path=str(shots(demo) / "strategy.png"), full_page=True)
    assert problems == [] and outside == []
    page.close()


def test_monthly_page_prints_its_kpi_charts_three_to_a_row(browser, demo):
    # on A4 landscape the six KPI charts take two rows of three, not three rows at double size
    page, problems, _ = open_page(browser, demo / "monthly.html")
    page.set_viewport_size({"width": 1060, "height": 750})  # A4 landscape at 96 dpi, less the margins
    page.emulate_media(media="print")
    boxes = [page.locator(f"#chart-kpi-{kpi}").bounding_box() for kpi in
             ("compliance_pct", "on_time_pct", "slippage_days", "open_high_risks", "time_to_fix_days", "people_over")]
    assert len({round(b["y"]) for b in boxes}) == 2 and max(b["width"] for b in boxes) <= 1060 / 3
    page.screenshot(path=str(shots(demo) / "monthly-print.png"), full_page=True)
    assert problems == []
    page.close()
