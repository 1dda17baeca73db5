"""`pmo-jira sync`: plan the write-back of findings (dry run), then `--apply` it.

Exit codes: 0 the plan was printed (dry run) or fully applied; 1 applied, but some issues failed
(each named); 2 could not run (config, auth, a site down, the blast-radius cap, a refused notify).
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import nullcontext
from pathlib import Path

import click

from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.cli.runs import (print_site_errors, record_history, run_audit_command, run_now, summary_of,
                               summary_when_stopped)
from pmo_jira.logs import emit_summary
from pmo_jira.reporting import write_output
from pmo_jira.writeback import ApplyReport, check_blast_radius
from pmo_jira.writeback.sites import apply_sites, merge_plans, plan_sites

log = logging.getLogger("pmo_jira.sync")


@click.command()
@run_options(lock=True)
@click.option("--apply", "do_apply", is_flag=True, help="Write the plan to Jira (default: only print it).")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Mapping file for every site (default: the config's).")
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
@click.option("--jql", default="", help="Only issues this JQL also matches.")
@click.option("--max-writes", type=click.IntRange(min=1), default=None,
              help="Refuse a plan with more writes than this (default: the mapping's writeback.max_writes).")
@click.option("--concurrency", type=click.IntRange(1, 32), default=None,
              help="Issues written at once (default 4; slows down on 429 by itself).")
@click.option("--plan-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the plan as JSON to this file ('-' for standard output instead of text).")
@click.option("--no-history", is_flag=True, help="Do not record this run in the run history.")
@click.pass_context
def sync(ctx: click.Context, common: CommonOptions, do_apply: bool, mapping: Path | None,
         projects: tuple[str, ...], jql: str, max_writes: int | None, concurrency: int | None,
         plan_json: Path | None, no_history: bool) -> None:
    """Write findings back to Jira as labels and one owned comment per issue.

    Without --apply this prints the plan and writes nothing. A second run with nothing changed
    plans zero writes.
    """
    started = time.monotonic()
    settings = common.load(max_writes=max_writes, concurrency=concurrency)
    lock = common.run_lock(settings) if do_apply else nullcontext()
    now = run_now()
    with summary_when_stopped("sync", settings, started=started, started_at=now), lock:
        outcome = run_audit_command(settings, site_names=common.sites, mapping=mapping,
                                    projects=projects, jql=jql, now=now)
        result = outcome.result
        print_site_errors(result)
        plans = plan_sites(outcome, now=now)
        total = merge_plans(plans)
        if total is not None:
            plan_text = json.dumps(total.to_json(), indent=2)
            if plan_json == Path("-"):
                click.echo(plan_text)
            else:
                click.echo(total.describe())
                if plan_json is not None:
                    write_output(plan_json, plan_text + "\n")
        planned = total.totals.issues_touched if total else 0
        report = ApplyReport()
        if do_apply and total is not None and not total.empty:
            cap = settings.writeback.max_writes or outcome.primary_mapping.writeback.max_writes
            check_blast_radius(total, cap)
            report = apply_sites(plans, outcome, notify=settings.writeback.notify,
                                 concurrency=settings.writeback.concurrency or 4)
        elif not do_apply and total is not None and not total.empty:
            # on stderr when stdout carries the plan JSON, so that stays one valid document
            click.echo("Dry run: nothing was written. Run `pmo-jira sync --apply` to write this plan.",
                       err=plan_json == Path("-"))
        if not no_history and outcome.snapshots:
            record_history(settings, result, kind="sync", writes_planned=planned,
                           writes_applied=report.applied, errors=report.failed,
                           narrowed=bool(projects or jql))
    for error in report.errors:
        click.secho(f"failed: {error}", fg="red", err=True)
    for notice in report.notices:
        click.echo(notice, err=True)
    code = 2 if result.site_errors else (1 if not report.all_applied else 0)
    emit_summary(summary_of("sync", result, started=started, exit_code=code, writes_planned=planned,
                            writes_applied=report.applied, errors=report.failed, started_at=now),
                 settings.summary_json)
    ctx.exit(code)
