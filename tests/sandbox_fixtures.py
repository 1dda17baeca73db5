"""Fixtures for tests that need a running sandbox (small sites, so the suite stays quick).

Import what you use: ``from sandbox_fixtures import sandbox, cloud_site, dc_site``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from pmo_jira.sandbox.server import SandboxServer

SMALL_SITE = 120


@pytest.fixture
def sandbox() -> Iterator[Callable[..., SandboxServer]]:
    """Factory: ``sb = sandbox("dc", issues=60, bot_is_admin=False)`` starts a fresh server, stopped after the test."""
    started: list[SandboxServer] = []

    def start(flavour: str = "cloud", **options) -> SandboxServer:
        options.setdefault("issues", SMALL_SITE)
        server = SandboxServer(flavour, **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def module_site(flavour: str, *, issues: int, seed: int):
    """A fixture serving one generated site to all tests of a module: ``cloud = module_site(...)``."""

    @pytest.fixture(scope="module")
    def site() -> Iterator[SandboxServer]:
        with SandboxServer(flavour, issues=issues, seed=seed) as server:
            yield server

    return site


# Read-only sites shared by a module's tests (do not write to them).
cloud_site = module_site("cloud", issues=300, seed=7)
dc_site = module_site("dc", issues=300, seed=7)


def session_for(server: SandboxServer) -> requests.Session:
    """A plain requests session authenticated for ``server``."""
    session = requests.Session()
    session.headers.update(server.auth_headers)
    return session


def api(server: SandboxServer, path: str, version: str | None = None) -> str:
    """Absolute URL of a REST path (``api(sb, "issue/DIG-1")``) in the flavour's main API version."""
    v = version or ("3" if server.flavour.value == "cloud" else "2")
    return f"{server.url}/rest/api/{v}/{path}"
