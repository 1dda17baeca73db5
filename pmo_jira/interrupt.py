"""SIGTERM and SIGINT end a run in order: one line, the summary, a history record, exit 2.

Kubernetes stops a job with SIGTERM (then SIGKILL after its grace period), a person with Ctrl-C.
Python's defaults die silently on SIGTERM (exit -15: no summary, no history) and raise
``KeyboardInterrupt`` anywhere on SIGINT. ``install()`` makes both raise ``Interrupted`` in the
main thread and sets ``STOP``, which every thread that talks to Jira checks before each request
and while it waits to retry, so threads reading or writing stop within one request. A second
signal while the run winds down is ignored: what is being written then (summary, history) is
what the next run and the monitoring need.

Stopping between any two requests is safe by design: the sync state of an issue is written
last, so the next run redoes an issue that was cut off half-way and adopts a comment it posted.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

EXIT_INTERRUPTED = 2
"""Like any run that could not finish: never 1 ("findings at or above --fail-on")."""

STOP = threading.Event()
_received: list[int] = []


class Interrupted(BaseException):
    """A stop signal arrived. A ``BaseException``, so no ``except Exception`` swallows it."""

    report: object = None  # the apply report so far, when the signal came while writing
    detail: str | None = None  # the one line to end with, when the run knows more than the signal

    def __init__(self, signum: int = signal.SIGINT):
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.signal_name}")


def _handler(signum: int, _frame: FrameType | None) -> None:
    first = not STOP.is_set()
    STOP.set()
    _received.append(signum)
    if first:
        raise Interrupted(signum)


def install() -> None:
    """Route SIGTERM and SIGINT to ``Interrupted`` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _handler)


def check() -> None:
    """Raise ``Interrupted`` in this thread if a stop signal has arrived."""
    if STOP.is_set():
        raise Interrupted(_received[0] if _received else signal.SIGINT)


def sleep(seconds: float) -> None:
    """Wait like ``time.sleep``, but wake and raise ``Interrupted`` as soon as a stop signal comes."""
    if STOP.wait(max(seconds, 0.0)):
        check()
