"""The ``portfolio`` report: one roll-up, rendered in the format asked for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pmo_jira.errors import PmoError
from pmo_jira.reports import HistoryContext, ReportContext
from pmo_jira_portfolio import REPORT_NAME, require_extra

CSV_LEVELS = ("portfolios", "projects", "epics", "findings", "definitions")
"""The files of the csv format, one per level (``render_text.CSV_FILES`` has their columns)."""


def _renderers(ctx: ReportContext | HistoryContext):
    """Format -> function(rollup) -> str | bytes | {file: text}, set up with the context's options;
    imported lazily so `plugins list` stays quick."""
    from pmo_jira_portfolio.render_html import render_html
    from pmo_jira_portfolio.render_text import render_csv, render_json, render_markdown, render_table
    from pmo_jira_portfolio.render_xlsx import render_xlsx

    return {"table": lambda rollup: render_table(rollup, width=ctx.width, color=ctx.color),
            "csv": lambda rollup: render_csv(rollup, ctx.options.get("level")),
            "xlsx": render_xlsx, "markdown": render_markdown, "json": render_json, "html": render_html}


@dataclass(frozen=True)
class PortfolioReport:
    """RAG roll-up by portfolio, project and epic, with the change since the previous run."""

    name: str = REPORT_NAME
    title: str = "Portfolio roll-up (RAG by portfolio, project and epic)"
    formats: tuple[str, ...] = ("table", "csv", "xlsx", "markdown", "json", "html")
    options: tuple[str, ...] = ("level",)  # csv: only this level's file (--level)

    def check_options(self, options: Mapping[str, str], formats: Sequence[str]) -> None:
        level = options.get("level")
        if level is None:
            return
        if level not in CSV_LEVELS:
            raise PmoError(f"--level {level!r}: expected one of {', '.join(CSV_LEVELS)}")
        if list(formats) != ["csv"]:
            raise PmoError("--level picks one file of --format csv; the other formats hold every level")

    def files(self, fmt: str, options: Mapping[str, str]) -> tuple[str, ...]:
        """csv is one file per level (a folder), or the one ``level``."""
        if fmt != "csv":
            return ()
        return (f"{options['level']}.csv",) if options.get("level") else tuple(f"{n}.csv" for n in CSV_LEVELS)

    def render(self, ctx: ReportContext, fmt: str) -> str | bytes | dict[str, str]:
        """One roll-up per context, however many formats are rendered from it."""
        self._check(fmt, ctx.options)
        from pmo_jira_portfolio.rollup import build_rollup

        return _renderers(ctx)[fmt](ctx.shared(self.name, lambda: build_rollup(ctx)))

    def render_from_history(self, ctx: HistoryContext, fmt: str) -> str | bytes | dict[str, str]:
        """The roll-up of the newest full run of each site, as the history keeps them."""
        self._check(fmt, ctx.options)
        from pmo_jira_portfolio.inputs import load
        from pmo_jira_portfolio.rollup import roll_up

        return _renderers(ctx)[fmt](ctx.shared(self.name, lambda: roll_up(
            load(ctx.history, ctx.mapping, ctx.sites), ctx.mapping, ctx.now, ctx.history)))

    def _check(self, fmt: str, options: Mapping[str, str]) -> None:
        if fmt not in self.formats:
            raise PmoError(f"report {self.name} has no format {fmt!r} (formats: {', '.join(self.formats)})")
        self.check_options(options, [fmt])
        require_extra()
