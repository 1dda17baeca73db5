"""Progress bars on a terminal while a run reads and writes Jira (``rich``, loaded only then).

Shown only when standard error is a terminal, logs are text and neither ``-q`` nor ``-v`` was
given: a cron mail, a CI log, a JSON log pipeline or a debug session never sees one. While the
bars are up, log and error lines go through rich's console, which prints them above the bars, so
neither garbles the other; the bars are gone (transient) before a report reaches stdout.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pmo_jira.logs import point_logs_at


def wanted(verbosity: int, log_format: str, stream: Any = None) -> bool:
    """Whether to show progress: a terminal on stderr, text logs, no -q/-v, not TERM=dumb."""
    stream = sys.stderr if stream is None else stream
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and verbosity == 0 and log_format != "json" and os.environ.get("TERM") != "dumb"


class LiveProgress:
    """One bar per site for reading (issues read of the search's total or estimate) and one per
    site for writing (issues written of the plan's). Thread-safe: sites are read at once."""

    def __init__(self) -> None:
        self.bars: Any = None  # a rich Progress while shown
        self.tasks: dict[tuple[str, str], Any] = {}
        self.saved_log_stream: Any = None

    def _task(self, kind: str, site: str, total: int | None, unit: str) -> Any:
        if self.bars is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[unit]}"), TimeElapsedColumn(), console=Console(stderr=True),
                                 transient=True, redirect_stdout=False, redirect_stderr=True)
            self.bars.start()  # sys.stderr is rich's proxy from here on: point the log lines at it
            self.saved_log_stream = point_logs_at(sys.stderr)
        if (kind, site) not in self.tasks:
            self.tasks[(kind, site)] = self.bars.add_task(f"{kind} {site}", total=total, unit=unit)
            self.bars.refresh()  # shown at once, even when it ends before the next refresh
        return self.tasks[(kind, site)]

    def reading(self, site: str, read: int, total: int | None) -> None:
        task = self._task("reading", site, total, "issues")
        self.bars.update(task, completed=read, total=max(total, read) if total is not None else None)

    def writing(self, site: str, done: int, total: int) -> None:
        task = self._task("writing", site, total, "issues written")
        self.bars.update(task, completed=done, total=total)

    def stop(self) -> None:
        """Take the bars off the screen (before a report, the plan or an error is printed)."""
        if self.bars is not None:
            point_logs_at(self.saved_log_stream)
            self.bars.stop()
            self.bars = None
            self.tasks.clear()


@contextmanager
def live_progress(verbosity: int, log_format: str) -> Iterator[LiveProgress | None]:
    """A ``LiveProgress`` when ``wanted``, else None; always off the screen when the block ends."""
    if not wanted(verbosity, log_format):
        yield None
        return
    progress = LiveProgress()
    try:
        yield progress
    finally:
        progress.stop()
