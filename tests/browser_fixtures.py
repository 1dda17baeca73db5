"""A real headless Chromium for the page checks: the system's, else Playwright's own.

Without one the browser tests skip with one line saying how to get one; with
``PMO_JIRA_REQUIRE_BROWSER=1`` (``.ci/run`` sets it) that skip is a failure instead, so CI can
never pass by silently checking no page.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REQUIRE_VAR = "PMO_JIRA_REQUIRE_BROWSER"
SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
HOW_TO = ("no Chromium found: install it (apt-get install chromium, or `playwright install chromium`) "
          "to run the browser checks")


def system_chromium() -> str | None:
    """A Chromium on PATH (Debian's chromium, Ubuntu's chromium-browser, Google Chrome)."""
    return next((path for name in SYSTEM_NAMES if (path := shutil.which(name))), None)


def chromium_path(playwright) -> str | None:
    """The system Chromium, else the one `playwright install chromium` downloaded, else None."""
    found = system_chromium()
    if found:
        return found
    bundled = playwright.chromium.executable_path
    return bundled if bundled and Path(bundled).exists() else None


def missing_browser(reason: str) -> None:
    """Skip, or fail when the environment requires the browser checks to run."""
    if os.environ.get(REQUIRE_VAR, "") not in ("", "0"):
        pytest.fail(f"{reason} ({REQUIRE_VAR} is set, so the browser checks must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_browser("playwright is not installed: pip install -e '.[test]' to run the browser checks")
    with sync_playwright() as p:
        path = chromium_path(p)
        if path is None:
            missing_browser(HOW_TO)
        b = p.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()
