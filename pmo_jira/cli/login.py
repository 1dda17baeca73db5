"""``pmo-jira login SITE``: store a site's token in the system keyring (hidden prompt)."""

from __future__ import annotations

import click

from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.credentials import store_token


@click.command()
@run_options(sites=False, summary=False)
@click.argument("site_name", metavar="SITE")
def login(common: CommonOptions, site_name: str) -> None:
    """Ask for SITE's API token (Cloud) or personal access token (Data Center) and keep it in
    the system keyring, so runs on this machine need no token in the environment.

    Unattended runs (cron, CI, Kubernetes) usually have no keyring: give them the token in the
    environment variable the config names instead (default PMO_JIRA_TOKEN_<SITE>).
    """
    settings = common.load()
    site = settings.site(site_name)
    kind = "API token" if site.flavour == "cloud" else "token (Cloud API token or Data Center personal access token)"
    who = f" for {site.email}" if site.email else ""
    token = click.prompt(f"{kind}{who} at {site.url}", hide_input=True, err=True).strip()
    if not token:
        raise click.UsageError("an empty token was given")
    store_token(site, token)
    click.echo(f"Stored the token for site {site.name!r} in the system keyring. "
               f"Check it with: pmo-jira doctor --site {site.name}", err=True)
