"""One command's run, start to finish: clock, read + audit, plan, apply, record, summary.

Every command that reads Jira goes through ``Run`` (audit, sync, report, the demo and plugins'
commands alike), so they all time themselves, count the same things, record the run history the
same way and end with the same summary line, also when they stop on an error. The caller (the
CLI) parses options into a ``RunRequest``, hears about progress through ``RunEvents`` and
prints; it never runs anything itself.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from pmo_jira.collector import collector_paused
from pmo_jira.errors import ConfigError, NotInHistory, PmoError
from pmo_jira.findings import AuditResult, Severity
from pmo_jira.interrupt import EXIT_INTERRUPTED, Interrupted
from pmo_jira.jira.client import JiraClient
from pmo_jira.logs import RunSummary, emit_summary, write_summary_json
from pmo_jira.reports import HistoryContext, Report, ReportContext, render_report, renders_from_history, write_output
from pmo_jira.run.connect import client_for
from pmo_jira.run.facts import collect_run_facts
from pmo_jira.run.sites import AuditedSites, Scope, audit_sites
from pmo_jira.run.writeback import apply_sites, hold_mass_resolutions, merge_plans, plan_sites
from pmo_jira.settings import Settings, SiteSettings
from pmo_jira.standards.registry import Registry, plugin_registry
from pmo_jira.writeback import ApplyReport, Plan, check_blast_radius

if TYPE_CHECKING:
    from pmo_jira.history import HistoryStore
    from pmo_jira.history.site_lock import SiteLock
    from pmo_jira.runlock import RunLock

log = logging.getLogger("pmo_jira.run")


CLOCK_TOLERANCE = timedelta(minutes=1)
"""How far a runner's clock may be off the shared history's server before the run says so."""


def run_now(env: Mapping[str, str] | None = None) -> datetime:
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


@dataclass(frozen=True)
class RunRequest:
    """What one command asks for, as parsed from its options."""

    command: str  # the summary's name: "audit", "sync", "report portfolio", ...
    sites: tuple[str, ...] = ()  # --site; empty: every configured site
    mapping: Path | None = None  # --mapping for every site; None: the config's
    projects: tuple[str, ...] = ()  # --project
    jql: str = ""  # --jql
    record: bool = True  # False: --no-history
    wait: bool = False  # --wait for the run lock (writing runs only)
    wait_timeout: float | None = None

    @property
    def narrowed(self) -> bool:
        """Only part of the portfolio is checked (``--project``/``--jql``)."""
        return bool(self.projects or self.jql)

    @property
    def narrowing(self) -> str | None:
        """How the run was narrowed, as the history keeps it (``--project DIG --jql "..."``)."""
        if not self.narrowed:
            return None
        parts = [f"--project {','.join(p.upper() for p in self.projects)}"] if self.projects else []
        if self.jql:
            jql = " ".join(self.jql.split())
            parts.append("--jql " + json.dumps(jql if len(jql) <= 200 else jql[:199] + "…", ensure_ascii=False))
        return " ".join(parts)

    @property
    def scope(self) -> Scope:
        return Scope(projects=tuple(p.upper() for p in self.projects), jql=self.jql or "")


class RunEvents:
    """What a run tells its caller as it goes; the CLI overrides these to print. Default: logs."""

    def progress(self, site: str, message: str) -> None:
        if not message.startswith("failed:"):  # failures come once, through site_errors
            log.info("site %s: %s", site, message)

    wants_progress = False
    """True when ``reading``/``writing`` are shown: the run then asks each site for the search's
    total (one request more) and reports every page and every issue written."""

    def reading(self, site: str, read: int, total: int | None) -> None:
        """Issues of ``site`` read so far, of ``total`` (the search's count or estimate; None: unknown)."""

    def writing(self, site: str, done: int, total: int) -> None:
        """Issues of ``site`` whose writes have ended, of ``total`` in its plan."""

    def site_errors(self, errors: Mapping[str, str]) -> None:
        """Sites that could not be read (the other sites' results still stand)."""
        for site, message in sorted(errors.items()):
            log.error("site %s: %s", site, message)

    def output(self, text: str) -> None:
        """A rendered report with no file to go to, to print."""

    def written(self, path: Path) -> None:
        """A file the run wrote."""

    def planned(self, plan: Plan | None) -> None:
        """The merged write-back plan, before anything is written."""

    def dry_run(self, plan: Plan) -> None:
        """A plan with writes that was not applied (no ``--apply``)."""

    def applied(self, report: ApplyReport) -> None:
        """What the apply did, including the issues that failed."""


class Run:
    """One run of one command. Use as a context manager around its steps::

        with Run(settings, RunRequest("audit"), events=events) as run:
            audited = run.audit()
            ...
            run.record(audited.result)
            summary = run.finish(audited.result, exit_code=0)

    A ``PmoError`` that escapes the block still gets its summary (exit 2, ``stopped``): the
    ``--summary-json`` file is written, and the error carries it as ``run_summary`` for the caller
    to log after the error itself (the CLI does). A stop signal (``Interrupted``, exit 2) emits
    the summary line, also records the run in the history, marked interrupted (never compared),
    and leaves on the exception the one line the CLI prints (``detail``).
    """

    def __init__(self, settings: Settings, request: RunRequest, *, events: RunEvents | None = None,
                 now: datetime | None = None, registry: Registry | None = None,
                 client_factory: Callable[[SiteSettings], JiraClient] = client_for) -> None:
        self.settings = settings
        self.request = request
        self.events = events or RunEvents()
        self.now = now or run_now()
        self.registry = registry
        self.client_factory = client_factory
        self.started = time.monotonic()
        self.summary: RunSummary | None = None
        self.recorded: int | None = None  # the run's id in the history, once recorded
        self._wait_until: float | None = None  # --wait-timeout's end, once the run lock is asked for
        self.reading = False  # audit() has begun: a stop from now on came while reading Jira
        self.audited: AuditedSites | None = None  # what audit() read, once it has
        self.writes_planned = 0  # issues the write-back plan touches, once planned
        self.applied: ApplyReport | None = None  # what apply() wrote, once it has
        self._caches: list[Any] = []  # the sites' state caches, closed with the run (not left to the GC)

    def __enter__(self) -> Run:
        self.started = time.monotonic()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for cache in self._caches:
            cache.close()
        if isinstance(exc, Interrupted):
            self._interrupted(exc)
        elif isinstance(exc, PmoError) and self.summary is None:
            read = self.audited.result if self.audited is not None else None  # stopped after the read
            written = self.applied or ApplyReport()  # stopped after writing, e.g. by the history
            self.summary = RunSummary(
                command=self.request.command, sites=self._selected(read), errors=1 + written.failed,
                issues_read=read.issues_read if read is not None else 0,
                findings_by_severity=_by_severity(read) if read is not None else {},
                writes_planned=self.writes_planned if self.applied is not None else 0,
                writes_applied=written.applied,
                duration_s=time.monotonic() - self.started, exit_code=2, started_at=self.now,
                stopped=exc.one_line())
            if self.settings.summary_json is not None:
                write_summary_json(self.settings.summary_json, self.summary)
            exc.run_summary = self.summary  # its line is logged after the error's, by whoever reports it

    def _interrupted(self, exc: Interrupted) -> None:
        """A stop signal ended the run: record what is known (marked interrupted), then the summary."""
        report = exc.report if isinstance(exc.report, ApplyReport) else ApplyReport()
        audited = self.audited
        if report.applied or report.failed:
            where = (f"while writing: {report.applied} of {self.writes_planned} issues written, "
                     f"{report.failed} cut off or failed, {report.not_attempted} not started; the next "
                     "sync finishes them")
        elif not self.reading:  # e.g. waiting for the run lock: the run never began
            where = "before reading Jira; nothing was read or written"
        elif audited is None:
            where = "while reading Jira; nothing was written"
        else:
            where = "before writing anything"
        exc.detail = f"{exc} {where}"
        if self.request.record and self.recorded is None and self.reading:
            try:
                self._record_interrupted(exc.signal_name, report)
            except PmoError as err:  # the summary and the error line still come
                log.warning("run history: the interrupted run was not recorded: %s", err.one_line())
        if self.summary is None:
            result = audited.result if audited is not None else None
            self.summary = RunSummary(
                command=self.request.command,
                sites=self._selected(result),
                issues_read=result.issues_read if result else 0, writes_planned=self.writes_planned,
                findings_by_severity=_by_severity(result) if result else {},
                writes_applied=report.applied, errors=report.failed,
                duration_s=time.monotonic() - self.started, exit_code=EXIT_INTERRUPTED, started_at=self.now,
                stopped=exc.detail, interrupted=exc.signal_name)
            emit_summary(self.summary, self.settings.summary_json)

    def _selected(self, result: AuditResult | None) -> list[str]:
        """The sites the run is about: those it read, else those asked for (``--site``), else all."""
        if result is not None:
            return list(result.sites)
        return list(self.request.sites) or [s.name for s in self.settings.sites]

    def _record_interrupted(self, signal_name: str, report: ApplyReport) -> None:
        """The history record of an interrupted run: what it read, or (stopped while reading) a
        run of no site under its mapping's name, so the record says the run happened."""
        kind: Literal["audit", "sync"] = "sync" if self.request.command == "sync" else "audit"
        if self.audited is not None and self.audited.snapshots:
            self.record(self.audited, kind=kind, writes_planned=self.writes_planned,
                        writes_applied=report.applied, errors=report.failed, interrupted=signal_name)
            return
        from pmo_jira.history import HistoryStore
        from pmo_jira.mapping import load_mapping

        sites = self.settings.select_sites(self.request.sites)
        mapping = load_mapping(self.request.mapping or self.settings.mapping_for(sites[0]))
        nothing = AuditResult(findings=(), items=(), started=self.now, finished=run_now(),
                              mapping_name=mapping.name, mapping_hash=mapping.content_hash, sites=())
        with HistoryStore(self.settings.history) as store:
            self.recorded = store.record_run(nothing, kind=kind, narrowed=self.request.narrowing,
                                             interrupted=signal_name)

    # --- the steps ----------------------------------------------------------------------------

    def audit(self, *, read_comments: bool = False) -> AuditedSites:
        """Read and audit the selected sites with every installed plugin's standards.

        ``read_comments``: also read the comments of the issues pmo-jira wrote to, in the same
        searches (a sync proves which comments are its own with them)."""
        self.reading = True
        if self.request.record:
            self._check_history()
        audited = audit_sites(
            self.settings, now=self.now, site_names=self.request.sites, mapping_path=self.request.mapping,
            scope=self.request.scope, registry=self._registry(), client_factory=self.client_factory,
            on_site=self.events.progress, read_comments=read_comments,
            on_page=self.events.reading if self.events.wants_progress else None)
        if self.request.narrowed:
            audited = dataclasses.replace(audited, result=dataclasses.replace(audited.result, narrowed=True))
        self.audited = audited
        self.events.site_errors(audited.result.site_errors)
        for client in audited.clients.values():
            cache = getattr(client, "property_cache", None)
            if cache is not None and all(cache is not c for c in self._caches):
                self._caches.append(cache)
        return audited

    def _check_history(self) -> None:
        """Stop before reading Jira when the run could not be recorded: a shared history at an
        older schema (`history migrate` first), an account allowed to read it only, a read-only
        file. Found at the end, a sync would have written to Jira and kept no record of it."""
        from pmo_jira.history import HistoryStore

        with HistoryStore(self.settings.history) as store:
            store.check_writable()
            skew = store.clock_skew()
        if abs(skew) > CLOCK_TOLERANCE:
            seconds = int(abs(skew).total_seconds())
            log.warning("this machine's clock is %d min %d s %s the history database server's %s: runs "
                        "are ordered by the clocks of the runners that made them, so set it right (NTP)",
                        seconds // 60, seconds % 60, "behind" if skew > timedelta(0) else "ahead of",
                        store)

    def plan(self, audited: AuditedSites) -> dict[str, Plan]:
        """One write-back plan per site read (nothing is written)."""
        return plan_sites(audited, now=self.now, known_codes=[s.code for s in self._registry()],
                          max_resolved_share=self.settings.writeback.max_resolved_share)

    def _registry(self) -> Registry:
        if self.registry is None:
            self.registry = plugin_registry()
        return self.registry

    def apply(self, plans: Mapping[str, Plan], audited: AuditedSites, *, capped: bool = True) -> ApplyReport:
        """Apply the plans; ``capped``: refuse a total over the blast-radius cap first (the config's
        ``max_writes``, else the mapping's)."""
        total = merge_plans(plans)
        if total is None or total.empty:
            return ApplyReport()
        primary = audited.primary_mapping
        if capped and primary is not None:
            check_blast_radius(total, self.settings.writeback.max_writes or primary.writeback.max_writes)
        self.applied = apply_sites(plans, audited, notify=self.settings.writeback.notify,
                                   concurrency=self.settings.writeback.concurrency or 4,
                                   max_write_timeouts=self.settings.writeback.max_write_timeouts,
                                   on_issue=self.events.writing if self.events.wants_progress else None)
        return self.applied

    def lock(self) -> RunLock:
        """The run lock writing runs hold, so two never write the same site at once."""
        from pmo_jira.runlock import RunLock  # filelock: only writing runs load it

        timeout = self.request.wait_timeout
        self._wait_until = None if timeout is None else time.monotonic() + timeout
        return RunLock(self.settings.lock or Path("pmo-jira.lock"), wait=self.request.wait, timeout=timeout)

    def site_lock(self) -> AbstractContextManager[SiteLock | None]:
        """With a shared PostgreSQL history, the lock of each selected site in it, which runners
        on other machines (or with another run lock file) see too; else nothing more to hold."""
        from pmo_jira.history.database import parse_target  # the history's database layer is slow to load
        from pmo_jira.history.site_lock import SiteLock

        target = parse_target(self.settings.history or "")
        if not target.is_postgres:
            return nullcontext()
        left = self.request.wait_timeout  # --wait-timeout bounds the waits for both locks together
        if self._wait_until is not None:
            left = round(max(0.0, self._wait_until - time.monotonic()), 1)
        return SiteLock(target, self.settings.select_sites(self.request.sites), wait=self.request.wait,
                        timeout=left)

    def history(self) -> AbstractContextManager[HistoryStore]:
        """The run history, opened (and created) for this run."""
        from pmo_jira.history import HistoryStore

        return HistoryStore(self.settings.history)

    def record(self, audited: AuditedSites, *, kind: str = "audit", writes_planned: int = 0,
               writes_applied: int = 0, errors: int = 0, interrupted: str | None = None) -> int | None:
        """Record the run in the history, unless asked not to or nothing was read.

        A run narrowed by ``--project``/``--jql`` is recorded as narrowed, and one stopped by a
        signal as ``interrupted``: neither is compared with any other run (against a full run,
        every finding outside the narrowed part would count as resolved, and as new again on the
        next full run). Plugins keep their figures with a full run (``pmo_jira_run_facts``).
        """
        if not self.request.record or not audited.snapshots or self.recorded is not None:
            return self.recorded
        from pmo_jira.history import HistoryStore

        narrowing = self.request.narrowing
        if narrowing is not None:
            log.info("run history: recorded as narrowed (%s), not compared with other runs", narrowing)
        full = narrowing is None and interrupted is None
        with HistoryStore(self.settings.history) as store, collector_paused():
            facts = collect_run_facts(audited.result, audited.snapshots, audited.primary_mapping, self.now,
                                      store) if full else None
            self.recorded = store.record_run(
                audited.result, kind=kind,  # type: ignore[arg-type]
                writes_planned=writes_planned, writes_applied=writes_applied, errors=errors, facts=facts,
                narrowed=narrowing, interrupted=interrupted)
        return self.recorded

    def finish_from_history(self, sites: Sequence[str]) -> RunSummary:
        """The summary line of a run that rendered from the run history: no read, no findings."""
        self.summary = RunSummary(command=self.request.command, sites=list(sites),
                                  duration_s=time.monotonic() - self.started, started_at=self.now, from_history=True)
        emit_summary(self.summary, self.settings.summary_json)
        return self.summary

    def finish(self, result: AuditResult, *, exit_code: int, writes_planned: int = 0,
               writes_applied: int = 0, errors: int = 0,
               failed_sites: Mapping[str, str] | None = None) -> RunSummary:
        """The summary line (and ``--summary-json`` file) that ends every run. ``failed_sites``:
        sites that failed after they were read (writes stopped), listed with those that could not be."""
        self.summary = RunSummary(
            command=self.request.command, sites=list(result.sites), issues_read=result.issues_read,
            findings_by_severity=_by_severity(result), writes_planned=writes_planned, writes_applied=writes_applied,
            errors=errors + len(result.site_errors), duration_s=time.monotonic() - self.started,
            exit_code=exit_code, site_errors={**result.site_errors, **(failed_sites or {})}, started_at=self.now)
        emit_summary(self.summary, self.settings.summary_json)
        return self.summary


def _by_severity(result: AuditResult) -> dict[str, int]:
    """Open findings per severity, as the summary line counts them."""
    counted = Counter(finding.severity for finding in result.open_findings())  # .value once a severity
    return {severity.value: n for severity, n in counted.items()}


# --- the commands ------------------------------------------------------------------------------


@dataclass
class Done:
    """What a command's run ended with: its exit code, summary and what it worked on."""

    exit_code: int
    summary: RunSummary
    audited: AuditedSites | None  # None: rendered from the run history, nothing was read
    plan: Plan | None = None
    applied: ApplyReport = field(default_factory=ApplyReport)


def audit_exit_code(result: AuditResult, fail_on: Severity | None) -> int:
    """0 clean, 1 findings at or above ``fail_on`` (None: never), 2 a site could not be audited."""
    if result.site_errors:
        return 2
    return 1 if fail_on is not None and result.fails_at(fail_on) else 0


def run_audit_command(settings: Settings, request: RunRequest, *, fmt: str, color: bool = False,
                      width: int | None = None, output: Path | None = None, fail_on: Severity | None = Severity.HIGH,
                      events: RunEvents | None = None, now: datetime | None = None,
                      registry: Registry | None = None) -> Done:
    """``audit``: read, check, render in ``fmt`` (to ``output`` or ``events.output``), record, summarise."""
    from pmo_jira.formats import get_renderer, plugin_formats

    events = events or RunEvents()
    with Run(settings, request, events=events, now=now, registry=registry) as run:
        renderer = get_renderer(fmt, color=color, width=width, available=plugin_formats())  # a typo costs no read
        audited = run.audit()
        if audited.snapshots:  # with no site read there is nothing to report, only the errors
            pieces = getattr(renderer, "render_pieces", None)
            if output is None:
                events.output(renderer.render(audited.result, now=run.now))
            elif callable(pieces):  # written as rendered, never whole
                write_output(output, pieces(audited.result, now=run.now))
            else:
                write_output(output, renderer.render(audited.result, now=run.now))
        run.record(audited, kind="audit")
        code = audit_exit_code(audited.result, fail_on)
        return Done(code, run.finish(audited.result, exit_code=code), audited)


def run_sync_command(settings: Settings, request: RunRequest, *, apply: bool, events: RunEvents | None = None,
                     now: datetime | None = None, registry: Registry | None = None) -> Done:
    """``sync``: read, check, plan; with ``apply`` (under the run lock) write, then record, summarise.

    Exit code 0: planned, or all applied; 1: some issues failed; 2: a site could not be read, or
    its writes were stopped (writes in a row without an answer), or a stop signal came.
    """
    events = events or RunEvents()
    with Run(settings, request, events=events, now=now, registry=registry) as run:
        with ExitStack() as locks:
            site_lock = None
            if apply:
                locks.enter_context(run.lock())
                site_lock = locks.enter_context(run.site_lock())
            audited = run.audit(read_comments=True)
            plans = run.plan(audited)
            total = merge_plans(plans)
            events.planned(total)
            planned = total.totals.issues_touched if total else 0
            run.writes_planned = planned
            report = ApplyReport()
            if apply:
                plans, held = hold_mass_resolutions(plans, audited)  # the resolution guard, per site
                events.site_errors(held)
                if site_lock is not None:
                    site_lock.check()  # still ours after the read: a database restart frees it
                report = run.apply(plans, audited)
            elif total is not None and not total.empty:
                events.dry_run(total)
            run.record(audited, kind="sync", writes_planned=planned, writes_applied=report.applied,
                       errors=report.failed)
        events.applied(report)
        result = audited.result
        code = 2 if result.site_errors or report.sites_stopped else (1 if not report.all_applied else 0)
        summary = run.finish(result, exit_code=code, writes_planned=planned, writes_applied=report.applied,
                             errors=report.failed, failed_sites=report.sites_stopped)
        return Done(code, summary, audited, total, report)


def run_report_command(settings: Settings, request: RunRequest, *, report: Report, formats: list[str],
                       output: Path | None, out_dir: Path | None, options: Mapping[str, str],
                       events: RunEvents | None = None, now: datetime | None = None,
                       registry: Registry | None = None, width: int | None = None, color: bool = False,
                       history_first: bool = False) -> Done:
    """``report NAME``: read, check, render each format (a file, or ``events.output``), record.
    ``width``/``color``: the terminal the text goes to (``ReportContext``).

    ``history_first``: a month that has ended (``--month previous``, an earlier ``YYYY-MM``) of a
    report that renders from the run history is rendered from it, without reading Jira, when the
    history holds it; otherwise (or for the current month) Jira is read as usual.
    """
    events = events or RunEvents()
    with Run(settings, request, events=events, now=now, registry=registry) as run:
        if history_first and renders_from_history(report) and not request.narrowed \
                and _ended_month(options.get("month"), run.now):
            try:
                with history_context(run, options, width=width, color=color) as kept:
                    _render_formats(report, kept, formats, output=output, out_dir=out_dir, events=events)
                    return Done(0, run.finish_from_history(kept.sites), None)
            except NotInHistory as exc:
                log.info("%s; reading Jira instead", exc.one_line())
        audited = run.audit()
        if audited.primary_mapping is None:
            raise PmoError("no site to report on")
        with run.history() as history:
            context = ReportContext(result=audited.result, snapshots=audited.snapshots,
                                    mapping=audited.primary_mapping, now=run.now, history=history,
                                    options=dict(options), width=width, color=color)
            _render_formats(report, context, formats, output=output, out_dir=out_dir, events=events)
        run.record(audited, kind="audit")
        code = 2 if audited.result.site_errors else 0
        return Done(code, run.finish(audited.result, exit_code=code), audited)


def _ended_month(text: str | None, now: datetime) -> bool:
    """Whether a ``--month`` value names a month that is over: ``previous``, or ``YYYY-MM`` before now's."""
    value = (text or "").strip()
    if value == "previous":
        return True
    year, sep, month = value.partition("-")
    return bool(sep) and year.isdigit() and month.isdigit() and (int(year), int(month)) < (now.year, now.month)


def run_report_from_history(settings: Settings, request: RunRequest, *, report: Report, formats: list[str],
                            output: Path | None, out_dir: Path | None, options: Mapping[str, str],
                            events: RunEvents | None = None, now: datetime | None = None,
                            width: int | None = None, color: bool = False) -> RunSummary:
    """``report NAME --from-history``: render each format from the newest full run of every
    selected site in the run history, without reading Jira (and recording nothing)."""
    if not renders_from_history(report):
        raise PmoError(f"report '{report.name}' cannot be rendered from the run history "
                       "(it needs a read of Jira): leave out --from-history")
    events = events or RunEvents()
    with Run(settings, request, events=events, now=now) as run, \
            history_context(run, options, width=width, color=color) as context:
        _render_formats(report, context, formats, output=output, out_dir=out_dir, events=events)
        return run.finish_from_history(context.sites)


@contextmanager
def history_context(run: Run, options: Mapping[str, str], *, width: int | None = None,
                    color: bool = False) -> Iterator[HistoryContext]:
    """What a report rendered from the run history alone gets, for ``run``'s selected sites and
    mapping: the history must exist, and the run must not be narrowed (nothing is read from Jira)."""
    from pmo_jira.history import existing_history
    from pmo_jira.mapping import load_mapping

    settings, request = run.settings, run.request
    if request.narrowed:
        raise PmoError("--from-history rolls up whole sites as last recorded: --project/--jql need a read of Jira")
    sites = settings.select_sites(request.sites)
    mapping = load_mapping(Path(request.mapping or settings.mapping_for(sites[0])))
    history = existing_history(settings.history)
    if history is None:
        raise NotInHistory(f"no run history at {settings.history or 'the default location'}: record the sites first, e.g. "
                       f"`pmo-jira audit --site {sites[0].name}`")
    with history:
        yield HistoryContext(history=history, mapping=mapping, sites=tuple(s.name for s in sites), now=run.now,
                             options=dict(options), width=width, color=color)


def _render_formats(report: Report, context: ReportContext | HistoryContext, formats: list[str], *,
                    output: Path | None, out_dir: Path | None, events: RunEvents) -> None:
    """Each format to its file (``events.written``), or its text to ``events.output``."""
    for fmt in formats:
        written = render_report(report, context, fmt, output=output, out_dir=out_dir)
        if isinstance(written, str):
            events.output(written)
        else:
            for path in written:
                events.written(path)
