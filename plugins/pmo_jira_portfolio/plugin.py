"""Hook implementations of the portfolio plugin (entry point ``portfolio`` in group ``pmo_jira``)."""

from __future__ import annotations

from pmo_jira.hookspecs import hookimpl
from pmo_jira_portfolio import REPORT_NAME


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


@hookimpl
def pmo_jira_run_facts(result, snapshots, mapping, now, history):
    """Keep each run's RAG rows (the next report compares with them) and, per site, what the
    roll-up reads (``report portfolio --from-history``). Without the portfolio extra: nothing."""
    from pmo_jira_portfolio import EXTRA, installed

    if mapping is None or not all(installed(m) for m in EXTRA):
        return {}
    from pmo_jira_portfolio.inputs import NAME, gather, per_site
    from pmo_jira_portfolio.rag_rows import rag_rows_of_run, rated
    from pmo_jira_portfolio.runs import kept

    done = rated(result) if history is not None else None  # `report` rolled this run up already
    if done is None:
        inp = gather(result, snapshots, mapping, now)
        done = inp, rag_rows_of_run(inp, mapping, history)
    return {REPORT_NAME: kept(done[1]), NAME: per_site(done[0])}
