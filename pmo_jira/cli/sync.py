"""`pmo-jira sync`: plan the write-back of findings (dry run), then `--apply` it.

Exit codes: 0 the plan was printed (dry run) or fully applied; 1 applied, but some issues failed
(each named); 2 could not run (config, auth, a site down, the blast-radius cap, a refused notify,
a site held back by the resolution guard).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from pmo_jira.cli.ending import hold
from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.cli.printing import Printer, echo_out
from pmo_jira.cli.progress import LiveProgress, live_progress
from pmo_jira.reports import write_output
from pmo_jira.run import run_sync_command
from pmo_jira.writeback import ApplyReport, Plan


class SyncPrinter(Printer):
    """The plan as text (or JSON with ``--plan-json -``), then what the apply did."""

    def __init__(self, plan_json: Path | None, progress: LiveProgress | None = None) -> None:
        super().__init__(progress)
        self.plan_json = plan_json

    def planned(self, plan: Plan | None) -> None:
        self.end_progress()
        if plan is None:
            return
        plan_text = json.dumps(plan.to_json(), indent=2)
        if self.plan_json == Path("-"):
            echo_out(plan_text)
            return
        echo_out(plan.describe())
        if self.plan_json is not None:
            write_output(self.plan_json, plan_text + "\n")

    def dry_run(self, plan: Plan) -> None:
        message = "Dry run: nothing was written. Run `pmo-jira sync --apply` to write this plan."
        if self.plan_json == Path("-"):  # on stderr when stdout carries the plan JSON, so that stays one valid document
            click.echo(message, err=True)
        else:
            echo_out(message)

    def applied(self, report: ApplyReport) -> None:
        self.end_progress()
        for error in report.errors:
            click.secho(f"failed: {error}", fg="red", err=True)
        for notice in report.notices:
            click.echo(notice, err=True)


@click.command()
@run_options(lock=True)
@click.option("--apply", "do_apply", is_flag=True, help="Write the plan to Jira (default: only print it).")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Mapping file for every site (default: the config's).")
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
@click.option("--jql", default="", help="Only issues this JQL also matches.")
@click.option("--max-writes", type=click.IntRange(min=1), default=None,
              help="Refuse a plan with more writes than this (default: the mapping's writeback.max_writes).")
@click.option("--allow-mass-resolve", is_flag=True,
              help="Apply even where more than writeback.max_resolved_share of a site's open findings "
                   "would be marked fixed at once (this run only).")
@click.option("--concurrency", type=click.IntRange(1, 32), default=None,
              help="Issues written at once (default 4; slows down on 429 by itself).")
@click.option("--plan-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the plan as JSON to this file ('-' for standard output instead of text).")
@click.option("--no-history", is_flag=True, help="Do not record this run in the run history.")
@click.pass_context
def sync(ctx: click.Context, common: CommonOptions, do_apply: bool, mapping: Path | None,
         projects: tuple[str, ...], jql: str, max_writes: int | None, allow_mass_resolve: bool,
         concurrency: int | None, plan_json: Path | None, no_history: bool) -> None:
    """Write findings back to Jira as labels and one owned comment per issue.

    Without --apply this prints the plan and writes nothing. A second run with nothing changed
    plans zero writes.

    Exit codes: 0 planned, or applied in full; 1 some issues failed or were not attempted; 2 could
    not run or finish: config, a site that could not be read or whose writes stopped (3 writes in a
    row without an answer), the run lock, SIGTERM or Ctrl-C (the summary and the history record
    are still written; the next run finishes the writes).
    """
    settings = common.load(max_writes=max_writes, concurrency=concurrency,
                           max_resolved_share=1.0 if allow_mass_resolve else None)
    request = common.request("sync", mapping=mapping, projects=projects, jql=jql,
                             record=not no_history)
    with live_progress(common.verbosity, settings.log_format) as progress:
        done = run_sync_command(settings, request, apply=do_apply, events=SyncPrinter(plan_json, progress))
    hold(done)  # freed by the OS when the process ends (pmo_jira.cli.ending)
    ctx.exit(done.exit_code)
