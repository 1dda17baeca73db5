"""Plugin manager: loads every plugin of the ``pmo_jira`` entry-point group.

A plugin that fails to import is recorded (name and one-line reason) and skipped, so one broken
plugin never takes the tool down with it. The manager is built on first use and cached;
``reset_plugin_manager()`` drops it (tests install plugins at run time).
"""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from pmo_jira import hookspecs
from pmo_jira.errors import PluginError

ENTRY_POINT_GROUP = "pmo_jira"


@dataclass(frozen=True)
class PluginInfo:
    name: str
    module: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    error: str | None = None  # set when loading failed


_manager: pluggy.PluginManager | None = None
_infos: list[PluginInfo] = []


def get_plugin_manager() -> pluggy.PluginManager:
    global _manager
    if _manager is None:
        _manager, loaded = _build()
        _infos[:] = loaded
    return _manager


def reset_plugin_manager() -> None:
    global _manager
    _manager = None
    _infos.clear()


def plugin_infos() -> list[PluginInfo]:
    """Every plugin found, loaded or failed, in entry-point order."""
    get_plugin_manager()
    return list(_infos)


def load_failures() -> list[PluginInfo]:
    return [i for i in plugin_infos() if i.error]


def failure(exc: BaseException) -> str:
    """A plugin's exception as ``Type: message`` on one line, for listings."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _build() -> tuple[pluggy.PluginManager, list[PluginInfo]]:
    pm = pluggy.PluginManager("pmo_jira")
    pm.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name != "builtin", e.name)):
        dist = getattr(ep, "dist", None)
        dist_name = dist.name if dist else None
        version = dist.version if dist else None
        if pm.has_plugin(ep.name):
            continue  # the same distribution seen twice on sys.path
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
            pm.check_pending()
        except Exception as exc:
            if pm.has_plugin(ep.name):
                pm.unregister(name=ep.name)
            infos.append(PluginInfo(ep.name, ep.value, dist_name, version, (), error=failure(exc)))
            continue
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        infos.append(PluginInfo(ep.name, ep.value, dist_name, version, hooks))
    return pm, infos


def hook_results(hook_name: str, *, plugin: str | None = None, **kwargs: Any) -> list[tuple[str, Any]]:
    """``(plugin name, result)`` of every implementation of a hook, in call order (or only
    ``plugin``'s). Each implementation gets the ``kwargs`` it names, so hooks can grow."""
    caller = getattr(get_plugin_manager().hook, hook_name)
    out: list[tuple[str, Any]] = []
    for impl in reversed(caller.get_hookimpls()):
        if plugin is None or impl.plugin_name == plugin:
            out.append((impl.plugin_name, impl.function(*(kwargs[name] for name in impl.argnames))))
    return out


def collect(hook_name: str, *, what: str, name_of: Callable[[Any], str] = str, reserved: Iterable[str] = (),
            **kwargs: Any) -> dict[str, Any]:
    """Every item the installed plugins return from a hook, by name: the one place hook results
    are gathered, with one rule for clashes.

    A hook returns a list (each item named by ``name_of``) or a dict (name -> item). Two plugins
    offering the same name is a ``PluginError`` naming both: nothing is silently replaced.
    ``reserved`` names (e.g. built-in commands) are taken by pmo-jira itself.
    """
    items: dict[str, Any] = {}
    owners: dict[str, str] = dict.fromkeys(reserved, "pmo-jira itself")
    for plugin, result in hook_results(hook_name, **kwargs):
        pairs = result.items() if isinstance(result, dict) else ((name_of(x), x) for x in result or ())
        for name, item in pairs:
            if name in owners and not (owners[name] == plugin and items.get(name) == item):
                first = owners[name] if owners[name] == "pmo-jira itself" else f"plugin '{owners[name]}'"
                raise PluginError(f"{what} '{name}' is offered by both {first} and plugin '{plugin}'; "
                                  "uninstall one of them")
            items[name] = item
            owners[name] = plugin
    return items
