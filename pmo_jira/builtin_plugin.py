"""The built-in standards and audit formats, registered through the same entry point as any plugin."""

from __future__ import annotations

from pmo_jira.hookspecs import hookimpl


@hookimpl
def pmo_jira_standards():
    from pmo_jira.standards.registry import builtin_standards

    return builtin_standards()


@hookimpl
def pmo_jira_audit_formats():
    from pmo_jira.formats import formats

    return dict(formats)


@hookimpl
def pmo_jira_run_facts(result):
    """The baselines taken at the planning gate in this run and not yet in their epic's state,
    kept in the run history as ``baselines``: site -> epic key -> the recorded baseline."""
    if not result.baselines:
        return None
    kept: dict = {}
    for (site, key), record in sorted(result.baselines.items()):
        kept.setdefault(site, {})[key] = record
    return {"baselines": kept}
