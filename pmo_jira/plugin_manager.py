"""Plugin manager: loads every plugin of the ``pmo_jira`` entry-point group.

A plugin that fails to import is recorded (name and one-line reason) and skipped, so one broken
plugin never takes the tool down with it. The manager is built on first use and cached;
``reset_plugin_manager()`` drops it (tests install plugins at run time).
"""

from __future__ import annotations

import importlib.metadata as md
from dataclasses import dataclass
from typing import Any

import pluggy

from pmo_jira import hookspecs

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
        except Exception as exc:  # noqa: BLE001 - any import-time failure of a third party
            if pm.has_plugin(ep.name):
                pm.unregister(name=ep.name)
            infos.append(PluginInfo(ep.name, ep.value, dist_name, version, (), error=failure(exc)))
            continue
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        infos.append(PluginInfo(ep.name, ep.value, dist_name, version, hooks))
    return pm, infos


def collect_list(hook_name: str, **kwargs: Any) -> list:
    """Flatten the list results of a list-returning hook across all plugins."""
    out: list = []
    for result in getattr(get_plugin_manager().hook, hook_name)(**kwargs):
        out.extend(result or ())
    return out

