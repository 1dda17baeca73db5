"""The resource, strategy and monthly documents: the figures of each view laid out as blocks."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pmo_jira.wording import counted
from pmo_jira_office.document import Block, Chart, Document, Figures, Heading, Table, Text, table
from pmo_jira_office.monthly import KPI_BETTER, KPI_TITLES, MonthlyPack, median_days
from pmo_jira_office.resources import ResourceView
from pmo_jira_office.strategy import StrategyView

HEAT_PEOPLE = 30  # people shown in the utilisation heat-map (the most loaded first)


def _url(value: Any) -> str | None:
    text = str(value or "")
    return text if text.startswith(("https://", "http://")) else None


def resource_blocks(view: ResourceView, *, prefix: str = "") -> list[Block]:
    unit = view.unit
    months = [m.label for m in view.months]
    load = view.load
    over = view.over_allocated
    totals = load.groupby("month", sort=False)[["load", "capacity"]].sum().reindex(months).fillna(0)
    blocks: list[Block] = [
        *(Text(note, "warn") for note in view.notes),
        Figures((("People with work", str(int((view.people["issues"] > 0).sum())), ""),
                 ("Over-allocated", str(len(over)), "bad" if len(over) else "good"),
                 ("Unassigned in execution", str(int(view.unassigned["unassigned"].sum()) if len(view.unassigned) else 0),
                  "warn" if len(view.unassigned) else "good"),
                 (f"On more than {counted(view.max_epics, 'epic')}", str(len(view.spread_thin)),
                  "warn" if len(view.spread_thin) else "good"),
                 (f"Open work ({unit})", f"{view.work['estimate'].sum():.0f}", ""))),
        Chart(f"{prefix}chart-capacity", f"Load against capacity per month ({unit})", "bars", tuple(months),
              (("load", tuple(float(v) for v in totals["load"])), ("capacity", tuple(float(v) for v in totals["capacity"]))),
              unit=unit),
    ]
    ranked = view.people.sort_values(["peak_pct", "name"], ascending=[False, True], na_position="last")
    heat_people = list(ranked.loc[ranked["issues"] > 0, "person"].head(HEAT_PEOPLE))
    by = dict(zip(zip(load["person"], load["month"]), load["pct"]))
    names = dict(zip(view.people["person"], view.people["name"]))
    with_work = int((ranked["issues"] > 0).sum())
    who = "everyone with work" if len(heat_people) == with_work else f"the {len(heat_people)} most loaded of {with_work}"
    blocks.append(Chart(f"{prefix}chart-utilisation", f"Utilisation by person and month (% of capacity; {who})",
                        "heat", tuple(months),
                        tuple((names[p], tuple(by.get((p, m)) for m in months)) for p in heat_people),
                        unit="%", rows=tuple(names[p] for p in heat_people)))
    people_rows = view.people.sort_values(["over", "peak_pct", "name"], ascending=[False, False, True],
                                          na_position="last")
    blocks.append(table(
        f"{prefix}people", "People", [("Person", "text"), ("Team", "text"), ("Sites", "text"),
                                      ("Open issues", "int"), (f"Assigned ({unit})", "num"), ("Undated", "int"),
                                      ("Epics owned", "int"), (f"Owned epics' open work ({unit})", "num"),
                                      ("Epics worked on", "int"), (f"Capacity ({unit})", "num"),
                                      (f"Load in horizon ({unit})", "num"), ("Peak %", "pct"),
                                      ("Over-allocated in", "text")],
        [(r.name, r.team, r.sites, r.issues, r.estimate, r.undated, r.epics_owned, r.owned_estimate,
          r.epics_active, r.capacity, r.load, r.peak_pct, r.over_months) for r in people_rows.itertuples()],
        classes=["over" if r.over else "" for r in people_rows.itertuples()],
        note=f"Open work per person across every site, assigned ({unit}, spread from today to each issue's due "
             f"date) and owned (the open work of the epics they own). Capacity over the {len(months)}-month "
             f"horizon from the mapping's resources section."))
    cells: dict[tuple[str, str], dict[str, tuple[float, float]]] = {}
    for pid, name, month, used, capacity in zip(load["person"], load["name"], load["month"], load["load"],
                                                 load["capacity"]):
        cells.setdefault((pid, name), {})[month] = (used, capacity)
    order = sorted(cells, key=lambda i: i[1].casefold())
    blocks.append(table(
        f"{prefix}months", f"Load / capacity per month ({unit})", [("Person", "text"), *((m, "text") for m in months)],
        [(name, *(f"{cells[(pid, name)][m][0]:.1f} / {cells[(pid, name)][m][1]:.1f}" for m in months))
         for pid, name in order],
        classes=["over" if any(u > c + 1e-9 for u, c in cells[i].values()) else "" for i in order]))
    if len(view.teams):
        blocks.append(table(f"{prefix}teams", "Teams", [("Team", "text"), ("Month", "text"), ("Members", "int"),
                                                     (f"Load ({unit})", "num"), (f"Capacity ({unit})", "num"),
                                                     ("%", "pct")],
                            [tuple(r) for r in view.teams.itertuples(index=False)],
                            classes=["over" if (r.pct or 0) > 100 else "" for r in view.teams.itertuples()]))
    blocks.append(table(
        f"{prefix}unassigned", "Unassigned work in execution",
        [("Epic", "text"), ("Summary", "text"), ("Site", "text"), ("Owner", "text"), ("Open issues", "int"),
         ("Unassigned", "int"), (f"Unassigned ({unit})", "num")],
        [(r.key, r.summary, r.site, r.owner, r.open_issues, r.unassigned, r.unassigned_estimate)
         for r in view.unassigned.itertuples()],
        links=[_url(r.url) for r in view.unassigned.itertuples()]))
    blocks.append(table(
        f"{prefix}spread", f"People on more than {counted(view.max_epics, 'epic')} at once",
        [("Person", "text"), ("Epics worked on", "int"), ("Open issues", "int"), (f"Assigned ({unit})", "num")],
        [(r.name, r.epics_active, r.issues, r.estimate)
         for r in view.spread_thin.sort_values(["epics_active", "name"], ascending=[False, True]).itertuples()]))
    if view.undated:
        blocks.append(Text(f"{view.undated} open assigned issues have no due date, target end or epic target end: "
                           "they count in each person's open issues but cannot be placed in a month.", "meta"))
    return blocks


def resources_document(view: ResourceView, mapping_name: str) -> Document:
    return Document(f"Resources - {mapping_name}",
                    f"Open work against capacity from {view.today.isoformat()} over {counted(len(view.months), 'month')}",
                    tuple(resource_blocks(view)))


def strategy_blocks(view: StrategyView, *, prefix: str = "", limit: int | None = None) -> list[Block]:
    r = view.ranking
    method = "WSJF (business value + time criticality + risk reduction) / job size" if view.method == "wsjf" \
        else "weighted score (" + ", ".join(view.score_fields) + ")"
    shown = r if limit is None else r.head(limit)
    many = r["site"].nunique() > 1  # the same key on two sites: say which
    site = (("Site", "text"),) if many else ()

    def at(x: Any) -> tuple[Any, ...]:
        return (x.site,) if many else ()
    blocks: list[Block] = [
        Figures((("Ranked epics", str(int(r["score"].notna().sum())), ""),
                 ("Unscored", str(int(r["score"].isna().sum())), "warn" if r["score"].isna().any() else "good"),
                 ("Serving no objective", str(len(view.unaligned)), "bad" if len(view.unaligned) else "good"),
                 ("Top-ranked starved", str(len(view.starved)), "bad" if len(view.starved) else "good"),
                 ("Low-ranked busy", str(len(view.busy)), "warn" if len(view.busy) else "good"))),
    ]
    if len(view.objectives):
        blocks.append(Chart(f"{prefix}chart-objectives", "Open work by objective", "hbars",
                            tuple(view.objectives["objective"]),
                            (("open work", tuple(float(v) for v in view.objectives["open_estimate"])),)))
    objectives = view.objectives
    if (objectives["key"] == objectives["objective"]).all():  # a field's values are their own names
        objectives = objectives.drop(columns=["key"])
    blocks.append(table(
        f"{prefix}objectives", "Objectives", [("Objective", "text"), *((("Key", "text"),) if "key" in objectives else ()),
                                              ("Epics", "int"), ("In execution", "int"), ("Open work", "num"),
                                              ("People", "int"), ("Best rank", "int")],
        [tuple(x) for x in objectives.itertuples(index=False)]))
    blocks.append(table(
        f"{prefix}ranking", "Ranked portfolio" + (f" (top {limit})" if limit and len(r) > limit else ""),
        [("Rank", "int"), ("Change", "signed"), ("Epic", "text"), *site, ("Summary", "text"), ("Phase", "text"),
         ("Objectives", "text"), ("Score", "num"), ("People", "int"), ("Open work", "num")],
        [(x.rank, "new" if pd.isna(x.previous_rank) and view.baseline_known else x.change, x.key, *at(x), x.summary,
          x.phase, x.objectives, x.score, x.people, x.open_estimate) for x in shown.itertuples()],
        links=[_url(x.url) for x in shown.itertuples()],
        note=f"Score: {method}; highest first, unscored last. Change: places moved since {view.baseline}."))
    if limit is not None and len(r) > limit:
        blocks.append(table(
            f"{prefix}ranking-all", "Full ranking", [("Rank", "int"), ("Change", "signed"), ("Epic", "text"), *site,
                                                     ("Summary", "text"), ("Phase", "text"), ("Score", "num")],
            [(x.rank, "new" if pd.isna(x.previous_rank) and view.baseline_known else x.change, x.key, *at(x),
              x.summary, x.phase, x.score) for x in r.itertuples()],
            links=[_url(x.url) for x in r.itertuples()]))
    blocks.append(table(
        f"{prefix}starved", "Ranking against execution: top-ranked epics starved of people",
        [("Rank", "int"), ("Epic", "text"), *site, ("Summary", "text"), ("People", "int"), ("Open work", "num")],
        [(x.rank, x.key, *at(x), x.summary, x.people, x.open_estimate) for x in view.starved.itertuples()],
        links=[_url(x.url) for x in view.starved.itertuples()]))
    blocks.append(table(
        f"{prefix}busy", "Ranking against execution: low-ranked epics that are busy",
        [("Rank", "int"), ("Epic", "text"), *site, ("Summary", "text"), ("People", "int"), ("Open work", "num")],
        [(x.rank, x.key, *at(x), x.summary, x.people, x.open_estimate) for x in view.busy.itertuples()],
        links=[_url(x.url) for x in view.busy.itertuples()]))
    blocks.append(table(
        f"{prefix}unaligned", "Open epics past initiation serving no objective",
        [("Epic", "text"), ("Summary", "text"), ("Site", "text"), ("Phase", "text"), ("Rank", "int")],
        [(x.key, x.summary, x.site, x.phase, x.rank) for x in view.unaligned.itertuples()],
        links=[_url(x.url) for x in view.unaligned.itertuples()]))
    return blocks


def strategy_document(view: StrategyView, mapping_name: str, subtitle: str) -> Document:
    return Document(f"Strategy - {mapping_name}", subtitle, tuple(strategy_blocks(view, limit=25)))


def _kpi_text(key: str, value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}%" if key.endswith("_pct") else f"{value:g}"


def _baselines_detail(c: Any) -> str:
    if not c.baselines_known:
        return "unknown (the month's start or end run kept no plans)"
    if not c.baselines:
        return ""
    unapproved = sum(not m.approved for m in c.baselines)
    return f"{unapproved} without a change request approved in the month" if unapproved else "all approved"


def _per_item_and_standard(refs: Any) -> list[tuple[str, str, str, str, int]]:
    """Findings grouped by (site, item, standard, severity), in the order given, with their count."""
    counts: dict[tuple[str, str, str, str], int] = {}
    for f in refs:
        key = (f.site, f.item_key, f.code, f.severity)
        counts[key] = counts.get(key, 0) + 1
    return [(*key, n) for key, n in counts.items()]


def _approval(move: Any) -> str:
    if move.approved_in_month:
        return "approved: " + ", ".join(move.approved_in_month)
    if move.approved_before:
        return "none in the month (approved before: " + ", ".join(move.approved_before) + ")"
    return "none"


def monthly_document(pack: MonthlyPack) -> Document:
    c = pack.change
    months = tuple(label for label, _ in pack.trend)
    latest = pack.trend[-1][1] if pack.trend else {}
    blocks: list[Block] = [Text(n, "warn" if "No run" in n else "meta") for n in pack.notes]
    blocks.append(Figures(tuple((KPI_TITLES[k], _kpi_text(k, latest.get(k)), "") for k in KPI_TITLES)))
    for key, title in KPI_TITLES.items():
        blocks.append(Chart(f"chart-kpi-{key}", f"{title} ({'higher' if KPI_BETTER[key] == 'up' else 'lower'} is better)",
                            "lines", months, ((title, tuple(v.get(key) for _, v in pack.trend)),),
                            unit="%" if key.endswith("_pct") else ""))
    blocks.append(table("kpis", "KPI trend", [("KPI", "text"), *((m, "text") for m in months)],
                        [(title, *(_kpi_text(key, v.get(key)) for _, v in pack.trend)) for key, title in KPI_TITLES.items()],
                        note="Each month's figures are those of its last recorded run; time to fix is the median over "
                             "findings resolved in the month. Definitions: docs/office.md."))
    blocks.append(table("decisions", "Decisions needed", [("About", "text"), ("Decision", "text")],
                        list(pack.decisions), empty="none this month"))
    blocks.append(Heading(f"What changed in {pack.label}"))
    start = f"run {pack.start_run.id} of {pack.start_run.started.strftime('%Y-%m-%d')}" if pack.start_run else "no run"
    end = "this run" if pack.current else (f"run {pack.end_run.id} of {pack.end_run.started.strftime('%Y-%m-%d')}"
                                          if pack.end_run else "no run")
    ttf = median_days(c.fixed_days)
    blocks.append(table(
        "changes", "Summary", [("What", "text"), ("Count", "int"), ("Detail", "text")],
        [("New findings", len(c.new), ""), ("Resolved findings", len(c.resolved),
                                            "" if ttf is None else f"median time to fix {ttf:.1f} days"),
         ("Gates passed (phase moved forward)", len(c.gates), ""), ("RAG moves (projects, portfolios)", len(c.rag_moves), ""),
         ("Baselines moved (target end or scope)", len(c.baselines) if c.baselines_known else None,
          _baselines_detail(c)),
         ("Risks opened", c.risks_opened, ""), ("Risks closed", c.risks_closed, "")],
        note=f"From {start} (before the month) to {end}."))
    blocks.append(table("rag", "RAG moves", [("Level", "text"), ("Site", "text"), ("Item", "text"), ("Before", "text"),
                                             ("After", "text")], list(c.rag_moves),
                        empty="none (the portfolio report keeps the colours; run it nightly)"))
    blocks.append(table(
        "baselines", "Baselines moved",
        [("Epic", "text"), ("Summary", "text"), ("Site", "text"), ("Target end before", "text"),
         ("Target end after", "text"), ("Moved (days)", "signed"), ("Children before", "int"),
         ("Children after", "int"), ("Scope change", "signed"), ("Change request", "text")],
        [(m.key, m.summary, m.site, m.end_before, m.end_after, m.days, m.children_before, m.children_after,
          m.scope, _approval(m)) for m in c.baselines],
        links=[_url(m.url) for m in c.baselines], classes=["" if m.approved else "over" for m in c.baselines],
        empty="none" if c.baselines_known else "unknown: the runs at the month's start and end did not both keep "
                                               "the epics' plans",
        note="Target end and scope (children, done ones included) of each epic at the month's end against its "
             "start. Approved: a change request linked to the epic was approved in the month."))
    blocks.append(table("gates", "Gates passed", [("Site", "text"), ("Item", "text"), ("From", "text"), ("To", "text")],
                        list(c.gates)))
    for id, title, refs in (("new", "New findings", c.new), ("resolved", "Resolved findings", c.resolved)):
        blocks.append(table(id, title, [("Site", "text"), ("Item", "text"), ("Standard", "text"),
                                        ("Severity", "text"), ("Findings", "int")], _per_item_and_standard(refs),
                            note="One row per item and standard; a standard can find several things on one item "
                                 "(one per child, field or link), counted under Findings."))
    blocks.append(Heading("Strategy and ranking"))
    blocks += strategy_blocks(pack.strategy, prefix="strategy-", limit=25)
    blocks.append(Heading("Resources"))
    blocks += resource_blocks(pack.resources, prefix="resources-")
    return Document(f"Monthly PMO pack {pack.label} - {pack.mapping_name}",
                    f"As of {pack.now.strftime('%Y-%m-%d %H:%M %Z')}", tuple(blocks))


__all__ = ["resources_document", "strategy_document", "monthly_document", "Table", "Chart", "Heading"]
