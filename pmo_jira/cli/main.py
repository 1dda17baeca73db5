"""`pmo-jira` entry point: a click group whose sub-commands load only when used."""

from __future__ import annotations

import importlib
import sys

import click

from pmo_jira import __version__

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
    """Commands the installed plugins add (``pmo_jira_cli_commands``); built-in names win."""
    from pmo_jira.cli.options import run_options
    from pmo_jira.plugin_manager import collect_list

    return {c.name: c for c in collect_list("pmo_jira_cli_commands", run_options=run_options)
            if isinstance(c, click.Command) and c.name and c.name not in COMMANDS}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS) | set(plugin_commands()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attr = COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name) or plugin_commands().get(name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pmo-jira")
def cli() -> None:
    """PMO governance for Jira: audit, sync findings back, report the portfolio."""


def main() -> None:
    cli(prog_name="pmo-jira")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
