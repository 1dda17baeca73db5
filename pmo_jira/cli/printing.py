"""How a run's events reach the terminal: site errors in red, rendered reports on stdout."""

from __future__ import annotations

from collections.abc import Mapping

import click

from pmo_jira.cli.errors import error_line, silence_stdout
from pmo_jira.cli.progress import LiveProgress
from pmo_jira.errors import PmoError
from pmo_jira.run import RunEvents


def echo_out(text: str, *, nl: bool = True) -> None:
    """Print a run's output on stdout. A reader that left (`pmo-jira audit | head -1`) ends the
    output, not the run: it is still recorded and summarised and exits with its own code."""
    try:
        click.echo(text, nl=nl)
    except BrokenPipeError:
        silence_stdout()
    except OSError as exc:  # `> file` on a full disk: one line saying where, as `-o` does
        silence_stdout()  # nor does Python's flush at exit try the rest again
        raise PmoError(f"cannot write to standard output: {exc.strerror or exc}") from None


class Printer(RunEvents):
    """The CLI's ``RunEvents``: what every run command prints the same way. With a
    ``LiveProgress`` (a terminal on stderr) it shows the reads and writes as they go, and takes
    the bars off the screen before anything else is printed."""

    def __init__(self, progress: LiveProgress | None = None) -> None:
        self.live = progress
        self.wants_progress = progress is not None

    def reading(self, site: str, read: int, total: int | None) -> None:
        if self.live is not None:
            self.live.reading(site, read, total)

    def writing(self, site: str, done: int, total: int) -> None:
        if self.live is not None:
            self.live.writing(site, done, total)

    def end_progress(self) -> None:
        if self.live is not None:
            self.live.stop()

    def site_errors(self, errors: Mapping[str, str]) -> None:
        """One red line per site that could not be read (the other sites' results still stand)."""
        self.end_progress()
        for site, message in sorted(errors.items()):
            error_line(f"site {site}: {message}")

    def output(self, text: str) -> None:
        self.end_progress()
        echo_out(text, nl=not text.endswith("\n"))
