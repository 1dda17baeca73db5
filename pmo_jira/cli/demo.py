"""`pmo-jira demo`: the whole tool on two local sandbox sites, no Jira needed."""

from __future__ import annotations

import shlex
import time
from datetime import datetime, timezone
from pathlib import Path

import click

from pmo_jira.cli.errors import cli_errors
from pmo_jira.demo import run_demo
from pmo_jira.formats.base import summarize


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("pmo-jira-demo"), show_default=True, help="Folder for the reports.")
@click.option("--issues", type=click.IntRange(30, 20000), default=1000, show_default=True,
              help="Issues per sandbox site.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same portfolio.")
def demo(out_dir: Path, issues: int, seed: int) -> None:
    """Start a Cloud and a Data Center sandbox, then audit, sync and report them as one portfolio."""
    started = time.monotonic()
    with cli_errors():
        now = datetime.now(timezone.utc).replace(microsecond=0)
        outcome = run_demo(out_dir, issues=issues, seed=seed, now=now,
                           progress=lambda message: click.echo(f"  {message}", err=True))
    s = summarize(outcome.result)
    sev = ", ".join(f"{n} {sev.value}" for sev, n in s.open_by_severity.items() if n) or "none"
    click.echo(f"\nAudit: {len(outcome.result.items)} projects and epics on {len(outcome.sites)} sites "
               f"({', '.join(f'{n} = {f}' for n, f in outcome.sites.items())}); open findings: {sev}.")
    if outcome.plan is not None:
        t = outcome.plan.totals
        click.echo(f"Sync:  {t.issues_touched} issues written ({t.label_adds} labels, {t.comments_created} "
                   f"comments); a second sync would write {outcome.resync_writes}.")
    click.echo(f"\nWrote {len(outcome.files)} files to {out_dir}/ in {time.monotonic() - started:.1f}s. Open:")
    for path in outcome.files:
        if path.suffix in (".html", ".md", ".xlsx") or path.name == "audit.txt":
            click.echo(f"  {path}")
    db = shlex.quote(str(outcome.history))
    click.echo(f"\nRun history (this demo's own, not your default one): {outcome.history}. Look at it with:\n"
               f"  pmo-jira history --db {db}\n  pmo-jira history --db {db} show 1")
