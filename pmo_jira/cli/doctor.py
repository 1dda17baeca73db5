"""``pmo-jira doctor``: a per-site checklist of what tonight's sync needs, with fixes."""

from __future__ import annotations

import json
import sys

import click

from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.doctor import Check, DoctorReport, run_doctor

_MARKS = {True: {"ok": "✓", "warn": "!", "fail": "✗"}, False: {"ok": "ok", "warn": "warn", "fail": "FAIL"}}
_COLOURS = {"ok": "green", "warn": "yellow", "fail": "red"}


def render(report: DoctorReport, *, tty: bool) -> str:
    """The checklist: one line per check, the fix indented under each failure or warning."""
    lines: list[str] = []
    width = max([len(c.name) for s in report.sites for c in s.checks] + [len(c.name) for c in report.local] + [8])

    def emit(check: Check) -> None:
        mark = _MARKS[tty][check.status]
        mark = click.style(f"{mark:<4}", fg=_COLOURS[check.status]) if tty else f"{mark:<4}"
        lines.append(f"  {mark} {check.name:<{width}}  {check.detail}".rstrip())
        if check.fix and check.status != "ok":
            lines.append(f"       {'':<{width}}  fix: {check.fix}")

    for site in report.sites:
        lines.append(f"{site.site}  {site.url}")
        for check in site.checks:
            emit(check)
    if report.local:
        lines.append("local")
        for check in report.local:
            emit(check)
    failed = [s.site for s in report.sites if not s.ok]
    if report.ok:
        lines.append(f"ready: a sync would succeed on all {len(report.sites)} site(s)")
    elif failed:
        lines.append(f"not ready: {len(failed)} of {len(report.sites)} site(s) would fail ({', '.join(failed)})")
    else:
        lines.append("not ready: fix the local checks above")
    return "\n".join(lines)


@click.command()
@run_options(summary=False)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              help="Checklist for people (text) or a JSON document for monitoring.")
def doctor(common: CommonOptions, fmt: str) -> None:
    """Check each site: reachable, token accepted, flavour, mapped fields, sync permissions.

    Exit 0 only when a sync would succeed on every selected site, 1 when a check
    failed, 2 when doctor itself could not run (for example a config error).
    """
    settings = common.load()
    report = run_doctor(settings, sites=common.sites)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(render(report, tty=sys.stdout.isatty()))
    if not report.ok:
        raise click.exceptions.Exit(1)
