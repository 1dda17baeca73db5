"""`pmo-jira report NAME`: run an audit and render a plugin's report (e.g. the portfolio roll-up)."""

from __future__ import annotations

import difflib
import time
from pathlib import Path

import click

from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.cli.runs import (print_site_errors, record_history, run_audit_command, run_now, summary_of,
                               summary_when_stopped)
from pmo_jira.errors import PmoError
from pmo_jira.history import HistoryStore
from pmo_jira.logs import emit_summary
from pmo_jira.reporting import Report, ReportContext, available_reports, file_name, write_output


def find_report(name: str) -> Report:
    reports = available_reports()
    if name not in reports:
        close = difflib.get_close_matches(name, list(reports), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise PmoError(f"no report named '{name}' ({hint}installed: {', '.join(sorted(reports)) or 'none'}; "
                       "see `pmo-jira plugins list`)")
    return reports[name]


def chosen_formats(report: Report, fmt: str, out_dir: Path | None) -> list[str]:
    """The formats to render; checked before the audit, so a typo does not cost a full read."""
    formats = list(report.formats) if fmt == "all" else [fmt or report.formats[0]]
    for f in formats:
        if f not in report.formats:
            raise PmoError(f"report '{report.name}' has no format '{f}' (formats: {', '.join(report.formats)})")
    if fmt == "all" and out_dir is None:
        raise PmoError("--format all needs --out-dir DIR")
    return formats


def write_outputs(report: Report, ctx: ReportContext, formats: list[str], output: Path | None,
                  out_dir: Path | None) -> list[Path]:
    """Render the formats (one, or all into out_dir); returns the files written (none: printed)."""
    written: list[Path] = []
    for f in formats:
        content = report.render(ctx, f)
        target = output if output is not None else (
            out_dir / file_name(report.name, f) if out_dir is not None else None)
        if target is None:
            if isinstance(content, bytes):
                raise PmoError(f"format '{f}' is binary: give --output FILE or --out-dir DIR")
            click.echo(content, nl=not content.endswith("\n"))
            continue
        write_output(target, content)
        written.append(target)
    return written


@click.command()
@run_options()
@click.argument("name")
@click.option("--format", "fmt", default=None, metavar="FORMAT",
              help="One of the report's formats (default: its first), or 'all' with --out-dir.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write into this folder as <name>.<suffix>.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Mapping file for every site (default: the config's).")
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="A report option (repeatable).")
@click.option("--no-history", is_flag=True, help="Do not record this run in the run history.")
@click.pass_context
def report(ctx: click.Context, common: CommonOptions, name: str, fmt: str | None, output: Path | None,
           out_dir: Path | None, mapping: Path | None, projects: tuple[str, ...], options: tuple[str, ...],
           no_history: bool) -> None:
    """Render the report NAME (see `pmo-jira plugins list`), e.g. `pmo-jira report portfolio`."""
    started = time.monotonic()
    chosen = find_report(name)
    opts = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise PmoError(f"--option {item!r}: expected KEY=VALUE")
        opts[key] = value
    formats = chosen_formats(chosen, fmt or chosen.formats[0], out_dir)
    settings = common.load()
    now = run_now()
    with summary_when_stopped(f"report {name}", settings, started=started, started_at=now):
        outcome = run_audit_command(settings, site_names=common.sites, mapping=mapping, projects=projects,
                                    now=now)
        print_site_errors(outcome.result)
        with HistoryStore(settings.history) as history:
            context = ReportContext(result=outcome.result, snapshots=outcome.snapshots,
                                    mapping=outcome.primary_mapping, now=now, history=history, options=opts)
            for path in write_outputs(chosen, context, formats, output, out_dir):
                click.echo(f"wrote {path}", err=True)
        if not no_history and outcome.snapshots:
            record_history(settings, outcome.result, kind="audit", narrowed=bool(projects))
    code = 2 if outcome.result.site_errors else 0
    emit_summary(summary_of(f"report {name}", outcome.result, started=started, exit_code=code, started_at=now),
                 settings.summary_json)
    ctx.exit(code)
