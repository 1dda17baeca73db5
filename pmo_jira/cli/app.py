"""The `pmo-jira` click group: sub-commands load only when used, plugins' only when asked for."""

from __future__ import annotations

import click

from pmo_jira import __version__
from pmo_jira.cli.errors import cli_errors, closed_pipe_exit
from pmo_jira.cli.groups import SuggestingGroup
from pmo_jira.cli.main import load_module
from pmo_jira.errors import PluginError

# name -> "module:attribute"; importing lazily keeps `pmo-jira --help` fast.
COMMANDS: dict[str, str] = {
    "audit": "pmo_jira.cli.audit:audit",
    "sync": "pmo_jira.cli.sync:sync",
    "report": "pmo_jira.cli.report:report",
    "history": "pmo_jira.cli.history:history",
    "mappings": "pmo_jira.cli.mappings:mappings",
    "standards": "pmo_jira.cli.standards:standards",
    "plugins": "pmo_jira.cli.plugins:plugins",
    "sandbox": "pmo_jira.cli.sandbox:sandbox",
    "demo": "pmo_jira.cli.demo:demo",
    "doctor": "pmo_jira.cli.doctor:doctor",
    "login": "pmo_jira.cli.login:login",
}


def plugin_commands() -> dict[str, click.Command]:
    """Commands the installed plugins add (``pmo_jira_cli_commands``); one taking a built-in
    command's name, or another plugin's, is a ``PluginError`` naming both."""
    from pmo_jira.cli.options import run_options
    from pmo_jira.plugin_manager import collect

    found = collect("pmo_jira_cli_commands", what="command", name_of=lambda c: getattr(c, "name", None) or repr(c),
                    reserved=COMMANDS, run_options=run_options)
    for name, command in found.items():
        if not isinstance(command, click.Command):
            raise PluginError(f"command '{name}' is not a click command ({type(command).__name__})")
    return found


class LazyGroup(SuggestingGroup):
    """Built-in commands load when used; plugins' commands are asked for only when needed, and a
    plugin whose command clashes is one ``Error:`` line naming it (exit 2)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        with cli_errors():
            return sorted(set(super().list_commands(ctx)) | set(COMMANDS) | set(plugin_commands()))

    def invoke(self, ctx: click.Context) -> object:
        # a closed stdout (`pmo-jira standards list | head -1`) ends any command quietly; click
        # alone would exit 1, which `audit` uses for "findings"
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            closed_pipe_exit()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attr = COMMANDS[name].split(":")
            command: click.Command = getattr(load_module(module), attr)
            return command
        with cli_errors():
            return super().get_command(ctx, name) or plugin_commands().get(name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pmo-jira")
def cli() -> None:
    """PMO governance for Jira: audit, sync findings back, report the portfolio.

    SIGTERM or Ctrl-C stops any command with one line and exit code 2, after writing the run
    summary (--summary-json) and a history record marked interrupted.
    """
