"""The resource view: open work per person per month against capacity, across sites.

Work is every open issue of the mapping's child types (sub-tasks count through their parent),
loaded on its assignee; an epic's owner is credited with the open work of the epics they own.
Months run from the current one over ``resources.horizon_months``; the current month's capacity
counts only the working days left. A person is over-allocated in a month when their load there
exceeds their capacity; a team's capacity is its own figure or the sum of its members'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from pmo_jira.findings import AuditResult
from pmo_jira.model import Snapshot
from pmo_jira_office.config import Resources, resources_of
from pmo_jira_office.inputs import OfficeInput, gather
from pmo_jira_office.loads import Month, capacity_of, months_from, over, people_over, person_loads
from pmo_jira_office.people import Directory
from pmo_jira_office.workload import as_days, capacity_days, spread

UNASSIGNED = ""


@dataclass(frozen=True)
class ResourceView:
    today: date
    unit: str
    months: tuple[Month, ...]
    people: pd.DataFrame  # one row per person with work, ownership or a configured capacity
    load: pd.DataFrame  # person x month: load, capacity, pct
    teams: pd.DataFrame  # team x month: load, capacity, pct
    unassigned: pd.DataFrame  # execution epics with open unassigned work
    spread_thin: pd.DataFrame  # people on more than max_epics epics at once
    work: pd.DataFrame  # one row per open work item (for the standards and the monthly pack)
    max_epics: int
    undated: int  # open assigned work without any date
    notes: tuple[str, ...] = ()  # what the reader should know about the figures (e.g. accounts not counted)

    @property
    def over_allocated(self) -> pd.DataFrame:
        # as a bool mask even when nobody has work: an empty column has no type, and indexing with
        # it would pick columns instead of rows
        return self.people[self.people["over"].astype(bool)]


def work_items(inp: OfficeInput, directory: Directory, conf: Resources) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(open work items, epics) as frames, accounts resolved to person ids."""
    work = inp.work()
    work["person"] = [directory.person(site, account) or UNASSIGNED
                      for site, account in zip(work["site"], work["account"])]
    work["estimated"] = work["estimate"].notna()
    work["estimate"] = work["estimate"].fillna(conf.unestimated).astype(float)
    epics = inp.epics()
    epics["owner"] = [directory.person(site, account) or UNASSIGNED for site, account in zip(epics["site"], epics["owner"])]
    work_cols = ["site", "key", "project", "epic", "person", "estimate", "estimated", "start", "end", "status_category"]
    epic_cols = ["site", "key", "project", "summary", "url", "phase", "open", "owner", "target_end"]
    return work[work_cols], epics[epic_cols]


def load_between(work: pd.DataFrame, first: date, last: date, *, today: date, conf: Resources) -> pd.Series:
    """Load per person falling in [first, last]."""
    assigned = work[work["person"] != UNASSIGNED]
    share = spread(as_days(list(assigned["start"])), as_days(list(assigned["end"])), [(first, last)], today=today,
                   weekmask=conf.capacity.weekmask, holidays=conf.capacity.holidays)[:, 0]
    return pd.Series(share * assigned["estimate"].to_numpy(), index=assigned.index).groupby(assigned["person"]).sum()


def _pct(load: float, capacity: float) -> float | None:
    return round(100.0 * load / capacity, 1) if capacity > 0 else None


_last: list[tuple[tuple[Any, ...], date, ResourceView]] = []  # the latest view and what it was built from


def build_resources(result: AuditResult, snapshots: Sequence[Snapshot], mapping: Any, today: date) -> ResourceView:
    """The resource view of a run. A run asks for it several times (its reports, the facts kept with
    it), so the latest one is kept and returned again for the same (immutable) inputs."""
    key = (result, *snapshots, mapping)
    if _last and _last[0][1] == today and len(_last[0][0]) == len(key) \
            and all(a is b for a, b in zip(_last[0][0], key)):
        return _last[0][2]
    view = resources_view(gather(result.items, snapshots, mapping), mapping, today)
    _last[:] = [(key, today, view)]  # the day by value: each caller makes its own date object
    return view


