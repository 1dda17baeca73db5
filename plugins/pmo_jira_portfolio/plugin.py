"""Hook implementations of the portfolio plugin (entry point ``portfolio`` in group ``pmo_jira``)."""

from __future__ import annotations

from pmo_jira.hookspecs import hookimpl


@hookimpl
def pmo_jira_mapping_sections():
    from pmo_jira_portfolio.config import Portfolio

    return {"portfolio": Portfolio}


@hookimpl
def pmo_jira_reports():
    from pmo_jira_portfolio.report import PortfolioReport

    return [PortfolioReport()]


@hookimpl
def pmo_jira_cli_commands(run_options):
    from pmo_jira_portfolio.cli import commands

    return commands(run_options)
