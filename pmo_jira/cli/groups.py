"""The click group every pmo-jira command group uses: a mistyped command name gets a suggestion."""

from __future__ import annotations

from typing import Any

import click

from pmo_jira.suggest import did_you_mean


class SuggestingGroup(click.Group):
    """``pmo-jira audti`` -> ``No such command 'audti' (did you mean 'audit'?).`` (exit 2), with the
    suggestion from the one did-you-mean helper, so commands, reports and standards suggest alike."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            name = str(args[0]) if args else ""
            if not name or name.startswith("-") or ctx.resilient_parsing:
                raise
            known: list[Any] = self.list_commands(ctx)
            if name in known:
                raise
            guess = did_you_mean(name, known)
            raise click.UsageError(f"No such command '{name}'" + (f" ({guess})" if guess else "") + ".", ctx) from None
