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
