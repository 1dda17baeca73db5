"""`pmo-jira mappings`: check mapping files before a run depends on them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from pmo_jira.cli.errors import EXIT_CANNOT_RUN, cli_errors
from pmo_jira.cli.groups import SuggestingGroup
from pmo_jira.cli.options import config_option
from pmo_jira.errors import ConfigError
from pmo_jira.mapping import check_mapping
from pmo_jira.mapping.fields import field_report
from pmo_jira.run import run_now
from pmo_jira.site_proof import prove_mapping
from pmo_jira.standards.registry import configure, plugin_registry


@click.group(cls=SuggestingGroup)
def mappings() -> None:
    """Check mapping files."""


@mappings.command("check")
@click.argument("file")
@click.option("--site", "site_name", metavar="NAME",
              help="Also prove FILE on this configured site (pmo-jira.toml; token from the environment or the "
                   "keyring): every field, issue type, project, category, status and option it names, its JQL, "
                   "and the standards that will be 'not applicable' there.")
@click.option("--site-url", metavar="URL",
              help="Also resolve every field spec on this Jira site (credentials from PMO_JIRA_EMAIL / "
                   "PMO_JIRA_TOKEN). Default: $PMO_JIRA_URL when set.")
@config_option
def check(file: str, site_name: str | None, site_url: str | None, config: Path | None) -> None:
    """Validate FILE: schema, phase rules, standard codes and options, waivers.

    Prints one line per problem as FILE:LINE: key: problem (fix) and exits 2, or prints a
    one-line summary and exits 0. Connected to a site (--site-url, $PMO_JIRA_URL), it also
    reports field specs the site cannot resolve; with --site NAME it proves the whole mapping
    on that configured site, naming the site's nearest names for what it lacks.
    """
    with cli_errors():
        if site_name and site_url:
            raise ConfigError("give --site or --site-url, not both")
        registry = plugin_registry()  # plugin standards' codes are known too
        today = run_now().date()  # PMO_JIRA_NOW pins it, as for runs
        mapping, errors = check_mapping(file, {cls.code for cls in registry}, today=today)
        active = []
        if mapping is not None:
            try:
                active = configure(mapping, registry)  # standard options and waivers, checked by each standard
            except ConfigError as exc:
                errors = [exc]
        if errors:
            for error in errors:
                click.echo(error.one_line(), err=True)
            raise click.exceptions.Exit(EXIT_CANNOT_RUN)
        assert mapping is not None
        rules = len(mapping.phases.epic) + len(mapping.phases.project)
        summary = f"{len(mapping.standards)} standards, {rules} phase rules, {len(mapping.waivers)} waivers"
        if site_name:
            _prove(file, mapping, active, summary, site_name, config)
            return
        url = site_url or os.environ.get("PMO_JIRA_URL")
        if not url:
            click.echo(f"{file}: ok ({summary})")
            return
        from pmo_jira.jira.client import Credentials, JiraClient, connect_from_env

        client = JiraClient(url, Credentials.from_env()) if site_url else connect_from_env()
        report = field_report(mapping, client.fields(), client.resolve_field)
        if report.errors:
            for error in report.errors:
                click.echo(error.one_line(), err=True)
            raise click.exceptions.Exit(EXIT_CANNOT_RUN)
        click.echo(f"{file}: ok ({summary}; all {len(report.resolved)} fields found on {client.base_url})")


def _prove(file: str, mapping: Any, active: list, summary: str, site_name: str, config: Path | None) -> None:
    from pmo_jira.run import client_for
    from pmo_jira.settings import load_settings

    (site,) = load_settings(config).select_sites([site_name])
    client = client_for(site)
    proof = prove_mapping(mapping, client, active)
    for warning in proof.warnings:
        click.echo(f"warning: {warning.one_line()}", err=True)
    for error in proof.errors:
        click.echo(error.one_line(), err=True)
    for code, why in proof.not_applicable:
        click.echo(f"not applicable on {site.name}: {code} ({why})")
    if not proof.ok:
        raise click.exceptions.Exit(EXIT_CANNOT_RUN)
    click.echo(f"{file}: ok ({summary}; proven on site {site.name} ({client.base_url}): all "
               f"{len(proof.fields.resolved)} fields, {proof.issue_types} issue types on the site, "
               f"{proof.queries} queries accepted" + (f", {len(proof.warnings)} warnings" if proof.warnings else "") + ")")
