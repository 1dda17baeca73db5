"""The demo's portfolio page as its reader sees it, in headless Chromium: a desktop, a phone, A4.

The verdict comes first (executive summary, then the decisions needed), the page never scrolls
sideways (wide tables scroll in their own box), every red item names an owner and a fix, and the
printed A4 landscape page keeps the RAG columns. Screenshots and the PDF are saved to
``$PMO_JIRA_SCREENSHOTS`` (default: the test's temporary folder) for a person to look at.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pmo_jira.demo import run_demo

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc)
A4_LANDSCAPE_PX = 1123  # 297 mm at 96 px per inch


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    run_demo(out, issues=1000, seed=1, now=NOW)
    return out / "portfolio.html"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("PMO_JIRA_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_summary_first_and_no_sideways_scroll(browser, demo_page, shots, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda err: problems.append(str(err)))
    page.goto(demo_page.as_uri())
    headings = page.locator("h2").all_inner_texts()
    assert headings[:3] == ["Executive summary", "Decisions needed", "Upcoming gates and late epics"]
    assert headings[-1] == "RAG definitions"
    page.screenshot(path=str(shots / f"portfolio-{width}.png"))
    page.screenshot(path=str(shots / f"portfolio-{width}-full.png"), full_page=True)
    page.locator("details.portfolio").first.locator("summary").first.click()
    page.locator("details.project").first.locator("summary").first.click()
    page.screenshot(path=str(shots / f"portfolio-{width}-expanded.png"))
    scroll_width, view_width = _page_width(page)
    assert scroll_width <= view_width, f"the page scrolls sideways at {width} px ({scroll_width} px wide)"
    for table in page.locator(".scroll").all():  # a wide table stays in its box
        box = table.bounding_box()
        assert box is None or box["x"] + box["width"] <= view_width + 1
    assert problems == []
    page.close()


def test_every_red_item_names_an_owner_and_a_fix(browser, demo_page):
    page = browser.new_page()
    page.goto(demo_page.as_uri())
    headers = page.locator("#table-decisions thead th").all_inner_texts()
    rows = page.locator("#table-decisions tbody tr")
    assert rows.count() > 0
    owner, fix, why = headers.index("Owner"), headers.index("The fix"), headers.index("Why")
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert cells[owner].strip() and cells[fix].strip() and cells[why].startswith("Red: "), cells
        assert rows.nth(i).locator("a").first.get_attribute("href").startswith("http")
    counts = page.locator("#counts-project").inner_text()
    for colour in ("red", "amber", "green"):
        assert colour in counts
    page.close()


def test_a4_landscape_print_keeps_the_rag_columns(browser, demo_page, shots):
    page = browser.new_page(viewport={"width": A4_LANDSCAPE_PX, "height": 794})
    page.goto(demo_page.as_uri())
    page.emulate_media(media="print")
    page.screenshot(path=str(shots / "portfolio-print-a4.png"))
    for header in ("Schedule", "Risk", "Compliance", "Freshness", "Overall"):
        th = page.locator("#table-project thead th").filter(has_text=re.compile(f"^{header}$")).first
        box = th.bounding_box()
        assert box is not None, f"{header} is not printed"
        assert box["x"] + box["width"] <= A4_LANDSCAPE_PX, f"{header} falls off the printed page"
    pdf = page.pdf(format="A4", landscape=True, print_background=True)
    (shots / "portfolio-a4.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.close()


@pytest.mark.parametrize("width, height", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_heat_map_change_log_and_dependencies_follow_the_charts_and_fit(browser, demo_page, shots, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(demo_page.as_uri())
    headings = page.locator("h2").all_inner_texts()
    at = headings.index("Charts")
    assert headings[at + 1:at + 4] == ["Risk heat map", "Change log", "Red dependencies"]
    grid = page.locator("#table-heatmap")
    box = grid.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width, "the heat map is whole on screen"
    cells = grid.locator("td.heat")
    colours = {cells.nth(i).get_attribute("class").split()[1] for i in range(cells.count())}
    assert {"rag-red", "rag-amber", "rag-green"} <= colours
    assert page.locator("#table-change-log tbody tr").count() > 0
    assert page.locator("#table-dependencies tbody tr a").count() > 0
    for section_id in ("risks", "change-log", "dependencies"):
        page.locator(f"#{section_id}").screenshot(path=str(shots / f"portfolio-{section_id}-{width}.png"))
    scroll_width, view_width = _page_width(page)
    assert scroll_width <= view_width
    page.close()


def test_a4_print_keeps_the_heat_map_on_one_page(browser, demo_page):
    page = browser.new_page(viewport={"width": A4_LANDSCAPE_PX, "height": 794})
    page.goto(demo_page.as_uri())
    page.emulate_media(media="print")
    box = page.locator("#table-heatmap").bounding_box()
    assert box is not None and box["x"] + box["width"] <= A4_LANDSCAPE_PX and box["height"] < 794
    page.close()
