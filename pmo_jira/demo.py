"""The newcomer's first run: two sandbox sites (Cloud and Data Center) as one portfolio.

Starts both sandboxes on loopback, audits them with the sandbox mapping, applies the write-back,
renders the audit and every registered report into one folder, and stops the sandboxes. Nothing
outside that folder is touched (its run history included).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

from pmo_jira.errors import PmoError
from pmo_jira.findings import AuditResult
from pmo_jira.formats import builtin_formats
from pmo_jira.jira.client import JiraClient
from pmo_jira.mapping.presets import preset
from pmo_jira.reports import ReportContext, available_reports, file_name, render_report, write_output
from pmo_jira.run import Run, RunEvents, RunRequest
from pmo_jira.run.writeback import merge_plans
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
            "cloud-demo": stack.enter_context(SandboxServer("cloud", issues=issues, seed=seed, now=now)),
            "dc-demo": stack.enter_context(SandboxServer("dc", issues=issues, seed=seed + 1, now=now)),
        }
        for name, sb in servers.items():
            progress(f"sandbox {name} ({sb.flavour.value}, {issues} issues) on {sb.url}")
        settings = Settings(
            sites=tuple(SiteSettings(name=name, url=sb.url, flavour=sb.flavour.value,
                                     email=sb.credentials.email) for name, sb in servers.items()),
            mapping=preset("sandbox"), history=str(history_path), lock=out_dir / "pmo-jira.lock")

        def client_for(site: SiteSettings) -> JiraClient:
            sb = servers[site.name]
            return JiraClient(sb.url, sb.credentials, flavour=sb.flavour, site_name=site.name)

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
            for name, report in sorted(available_reports().items()):
                for fmt in report.formats:
                    render_report(report, context, fmt, out_dir=out_dir)
                    files.append(out_dir / file_name(name, fmt))
    return DemoResult(out_dir=out_dir, result=result, plan=plan, applied=applied,
                      resync_writes=resync.totals.writes if resync else 0, files=files, history=history_path,
                      sites={name: sb.flavour.value for name, sb in servers.items()})
