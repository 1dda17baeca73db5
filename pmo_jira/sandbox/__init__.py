"""Local Jira stand-in: an in-process HTTP server with generated portfolio data.

``SandboxServer`` (serve a site), ``generate`` (build one) and ``Faults`` (break it on purpose)
are importable from here; they load on first use so that importing one submodule stays cheap.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "SandboxServer": "pmo_jira.sandbox.server",
    "generate": "pmo_jira.sandbox.generator",
    "REFERENCE_NOW": "pmo_jira.sandbox.generator",
    "Faults": "pmo_jira.sandbox.faults",
    "Store": "pmo_jira.sandbox.store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pmo_jira.sandbox' has no attribute {name!r}")
