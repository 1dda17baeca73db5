"""`pmo-jira publish-confluence`: audit (or read the run history), roll up, and publish the portfolio
page, or another report's, to Confluence."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from pmo_jira.credentials import credentials_for
from pmo_jira.errors import ConfigError, PmoError
from pmo_jira.history import existing_history
from pmo_jira.jira.client import Credentials
from pmo_jira.logs import register_secret
from pmo_jira.reports import HistoryContext, ReportContext
from pmo_jira.run import Run, history_context
from pmo_jira.settings import Settings
from pmo_jira_portfolio.confluence import connect, publish, storage_body
from pmo_jira_portfolio.rollup import build_rollup

URL_VAR = "PMO_JIRA_CONFLUENCE_URL"


def confluence_credentials(settings: Settings, site_name: str | None) -> Credentials:
    """A configured site's email and token (``--credentials-site``), else PMO_JIRA_EMAIL / PMO_JIRA_TOKEN."""
    creds = credentials_for(settings.site(site_name)) if site_name else Credentials.from_env()
    register_secret(creds.token or "")
    return creds


def commands(run_options: Callable[..., Any]) -> list[click.Command]:
    """The plugin's commands, with the options every pmo-jira run command shares (``run_options``)."""

    @click.command("publish-confluence")
    @run_options()
    @click.option("--space", required=True, metavar="KEY", help="Confluence space key, e.g. PMO.")
    @click.option("--title", default=None, help="Page title (default: 'Portfolio report - <mapping name>').")
    @click.option("--parent-id", default=None, metavar="ID", help="Create the page under this page.")
    @click.option("--confluence-url", default=None, metavar="URL",
                  help=f"Confluence base URL (default: ${URL_VAR}); for Cloud the site URL is enough.")
    @click.option("--credentials-site", default=None, metavar="NAME",
                  help="Use this configured Jira site's email and token (default: PMO_JIRA_EMAIL / PMO_JIRA_TOKEN).")
    @click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Mapping file for every site (default: the config's).")
    @click.option("--project", "projects", multiple=True, metavar="KEY", help="Only this project (repeatable).")
    @click.option("--no-history", is_flag=True, help="Do not record this run in the run history.")
    @click.option("--dry-run", is_flag=True, help="Print the page body (storage format) instead of publishing it.")
    @click.option("--report", "report_name", default="portfolio", show_default=True, metavar="NAME",
                  help="The report to publish: portfolio, or another report that offers a page (e.g. monthly).")
    @click.option("--month", default=None, metavar="YYYY-MM",
                  help="With --report monthly: the month (default: this one; 'previous': the month before).")
    @click.option("--from-history", is_flag=True,
                  help="Build the page from the run history (the newest full run of each site); Jira is not read.")
    def publish_confluence(common: Any, space: str, title: str | None, parent_id: str | None,
                           confluence_url: str | None, credentials_site: str | None, mapping: Path | None,
                           projects: tuple[str, ...], no_history: bool, dry_run: bool, report_name: str,
                           month: str | None, from_history: bool) -> None:
        """Audit, roll the portfolio up and create or update one Confluence page with it.

        The page is found by space and title and only rewritten when its content changed.
        Credentials are those of Jira (Cloud: email + API token, Data Center: personal access token)
        and come from the environment or a configured site, never from the command line.
        With --from-history the page is built from the recorded runs instead (portfolio, monthly).
        """
        page_report = None if report_name == "portfolio" else _page_report(report_name, from_history)
        if from_history and no_history:
            raise PmoError("--from-history records nothing anyway: leave out --no-history")
        settings = common.load()
        url = confluence_url or os.environ.get(URL_VAR)
        if not url and not dry_run:
            raise ConfigError("no Confluence URL", hint=f"pass --confluence-url or set {URL_VAR}")
        creds = None if dry_run else confluence_credentials(settings, credentials_site)
        request = common.request("publish-confluence", mapping=mapping, projects=projects,
                             record=not no_history)

        def send(default_title: str, body: str) -> None:
            if dry_run:
                click.echo(body)
                return
            page_title = title or default_title
            done = publish(connect(url, creds), space=space, title=page_title, body=body, parent_id=parent_id)
            click.echo(f"{done.action} page '{page_title}' in space {space} (id {done.page_id}, "
                       f"version {done.version})" + (f": {done.url}" if done.url else ""))

        if from_history:
            with Run(settings, request) as run, history_context(run, {"month": month} if month else {}) as ctx:
                send(*_page_from_history(page_report, ctx))
                run.finish_from_history(ctx.sites)
            return
        with Run(settings, request) as run:
            audited = run.audit()
            if not audited.snapshots:
                raise PmoError("no site could be audited: " + "; ".join(
                    f"{site}: {message}" for site, message in sorted(audited.result.site_errors.items())))
            run.record(audited)
            with existing_history(settings.history) or nullcontext() as store:
                ctx = ReportContext(result=audited.result, snapshots=audited.snapshots,
                                    mapping=audited.primary_mapping, now=run.now, history=store,
                                    options={"month": month} if month else {})
                if page_report is None:
                    rollup = build_rollup(ctx)
                    default_title, body = f"Portfolio report - {rollup.mapping_name}", storage_body(rollup)
                else:
                    default_title, body = page_report.confluence_page(ctx)
            send(default_title, body)
            run.finish(audited.result, exit_code=0)

    return [publish_confluence]


def _page_report(name: str, from_history: bool) -> Any:
    """A report other than the portfolio that offers ``confluence_page(ctx) -> (title, body)`` (and
    ``confluence_page_from_history(ctx)`` for ``--from-history``)."""
    from pmo_jira.reports import available_reports

    reports = available_reports()
    pages = sorted(n for n, r in reports.items() if callable(getattr(r, "confluence_page", None)))
    if name not in pages:
        raise PmoError(f"report '{name}' cannot be published to Confluence (reports that can: "
                       f"{', '.join(['portfolio', *pages])})")
    if from_history and not callable(getattr(reports[name], "confluence_page_from_history", None)):
        raise PmoError(f"report '{name}' cannot be published from the run history (it needs a read of Jira): "
                       "leave out --from-history")
    return reports[name]


def _page_from_history(page_report: Any, ctx: HistoryContext) -> tuple[str, str]:
    """(default title, body) of the page, from the run history alone."""
    if page_report is not None:
        return page_report.confluence_page_from_history(ctx)  # type: ignore[no-any-return]
    from pmo_jira_portfolio.inputs import load
    from pmo_jira_portfolio.rollup import roll_up

    rollup = roll_up(load(ctx.history, ctx.mapping, ctx.sites), ctx.mapping, ctx.now, ctx.history)
    return f"Portfolio report - {rollup.mapping_name}", storage_body(rollup)
