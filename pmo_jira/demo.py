"""The newcomer's first run: two sandbox sites (Cloud and Data Center) as one portfolio.

Starts both sandboxes on loopback, replays the runs of the first working day of the five previous
months and of the day before (each site as it was then, the run's clock pinned to it) so the run
history has a six-month trend, audits the sites as they are now with the sandbox mapping, applies the
write-back, renders the audit and every registered report into one folder, and stops the
sandboxes. Nothing outside that folder is touched (its run history included).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from importlib.resources import files
from pathlib import Path

import yaml

from pmo_jira.errors import PmoError
from pmo_jira.findings import AuditResult
from pmo_jira.formats import builtin_formats
from pmo_jira.jira.client import JiraClient
from pmo_jira.mapping.presets import preset
from pmo_jira.reports import ReportContext, available_reports, file_name, render_report, write_output
from pmo_jira.run import Run, RunEvents, RunRequest
from pmo_jira.run.writeback import merge_plans
from pmo_jira.sandbox.generator import cross_site_blockers, generate
from pmo_jira.sandbox.replay import as_of
from pmo_jira.sandbox.server import SandboxServer
from pmo_jira.settings import Settings, SiteSettings
from pmo_jira.standards.registry import plugin_registry
from pmo_jira.writeback import ApplyReport, Plan


@dataclass
class DemoResult:
    out_dir: Path
    result: AuditResult
    plan: Plan | None
    applied: ApplyReport
    resync_writes: int  # writes planned by a second sync: 0 when write-back is idempotent
    files: list[Path] = field(default_factory=list)
    history: Path = Path()
    sites: dict[str, str] = field(default_factory=dict)  # name -> flavour


REPLAYED_MONTHS = 5


def demo_mapping(out_dir: Path) -> Path:
    """The sandbox preset with the office plugin's additions (objective and WSJF fields, its
    standards, capacities and strategy) and the cross-site blockers' field, written to
    ``out_dir/mapping.yaml`` for people to read."""
    base = yaml.safe_load(preset("sandbox").read_text(encoding="utf-8"))
    extra = yaml.safe_load((files("pmo_jira.sandbox") / "office-mapping.yaml").read_text(encoding="utf-8"))
    base["fields"] = {**base.get("fields", {}), **extra.pop("fields", {})}
    # its Cloud site waits for work on its Data Center site, named in a field (see PMO-DEP-001)
    base["fields"]["blocked_by"] = "Blocked by (other sites)"
    for entry in base["standards"]:
        if entry["code"] == "PMO-DEP-001":
            entry["options"] = {**entry.get("options", {}), "cross_site_field": "blocked_by"}
    base["standards"] = [*base.get("standards", []), *extra.pop("standards", [])]
    base.update(extra)
    path = out_dir / "mapping.yaml"
    write_output(path, "# The demo's mapping: mappings/sandbox.yaml plus pmo_jira/sandbox/office-mapping.yaml\n"
                 + yaml.safe_dump(base, sort_keys=False, allow_unicode=True))
    return path


def first_working_days(now: datetime, months: int) -> list[datetime]:
    """06:00 UTC on the first weekday of each of the ``months`` months before ``now``'s, oldest first."""
    out = []
    first = now.date().replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
        day = first
        while day.weekday() >= 5:
            day += timedelta(days=1)
        out.append(datetime.combine(day, time(6), tzinfo=now.tzinfo))
    return sorted(out)


class _Progress(RunEvents):
    def __init__(self, progress: Callable[[str], None]) -> None:
        self._progress = progress

    def progress(self, site: str, message: str) -> None:
        self._progress(f"site {site}: {message}")


