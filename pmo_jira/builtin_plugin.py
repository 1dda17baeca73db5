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
