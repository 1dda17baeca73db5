"""The monthly PMO pack: what changed in the month, six months of KPIs, decisions needed, and the
resource and strategy views, built from the run history and this run (or the history alone).

The month is compared end against start: its *start* is the last run recorded before the month
began, its *end* the last run inside it (this run, when the month is the current one of a run
that read Jira). KPIs per month are those of the month's last run (kept with every run, see
``pmo_jira_office.facts``); time to fix is the median over findings resolved in that month.
Baselines moved compare each epic's plan kept with the start and end runs
(``pmo_jira_office.baselines``). The resource and strategy views are as of this run, or from the
history alone as of the newest full run of each site (what it kept: ``pmo_jira_office.inputs``).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from typing import Any

from pmo_jira.errors import NotInHistory, PmoError
from pmo_jira.history import FindingRef, RunRecord, sorted_refs
from pmo_jira.model import PHASES, natural_key
from pmo_jira.reports import HistoryContext, ReportContext
from pmo_jira.wording import counted
from pmo_jira_office.baselines import BaselineMove, baseline_moves, plans_from, plans_of
from pmo_jira_office.facts import KPI_KEYS, NAME, kpis, ranks_of
from pmo_jira_office.inputs import OfficeInput, gather
from pmo_jira_office.resources import ResourceView, build_resources, resources_view
from pmo_jira_office.strategy import StrategyView, strategy_view

TREND_MONTHS = 6
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

KPI_TITLES = {
    "compliance_pct": "Compliance %", "on_time_pct": "On-time %", "slippage_days": "Slippage (days)",
    "open_high_risks": "Open high risks", "time_to_fix_days": "Time to fix (median days)",
    "people_over": "Over-allocated people",
}
KPI_BETTER = {"compliance_pct": "up", "on_time_pct": "up", "slippage_days": "down", "open_high_risks": "down",
              "time_to_fix_days": "down", "people_over": "down"}


def parse_month(text: str | None, now: datetime) -> date:
    """The first day of ``YYYY-MM`` (default: the month of ``now``; ``previous``: the month before it,
    what a pack scheduled on the first working day reports on); a later month than now is an error."""
    if not text:
        return now.date().replace(day=1)
    if text.strip() == "previous":
        return add_months(now.date().replace(day=1), -1)
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise PmoError(f"--month {text!r}: expected YYYY-MM, e.g. 2026-11, or 'previous'")
    if int(m.group(1)) < 1900:
        raise PmoError(f"--month {text}: expected a month from 1900 on")
    first = date(int(m.group(1)), int(m.group(2)), 1)
    if first > now.date():
        raise PmoError(f"--month {text}: the month has not started yet (today is {now.date().isoformat()})")
    return first


def median_days(days: Sequence[float]) -> float | None:
    """The median time to fix (one decimal), the KPI's and the month's summary's alike; None for none."""
    return round(statistics.median(days), 1) if days else None


def add_months(first: date, n: int) -> date:
    k = first.year * 12 + first.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def _at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Change:
    new: tuple[FindingRef, ...] = ()
    resolved: tuple[FindingRef, ...] = ()
    fixed_days: tuple[float, ...] = ()  # time to fix of the findings resolved in the month
    gates: tuple[tuple[str, str, str, str], ...] = ()  # (site, key, from, to), forward moves only
    rag_moves: tuple[tuple[str, str, str, str, str], ...] = ()  # (level, site, key, before, after)
    risks_opened: int = 0
    risks_closed: int = 0
    baselines: tuple[BaselineMove, ...] = ()  # epics whose target end or scope moved in the month
    baselines_known: bool = False  # both ends of the month kept the epics' plans


@dataclass(frozen=True)
class MonthlyPack:
    month: date
    now: datetime
    mapping_name: str
    current: bool  # the month is this run's month: its end is this run
    start_run: RunRecord | None
    end_run: RunRecord | None
    history_kept: bool
    change: Change
    trend: tuple[tuple[str, dict[str, Any]], ...]  # (YYYY-MM, kpi -> value or None), oldest first
    decisions: tuple[tuple[str, str], ...]  # (topic, what to decide)
    resources: ResourceView
    strategy: StrategyView
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


