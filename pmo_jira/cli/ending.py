"""How a ``pmo-jira`` process ends: once its output is out, without freeing what the run made.

At the end of a large run the process holds a few hundred MiB of issues, findings and their
strings. Python's own exit frees them one object at a time (after a 100,000-issue audit, longer
than writing its report), although the OS takes a process's memory back at once. So the program
(``pmo_jira.cli.main.main``) says its process ends with its command (``ends_with_command``), a
command hands what its run made to ``hold`` instead of dropping it, and ``exit_now`` ends the
process once the standard streams are flushed and the exit handlers have run. In a process that
goes on after a command (tests, a program calling ``main`` or ``cli.main``), ``hold`` keeps nothing.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself is not loaded for `pmo-jira --version`
if TYPE_CHECKING:
    from typing import NoReturn

_held: list[object] | None = None  # what commands left, while the process ends with its command


def ends_with_command(ends: bool = True) -> None:
    """Say whether this process ends when its command does (``main``; a benchmark measuring the
    program): then ``hold`` keeps what commands leave, for ``exit_now``. Else (the default:
    tests, programs calling ``cli.main``) nothing is held, and what was is dropped."""
    global _held
    _held = [] if ends else None


def hold(data: object) -> None:
    """Keep ``data`` until the process ends, when it ends with its command; else nothing."""
    if _held is not None:
        _held.append(data)


def exit_now(code: object) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, without the interpreter's teardown. Exit
    handlers (``atexit``: logging's flush and close, temporary files) still run and the standard
    streams are flushed; while another thread still runs, or when a stream cannot be flushed
    (Python's exit reports that), the process ends the usual way."""
    import atexit
    import os
    import threading

    main = threading.main_thread()
    if threading.current_thread() is not main or any(
            t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main):
        sys.exit(code)
    if not _flushed():
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # a message, which sys.exit prints
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    os._exit(status if _flushed() else 120)  # 120: what Python exits with when its last flush fails


def _flushed() -> bool:
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True
