"""Hook implementations of the PMO office plugin (entry point ``office`` in group ``pmo_jira``)."""

from __future__ import annotations

from pmo_jira.hookspecs import hookimpl


@hookimpl
def pmo_jira_mapping_sections():
    from pmo_jira_office.config import Resources, Strategy

    return {"resources": Resources, "strategy": Strategy}


@hookimpl
def pmo_jira_reports():
    from pmo_jira_office.reports import REPORTS

    return list(REPORTS)


@hookimpl
def pmo_jira_standards():
    from pmo_jira_office.standards import STANDARDS

    return list(STANDARDS)


@hookimpl
def pmo_jira_run_facts(result, snapshots, mapping, now):
    """Each run's KPIs, ranking and plans (the monthly trend and changes) and, per site, what the
    resource and strategy views read (``report monthly --from-history``)."""
    from pmo_jira_office import inputs
    from pmo_jira_office.facts import NAME, run_facts

    read = inputs.gather(result.items, snapshots, mapping)
    return {NAME: run_facts(result, snapshots, mapping, now, read),
            inputs.NAME: inputs.per_site(read, set(result.sites) - set(result.site_errors))}
