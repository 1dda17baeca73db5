"""The ``portfolio`` report: one roll-up, rendered in the format asked for."""

from __future__ import annotations

from dataclasses import dataclass

from pmo_jira.errors import PmoError
from pmo_jira.reports import HistoryContext, ReportContext
from pmo_jira_portfolio import REPORT_NAME, require_extra


def _renderers():
    """Format -> function(rollup) -> str | bytes; imported lazily so `plugins list` stays quick."""
    from pmo_jira_portfolio.render_html import render_html
    from pmo_jira_portfolio.render_text import render_csv, render_json, render_markdown, render_table
    from pmo_jira_portfolio.render_xlsx import render_xlsx

    return {"table": render_table, "csv": render_csv, "xlsx": render_xlsx, "markdown": render_markdown,
            "json": render_json, "html": render_html}


@dataclass(frozen=True)
class PortfolioReport:
    """RAG roll-up by portfolio, project and epic, with the change since the previous run."""

    name: str = REPORT_NAME
    title: str = "Portfolio roll-up (RAG by portfolio, project and epic)"
    formats: tuple[str, ...] = ("table", "csv", "xlsx", "markdown", "json", "html")

    def render(self, ctx: ReportContext, fmt: str) -> str | bytes:
        """One roll-up per context, however many formats are rendered from it."""
        self._check(fmt)
        from pmo_jira_portfolio.rollup import build_rollup

        return _renderers()[fmt](ctx.shared(self.name, lambda: build_rollup(ctx)))

    def render_from_history(self, ctx: HistoryContext, fmt: str) -> str | bytes:
        """The roll-up of the newest full run of each site, as the history keeps them."""
        self._check(fmt)
        from pmo_jira_portfolio.inputs import load
        from pmo_jira_portfolio.rollup import roll_up

        return _renderers()[fmt](ctx.shared(self.name, lambda: roll_up(
            load(ctx.history, ctx.mapping, ctx.sites), ctx.mapping, ctx.now, ctx.history)))

    def _check(self, fmt: str) -> None:
        if fmt not in self.formats:
            raise PmoError(f"report {self.name} has no format {fmt!r} (formats: {', '.join(self.formats)})")
        require_extra()