def run_demo(out_dir: Path, *, issues: int, seed: int, now: datetime,
             progress: Callable[[str], None] = lambda message: None) -> DemoResult:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PmoError(f"cannot create the demo folder {out_dir}: {exc.strerror or exc}") from None
    history_path = out_dir / "history.sqlite"
    history_path.unlink(missing_ok=True)  # a fresh portfolio each time: its history starts now
    with ExitStack() as stack:
        servers = {
            # well-run and troubled projects side by side, so the roll-up shows green, amber and red
            "cloud-demo": stack.enter_context(SandboxServer(store=generate(
                "cloud", issues, seed, now=now, mixed_health=True))),
            "dc-demo": stack.enter_context(SandboxServer(store=generate(
                "dc", issues, seed + 1, now=now, mixed_health=True))),
        }
        for name, sb in servers.items():
            progress(f"sandbox {name} ({sb.flavour.value}, {issues} issues) on {sb.url}")
        # a few cloud epics wait for late or unowned work on the Data Center site
        cross_site_blockers(servers["cloud-demo"].store, servers["dc-demo"].store, servers["dc-demo"].url)
        settings = Settings(
            sites=tuple(SiteSettings(name=name, url=sb.url, flavour=sb.flavour.value,
                                     email=sb.credentials.email) for name, sb in servers.items()),
            mapping=demo_mapping(out_dir), history=str(history_path), lock=out_dir / "pmo-jira.lock")

        def client_for(site: SiteSettings) -> JiraClient:
            sb = servers[site.name]
            return JiraClient(sb.url, sb.credentials, flavour=sb.flavour, site_name=site.name)

        # The first working day of each past month, and last night's run (the baseline a nightly
        # job compares with, e.g. the portfolio's scope growth).
        for day in [*first_working_days(now, REPLAYED_MONTHS), now - timedelta(days=1)]:
            _replay(settings, servers, day, progress)
        run = Run(settings, RunRequest("demo"), events=_Progress(progress), now=now,
                  registry=plugin_registry(), client_factory=client_for)
        audited = run.audit()
        result = audited.result
        files: list[Path] = []
        for fmt, renderer in builtin_formats().items():
            target = out_dir / file_name("audit", fmt)
            write_output(target, renderer.render(result, now=now))
            files.append(target)
        plans = run.plan(audited)
        plan = merge_plans(plans)
        applied = run.apply(plans, audited, capped=False)
        run.record(audited, kind="sync", writes_planned=plan.totals.issues_touched if plan else 0,
                   writes_applied=applied.applied, errors=applied.failed)
        progress(f"sync applied to {applied.applied} issues ({applied.comments_created} comments posted)")
        # Read the sites again as the next night's run would: the write-back must plan nothing.
        resync = merge_plans(run.plan(run.audit()))
        with run.history() as history:
            context = ReportContext(result=result, snapshots=audited.snapshots,
                                    mapping=audited.primary_mapping, now=now, history=history)
            # The portfolio first: it keeps this run's RAG colours, which the monthly pack compares.
            for _, report in sorted(available_reports().items(), key=lambda r: (r[0] != "portfolio", r[0])):
                for fmt in report.formats:
                    written = render_report(report, context, fmt, out_dir=out_dir)
                    files += [] if isinstance(written, str) else written
    return DemoResult(out_dir=out_dir, result=result, plan=plan, applied=applied,
                      resync_writes=resync.totals.writes if resync else 0, files=files, history=history_path,
                      sites={name: sb.flavour.value for name, sb in servers.items()})


def _replay(settings: Settings, servers: dict[str, SandboxServer], day: datetime,
            progress: Callable[[str], None]) -> None:
    """Record the run of ``day`` against the sites as they were then (audit only, nothing written)."""
    with ExitStack() as stack:
        past = {name: stack.enter_context(SandboxServer(sb.flavour, store=as_of(sb.store, day)))
                for name, sb in servers.items()}

        def client_for(site: SiteSettings) -> JiraClient:
            sb = past[site.name]
            return JiraClient(sb.url, sb.credentials, flavour=sb.flavour, site_name=site.name)

        run = Run(settings, RunRequest("demo"), now=day, registry=plugin_registry(), client_factory=client_for)
        audited = run.audit()
        run.record(audited, kind="audit")
        reports = available_reports()
        if "portfolio" in reports:  # the portfolio report keeps each run's RAG colours (monthly RAG moves)
            with run.history() as history:
                reports["portfolio"].render(ReportContext(result=audited.result, snapshots=audited.snapshots,
                                                          mapping=audited.primary_mapping, now=day,
                                                          history=history), "json")
        progress(f"replayed the run of {day.date().isoformat()} ({len(audited.result.items)} projects and epics)")
