"""`pmo-jira` entry point.

``pmo-jira --version`` is answered before click, the commands and their imports load (this module
imports nothing but ``sys`` and the version), so it costs only the interpreter's start; everything
else goes to the click group in ``pmo_jira.cli.app``.
"""

from __future__ import annotations

import sys
from types import ModuleType

from pmo_jira import __version__


def load_module(module: str) -> ModuleType:
    """Import a module of the CLI with the cyclic garbage collector paused, then freeze what it
    made: an import creates long-lived objects only (modules, classes, models), which the
    collector would otherwise scan over and over while they load (a tenth of an audit's start-up)
    and again in every full collection of the run. Once loaded, a module is only looked up (a
    process running several commands freezes nothing more)."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        return loaded
    import gc
    import importlib

    enabled = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(module)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def main() -> None:
    """The ``pmo-jira`` program. SIGTERM and SIGINT end it with one line and exit 2 at any point,
    also while the commands load (the handlers come first, before any import of weight). The
    process ends as soon as the command's output is out (``pmo_jira.cli.ending``)."""
    if sys.argv[1:] == ["--version"]:
        print(f"pmo-jira, version {__version__}")  # click's version_option says exactly this
        return
    from pmo_jira import interrupt
    from pmo_jira.cli.ending import ends_with_command, exit_now

    interrupt.install()
    ends_with_command()
    try:
        load_module("pmo_jira.cli.app").cli(prog_name="pmo-jira")
    except interrupt.Interrupted as exc:  # before a command ran (start-up, parsing, loading it)
        from pmo_jira.cli.errors import error_line

        error_line(f"{exc} while starting; nothing was read or written")
        sys.exit(interrupt.EXIT_INTERRUPTED)
    except SystemExit as ended:  # how click ends every command: the process ends here
        exit_now(ended.code)
    finally:  # the process goes on after all (a caller of main, or exit_now left the end to Python)
        ends_with_command(False)


def __getattr__(name: str) -> object:
    """``from pmo_jira.cli.main import cli`` (and the group's other names) still works."""
    if name in ("cli", "COMMANDS", "LazyGroup", "plugin_commands"):
        return getattr(load_module("pmo_jira.cli.app"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
