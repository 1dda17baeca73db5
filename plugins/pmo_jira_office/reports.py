"""The plugin's reports: ``resources``, ``strategy`` and ``monthly``, each in six formats."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from pmo_jira.errors import PmoError
from pmo_jira.reports import HistoryContext, ReportContext

FORMATS = ("html", "xlsx", "table", "markdown", "json")


def _render(doc, fmt: str, ctx: ReportContext | HistoryContext) -> str | bytes:
    from pmo_jira_office import render_html, render_other

    if fmt == "html":
        return render_html.render_html(doc)
    if fmt == "xlsx":
        return render_other.render_xlsx(doc, ctx.now)
    if fmt == "table":
        return render_other.render_table(doc, width=ctx.width)
    return {"markdown": render_other.render_markdown, "json": render_other.render_json}[fmt](doc)


def _no_options(ctx: ReportContext | HistoryContext, name: str, allowed: tuple[str, ...] = ()) -> None:
    extra = sorted(set(ctx.options) - set(allowed))
    if extra:
        raise PmoError(f"report {name} has no option {extra[0]!r}"
                       + (f" (options: {', '.join(allowed)})" if allowed else " (it takes none)"))


@dataclass(frozen=True)
class _OfficeReport:
    name: str
    title: str
    build: Callable[[ReportContext], object]
    options: tuple[str, ...] = ()
    formats: tuple[str, ...] = FORMATS

    def document(self, ctx: ReportContext):
        _no_options(ctx, self.name, self.options)
        return self.build(ctx)

    def confluence_page(self, ctx: ReportContext) -> tuple[str, str]:
        """(page title, storage-format body) for ``publish-confluence --report NAME``."""
        from pmo_jira_office.render_other import render_storage

        doc = self.document(ctx)
        return doc.title, render_storage(doc, ctx.now)

    def render(self, ctx: ReportContext, fmt: str) -> str | bytes:
        self._check(fmt)
        return _render(self.document(ctx), fmt, ctx)

    def check_options(self, options: Mapping[str, str], formats: Sequence[str]) -> None:
        """A --month that is not a month, or has not started yet, is refused before Jira is read."""
        if options.get("month"):
            from pmo_jira.run import run_now
            from pmo_jira_office.monthly import parse_month

            parse_month(options["month"], run_now())

    def _check(self, fmt: str) -> None:
        if fmt not in self.formats:
            raise PmoError(f"report {self.name} has no format {fmt!r} (formats: {', '.join(self.formats)})")


@dataclass(frozen=True)
class _HistoryReport(_OfficeReport):
    """A report that can also be rendered from the run history alone (``--from-history``)."""

    from_history: Callable[[HistoryContext], object] = lambda ctx: None

    def render_from_history(self, ctx: HistoryContext, fmt: str) -> str | bytes:
        self._check(fmt)
        return _render(self._document_from_history(ctx), fmt, ctx)

    def confluence_page_from_history(self, ctx: HistoryContext) -> tuple[str, str]:
        """As ``confluence_page``, from the run history alone (``publish-confluence --from-history``)."""
        from pmo_jira_office.render_other import render_storage

        doc = self._document_from_history(ctx)
        return doc.title, render_storage(doc, ctx.now)

    def _document_from_history(self, ctx: HistoryContext):
        _no_options(ctx, self.name, self.options)
        return ctx.shared(self.name, lambda: self.from_history(ctx))


def _resources(ctx: ReportContext):
    from pmo_jira_office.resources import build_resources
    from pmo_jira_office.views import resources_document

    return resources_document(build_resources(ctx.result, ctx.snapshots, ctx.mapping, ctx.now.date()),
                              ctx.result.mapping_name)


def _strategy(ctx: ReportContext):
    from pmo_jira_office.facts import NAME, ranks_of
    from pmo_jira_office.monthly import _at, parse_month
    from pmo_jira_office.resources import build_resources
    from pmo_jira_office.strategy import build_strategy
    from pmo_jira_office.views import strategy_document

    resources = build_resources(ctx.result, ctx.snapshots, ctx.mapping, ctx.now.date())
    first = parse_month(None, ctx.now)
    start = ctx.history.last_run_before(_at(first), mapping=ctx.result.mapping_name) if ctx.history else None
    previous = ranks_of(ctx.history.run_facts(start.id, NAME)) if start else None
    baseline = f"the last run before {first.isoformat()}" if start else "no run before this month"
    view = build_strategy(ctx.snapshots, ctx.result.items, ctx.mapping, resources, previous, baseline)
    return strategy_document(view, ctx.result.mapping_name, f"As of {ctx.now.strftime('%Y-%m-%d %H:%M %Z')}")


def _monthly(ctx: ReportContext):
    from pmo_jira_office.monthly import build_monthly
    from pmo_jira_office.views import monthly_document

    return monthly_document(build_monthly(ctx))


def _monthly_from_history(ctx: HistoryContext):
    from pmo_jira_office.monthly import build_monthly_from_history
    from pmo_jira_office.views import monthly_document

    return monthly_document(build_monthly_from_history(ctx))


REPORTS = (
    _OfficeReport("resources", "Resources: open work per person against capacity, per month", _resources),
    _OfficeReport("strategy", "Strategy: objectives, prioritisation score and ranked portfolio", _strategy),
    _HistoryReport("monthly", "Monthly PMO pack: changes, six-month KPI trend, decisions, resources, strategy",
                   _monthly, options=("month",), from_history=_monthly_from_history),
)
