"""The `pmo-jira` click group: sub-commands load only when used, plugins' only when asked for."""

from __future__ import annotations

import click

from pmo_jira import __version__
from pmo_jira.cli.errors import cli_errors, closed_pipe_exit, fail
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
    """Commands the installed plugins add (``pmo_jira_cli_commands``). A plugin whose hook raises,
    returns something other than click commands, or takes a built-in command's name (or another
    plugin's) is left out with one warning line naming it: every other command keeps working."""
    from pmo_jira.cli.options import run_options
    from pmo_jira.plugin_manager import collect

    return collect("pmo_jira_cli_commands", what="command", name_of=lambda c: getattr(c, "name", None) or repr(c),
                   reserved=COMMANDS, check=_is_command, skip_broken=_warn_left_out, run_options=run_options)


def _is_command(name: str, command: object) -> None:
    if not isinstance(command, click.Command):
        raise PluginError(f"command '{name}' is not a click command ({type(command).__name__})")


def _owner(command: str) -> str:
    """The plugin whose ``pmo_jira_cli_commands`` returns ``command``."""
    from pmo_jira.cli.options import run_options
    from pmo_jira.plugin_manager import hook_results

    for plugin, result in hook_results("pmo_jira_cli_commands", run_options=run_options):
        if any(getattr(c, "name", None) == command for c in result or ()):
            return plugin
    return "?"


_warned: set[str] = set()


def _warn_left_out(exc: PluginError) -> None:
    """One line on stderr per broken plugin and process (the commands are listed more than once)."""
    line = f"{exc.one_line()}; its commands are left out"
    if line not in _warned:
        _warned.add(line)
        click.secho("Warning: " + line, fg="yellow", err=True)


class LazyGroup(SuggestingGroup):
    """Built-in commands load when used; plugins' commands are asked for only when needed, and a
    plugin whose commands are broken is one warning line naming it."""

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
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # a plugin's command that does not turn its own errors into a line
            name = ctx.invoked_subcommand
            if name is None or name in COMMANDS:
                raise
            from pmo_jira.plugin_manager import failure

            fail(f"command '{name}' of plugin '{_owner(name)}' failed: {failure(exc)}")


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