def resources_view(inp: OfficeInput, mapping: Any, today: date) -> ResourceView:
    """The resource view of what a run read (``inp``), as of ``today``."""
    conf = resources_of(mapping)
    directory = Directory(conf, inp.users())
    work, epics = work_items(inp, directory, conf)
    months = months_from(today, conf.horizon_months)
    assigned = work[work["person"] != UNASSIGNED]
    by_person = person_loads(inp, directory, conf, months, today)

    open_epics = epics[epics["open"].astype(bool)]  # a bool mask even when no epic was read
    owned = open_epics[open_epics["owner"] != UNASSIGNED].groupby("owner").size()
    open_by_epic = work.groupby(["site", "epic"])["estimate"].sum()
    owned_estimate = {p: float(sum(open_by_epic.get((r.site, r.key), 0.0) for r in rows.itertuples()))
                      for p, rows in open_epics[open_epics["owner"] != UNASSIGNED].groupby("owner")}
    active = assigned[assigned["epic"] != ""].groupby("person").apply(
        lambda g: len(set(zip(g["site"], g["epic"]))), include_groups=False) if not assigned.empty else pd.Series(dtype=int)

    ids = sorted(set(by_person) | set(owned.index) | {p.name for p in conf.people},
                 key=lambda p: directory.people[p].name.casefold())
    load_rows, people_rows = [], []
    for pid in ids:
        person = directory.people[pid]
        over_months = []
        cap_total = load_total = 0.0
        peak = None
        loads = by_person.get(pid) or [0.0] * len(months)
        for m, load in zip(months, loads):
            cap = capacity_of(directory, pid, m.first, m.last)
            pct = _pct(load, cap)
            load_rows.append({"person": pid, "name": person.name, "team": person.team or "", "month": m.label,
                              "load": round(load, 1), "capacity": round(cap, 1), "pct": pct})
            cap_total += cap
            load_total += load
            if over(load, cap):
                over_months.append(m.label)
            if pct is not None:
                peak = pct if peak is None else max(peak, pct)
            elif load > 0:
                peak = float("inf")
        mine = assigned[assigned["person"] == pid]
        people_rows.append({
            "person": pid, "name": person.name, "team": person.team or "", "sites": ", ".join(sorted(person.sites)),
            "issues": len(mine), "estimate": round(float(mine["estimate"].sum()), 1),
            "undated": int(mine["end"].isna().sum()),
            "epics_owned": int(owned.get(pid, 0)), "owned_estimate": round(owned_estimate.get(pid, 0.0), 1),
            "epics_active": int(active.get(pid, 0)) if len(active) else 0,
            "capacity": round(cap_total, 1), "load": round(load_total, 1),
            "peak_pct": None if peak is None else (None if peak == float("inf") else peak),
            "over": bool(over_months), "over_months": ", ".join(over_months),
        })
    people = pd.DataFrame(people_rows, columns=[
        "person", "name", "team", "sites", "issues", "estimate", "undated", "epics_owned", "owned_estimate",
        "epics_active", "capacity", "load", "peak_pct", "over", "over_months"])
    load = pd.DataFrame(load_rows, columns=["person", "name", "team", "month", "load", "capacity", "pct"])
    teams = _teams(load, conf, months)
    read = set(inp.sites)
    elsewhere = sorted(f"{p.name} on '{site}'" for p in conf.people for site in p.accounts if site not in read)
    notes = (f"Accounts on sites this run did not read are not counted: {', '.join(elsewhere)} (sites read: "
             f"{', '.join(sorted(read)) or 'none'}; check the site names under resources.people, or the "
             f"run was narrowed with --site).",) if elsewhere else ()
    return ResourceView(
        today=today, unit=conf.unit, months=months, people=people, load=load, teams=teams,
        unassigned=_unassigned(work, epics, directory), spread_thin=people[people["epics_active"] > conf.max_epics],
        work=work, max_epics=conf.max_epics, undated=int(assigned["end"].isna().sum()), notes=notes,
    )


def _teams(load: pd.DataFrame, conf: Resources, months: Sequence[Month]) -> pd.DataFrame:
    """Per team and month: its members' load against its own capacity, else the sum of theirs."""
    first = {m.label: m for m in months}
    rows = []
    for (team, month), g in load[load["team"] != ""].groupby(["team", "month"], sort=True):
        own = conf.teams.get(team)
        cap = float(g["capacity"].sum())
        if own is not None and own.capacity is not None:
            m = first[month]
            days = capacity_days(m.first, m.last, weekmask=conf.capacity.weekmask, holidays=conf.capacity.holidays)
            cap = own.capacity * days / len(conf.capacity.working_days)
        used = float(g["load"].sum())
        rows.append({"team": team, "month": month, "members": int(g["person"].nunique()),
                     "load": round(used, 1), "capacity": round(cap, 1), "pct": _pct(used, cap)})
    return pd.DataFrame(rows, columns=["team", "month", "members", "load", "capacity", "pct"])


def _unassigned(work: pd.DataFrame, epics: pd.DataFrame, directory: Directory) -> pd.DataFrame:
    """Execution epics with open work nobody is assigned to, most unassigned first."""
    execution = epics[(epics["phase"] == "execution") & epics["open"]]
    cols = ["site", "project", "key", "summary", "url", "owner", "open_issues", "unassigned", "unassigned_estimate"]
    if execution.empty or work.empty:
        return pd.DataFrame(columns=cols)
    grouped = work.groupby(["site", "epic"])
    total = grouped.size()
    nobody = work[work["person"] == UNASSIGNED].groupby(["site", "epic"])
    count, est = nobody.size(), nobody["estimate"].sum()
    rows = []
    for r in execution.itertuples():
        n = int(count.get((r.site, r.key), 0))
        if n:
            rows.append({"site": r.site, "project": r.project, "key": r.key, "summary": r.summary, "url": r.url,
                         "owner": directory.people[r.owner].name if r.owner else "",
                         "open_issues": int(total.get((r.site, r.key), 0)), "unassigned": n,
                         "unassigned_estimate": round(float(est.get((r.site, r.key), 0.0)), 1)})
    df = pd.DataFrame(rows, columns=cols)
    return df.sort_values(["unassigned", "site", "key"], ascending=[False, True, True]).reset_index(drop=True)


__all__ = ["ResourceView", "Month", "build_resources", "resources_view", "load_between", "capacity_of", "months_from",
           "people_over", "person_loads"]
