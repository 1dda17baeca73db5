"""Report formats: a name -> renderer registry that plugins extend with ``register_format``."""

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


def register_format(name: str, renderer: Renderer) -> None:
    """Add a format. Names are unique: a plugin cannot silently replace another format.

    Registering the same renderer again is a no-op, so the built-in formats can also be offered
    through the ``pmo_jira_audit_formats`` hook like a third party's.
    """
    if not _NAME.match(name):
        raise PluginError(f"report format name {name!r} must be lowercase letters, digits, '-' or '_'")
    if formats.get(name) == renderer:
        return
    if name in formats:
        raise PluginError(f"report format {name!r} is already registered "
                          f"(by {type(formats[name]).__module__})")
    if not callable(getattr(renderer, "render", None)):
        raise PluginError(f"report format {name!r}: {type(renderer).__name__} has no render() method")
    formats[name] = renderer


def get_renderer(name: str, *, color: bool = False, width: int | None = None) -> Renderer:
    """The renderer for ``name``, set up for the terminal when the format cares (``table``)."""
    try:
        renderer = formats[name]
    except KeyError:
        raise PmoError(f"unknown report format {name!r} (known: {', '.join(sorted(formats))})") from None
    for_terminal = getattr(renderer, "for_terminal", None)
    return for_terminal(color=color, width=width) if callable(for_terminal) else renderer


def plugin_formats() -> dict[str, Renderer]:
    """The built-in formats plus every format plugins return from ``pmo_jira_audit_formats``."""
    from pmo_jira.plugins import get_plugin_manager

    for result in get_plugin_manager().hook.pmo_jira_audit_formats():
        for name, renderer in (result or {}).items():
            register_format(name, renderer)
    return formats
