"""The HTML report in a real headless Chromium: charts drawn, tables filled, no errors, no requests."""

from __future__ import annotations

from pathlib import Path

from pmo_jira.history import HistoryStore
from pmo_jira_portfolio.render_html import render_html
from pmo_jira_portfolio.rollup import build_rollup

from portfolio_fixtures import NOW, portfolio_context


def open_report(browser, html: str, tmp_path: Path):
    path = tmp_path / "portfolio.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"console {m.type}: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems, requests


def test_charts_and_tables_render_without_errors_or_requests(browser, tmp_path):
    page, problems, requests = open_report(browser, render_html(build_rollup(portfolio_context())), tmp_path)
    for chart in ("#chart-phases", "#chart-heatmap", "#chart-trend"):
        box = page.locator(chart).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, chart
    bars = page.locator("#chart-phases rect.bar")
    assert bars.count() == 5  # four phases and unmapped
    assert bars.nth(2).bounding_box()["height"] > bars.nth(0).bounding_box()["height"] > 0  # 2 vs 1 epic
    assert page.locator("#chart-heatmap rect.cell").count() == 3 * 6  # projects x (5 dimensions + overall)
    assert page.locator("#chart-trend circle.point").count() == 2  # one run: one point per series
    assert page.locator("#table-portfolio tbody tr").count() == 3
    assert page.locator("#table-project tbody tr").count() == 3
    assert page.locator("#table-epic tbody tr").count() == 5
    assert page.locator("#table-definitions tbody tr").count() == 8
    assert page.locator("#table-epic tbody tr").first.locator("td").nth(1).inner_text() == "WEB-1"

    page.locator("#table-epic th", has_text="Days late").click()  # the sort script runs cleanly
    page.locator("#table-epic th", has_text="Days late").click()
    assert page.locator("#table-epic tbody tr").first.locator("td").nth(1).inner_text() == "OPS-1"
    assert problems == []
    assert [u for u in requests if not u.startswith("file://")] == []
    page.close()


def test_the_trend_is_a_line_when_there_is_history(browser, tmp_path):
    with HistoryStore(tmp_path / "h.sqlite") as store:
        for days in (0, 1, 2):
            ctx = portfolio_context(store, now=NOW.replace(day=20 + days))
            store.record_run(ctx.result)
        html = render_html(build_rollup(ctx))
    page, problems, _ = open_report(browser, html, tmp_path)
    assert page.locator("#chart-trend polyline.line").count() == 2
    assert page.locator("#chart-trend circle.point").count() == 6
    assert page.locator("#chart-trend polyline.line").first.bounding_box()["width"] > 100
    assert problems == []
    page.close()
