"""`pmo-jira mappings`: check mapping files before a run depends on them."""

from __future__ import annotations

import os

import click

from pmo_jira.cli.errors import EXIT_CANNOT_RUN, cli_errors
from pmo_jira.errors import ConfigError
from pmo_jira.mapping import load_mapping, validate_mapping
from pmo_jira.mapping.fields import field_report
from pmo_jira.standards.registry import configure, plugin_registry


@click.group()
def mappings() -> None:
    """Check mapping files."""


@mappings.command("check")
@click.argument("file")
@click.option("--site-url", metavar="URL",
              help="Also resolve every field spec on this Jira site (credentials from PMO_JIRA_EMAIL / "
                   "PMO_JIRA_TOKEN). Default: $PMO_JIRA_URL when set.")
def check(file: str, site_url: str | None) -> None:
    """Validate FILE: schema, phase rules, standard codes and options, waivers.

    Prints one line per problem as FILE:LINE: key: problem (fix) and exits 2, or prints a
    one-line summary and exits 0. Connected to a site, it also reports field specs the site
    cannot resolve.
    """
    with cli_errors():
        registry = plugin_registry()  # plugin standards' codes are known too
        errors = validate_mapping(file, {cls.code for cls in registry})
        mapping = None
        if not errors:
            mapping = load_mapping(file)
            try:
                configure(mapping, registry)  # standard options and waivers, checked by each standard
            except ConfigError as exc:
                errors = [exc]
        if errors:
            for error in errors:
                click.echo(error.one_line(), err=True)
            raise click.exceptions.Exit(EXIT_CANNOT_RUN)
        assert mapping is not None
        rules = len(mapping.phases.epic) + len(mapping.phases.project)
        summary = f"{len(mapping.standards)} standards, {rules} phase rules, {len(mapping.waivers)} waivers"
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
