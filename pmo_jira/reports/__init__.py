"""Report formats of the audit: the built-in name -> renderer dict, extended by plugins per run."""

from __future__ import annotations

import re

from pmo_jira.errors import PluginError, PmoError
from pmo_jira.reports.base import Renderer
from pmo_jira.reports.csv_report import CsvRenderer
from pmo_jira.reports.json_report import JsonRenderer
from pmo_jira.reports.junit import JunitRenderer
from pmo_jira.reports.markdown import MarkdownRenderer
from pmo_jira.reports.table import TableRenderer

__all__ = ["Renderer", "formats", "register_format", "get_renderer", "plugin_formats"]

formats: dict[str, Renderer] = {
    "table": TableRenderer(),
    "json": JsonRenderer(),
    "csv": CsvRenderer(),
    "junit": JunitRenderer(),
    "markdown": MarkdownRenderer(),
}

_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def register_format(name: str, renderer: Renderer, into: dict[str, Renderer]) -> None:
    """Add a format to ``into``. Names are unique: a plugin cannot silently replace another format.

    Registering the same renderer again is a no-op, so the built-in formats can also be offered
    through the ``pmo_jira_audit_formats`` hook like a third party's.
    """
    if not _NAME.match(name):
        raise PluginError(f"report format name {name!r} must be lowercase letters, digits, '-' or '_'")
    if into.get(name) == renderer:
        return
    if name in into:
        raise PluginError(f"report format {name!r} is already registered "
                          f"(by {type(into[name]).__module__})")
    if not callable(getattr(renderer, "render", None)):
        raise PluginError(f"report format {name!r}: {type(renderer).__name__} has no render() method")
    into[name] = renderer


def plugin_formats() -> dict[str, Renderer]:
    """A fresh name -> renderer dict: the built-ins plus every ``pmo_jira_audit_formats`` result.

    Built anew per call, so installing or removing a plugin never leaves a format behind.
    """
    from pmo_jira.plugins import get_plugin_manager

    available = dict(formats)
    for result in get_plugin_manager().hook.pmo_jira_audit_formats():
        for name, renderer in (result or {}).items():
            register_format(name, renderer, available)
    return available


def get_renderer(name: str, *, color: bool = False, width: int | None = None,
                 available: dict[str, Renderer] | None = None) -> Renderer:
    """The renderer for ``name`` among ``available`` (default: the built-ins), set up for the
    terminal when the format cares (``table``)."""
    available = formats if available is None else available
    try:
        renderer = available[name]
    except KeyError:
        raise PmoError(f"unknown report format {name!r} (known: {', '.join(sorted(available))})") from None
    for_terminal = getattr(renderer, "for_terminal", None)
    return for_terminal(color=color, width=width) if callable(for_terminal) else renderer
