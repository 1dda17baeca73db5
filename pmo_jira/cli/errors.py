"""The one place errors become ``Error: ...`` + exit 2: expected ones, unexpected ones and Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import NoReturn

import click

from pmo_jira.errors import PmoError
from pmo_jira.interrupt import EXIT_INTERRUPTED, Interrupted
from pmo_jira.logs import RunSummary, log_summary, redact

EXIT_CANNOT_RUN = 2
EXIT_PIPE_CLOSED = 141
"""What a shell reports for a program ended by SIGPIPE (128 + 13), as `cat` or `grep` in `| head`."""


_JSON_ERRORS = threading.local()


def error_line(message: str) -> None:
    """Print ``Error: <message>`` as one red line on stderr (with ``--log-format json``, one JSON
    object like every other line there); credentials masked."""
    line = " ".join(redact(message).split())
    if getattr(_JSON_ERRORS, "on", False):
        click.echo(json.dumps({"ts": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                               "level": "error", "logger": "pmo_jira.cli", "msg": line},
                              ensure_ascii=False), err=True)
    else:
        click.secho("Error: " + line, fg="red", err=True)


def silence_stdout() -> None:
    """The reader of standard output left (`| head`): send the rest to /dev/null, so neither a
    later write nor Python's flush at exit raises or prints a traceback."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def closed_pipe_exit() -> NoReturn:
    """End quietly because standard output was closed: no error line, exit 141."""
    silence_stdout()
    raise click.exceptions.Exit(EXIT_PIPE_CLOSED)


def fail(message: str) -> NoReturn:
    """``error_line(message)``, then exit 2."""
    error_line(message)
    raise click.exceptions.Exit(EXIT_CANNOT_RUN)


@contextmanager
def cli_errors(verbosity: int = 0, *, log_format: str | None = None) -> Iterator[None]:
    """Turn expected (``PmoError``) and unexpected exceptions, and Ctrl-C, into one line + exit 2.

    With ``-v`` an unexpected exception also prints its traceback (credentials masked); click's
    own exits and usage errors pass through untouched. ``log_format`` (the flag, else
    ``PMO_JIRA_LOG_FORMAT``) "json" makes the error line a JSON object.
    """
    fmt = log_format or os.environ.get("PMO_JIRA_LOG_FORMAT", "")
    _JSON_ERRORS.on = fmt.strip().lower() == "json"
    try:
        yield
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except BrokenPipeError:
        closed_pipe_exit()
    except KeyboardInterrupt:
        # click would say "Aborted!" and exit 1, which a scheduler reads as "findings found"
        fail("interrupted (Ctrl-C)")
    except Interrupted as exc:  # SIGTERM/SIGINT: the run layer has written the summary and history
        error_line(getattr(exc, "detail", None) or str(exc))
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    except PmoError as exc:
        if verbosity >= 2:
            click.echo(redact(traceback.format_exc()).rstrip(), err=True)
        error_line(exc.one_line())
        if isinstance(exc.run_summary, RunSummary):  # "stopped early (the error is above)": after it
            log_summary(exc.run_summary)
        raise click.exceptions.Exit(EXIT_CANNOT_RUN) from None
    except Exception as exc:
        if verbosity >= 1:
            click.echo(redact(traceback.format_exc()).rstrip(), err=True)
            fail(f"unexpected {type(exc).__name__}: {exc}")
        fail(f"unexpected {type(exc).__name__}: {exc} (run with -v for the traceback)")
