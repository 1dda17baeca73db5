"""Options every run command shares, parsed once into ``CommonOptions``.

Usage in a command module::

    @click.command()
    @run_options(lock=True)
    def sync(common: CommonOptions, apply: bool) -> None:
        settings = common.load()                     # config + env + flags, logging set up
        done = run_sync_command(settings, common.request("sync"), apply=apply)  # pmo_jira.run
        ...

``run_options`` wraps the command body in ``cli_errors`` (``pmo_jira.cli.errors``), so a
``PmoError`` anywhere prints one red line and exits 2. Plugins receive ``run_options`` as the
argument of their ``pmo_jira_cli_commands`` hook.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from pmo_jira.cli.errors import cli_errors
from pmo_jira.logs import setup_logging
from pmo_jira.run import RunRequest
from pmo_jira.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])

@dataclass(frozen=True)
class CommonOptions:
    """The shared flags of one invocation."""

    config: Path | None = None
    sites: tuple[str, ...] = ()
    verbosity: int = 0
    log_format: str | None = None
    summary_json: Path | None = None
    wait: bool = False
    wait_timeout: float | None = None

    def load(self, **overrides: Any) -> Settings:
        """Settings from config + env + these flags (+ ``overrides``), with logging set up."""
        settings = load_settings(self.config, overrides={
            "log_format": self.log_format, "summary_json": self.summary_json, **overrides})
        setup_logging(self.verbosity, settings.log_format)
        return settings

    def request(self, command: str, **fields: Any) -> RunRequest:
        """The run request of ``command``: these sites and lock flags plus the command's own ``fields``."""
        return RunRequest(command, sites=self.sites, wait=self.wait, wait_timeout=self.wait_timeout, **fields)


config_option = click.option(
    "--config", "config", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Config file (default: $PMO_JIRA_CONFIG, ./pmo-jira.toml, ~/.config/pmo-jira/config.toml).")
site_option = click.option(
    "--site", "sites", multiple=True, metavar="NAME",
    help="Only this configured site (repeatable). Default: every site in the config.")
verbose_option = click.option("-v", "--verbose", "verbose", count=True,
                              help="More log output (-vv: HTTP requests too).")
quiet_option = click.option("-q", "--quiet", "quiet", count=True,
                            help="Less log output (-q: warnings and the summary, -qq: errors only).")
log_format_option = click.option(
    "--log-format", type=click.Choice(["text", "json"]), default=None,
    help="Log lines on stderr as text (default) or one JSON object per line.")
summary_json_option = click.option(
    "--summary-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Also write the run summary as JSON to this file (for monitoring).")
wait_option = click.option("--wait", is_flag=True, default=False,
                           help="If another run holds the run lock, wait for it instead of exiting.")
wait_timeout_option = click.option("--wait-timeout", type=click.FloatRange(min=0), default=None,
                                   metavar="SECONDS", help="With --wait: give up after this many seconds (for all the locks together).")


def run_options(*, sites: bool = True, summary: bool = True, lock: bool = False) -> Callable[[F], F]:
    """Add the shared options; the command receives them as one ``common: CommonOptions``.

    ``sites``: add ``--site``; ``summary``: add ``--summary-json``; ``lock``: add ``--wait`` and
    ``--wait-timeout`` (commands that write). The body runs inside ``cli_errors``.
    """
    names = ("config", "sites", "verbose", "quiet", "log_format", "summary_json", "wait", "wait_timeout")

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            given = {n: kwargs.pop(n) for n in names if n in kwargs}
            verbosity = given.get("verbose", 0) - given.get("quiet", 0)
            common = CommonOptions(config=given.get("config"), sites=tuple(given.get("sites", ())),
                                   verbosity=verbosity, log_format=given.get("log_format"),
                                   summary_json=given.get("summary_json"), wait=given.get("wait", False),
                                   wait_timeout=given.get("wait_timeout"))
            with cli_errors(verbosity, log_format=given.get("log_format")):
                return func(*args, common=common, **kwargs)

        decorators = [config_option, verbose_option, quiet_option, log_format_option]
        if sites:
            decorators.append(site_option)
        if summary:
            decorators.append(summary_json_option)
        if lock:
            decorators += [wait_option, wait_timeout_option]
        for deco in reversed(decorators):
            wrapper = deco(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorate
