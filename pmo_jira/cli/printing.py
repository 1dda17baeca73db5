"""How a run's events reach the terminal: site errors in red, rendered reports on stdout."""

from __future__ import annotations

from collections.abc import Mapping

import click

from pmo_jira.cli.errors import error_line
from pmo_jira.run import RunEvents


class Printer(RunEvents):
    """The CLI's ``RunEvents``: what every run command prints the same way."""

    def site_errors(self, errors: Mapping[str, str]) -> None:
        """One red line per site that could not be read (the other sites' results still stand)."""
        for site, message in sorted(errors.items()):
            error_line(f"site {site}: {message}")

    def output(self, text: str) -> None:
        click.echo(text, nl=not text.endswith("\n"))
