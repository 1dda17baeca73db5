"""`pmo-jira standards list|explain`: the catalogue, documented from the standards themselves."""

from __future__ import annotations

import json
import sys
import textwrap

import click

from pmo_jira.cli.errors import cli_errors, fail
from pmo_jira.cli.groups import SuggestingGroup
from pmo_jira.formats.fit import fit_table, terminal_width, use_color
from pmo_jira.formats.table import SEVERITY_STYLE
from pmo_jira.standards.base import Standard
from pmo_jira.standards.registry import plugin_registry


def _row(cls: type[Standard]) -> dict:
    return {"code": cls.code, "title": cls.title, "severity": cls.default_severity.value,
            "phases": list(cls.default_phases), "applies_to": cls.applies_to,
            "options": cls.option_defaults()}


@click.group(cls=SuggestingGroup)
def standards() -> None:
    """List and explain the standards pmo-jira can check."""


@standards.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_standards(fmt: str) -> None:
    """Every standard: code, title, default severity, phases, what it applies to."""
    with cli_errors():  # a broken plugin: one line naming it
        rows = [_row(cls) for cls in plugin_registry()]
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "standards": rows}, indent=2))
        return
    table = [(r["code"], r["title"], r["severity"], ",".join(r["phases"]), r["applies_to"]) for r in rows]
    # too narrow: titles and phase lists are cut, then what a standard applies to is left out
    colours = {s.value: code for s, code in SEVERITY_STYLE.items()} if use_color(sys.stdout) else {}
    for line in fit_table(("CODE", "TITLE", "SEVERITY", "PHASES", "APPLIES TO"), table, terminal_width(sys.stdout),
                          shrink=(1, 3), drop=(4,), rule=False,
                          style=lambda col, cell: colours.get(cell) if col == 2 else None):
        click.echo(line)


@standards.command()
@click.argument("code")
def explain(code: str) -> None:
    """What a standard checks, why, its options and an example mapping entry."""
    with cli_errors():
        registry = plugin_registry()
    if code.upper() not in registry:
        hint = registry.suggest(code.upper())
        fail(f"unknown standard '{code}'" + (f" ({hint})" if hint else ""))
    cls = registry.get(code.upper())
    click.echo(f"{cls.code}  {cls.title}")
    click.echo(f"  {cls.summary()}")
    click.echo(f"\nSeverity: {cls.default_severity.value}   Phases: {', '.join(cls.default_phases)}   "
               f"Applies to: {cls.applies_to}")
    if cls.needs_fields or cls.optional_fields:
        optional = [f"{f} (optional)" for f in cls.optional_fields]
        click.echo(f"Fields: {', '.join([*cls.needs_fields, *optional])}")
    click.echo("\n" + textwrap.fill(f"Why: {cls.why()}", width=min(88, terminal_width(sys.stdout) or 88)))
    docs = cls.option_docs()
    if docs:
        click.echo("\nOptions:")
        for name, default in cls.option_defaults().items():
            click.echo(f"  {name} (default {json.dumps(default)}): {docs[name]}")
    click.echo("\nExample:\n")
    click.echo("\n".join("  " + line for line in cls.example_yaml().rstrip().splitlines()))
