"""Plugin manager: loads every plugin of the ``pmo_jira`` entry-point group.

A plugin that fails to import is recorded (name and one-line reason) and skipped, so one broken
plugin never takes the tool down with it. The manager is built on first use and cached;
``reset_plugin_manager()`` drops it (tests install plugins at run time).
"""

from __future__ import annotations

import importlib.metadata as md
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pluggy

from pmo_jira import hookspecs
from pmo_jira.errors import PluginError

ENTRY_POINT_GROUP = "pmo_jira"

log = logging.getLogger(__name__)


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
    ``plugin``'s). Each implementation gets the ``kwargs`` it names, so hooks can grow.

    A hook that raises is a ``PluginError`` naming the plugin and the hook (its traceback
    chained, for ``-v``): a plugin's bug is never told as pmo-jira's own.
    """
    caller = getattr(get_plugin_manager().hook, hook_name)
    out: list[tuple[str, Any]] = []
    for impl in reversed(caller.get_hookimpls()):
        if plugin is None or impl.plugin_name == plugin:
            try:
                result = impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as exc:
                raise PluginError(f"plugin '{impl.plugin_name}' failed in {hook_name}: {failure(exc)}") from exc
            out.append((impl.plugin_name, result))
    return out


def check_shape(hook_name: str, plugin: str, result: Any) -> None:
    """A hook's result is None, a list (or tuple) or a dict; else a ``PluginError`` naming the
    plugin (a string would otherwise be read letter by letter)."""
    if result is not None and not isinstance(result, (list, tuple, dict)):
        raise PluginError(f"plugin '{plugin}': {hook_name} returned a value of type "
                          f"{type(result).__name__}, expected a list or a dict")


def collect(hook_name: str, *, what: str, name_of: Callable[[Any], str] = str, reserved: Iterable[str] = (),
            check: Callable[[str, Any], None] | None = None,
            skip_broken: Callable[[PluginError], None] | None = None, **kwargs: Any) -> dict[str, Any]:
    """Every item the installed plugins return from a hook, by name: the one place hook results
    are gathered, with one rule for clashes.

    A hook returns a list (each item named by ``name_of``) or a dict (name -> item); anything
    else is a ``PluginError`` naming the plugin. Two plugins offering the same name is a
    ``PluginError`` naming both: nothing is silently replaced. ``reserved`` names (e.g. built-in
    commands) are taken by pmo-jira itself. ``check(name, item)`` raises ``PluginError`` for an
    item that breaks the contract; the error is told with the plugin's name.

    ``skip_broken``: where leaving a plugin out is safe (it only adds things the user asks for by
    name), a plugin whose hook raises or whose results break the contract is passed to it and
    left out whole, and the others' items are returned; without it the first such plugin is the error.
    """
    items: dict[str, Any] = {}
    owners: dict[str, str] = dict.fromkeys(reserved, "pmo-jira itself")
    caller = getattr(get_plugin_manager().hook, hook_name)
    for plugin in dict.fromkeys(impl.plugin_name for impl in reversed(caller.get_hookimpls())):
        try:
            found = _plugin_items(hook_name, plugin, what, name_of, check, items, owners, kwargs)
        except PluginError as exc:
            if skip_broken is None:
                raise
            skip_broken(exc)
            continue
        items.update(found)
        owners.update(dict.fromkeys(found, plugin))
    return items


def _plugin_items(hook_name: str, plugin: str, what: str, name_of: Callable[[Any], str],
                  check: Callable[[str, Any], None] | None, items: dict[str, Any], owners: dict[str, str],
                  kwargs: dict[str, Any]) -> dict[str, Any]:
    """One plugin's items of a hook, checked against the contract and against what others offer."""
    found: dict[str, Any] = {}
    for _, result in hook_results(hook_name, plugin=plugin, **kwargs):
        check_shape(hook_name, plugin, result)
        if result is None:
            continue
        pairs: Iterable[tuple[Any, Any]] = result.items() if isinstance(result, dict) else \
            ((name_of(x), x) for x in result)
        for name, item in pairs:
            owner = plugin if name in found else owners.get(name)
            if owner is not None and not (owner == plugin and found.get(name, items.get(name)) == item):
                first = owner if owner == "pmo-jira itself" else f"plugin '{owner}'"
                raise PluginError(f"{what} '{name}' is offered by both {first} and plugin '{plugin}'; "
                                  "uninstall one of them")
            if check is not None:
                try:
                    check(name, item)
                except PluginError as exc:
                    raise PluginError(f"plugin '{plugin}': {exc}") from None
            found[name] = item
    return found


def left_out(what: str) -> Callable[[PluginError], None]:
    """A ``skip_broken`` for ``collect`` that logs one warning naming the plugin left out."""
    def warn(exc: PluginError) -> None:
        log.warning("%s; its %s are left out", exc.one_line(), what)
    return warn
