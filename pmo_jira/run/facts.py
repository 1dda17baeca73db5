"""Figures plugins keep with each recorded run (hook ``pmo_jira_run_facts``), e.g. KPIs for a trend."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pmo_jira.errors import PluginError
from pmo_jira.findings import AuditResult
from pmo_jira.model import Snapshot

log = logging.getLogger("pmo_jira.history")


def collect_run_facts(result: AuditResult, snapshots: Sequence[Snapshot], mapping: Any,
                      now: datetime, history: Any = None) -> dict[str, Any]:
    """Every plugin's figures for this run, by name; two plugins using one name is an error.

    ``history``: the run history as it is before this run is recorded (None: no history kept).
    A plugin that fails here is logged and left out: the run itself is still recorded.
    """
    from pmo_jira.plugin_manager import get_plugin_manager

    hook = get_plugin_manager().hook.pmo_jira_run_facts
    out: dict[str, Any] = {}
    for impl in hook.get_hookimpls():
        try:
            part: Any = impl.function(**{a: v for a, v in dict(result=result, snapshots=snapshots, mapping=mapping,
                                                            now=now, history=history).items() if a in impl.argnames})
        except Exception as exc:  # noqa: BLE001 - a plugin's figures must not lose the run
            log.warning("run history: plugin %s kept no figures for this run: %s: %s",
                        impl.plugin_name, type(exc).__name__, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            continue
        for name, data in (part or {}).items():
            if name in out:
                raise PluginError(f"two plugins keep run figures under the name '{name}'")
            out[name] = data
    return out
