"""`pmo-jira plugins list`: every plugin found, what it adds, and the ones that failed to load."""

from __future__ import annotations

import json
import sys
import textwrap
from typing import Any

import click

from pmo_jira.cli.groups import SuggestingGroup
from pmo_jira.errors import PluginError
from pmo_jira.formats.fit import terminal_width
from pmo_jira.plugin_manager import PluginInfo, check_shape, failure, hook_results, plugin_infos

# hook -> (label, how to name one contribution)
_HOOKS: dict[str, tuple[str, Any]] = {
    "pmo_jira_standards": ("standards", lambda r: [getattr(c, "code", repr(c)) for c in r or ()]),
    "pmo_jira_audit_formats": ("audit formats", lambda r: sorted(r or {})),
    "pmo_jira_reports": ("reports", lambda r: [getattr(x, "name", repr(x)) for x in r or ()]),
    "pmo_jira_cli_commands": ("commands", lambda r: [getattr(c, "name", repr(c)) for c in r or ()]),
}


def contributions(name: str) -> dict[str, list[str] | str]:
    """What one loaded plugin returns from each hook it implements (an error text if a hook raised)."""
    from pmo_jira.cli.options import run_options

    out: dict[str, list[str] | str] = {}
    for hook, (label, names) in _HOOKS.items():
        try:
            for _, result in hook_results(hook, plugin=name, run_options=run_options):
                check_shape(hook, name, result)
                out[label] = names(result)
        except PluginError as exc:  # what the plugin did: its own exception, else the broken contract
            out[label] = "error: " + (failure(exc.__cause__) if exc.__cause__ else exc.one_line())
        except Exception as exc:
            out[label] = "error: " + failure(exc)
    return out


def _line(info: PluginInfo, widths: tuple[int, int, int], width: int | None) -> str:
    """One plugin: name, version, distribution, then what it provides, wrapped under itself
    to fit ``width`` (the terminal's ``COLUMNS``; None: one line)."""
    head = "  ".join(v.ljust(w) for v, w in zip((info.name, info.version or "-", info.distribution or "-"), widths))
    if info.error:
        text = f"FAILED to load {info.module}: {info.error}"
    else:
        provides = contributions(info.name)
        text = "; ".join(f"{label}: {', '.join(v) if isinstance(v, list) else v}" for label, v in provides.items())
    indent = " " * (len(head) + 2) if width is None or width - len(head) - 2 >= 30 else "    "
    if width is None:
        return f"{head}  {text or 'no hooks'}"
    return "\n".join(textwrap.wrap(f"{head}  {text or 'no hooks'}", width=width, subsequent_indent=indent,
                                   break_on_hyphens=False))


@click.group(cls=SuggestingGroup)
def plugins() -> None:
    """Inspect the installed pmo-jira plugins (entry-point group 'pmo_jira')."""


@plugins.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_plugins(fmt: str) -> None:
    """One line per plugin: name, version, distribution, what it provides, or why it failed to load."""
    infos = plugin_infos()
    if fmt == "json":
        rows = [{"name": i.name, "module": i.module, "distribution": i.distribution, "version": i.version,
                 "hooks": list(i.hooks), "provides": {} if i.error else contributions(i.name), "error": i.error}
                for i in infos]
        click.echo(json.dumps({"version": 1, "plugins": rows}, indent=2))
        return
    if not infos:
        click.echo("no plugins installed (entry-point group 'pmo_jira')")
        return
    widths = tuple(max(len(v or "-") for v in col) for col in
                   zip(*((i.name, i.version, i.distribution) for i in infos)))
    width = terminal_width(sys.stdout)
    for info in infos:
        click.echo(_line(info, widths, width))  # type: ignore[arg-type]
