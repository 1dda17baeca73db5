"""Logging for unattended runs: readable or JSON lines on stderr, and one summary per run.

Cron mails, CI logs and Kubernetes log collectors all read stderr, so that is where logs go;
stdout stays free for reports. ``--log-format json`` gives one JSON object per line for log
pipelines. Every run ends with one summary line (and optionally the same summary as a JSON file)
so monitoring can alert on a failed or silent nightly run without parsing anything else.
Tokens are masked in every line as defence in depth: the client never logs them, and this
filter catches what slips through (an exception text quoting a header, a URL with a token).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Literal

from pmo_jira.errors import PmoError
from pmo_jira.findings import Severity
from pmo_jira.private_files import replace_file
from pmo_jira.redaction import MASK, redact, register_secret  # noqa: F401 - the names logs always offered

LOGGER = "pmo_jira"
SUMMARY_LOGGER = "pmo_jira.summary"
SUMMARY_VERSION = 1

class RedactFilter(logging.Filter):
    """Rewrites each record's message (and exception text) with credentials masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        return True


_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class TextFormatter(logging.Formatter):
    """``2026-11-25T02:00:01Z INFO  [prod] message`` — the site in brackets when the record has one."""

    def format(self, record: logging.LogRecord) -> str:
        site = getattr(record, "site", None)
        line = f"{_timestamp(record)} {record.levelname + ' ':<7}{f'[{site}] ' if site else ''}{record.getMessage()}"
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, then the record's extras (site, summary …)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"ts": _timestamp(record), "level": record.levelname.lower(),
                               "logger": record.name, "msg": record.getMessage()}
        for key, value in _extras(record).items():
            out[key] = redact(value) if isinstance(value, str) else value
        if record.exc_text:
            out["exc"] = redact(record.exc_text)
        return json.dumps(out, default=str, ensure_ascii=False)


class _Handler(logging.StreamHandler):
    """Marks the handler pmo-jira installed, so setting up again replaces it."""


def setup_logging(verbosity: int = 0, fmt: Literal["text", "json"] = "text",
                  stream: IO[str] | None = None) -> logging.Handler:
    """Install the stderr handler on the root logger (replacing an earlier one).

    ``verbosity`` is ``-v`` count minus ``-q`` count: 0 progress (INFO), 1 debug for pmo-jira,
    2+ debug for libraries too (HTTP), -1 warnings and the summary, -2 errors only.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    level = {1: logging.DEBUG, 0: logging.INFO, -1: logging.WARNING}
    logging.getLogger(LOGGER).setLevel(level.get(verbosity, logging.DEBUG if verbosity > 1 else logging.ERROR))
    logging.getLogger(SUMMARY_LOGGER).setLevel(logging.INFO if verbosity >= -1 else logging.ERROR)
    return handler


def point_logs_at(stream: IO[str]) -> IO[str] | None:
    """Send pmo-jira's log lines to ``stream`` from now on (a progress display's console, which
    prints them above its bars); returns the stream they went to, to restore it."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _Handler):
            return handler.setStream(stream)
    return None


# --- run summary ---------------------------------------------------------------------------------


@dataclass
class RunSummary:
    """What one run did, for the last log line and the monitoring JSON file."""

    command: str
    sites: list[str] = field(default_factory=list)
    issues_read: int = 0
    findings_by_severity: dict[str, int] = field(default_factory=dict)
    writes_planned: int = 0  # issues the write-back plan touches
    writes_applied: int = 0  # of those, issues fully written
    errors: int = 0
    duration_s: float = 0.0
    exit_code: int = 0
    site_errors: dict[str, str] = field(default_factory=dict)  # site -> one-line reason it failed
    started_at: datetime | None = None
    stopped: str | None = None  # why a run stopped early (cap, refused notify ...); in the JSON only
    interrupted: str | None = None  # the signal that stopped the run (SIGTERM, SIGINT)
    from_history: bool = False  # rendered from the run history: Jira was not read, nothing was checked

    def line(self) -> str:
        """One human line, e.g. ``sync: 2 sites (1 failed: dc), 1,204 issues read, ...``."""
        failed = f" ({len(self.site_errors)} failed: {', '.join(sorted(self.site_errors))})" if self.site_errors else ""
        if self.from_history:  # "0 issues read, findings: none" would belie the report just made
            return (f"{self.command}: {len(self.sites)} site{'' if len(self.sites) == 1 else 's'} from the run history, "
                    f"Jira not read, {self.duration_s:.1f}s, exit {self.exit_code}")
        sev = ", ".join(f"{self.findings_by_severity[s.value]} {s.value}" for s in reversed(Severity)
                        if self.findings_by_severity.get(s.value))
        errors = f"{self.errors} error{'' if self.errors == 1 else 's'}"
        return (f"{self.command}: {len(self.sites)} site{'' if len(self.sites) == 1 else 's'}{failed}, "
                f"{self.issues_read:,} issues read, findings: {sev or 'none'}, "
                f"issues written: {self.writes_applied}/{self.writes_planned}, {errors}, "
                f"{self.duration_s:.1f}s, exit {self.exit_code}"
                + (", stopped early (the error is above)" if self.stopped else ""))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started_at"] = self.started_at.isoformat() if self.started_at else None
        data["findings_total"] = sum(self.findings_by_severity.values())
        data["site_errors"] = {k: redact(v) for k, v in self.site_errors.items()}
        data["stopped"] = redact(self.stopped) if self.stopped else None
        return {"version": SUMMARY_VERSION, **data}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def write_summary_json(path: str | os.PathLike[str], summary: RunSummary) -> None:
    """Write the file whole (``replace_file``): a monitor never reads half of it. A folder or file
    that cannot be written (read-only, a full disk) is one ``PmoError`` naming it."""
    target = Path(path)
    try:
        replace_file(target, summary.to_json() + "\n")
    except OSError as exc:
        raise PmoError(f"cannot write the run summary {target}: {exc.strerror or exc}") from None


def log_summary(summary: RunSummary) -> None:
    """Log the summary line (JSON logs carry the fields under ``summary``)."""
    logging.getLogger(SUMMARY_LOGGER).info(summary.line(), extra={"summary": summary.to_dict()})


def emit_summary(summary: RunSummary, json_path: str | os.PathLike[str] | None = None) -> None:
    """Log the summary line and write the file."""
    log_summary(summary)
    if json_path is not None:
        write_summary_json(json_path, summary)
