"""Report formats of the audit: the built-in name -> renderer dict, extended by plugins per run."""

from __future__ import annotations

import importlib
import pkgutil
import re

from pmo_jira.errors import PluginError, PmoError
from pmo_jira.formats.base import AuditFormat

__all__ = ["AuditFormat", "DEFAULT", "builtin_formats", "formats", "get_renderer", "plugin_formats", "register_format",
           "suffix_of"]

DEFAULT = "table"


def _discover() -> dict[str, AuditFormat]:
    """The built-in formats: every module of this package with a ``FORMAT``, by its ``name``
    (the default first, then by name). A new format is its module, its docs and its test."""
    found: dict[str, AuditFormat] = {}
    for info in pkgutil.iter_modules(__path__):
        renderer = getattr(importlib.import_module(f"{__name__}.{info.name}"), "FORMAT", None)
        if renderer is not None:
            found[renderer.name] = renderer
    return dict(sorted(found.items(), key=lambda item: (item[0] != DEFAULT, item[0])))


formats: dict[str, AuditFormat] = _discover()


def builtin_formats() -> dict[str, AuditFormat]:
    """The formats that ship with pmo-jira, the default first."""
    return dict(formats)


def suffix_of(fmt: str) -> str:
    """The file suffix of a format name: a built-in format's ``extension``, else ``.<name>``."""
    renderer = formats.get(fmt)
    return f".{getattr(renderer, 'extension', None) or fmt}"


_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


def register_format(name: str, renderer: AuditFormat, into: dict[str, AuditFormat]) -> None:
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


def plugin_formats() -> dict[str, AuditFormat]:
    """A fresh name -> renderer dict: the built-ins plus every ``pmo_jira_audit_formats`` result
    (a plugin whose formats are broken is left out with a warning naming it).

    Built anew per call, so installing or removing a plugin never leaves a format behind.
    """
    from pmo_jira.plugin_manager import collect, left_out

    available = dict(formats)
    found = collect("pmo_jira_audit_formats", what="audit format", skip_broken=left_out("audit formats"),
                    check=lambda name, renderer: register_format(name, renderer, dict(formats)))
    for name, renderer in found.items():
        register_format(name, renderer, available)
    return available


def get_renderer(name: str, *, color: bool = False, width: int | None = None,
                 available: dict[str, AuditFormat] | None = None) -> AuditFormat:
    """The renderer for ``name`` among ``available`` (default: the built-ins), set up for the
    terminal when the format cares (``table``)."""
    available = formats if available is None else available
    try:
        renderer = available[name]
    except KeyError:
        raise PmoError(f"unknown report format {name!r} (known: {', '.join(sorted(available))})") from None
    for_terminal = getattr(renderer, "for_terminal", None)
    return for_terminal(color=color, width=width) if callable(for_terminal) else renderer
