"""Every test module sees the shared fixtures (the sandbox, the CLI runner, a clean environment,
PostgreSQL, the browser) without importing them by name; helpers are still imported explicitly."""

import pytest

pytest_plugins = [
    "browser_fixtures",
    "cli_fixtures",
    "client_fixtures",
    "history_fixtures",
    "ops_fixtures",
    "pg_fixtures",
    "portfolio_fixtures",
    "reports_fixtures",
    "sandbox_fixtures",
    "standards_fixtures",
    "writeback_fixtures",
]

# The fixture modules import each other; rewrite their asserts whichever is imported first.
pytest.register_assert_rewrite(*pytest_plugins)


@pytest.fixture(autouse=True)
def _no_terminal_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output under test never depends on the shell's terminal: no width (``COLUMNS``) and no
    ``NO_COLOR`` leaks in from the developer's environment or an earlier test; a test that wants
    one sets it."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
