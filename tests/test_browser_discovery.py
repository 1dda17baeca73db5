"""Without a browser the page checks skip with a one-line reason; CI's variable makes that a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

PAGE_TEST = '''
from browser_fixtures import browser  # noqa: F401


def test_page(browser):
    assert browser.new_page().evaluate("1 + 1") == 2
'''


def run_without_browser(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """pytest on a one-test file, with no Chromium on PATH and an empty Playwright browser folder."""
    (tmp_path / "test_page.py").write_text(PAGE_TEST, encoding="utf-8")
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    environ = {k: v for k, v in os.environ.items() if k != "PMO_JIRA_REQUIRE_BROWSER"}
    environ.update(PATH=str(bare), PYTHONPATH=str(TESTS), PLAYWRIGHT_BROWSERS_PATH=str(tmp_path / "none"), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                           "-p", "no:xdist", str(tmp_path / "test_page.py")],
                          cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=120)


def test_no_browser_is_a_skip_that_says_how_to_enable_it(tmp_path):
    done = run_without_browser(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout
    assert "no Chromium found: install it (apt-get install chromium, or `playwright install chromium`)" \
        in done.stdout


def test_ci_variable_turns_the_skip_into_a_failure(tmp_path):
    done = run_without_browser(tmp_path, PMO_JIRA_REQUIRE_BROWSER="1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 error" in done.stdout or "1 failed" in done.stdout
    assert "PMO_JIRA_REQUIRE_BROWSER is set, so the browser checks must run" in done.stdout


@pytest.mark.skipif(not os.environ.get("PMO_JIRA_REQUIRE_BROWSER"), reason="only where CI requires the browser")
def test_ci_runs_with_the_variable_set():
    assert "PMO_JIRA_REQUIRE_BROWSER=1" in (TESTS.parent / ".ci" / "run").read_text(encoding="utf-8")
