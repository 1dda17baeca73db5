"""`pmo-jira audit`: read-only check of the portfolio against the PMO standards, CI-friendly."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.cli.runs import (print_site_errors, record_history, run_audit_command, run_now, summary_of,
                               summary_when_stopped)
from pmo_jira.cli.standards import explain
from pmo_jira.findings import Severity
from pmo_jira.logs import emit_summary
from pmo_jira.reporting import write_output
from pmo_jira.reports import get_renderer, plugin_formats

FAIL_ON = [s.value for s in Severity] + ["never"]


def exit_code_for(result, fail_on: str) -> int:
    """0 clean, 1 findings at or above the threshold, 2 when a site could not be audited."""
    if result.site_errors:
        return 2
    if fail_on != "never" and result.fails_at(Severity(fail_on)):
        return 1
    return 0


@click.command()
@run_options()
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Mapping file for every site (default: the config's).")
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
@click.option("--jql", default="", help="Only issues this JQL also matches (ANDed to the mapping's scope).")
@click.option("--format", "fmt", default="table", show_default=True, metavar="FORMAT",
              help="table, json, csv, junit, markdown, or a plugin's format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file instead of standard output.")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="high", show_default=True,
              help="Exit 1 when an open finding has at least this severity.")
@click.option("--explain", "explain_code", metavar="CODE", default=None,
              help="Explain one standard and exit.")
@click.option("--no-history", is_flag=True, help="Do not record this run in the run history.")
@click.pass_context
def audit(ctx: click.Context, common: CommonOptions, mapping: Path | None, projects: tuple[str, ...],
          jql: str, fmt: str, output: Path | None, fail_on: str, explain_code: str | None,
          no_history: bool) -> None:
    """Check projects and epics against the PMO standards without writing to Jira.

    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 could not run (config, auth, network).
    """
    if explain_code:
        ctx.invoke(explain, code=explain_code)
        return
    started = time.monotonic()
    settings = common.load()
    now = run_now()
    with summary_when_stopped("audit", settings, started=started, started_at=now):
        renderer = get_renderer(fmt, color=output is None and sys.stdout.isatty(), available=plugin_formats())
        outcome = run_audit_command(settings, site_names=common.sites, mapping=mapping, projects=projects,
                                    jql=jql, now=now)
        result = outcome.result
        print_site_errors(result)
        if outcome.snapshots:  # with no site read there is nothing to report, only the errors above
            text = renderer.render(result, now=now)
            if output is None:
                click.echo(text, nl=not text.endswith("\n"))
            else:
                write_output(output, text)
        if not no_history and outcome.snapshots:
            record_history(settings, result, kind="audit", narrowed=bool(projects or jql))
    code = exit_code_for(result, fail_on)
    emit_summary(summary_of("audit", result, started=started, exit_code=code, started_at=now),
                 settings.summary_json)
    ctx.exit(code)
