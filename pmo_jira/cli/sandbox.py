"""`pmo-jira sandbox serve`: run the local Jira stand-in on loopback."""

from __future__ import annotations

import shlex
import signal
from datetime import datetime, timezone

import click

from pmo_jira.cli.errors import fail
from pmo_jira.cli.groups import SuggestingGroup
from pmo_jira.interrupt import Interrupted
from pmo_jira.mapping.presets import preset
from pmo_jira.sandbox.faults import Faults, parse_schedule
from pmo_jira.sandbox.ratelimit import RateLimits
from pmo_jira.sandbox.server import PERMISSIONS, SANDBOX_EMAIL, SANDBOX_TOKEN, SandboxServer
from pmo_jira.sandbox.store import PROFILES


class _OneLineCommand(click.Command):
    """Bad options print one ``Error:`` line and exit 2, like every other pmo-jira failure."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            click.secho(f"Error: {err.format_message()}", err=True, fg="red")
            ctx.exit(2)


@click.group(cls=SuggestingGroup)
def sandbox() -> None:
    """A local Jira stand-in with a generated portfolio (no Jira needed)."""


NOW_YEARS = (1900, 9000)
"""The years ``--now`` may fall in: the generator writes dates years before and after it."""


@sandbox.command(cls=_OneLineCommand)
@click.option("--flavour", type=click.Choice(["cloud", "dc"]), default="cloud", show_default=True,
              help="Jira Cloud (REST v3, search/jql) or Data Center (REST v2, startAt paging).")
@click.option("--issues", type=click.IntRange(0), default=500, show_default=True, help="How many issues to generate.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same portfolio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="0 picks a free port.")
@click.option("--now", "now_text", metavar="ISO-DATETIME",
              help="The site's 'now' (generated dates are relative to it). Default: the current time.")
@click.option("--fault-429-rate", type=click.FloatRange(0, 1), default=0.0, help="Share of requests answered 429.")
@click.option("--fault-503-rate", type=click.FloatRange(0, 1), default=0.0, help="Share of requests answered 503.")
@click.option("--fault-drop-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests whose connection is closed without an answer.")
@click.option("--fault-slow-rate", type=click.FloatRange(0, 1), default=0.0, help="Share of requests delayed.")
@click.option("--fault-drop-after-apply-rate", type=click.FloatRange(0, 1), default=0.0,
              help="Share of requests applied whose answer is then lost (the connection closes).")
@click.option("--rate-limit-burst", type=click.FloatRange(0, min_open=True), default=None, metavar="PER-SECOND",
              help="Cloud: Jira's burst limit, this many requests a second per endpoint and method (a bucket of "
                   "ten seconds' worth); past it 429 with RateLimit-Reason: jira-burst-based.")
@click.option("--rate-limit-per-issue", is_flag=True,
              help="Cloud: Jira's per-issue write limit (20 writes in 2 s, 100 in 30 s); past it 429 with "
                   "RateLimit-Reason: jira-per-issue-on-write.")
@click.option("--slow-seconds", type=click.FloatRange(0), default=0.5, show_default=True, help="Delay of a slow request.")
@click.option("--retry-after", type=click.IntRange(0), default=1, show_default=True,
              help="Retry-After seconds on 429/503 answers.")
@click.option("--fault-schedule", metavar="SPEC", default="",
              help="Faults by request number, e.g. '3,4:429;7:drop;9-10:slow=0.2'.")
@click.option("--fault-seed", type=int, default=0, show_default=True, help="Seed of the fault dice.")
@click.option("--deny", "deny", multiple=True, metavar="PERMISSION",
              help=f"Permission the bot lacks (repeatable): {', '.join(sorted(PERMISSIONS))}.")
@click.option("--bot-admin", is_flag=True,
              help="The bot is a Jira and project admin (by default it is not, like most bot accounts, so "
                   "notifyUsers=false edits and project property writes answer 403).")
@click.option("--search-lag", type=click.IntRange(0), default=None, metavar="WRITES",
              help="Cloud: a search sees an issue as it was before a REST write until this many more writes "
                   "happened, unless it names the issue in reconcileIssues (default: $PMO_SANDBOX_SEARCH_LAG, "
                   "else 0).")
@click.option("--profile", type=click.Choice(list(PROFILES)), default="pmo-ready", show_default=True,
              help="The site: prepared for the PMO (Risk type, PMO fields and workflow) or as Atlassian ships "
                   "it (default-cloud, default-dc).")
@click.option("--time-zone", metavar="ZONE", default=None,
              help="IANA zone the site writes timestamps in and reads JQL dates in, e.g. Europe/Berlin "
                   "(default: UTC).")
@click.option("--locale", metavar="LOCALE", default=None, help="The site's default locale, e.g. de_DE (default: en_US).")
def serve(flavour: str, issues: int, seed: int, host: str, port: int, now_text: str | None,
          fault_429_rate: float, fault_503_rate: float, fault_drop_rate: float, fault_slow_rate: float,
          slow_seconds: float, retry_after: int, fault_schedule: str, fault_seed: int, deny: tuple[str, ...],
          bot_admin: bool, search_lag: int | None, profile: str, time_zone: str | None,
          locale: str | None, fault_drop_after_apply_rate: float, rate_limit_burst: float | None,
          rate_limit_per_issue: bool) -> None:
    """Serve a generated Jira site on http://HOST:PORT until Ctrl-C."""
    try:
        now = datetime.fromisoformat(now_text) if now_text else datetime.now(timezone.utc).replace(microsecond=0)
    except ValueError:
        fail(f"--now: {now_text!r} is not an ISO date-time such as 2026-01-15T09:00:00+00:00")
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    if not NOW_YEARS[0] <= now.year <= NOW_YEARS[1]:  # generated dates reach years around it
        fail(f"--now: {now_text!r} is outside the years {NOW_YEARS[0]} to {NOW_YEARS[1]} a site can be generated in")
    try:
        faults = Faults(rate_429=fault_429_rate, rate_503=fault_503_rate, rate_drop=fault_drop_rate,
                        rate_slow=fault_slow_rate, rate_drop_after_apply=fault_drop_after_apply_rate,
                        slow_seconds=slow_seconds, retry_after=retry_after,
                        schedule=parse_schedule(fault_schedule), seed=fault_seed)
        server = SandboxServer(flavour, issues, seed, now=now, host=host, port=port, faults=faults,
                               deny_permissions=deny, bot_is_admin=bot_admin, profile=profile,
                               search_lag=search_lag, time_zone=time_zone, locale=locale,
                               rate_limits=RateLimits(burst_rate=rate_limit_burst, per_issue=rate_limit_per_issue))
        server.bind()
    except ValueError as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot listen on {host}:{port}: {err.strerror or err}")
    base = server.url
    click.echo(f"pmo-jira sandbox ({'Jira Cloud' if flavour == 'cloud' else 'Jira Data Center'}, {profile}, "
               f"{issues} issues, seed {seed}) listening on {base}")
    click.echo(f"Site time starts at {now.isoformat()}.")
    if flavour == "cloud":
        click.echo(f"Authenticate with HTTP Basic: email {SANDBOX_EMAIL}, API token {SANDBOX_TOKEN}.")
    else:
        click.echo(f"Authenticate with a Bearer personal access token: {SANDBOX_TOKEN}.")
    click.echo("\nPoint pmo-jira at it from another shell:\n")
    for line in export_lines(server, flavour):
        click.echo(f"  {line}")
    click.echo("  pmo-jira audit\n")
    click.echo("(The sandbox token is fixed and not a secret; the server only listens on loopback.)")
    click.echo("Press Ctrl-C to stop.")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    try:
        server.serve_forever()
    except (KeyboardInterrupt, Interrupted):  # Ctrl-C (pmo-jira's own handler: Interrupted) or kill
        click.echo("\nStopped.")


def export_lines(server: SandboxServer, flavour: str) -> list[str]:
    """Shell lines that make pmo-jira audit, sync and report this sandbox (Cloud: email + token)."""
    values = {"PMO_JIRA_URL": server.url, "PMO_JIRA_FLAVOUR": flavour}
    if flavour == "cloud":
        values["PMO_JIRA_EMAIL"] = SANDBOX_EMAIL
    values["PMO_JIRA_TOKEN"] = SANDBOX_TOKEN
    values["PMO_JIRA_MAPPING"] = str(preset("sandbox"))
    lines = [f"export {name}={shlex.quote(value)}" for name, value in values.items()]
    # A Data Center token is a bearer token: an email left over from a Cloud site would send Basic auth.
    return lines if flavour == "cloud" else ["unset PMO_JIRA_EMAIL", *lines]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
