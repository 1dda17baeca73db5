"""`pmo-jira report NAME`: run an audit and render a plugin's report (e.g. the portfolio roll-up)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from pmo_jira.cli.ending import hold
from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.cli.printing import Printer
from pmo_jira.cli.progress import live_progress
from pmo_jira.errors import PmoError
from pmo_jira.formats.fit import terminal_width, use_color
from pmo_jira.reports import check_options, chosen_formats, find_report
from pmo_jira.run import run_report_command, run_report_from_history


class ReportPrinter(Printer):
    def written(self, path: Path) -> None:
        self.end_progress()
        click.echo(f"wrote {path}", err=True)


@click.command()
@run_options()
@click.argument("name")
@click.option("--format", "fmt", default=None, metavar="FORMAT",
              help="One of the report's formats (default: its first), or 'all' with --out-dir.")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None,
              help="Write to this file (a folder for formats of several files, e.g. csv) instead of standard output.")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write into this folder as <name>.<suffix>.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Mapping file for every site (default: the config's).")
@click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="A report option (repeatable).")
@click.option("--month", default=None, metavar="YYYY-MM",
              help="The month, for reports that take one (e.g. monthly; default: this month; "
                   "'previous': the month before this one).")
@click.option("--level", default=None, metavar="LEVEL",
              help="Only this level, for reports that take one (e.g. portfolio csv: portfolios, projects, epics, findings).")
@click.option("--no-history", is_flag=True, help="Do not record this run in the run history.")
@click.option("--from-history/--from-jira", "from_history", default=None,
              help="Render from the run history (the newest full run of each site) without reading Jira, "
                   "for reports that offer it, e.g. portfolio and monthly; or read Jira. Default: a month "
                   "that has ended (--month previous) comes from the history when it holds it, else Jira is read.")
@click.pass_context
def report(ctx: click.Context, common: CommonOptions, name: str, fmt: str | None, output: Path | None,
           out_dir: Path | None, mapping: Path | None, projects: tuple[str, ...], options: tuple[str, ...],
           month: str | None, level: str | None, no_history: bool, from_history: bool | None) -> None:
    """Render the report NAME (see `pmo-jira plugins list`), e.g. `pmo-jira report portfolio`.

    With --from-history (reports that offer it, e.g. portfolio and monthly) the report is rendered from
    what the recorded runs kept, e.g. after `pmo-jira sync --site X` ran on several machines. A month
    that has ended is rendered from the history by default when it holds it (--from-jira reads Jira)."""
    chosen = find_report(name)
    opts = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PmoError(f"--option {item!r}: expected KEY=VALUE, e.g. --option level=epics")
        opts[key.strip()] = value
    if month is not None:
        if month != "previous" and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
            raise PmoError(f"--month {month!r}: expected YYYY-MM, e.g. 2026-11, or 'previous'")
        if "month" not in getattr(chosen, "options", ()):
            raise PmoError(f"report '{name}' takes no --month")
        opts["month"] = month
    if level is not None:
        if "level" not in getattr(chosen, "options", ()):
            raise PmoError(f"report '{name}' takes no --level")
        opts["level"] = level
    formats = chosen_formats(chosen, fmt or chosen.formats[0], out_dir)
    if from_history and no_history:
        raise PmoError("--from-history records nothing anyway: leave out --no-history")
    check_options(chosen, opts, formats, to_stdout=output is None and out_dir is None)
    settings = common.load()
    request = common.request(f"report {name}", mapping=mapping, projects=projects,
                             record=not no_history)
    to_terminal = output is None and out_dir is None
    width, color = (terminal_width(sys.stdout), use_color(sys.stdout)) if to_terminal else (None, False)
    if from_history:
        run_report_from_history(settings, request, report=chosen, formats=formats, output=output,
                                out_dir=out_dir, options=opts, events=ReportPrinter(), width=width, color=color)
        return
    with live_progress(common.verbosity, settings.log_format) as progress:
        done = run_report_command(settings, request, report=chosen, formats=formats, output=output,
                                  out_dir=out_dir, options=opts, events=ReportPrinter(progress),
                                  width=width, color=color, history_first=from_history is None)
    hold(done)  # freed by the OS when the process ends (pmo_jira.cli.ending)
    ctx.exit(done.exit_code)
