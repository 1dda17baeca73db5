"""`pmo-jira history [show RUN_ID]`: past runs, and what changed from one run to the next."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import click

from pmo_jira.cli.errors import cli_errors
from pmo_jira.cli.groups import SuggestingGroup
from pmo_jira.errors import PmoError
from pmo_jira.formats.base import iso
from pmo_jira.formats.fit import cut, fit_table, terminal_width
from pmo_jira.history import Delta, FindingRef, HistoryStore, RunRecord, TimeToFix, existing_history, history_target
from pmo_jira.history.migrate import head
from pmo_jira.settings import load_settings

_DB_HELP = ("History database: a SQLite file or postgresql://user@host/db (default: the configured "
            "one, see PMO_JIRA_HISTORY).")


def _run_dict(run: RunRecord) -> dict[str, Any]:
    return {"id": run.id, "started": iso(run.started), "finished": iso(run.finished),
            "kind": run.kind, "mapping": {"name": run.mapping_name, "hash": run.mapping_hash},
            "sites": list(run.sites), "site_errors": run.site_errors,
            "findings": {"total": run.findings_total, "open": run.findings_open},
            "items_checked": run.items_checked, "unmapped": run.unmapped,
            "writes": {"planned": run.writes_planned, "applied": run.writes_applied,
                       "errors": run.errors},
            "compared": run.compared, "narrowed": run.narrowed, "interrupted": run.interrupted}


def _ref_dict(ref: FindingRef) -> dict[str, Any]:
    return {"fingerprint": ref.fingerprint, "code": ref.code, "site": ref.site,
            "project": ref.project_key, "item": ref.item_key, "severity": ref.severity,
            "outcome": ref.outcome, "phase": ref.phase}


@click.group(cls=SuggestingGroup, invoke_without_command=True)
@click.option("--config", type=click.Path(dir_okay=False), default=None,
              help="Config file naming the history (default: as for every command).")
@click.option("--db", metavar="PATH|URL", help=_DB_HELP)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many runs to list, newest first.")
@click.option("--mapping", metavar="NAME", help="Only runs of this mapping.")
@click.option("--all", "show_all", is_flag=True,
              help="Also list narrowed (--project/--jql) and interrupted runs, which are never compared.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_context
@cli_errors()
def history(ctx: click.Context, config: str | None, db: str | None, limit: int, mapping: str | None,
            show_all: bool, fmt: str) -> None:
    """List recorded runs: open findings, new and resolved since the run before, writes.

    Only full, finished runs are compared and listed; --all adds the narrowed and interrupted ones.
    """
    if db is None and config is not None:
        db = load_settings(config).history
    ctx.obj = {"db": db, "fmt": fmt}
    if ctx.invoked_subcommand is not None:
        return
    store = existing_history(db)
    rows: list[tuple[RunRecord, Delta]] = []
    recorded: set[str] = set()  # mapping names with runs, to say why a --mapping filter found none
    fixing: TimeToFix | None = None
    hidden = 0  # narrowed or interrupted runs left out of the list
    if store is not None:
        with store:
            listed = store.runs(limit, mapping=mapping, compared=not show_all)
            rows = list(zip(listed, store.deltas(listed)))
            if mapping and not rows:
                recorded = {run.mapping_name for run in store.runs(None)}
            if not show_all:
                hidden = len(store.runs(None, mapping=mapping)) - len(store.runs(None, mapping=mapping, compared=True))
            fixing = store.time_to_fix(mapping=mapping)
    if fmt == "json":
        runs = [{**_run_dict(run), "new": len(d.new), "resolved": len(d.resolved),
                 "previous": d.previous.id if d.previous else None} for run, d in rows]
        not_listed = {"not_listed": hidden} if hidden else {}
        ttf = None if fixing is None else {"resolved": fixing.count, "still_open": fixing.still_open,
                                           "median_days": fixing.median_days, "mean_days": fixing.mean_days}
        click.echo(json.dumps({"schema": "pmo-jira/history-runs", "version": 1, "runs": runs,
                               "time_to_fix": ttf, **not_listed}, indent=2))
        return
    if not rows:
        if recorded:
            click.echo(f"No runs of mapping '{mapping}' in {history_target(db)} "
                       f"(recorded mappings: {', '.join(sorted(recorded))}).")
        else:
            click.echo(f"No runs recorded yet in {history_target(db)}.")
        _say_hidden(hidden)
        return
    table = []
    for run, d in rows:
        sites = ",".join(s + ("!" if s in run.site_errors else "") for s in run.sites)
        writes = f"{run.writes_applied}/{run.writes_planned}" if run.kind == "sync" else "-"
        kind = run.kind if run.compared else f"{run.kind} ({'interrupted' if run.interrupted else 'narrowed'})"
        new, resolved = (str(len(d.new)), str(len(d.resolved))) if run.compared else ("-", "-")
        table.append((str(run.id), iso(run.started), kind, run.mapping_name, sites,
                      str(run.findings_open), new, resolved, writes))
    # too narrow: mapping and sites are cut first, then the write and kind columns left out
    for line in fit_table(("ID", "STARTED", "KIND", "MAPPING", "SITES", "OPEN", "NEW", "RESOLVED", "WRITES"),
                          table, terminal_width(sys.stdout), numeric={0, 5, 6, 7, 8}, shrink=(3, 4), drop=(8, 2),
                          rule=False):
        click.echo(line)
    if any(run.site_errors for run, _ in rows):
        click.echo("! = site could not be audited in that run")
    if any(not run.compared for run, _ in rows):
        click.echo("narrowed (--project/--jql) and interrupted runs are kept, never compared")
    _say_hidden(hidden)
    if fixing is not None and fixing.count:
        click.echo(f"Time to fix: {fixing.count} findings resolved, median {fixing.median_days:.1f} days, "
                   f"mean {fixing.mean_days:.1f} days; {fixing.still_open} still open.")


@history.command()
@click.argument("run_id", type=int)
@click.option("--db", metavar="PATH|URL", help=_DB_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]))
@click.pass_obj
@cli_errors()
def show(obj: dict[str, Any], run_id: int, db: str | None, fmt: str | None) -> None:
    """What changed in RUN_ID against the previous run of the same mapping."""
    db, fmt = db or obj["db"], fmt or obj["fmt"]
    store = existing_history(db)
    if store is None:
        where = history_target(db)
        state = "does not exist" if where.path is not None and not where.path.exists() else "has no runs yet"
        raise PmoError(f"history database {where} {state}: no run {run_id}")
    with store:
        d = store.compare(run_id)
    if fmt == "json":
        click.echo(json.dumps({
            "schema": "pmo-jira/history-delta", "version": 1, "run": _run_dict(d.run),
            "previous": _run_dict(d.previous) if d.previous else None,
            "mapping_changed": d.mapping_changed,
            **{k: [_ref_dict(r) for r in getattr(d, k)]
               for k in ("new", "resolved", "persisting", "unchecked")},
            "phase_moves": [{"site": m.site, "key": m.key, "kind": m.kind, "before": m.before,
                             "after": m.after} for m in d.phase_moves],
        }, indent=2))
        return
    run = d.run
    lines = [f"Run {run.id} · {iso(run.started)} · {run.kind} · mapping {run.mapping_name} · "
             f"sites {', '.join(run.sites) or 'none'} · {run.findings_open} open"]
    if not d.compared:
        why = (f"interrupted by {run.interrupted}" if run.interrupted else f"narrowed by {run.narrowed}")
        lines.append(f"This run was {why}: it is kept for the record and never compared with other runs.")
        _echo_lines(lines)
        return
    if d.previous is None:
        lines.append("First run of this mapping: every open finding is new.")
    else:
        lines.append(f"Compared with run {d.previous.id} ({iso(d.previous.started)})"
                     + (" · the mapping changed in between" if d.mapping_changed else ""))
    for site, message in sorted(run.site_errors.items()):
        lines.append(f"Site {site} could not be audited: {message}")
    for title, refs in (("New", d.new), ("Resolved", d.resolved), ("Persisting", d.persisting),
                        ("Unchecked (site not audited in this run)", d.unchecked)):
        if refs or title in ("New", "Resolved"):
            lines += ["", f"{title} ({len(refs)})"]
        lines += [f"  {r.severity:<9}{r.code:<13}{r.site} / {r.item_key}" + (" (error)" if r.outcome == "error" else "")
                  for r in refs]
    if d.phase_moves:
        lines += ["", f"Phase moves ({len(d.phase_moves)})"]
        lines += [f"  {m.site} / {m.key} ({m.kind}): {m.before or 'unmapped'} -> {m.after or 'unmapped'}"
                  for m in d.phase_moves]
    _echo_lines(lines)


@history.command()
@click.option("--db", metavar="PATH|URL", help=_DB_HELP)
@click.pass_obj
@cli_errors()
def migrate(obj: dict[str, Any], db: str | None) -> None:
    """Bring the history's schema up to this pmo-jira's (creating it when empty).

    A SQLite file is migrated on first use anyway; a shared PostgreSQL history only by this
    command, so run it once after upgrading pmo-jira, before the runners start. Each migration is
    one transaction: on any failure the history stays as it was.
    """
    with HistoryStore(db or obj["db"], migrate=True) as store:
        if store.migrated_from is None and not store.created:
            click.echo(f"History {store} is up to date (schema revision {head()}).")
        elif store.created:
            click.echo(f"Created history {store} at schema revision {head()}.")
        else:
            click.echo(f"Migrated history {store} from schema revision {store.migrated_from} to {head()}.")


def _age(text: str) -> timedelta:
    m = re.fullmatch(r"\s*(\d+)\s*d\s*", text)
    if not m or int(m.group(1)) < 1:
        raise click.BadParameter(f"{text!r} is not a number of days, e.g. 400d", param_hint="--keep")
    return timedelta(days=min(int(m.group(1)), timedelta.max.days))


@history.command()
@click.option("--keep", required=True, metavar="DAYSd", help="Keep the runs of the last DAYS days, e.g. 400d.")
@click.option("--dry-run", is_flag=True, help="Only say how many runs would be deleted.")
@click.option("--db", metavar="PATH|URL", help=_DB_HELP)
@click.pass_obj
@cli_errors()
def prune(obj: dict[str, Any], keep: str, dry_run: bool, db: str | None) -> None:
    """Delete runs older than --keep. The first kept audit of each site becomes its baseline."""
    from pmo_jira.run.command import run_now

    age = _age(keep)
    try:
        cutoff = run_now() - age
    except OverflowError:  # more days than the calendar has before now: no run is that old
        cutoff = datetime(1, 1, 1, tzinfo=timezone.utc)
    store = existing_history(db or obj["db"])
    if store is None:
        click.echo(f"No runs recorded yet in {history_target(db or obj['db'])}.")
        return
    with store:
        count = store.prune(cutoff, dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(f"{verb} {count} run{'s' if count != 1 else ''} that started before {iso(cutoff)} "
               f"(keeping {age.days} days) from {store}.")


def _say_hidden(hidden: int) -> None:
    if hidden:
        click.echo(f"{hidden} narrowed or interrupted run{'s' if hidden > 1 else ''} not listed "
                   "(never compared; --all lists them).")


def _echo_lines(lines: list[str]) -> None:
    """Lines cut to the terminal's width (``COLUMNS``), whole into a file or pipe."""
    width = terminal_width(sys.stdout)
    for text in lines:
        click.echo(cut(text, width) if width else text)
