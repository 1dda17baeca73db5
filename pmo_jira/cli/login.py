"""``pmo-jira login SITE``: store a site's token in the system keyring (hidden prompt)."""

from __future__ import annotations

import click

from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.credentials import store_token
from pmo_jira.jira.client import checked_token


@click.command()
@run_options(sites=False, summary=False)
@click.argument("site_name", metavar="SITE", required=False)
@click.option("--history", "history", is_flag=True,
              help="Store the password of the configured PostgreSQL history instead.")
def login(common: CommonOptions, site_name: str | None, history: bool) -> None:
    """Ask for SITE's API token (Cloud) or personal access token (Data Center) and keep it in
    the system keyring, so runs on this machine need no token in the environment.

    Unattended runs (cron, CI, Kubernetes) usually have no keyring: give them the token in the
    environment variable the config names instead (default PMO_JIRA_TOKEN_<SITE>).

    With --history it asks for the password of the configured PostgreSQL history instead
    (unattended runs: PMO_JIRA_HISTORY_PASSWORD or PGPASSWORD).
    """
    settings = common.load()
    if history:
        _login_history(settings.history or "")
        return
    if not site_name:
        raise click.UsageError("name the SITE to log in to (or --history)")
    site = settings.site(site_name)
    kind = "API token" if site.flavour == "cloud" else "token (Cloud API token or Data Center personal access token)"
    who = f" for {site.email}" if site.email else ""
    token = checked_token(click.prompt(f"{kind}{who} at {site.url}", hide_input=True, err=True), "what was typed")
    if not token:
        raise click.UsageError("an empty token was given")
    store_token(site, token)
    click.echo(f"Stored the token for site {site.name!r} in the system keyring. "
               f"Check it with: pmo-jira doctor --site {site.name}", err=True)


def _login_history(configured: str) -> None:
    from pmo_jira.history.database import parse_target, store_password

    target = parse_target(configured)
    if not target.is_postgres:
        raise click.UsageError(f"the configured history {target} is a SQLite file: it has no password")
    password = click.prompt(f"Password for {target}", hide_input=True, err=True)
    if not password:
        raise click.UsageError("an empty password was given")
    store_password(target, password)
    click.echo(f"Stored the password for {target} in the system keyring. "
               "Check it with: pmo-jira history migrate", err=True)
