"""pmo-jira portfolio roll-up: RAG per portfolio, project and epic, as text, xlsx, HTML or Confluence.

A first-party plugin, registered through the ``pmo_jira`` entry-point group exactly like a
third party's (see docs/plugins.md).
"""

from __future__ import annotations

import importlib.util

from pmo_jira.errors import MissingExtra

__all__ = ["REPORT_NAME", "require_extra"]

REPORT_NAME = "portfolio"
EXTRA = ("pandas", "openpyxl")  # the roll-up's frames and the xlsx; `pmo-jira[portfolio]` installs them


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def require_extra(*more: str) -> None:
    """Say in one line what to install when the ``portfolio`` extra (and ``more``) is missing."""
    missing = [name for name in (*EXTRA, *more) if not installed(name)]
    if missing:
        raise MissingExtra(f"the portfolio report needs {' and '.join(missing)}: "
                           "pip install 'pmo-jira[portfolio]'")
