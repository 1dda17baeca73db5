"""`pmo-jira` entry point.

``pmo-jira --version`` is answered before click, the commands and their imports load, so it costs
only the interpreter's start; everything else goes to the click group in ``pmo_jira.cli.app``.
"""

from __future__ import annotations

import sys
from typing import Any

from pmo_jira import __version__


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        print(f"pmo-jira, version {__version__}")  # click's version_option says exactly this
        return
    from pmo_jira.cli.app import cli

    cli(prog_name="pmo-jira")


def __getattr__(name: str) -> Any:
    """``from pmo_jira.cli.main import cli`` (and the group's other names) still works."""
    if name in ("cli", "COMMANDS", "LazyGroup", "plugin_commands"):
        from pmo_jira.cli import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
