"""`pmo-jira audit`: read-only check of the portfolio against the PMO standards, CI-friendly."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pmo_jira.cli.ending import hold
from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.cli.printing import Printer
from pmo_jira.cli.progress import live_progress
from pmo_jira.findings import Severity
from pmo_jira.formats import DEFAULT, builtin_formats
from pmo_jira.formats.fit import terminal_width, use_color
from pmo_jira.run import run_audit_command

FAIL_ON = [s.value for s in Severity] + ["never"]


@click.command()
@run_options()
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Mapping file for every site (default: the config's).")
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
@click.option("--jql", default="", help="Only issues this JQL also matches (ANDed to the mapping's scope).")
@click.option("--format", "fmt", default=DEFAULT, show_default=True, metavar="FORMAT",
              help=f"{', '.join(builtin_formats())}, or a plugin's format.")
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
        from pmo_jira.cli.standards import explain

        ctx.invoke(explain, code=explain_code)
        return
    settings = common.load()
    request = common.request("audit", mapping=mapping, projects=projects, jql=jql,
                             record=not no_history)
    with live_progress(common.verbosity, settings.log_format) as progress:
        done = run_audit_command(settings, request, fmt=fmt, color=output is None and use_color(sys.stdout),
                                 width=terminal_width(sys.stdout) if output is None else None, output=output,
                                 fail_on=None if fail_on == "never" else Severity(fail_on), events=Printer(progress))
    hold(done)  # freed by the OS when the process ends (pmo_jira.cli.ending)
    ctx.exit(done.exit_code)
