"""What the run commands (audit, sync, report, a plugin's) share: the clock, one audit, the summary."""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

import click

from pmo_jira.errors import ConfigError, PmoError
from pmo_jira.findings import AuditResult
from pmo_jira.history import HistoryStore
from pmo_jira.logs import RunSummary, emit_summary
from pmo_jira.runner import RunOutcome, Scope, audit_sites
from pmo_jira.settings import Settings
from pmo_jira.standards.registry import plugin_registry

log = logging.getLogger("pmo_jira.run")


def run_now(env: Any = None) -> datetime:
    """The run's 'now': the clock, or ``PMO_JIRA_NOW`` (ISO 8601) to pin it for reproducible runs."""
    text = (os.environ if env is None else env).get("PMO_JIRA_NOW")
    if not text:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        now = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"PMO_JIRA_NOW={text!r} is not an ISO date-time",
                          hint="e.g. 2026-01-15T09:00:00+00:00") from None
    return now if now.tzinfo else now.replace(tzinfo=timezone.utc)


def run_audit_command(settings: Settings, *, site_names: Sequence[str], mapping: Path | None,
                      projects: Sequence[str] = (), jql: str = "", now: datetime) -> RunOutcome:
    """One audit over the selected sites with every installed plugin's standards."""
    return audit_sites(
        settings, now=now, site_names=site_names, mapping_path=mapping,
        scope=Scope(projects=tuple(p.upper() for p in projects), jql=jql or ""),
        registry=plugin_registry(),
        on_site=_progress,
    )


def _progress(site: str, message: str) -> None:
    if not message.startswith("failed:"):  # failures get their one line from print_site_errors
        log.info("site %s: %s", site, message)


def print_site_errors(result: AuditResult) -> None:
    """One red line per site that could not be read (the other sites' results still stand)."""
    for site, message in sorted(result.site_errors.items()):
        click.secho(f"Error: site {site}: {message}", fg="red", err=True)


def record_history(settings: Settings, result: AuditResult, *, kind: str, writes_planned: int = 0,
                   writes_applied: int = 0, errors: int = 0, narrowed: bool = False) -> int | None:
    """Record the run; not one narrowed by ``--project``/``--jql``: compared with a full run of the
    same mapping, every finding outside the narrowed part would count as resolved (and as new
    again on the next full run)."""
    if narrowed:
        log.info("run history: not recorded, --project/--jql checked only part of the portfolio")
        return None
    with HistoryStore(settings.history) as store:
        return store.record_run(result, kind=kind, writes_planned=writes_planned,
                                 writes_applied=writes_applied, errors=errors)


@contextmanager
def summary_when_stopped(command: str, settings: Settings, *, started: float,
                         started_at: datetime) -> Iterator[None]:
    """A run that stops on an error still ends with its summary line (and JSON for monitoring)."""
    try:
        yield
    except PmoError as exc:
        emit_summary(RunSummary(command=command, sites=[s.name for s in settings.sites], errors=1,
                                duration_s=time.monotonic() - started, exit_code=2,
                                started_at=started_at, stopped=exc.one_line()), settings.summary_json)
        raise


def summary_of(command: str, result: AuditResult, *, started: float, exit_code: int,
               writes_planned: int = 0, writes_applied: int = 0, errors: int = 0,
               started_at: datetime | None = None) -> RunSummary:
    by_severity: dict[str, int] = {}
    for finding in result.open_findings():
        by_severity[finding.severity.value] = by_severity.get(finding.severity.value, 0) + 1
    return RunSummary(
        command=command, sites=list(result.sites), issues_read=result.issues_read,
        findings_by_severity=by_severity, writes_planned=writes_planned, writes_applied=writes_applied,
        errors=errors + len(result.site_errors), duration_s=time.monotonic() - started,
        exit_code=exit_code, site_errors=dict(result.site_errors), started_at=started_at,
    )
