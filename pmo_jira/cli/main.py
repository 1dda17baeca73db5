"""`pmo-jira` entry point.

``pmo-jira --version`` is answered before click, the commands and their imports load (this module
imports nothing but ``sys`` and the version), so it costs only the interpreter's start; everything
else goes to the click group in ``pmo_jira.cli.app``.
"""

from __future__ import annotations

import sys

from pmo_jira import __version__


def main() -> None:
    """The ``pmo-jira`` program. SIGTERM and SIGINT end it with one line and exit 2 at any point,
    also while the commands load (the handlers come first, before any import of weight)."""
    if sys.argv[1:] == ["--version"]:
        print(f"pmo-jira, version {__version__}")  # click's version_option says exactly this
        return
    from pmo_jira import interrupt

    interrupt.install()
    try:
        from pmo_jira.cli.app import cli

        cli(prog_name="pmo-jira")
    except interrupt.Interrupted as exc:  # before a command ran (start-up, parsing, loading it)
        from pmo_jira.cli.errors import error_line

        error_line(f"{exc} while starting; nothing was read or written")
        sys.exit(interrupt.EXIT_INTERRUPTED)


def __getattr__(name: str) -> object:
    """``from pmo_jira.cli.main import cli`` (and the group's other names) still works."""
    if name in ("cli", "COMMANDS", "LazyGroup", "plugin_commands"):
        from pmo_jira.cli import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