def _end_of_month_runs(store: Any, mapping: str, first: date, months: int) -> dict[str, RunRecord]:
    """YYYY-MM -> the last run recorded in that month, for the ``months`` months ending with ``first``."""
    out = {}
    for i in range(months - 1, -1, -1):
        m = add_months(first, -i)
        runs = store.runs_between(_at(m), _at(add_months(m, 1)), mapping=mapping)
        if runs:
            out[m.strftime("%Y-%m")] = runs[-1]
    return out


def _fixes_by_month(store: Any, mapping: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for fix in store.time_to_fix(mapping=mapping).fixes:
        out.setdefault(fix.resolved.strftime("%Y-%m"), []).append(fix.days)
    return out


def _rag_rows(store: Any, mapping: str, run: RunRecord | None) -> dict:
    if run is None:
        return {}
    try:
        from pmo_jira_portfolio.runs import rag_rows
    except ImportError:  # the portfolio plugin is not installed: no RAG moves to show
        return {}
    return rag_rows(store, mapping, run.started)


@dataclass(frozen=True)
class _Live:
    """The month's end when it is the current month of a run that read Jira: the run itself."""

    result: Any
    snapshots: Any
    mapping: Any


def build_monthly(ctx: ReportContext) -> MonthlyPack:
    """The pack of a run that read Jira: the current month ends with this run; the views are as of it."""
    now, result, mapping = ctx.now, ctx.result, ctx.mapping
    inp = gather(result.items, ctx.snapshots, mapping)
    resources = build_resources(result, ctx.snapshots, mapping, now.date())
    kpi_now = kpis(result, ctx.snapshots, mapping, now, people_over=int(resources.people["over"].sum()))
    return _pack(ctx.history, mapping, result.mapping_name, now, ctx.options.get("month"), inp, resources, kpi_now,
                 live=_Live(result, ctx.snapshots, mapping))


def build_monthly_from_history(ctx: HistoryContext) -> MonthlyPack:
    """The pack from the run history alone: every month, the current one too, ends with its last
    recorded run; the views are as of the newest full run of each site (what it kept of Jira)."""
    from pmo_jira_office.inputs import load

    store, mapping, name = ctx.history, ctx.mapping, ctx.mapping.name
    first = parse_month(ctx.options.get("month"), ctx.now)
    if not store.runs_between(_at(first), _at(add_months(first, 1)), mapping=name):
        raise NotInHistory(f"the run history has no full run in {first.strftime('%Y-%m')} with mapping {name!r}: "
                       "record one (`pmo-jira audit` or `sync`), pick another --month, or leave out --from-history")
    inp, runs = load(store, name, ctx.sites)
    newest = max(runs.values(), key=lambda r: (r.started, r.id))
    today = newest.started.astimezone(ctx.now.tzinfo).date() if ctx.now.tzinfo else newest.started.date()
    resources = resources_view(inp, mapping, today)
    kept = (store.run_facts(newest.id, NAME) or {}).get("kpi") or {}
    kpi_now = {k: kept.get(k) for k in KPI_KEYS}
    return _pack(store, mapping, name, ctx.now, ctx.options.get("month"), inp, resources, kpi_now, live=None)


def _pack(store: Any, mapping: Any, name: str, now: datetime, month: str | None, inp: OfficeInput,
          resources: ResourceView, kpi_now: dict[str, Any], *, live: _Live | None) -> MonthlyPack:
    first = parse_month(month, now)
    current = live is not None and first == now.date().replace(day=1)
    notes: list[str] = []
    start = end = None
    change = Change()
    trend_runs: dict[str, RunRecord] = {}
    fixes: dict[str, list[float]] = {}
    previous_ranks = None
    if store is not None:
        start = store.last_run_before(_at(first), mapping=name)
        inside = store.runs_between(_at(first), _at(add_months(first, 1)), mapping=name)
        end = None if current else (inside[-1] if inside else None)
        trend_runs = _end_of_month_runs(store, name, first, TREND_MONTHS)
        fixes = _fixes_by_month(store, name)
        start_facts = store.run_facts(start.id, NAME) if start else None
        previous_ranks = ranks_of(start_facts)
        change = _change(store, name, first, start, end, live.result if current and live else None, fixes, inp,
                         rag_end=tuple(inside))
        change = _with_baselines(change, store, start_facts, end, inp, live=live if current else None)
        if start is None:
            notes.append(f"No run was recorded before {first.isoformat()}: the month's changes count from "
                         "its first run, and rank changes are unknown.")
        if not current and end is None:
            notes.append(f"No run was recorded in {first.strftime('%Y-%m')}.")
        elif start is not None and not change.baselines_known:
            notes.append("Baselines moved are unknown for this month: the runs at its start and end did not both "
                         "keep the epics' plans (kept from this version on).")
    else:
        notes.append("No run history is kept: changes, trend and rank changes need one (see docs/office.md).")
    if resources.today.replace(day=1) != first:
        notes.append(f"The resource and strategy views are as of {resources.today.isoformat()}, not the end of "
                     f"{first.strftime('%Y-%m')}.")
    elif resources.today != now.date():  # from the history: the newest run is not today's
        notes.append(f"The resource and strategy views are as of {resources.today.isoformat()}, the newest "
                     "recorded run.")

    trend = []
    for i in range(TREND_MONTHS - 1, -1, -1):
        label = add_months(first, -i).strftime("%Y-%m")
        if current and i == 0:
            values = dict(kpi_now)
        else:
            run = trend_runs.get(label)
            kept = (store.run_facts(run.id, NAME) or {}) if run is not None else {}
            values = {k: kept.get("kpi", {}).get(k) for k in KPI_KEYS}
        month_fixes = fixes.get(label, [])
        values["time_to_fix_days"] = median_days(month_fixes)
        trend.append((label, values))

    baseline = (f"the last run before {first.isoformat()} (run {start.id}, "
                f"{start.started.strftime('%Y-%m-%d')})") if start else "no run before the month"
    strategy = strategy_view(inp, mapping, resources, previous_ranks, baseline)
    return MonthlyPack(
        month=first, now=now, mapping_name=name, current=current, start_run=start, end_run=end,
        history_kept=store is not None, change=change, trend=tuple(trend),
        decisions=tuple(_decisions(resources, strategy, kpi_now, change)), resources=resources, strategy=strategy,
        notes=tuple(notes),
    )


def _change(store: Any, name: str, first: date, start: RunRecord | None, end: RunRecord | None,
            live: Any, fixes: dict[str, list[float]], inp: OfficeInput, *, rag_end: tuple[RunRecord, ...]) -> Change:
    """The month's end against its start. RAG moves compare the portfolio's colours kept with the
    start run and with the month's last run that has them (the portfolio report keeps them)."""
    before = store.known_findings(start.id) if start else {}
    if live is not None:  # the current month ends with this run, not yet recorded
        after = {f.fingerprint: FindingRef(f.fingerprint, f.code, f.site, f.project_key, f.item_key,
                                           f.severity.value, f.outcome.value, f.phase) for f in live.open_findings()}
        checked = set(live.sites) - set(live.site_errors)
        phases_after = {(i.site, i.key): (i.kind, i.phase) for i in live.items}
    elif end is not None:
        after, checked = store.known_findings(end.id), end.checked_sites
        phases_after = store.known_phases(end.id)
    else:
        return Change()
    new = sorted_refs((f for fp, f in after.items() if fp not in before), reading=True)
    resolved = sorted_refs((f for fp, f in before.items() if fp not in after and f.site in checked), reading=True)
    phases_before = store.known_phases(start.id) if start else {}
    gates = []
    for (site, key), (kind, phase) in sorted(phases_after.items(), key=lambda kv: (kv[0][0], natural_key(kv[0][1]))):
        was = phases_before.get((site, key), (kind, None))[1]
        if was in PHASES and phase in PHASES and PHASES.index(phase) > PHASES.index(was):
            gates.append((site, key, was, phase))
    rag_before = _rag_rows(store, name, start)
    rag_after: dict = {}
    for run in reversed(rag_end):
        rag_after = _rag_rows(store, name, run)
        if rag_after:
            break
    moves = []
    for row_id, state in sorted(rag_after.items()):
        was = rag_before.get(row_id)
        if was is not None and row_id[0] in ("project", "portfolio"):
            a, b = was.rag.get("overall", "none"), state.rag.get("overall", "none")
            if a != b:
                moves.append((row_id[0], row_id[1], row_id[2], a, b))
    opened = closed = 0
    lo, hi = _at(first), _at(add_months(first, 1))
    for created, resolved_at in inp.risks():
        opened += int(lo <= created < hi)
        closed += int(resolved_at is not None and lo <= resolved_at < hi)
    return Change(new=new, resolved=resolved, fixed_days=tuple(fixes.get(first.strftime("%Y-%m"), ())),
                  gates=tuple(gates), rag_moves=tuple(moves), risks_opened=opened, risks_closed=closed)


def _with_baselines(change: Change, store: Any, start_facts: dict[str, Any] | None, end: RunRecord | None,
                    inp: OfficeInput, *, live: _Live | None) -> Change:
    """``change`` with the epics whose plan moved between the month's start and end (this run when ``live``)."""
    before = plans_from(start_facts)
    if live is not None:
        after = plans_of(live.snapshots, live.mapping)
        sites = set(live.result.sites) - set(live.result.site_errors)
    elif end is not None:
        after, sites = plans_from(store.run_facts(end.id, NAME)), end.checked_sites
    else:
        return change
    if before is None or after is None:
        return change
    moves = baseline_moves(before, after, sites)
    wanted = {(m.site, m.key) for m in moves}
    shown = {(site, row[0]): (row[2], row[3]) for site, part in inp.parts.items() for row in part["epics"]
             if (site, row[0]) in wanted}
    moves = [replace(m, summary=i[0], url=i[1]) if (i := shown.get((m.site, m.key))) else m for m in moves]
    return replace(change, baselines=tuple(moves), baselines_known=True)


def _keys(rows: Any, limit: int = 5) -> str:
    keys = [f"{r.key} (rank {r.rank})" for r in rows.head(limit).itertuples()]
    return ", ".join(keys) + (f" and {len(rows) - limit} more" if len(rows) > limit else "")


def _decisions(resources: ResourceView, strategy: StrategyView, kpi: dict[str, Any],
               change: Change) -> list[tuple[str, str]]:
    """What the review has to decide, most strategic first; long lists are summarised in one line."""
    out = []
    unapproved = [m for m in change.baselines if not m.approved]
    if unapproved:
        shown = ", ".join(m.key for m in unapproved[:5]) + (f" and {len(unapproved) - 5} more"
                                                             if len(unapproved) > 5 else "")
        out.append(("Baselines moved without approval",
                    f"{counted(len(unapproved), 'epic')} moved {'its' if len(unapproved) == 1 else 'their'} target "
                    f"end or scope this month without a change request approved in the month ({shown}): approve the "
                    "new plan or restore the baseline"))
    for r in strategy.starved.itertuples():
        out.append((f"{r.key} (rank {r.rank})", f"top-ranked and in execution with {counted(r.people, 'person', 'people')} "
                                                "on its open work: staff it or lower its rank"))
    busy = strategy.busy.sort_values("people", ascending=False)
    if len(busy):
        out.append(("Low-ranked busy epics", f"{counted(len(busy), 'low-ranked epic')} in execution "
                                             f"{'keeps' if len(busy) == 1 else 'keep'} people busy: {_keys(busy)}: "
                                             f"confirm {'its' if len(busy) == 1 else 'their'} priority or move people "
                                             "to higher-ranked work"))
    over = resources.over_allocated.sort_values("peak_pct", ascending=False)
    for r in over.head(5).itertuples():
        out.append((r.name, f"over capacity in {r.over_months} (peak {r.peak_pct if r.peak_pct is not None else '-'}"
                            f" %): rebalance or re-plan their work"))
    if len(over) > 5:
        out.append(("Over-allocated people", f"{counted(len(over) - 5, 'more person', 'more people')} "
                                              f"{'is' if len(over) == 6 else 'are'} over capacity (see Resources)"))
    unassigned = resources.unassigned
    if len(unassigned):
        top = ", ".join(f"{r.key} ({r.unassigned})" for r in unassigned.head(5).itertuples())
        issues = int(unassigned["unassigned"].sum())
        out.append(("Unassigned work", f"{counted(issues, 'open issue')} in execution {'has' if issues == 1 else 'have'}"
                                       f" no assignee in {counted(len(unassigned), 'epic')}, most in {top}: find "
                                       "people or re-scope"))
    if len(strategy.unaligned):
        n = len(strategy.unaligned)
        out.append(("Strategy", f"{counted(n, 'open epic')} past initiation {'serves' if n == 1 else 'serve'} no "
                                f"objective: link {'it' if n == 1 else 'them'} or stop {'it' if n == 1 else 'them'}"))
    if kpi.get("open_high_risks"):
        out.append(("Risks", f"{counted(kpi['open_high_risks'], 'open high risk')}: confirm owners and mitigations"))
    return out
