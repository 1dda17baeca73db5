"""The executive summary: colour counts and their moves, decisions needed, gates and late epics.

Built from the roll-up's frames, so every figure here is one the tables below it also show.
A "decision needed" is a red project or epic: red means the project manager cannot fix it alone
(the written definition of red), so each one names what, why, who owns it, since when, the fix
and a link.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from pmo_jira.model import natural_key
from pmo_jira_portfolio.rag import AMBER, GREEN, RAG_DIMENSIONS, RED
from pmo_jira_portfolio.runs import Changes, RowId, RowState

COLOURS = (RED, AMBER, GREEN)
GATE_WINDOW_DAYS = 30  # "upcoming": target ends within the next month

# What to do about a red dimension when no finding says it better.
_FIXES = {
    "schedule": "Agree a recovery plan or a new target end with the sponsor.",
    "scope": "Review the growth with the sponsor; raise a change request if it is to stay.",
    "risk": "Give each high risk an owner and a mitigation; add a risk register where one is missing.",
    "compliance": "Close the high and critical gaps listed under the project.",
    "freshness": "Ask the owner for a status update, or close the work if it has stopped.",
}


@dataclass(frozen=True)
class Counts:
    """R/A/G counts of one level now, at the previous run and a month ago (None: no such run)."""

    now: Mapping[str, int]
    previous: Mapping[str, int] | None
    month_ago: Mapping[str, int] | None

    def move(self, colour: str, against: str) -> int | None:
        base = self.previous if against == "previous" else self.month_ago
        return None if base is None else self.now.get(colour, 0) - base.get(colour, 0)


@dataclass(frozen=True)
class Decision:
    level: str  # project | epic
    site: str
    project: str
    key: str
    name: str
    why: str
    owner: str
    red_since: datetime | None  # None: red for the first time in this run
    fix: str
    url: str


@dataclass(frozen=True)
class Summary:
    counts: Mapping[str, Counts]  # level -> counts
    decisions: tuple[Decision, ...]
    upcoming: pd.DataFrame  # open epics whose target end is within GATE_WINDOW_DAYS
    late: pd.DataFrame  # open epics past their target end, latest first


def _count(colours) -> dict[str, int]:
    counts = Counter(c for c in colours if c in COLOURS)
    return {c: counts.get(c, 0) for c in COLOURS}


def _counts_of(rows: Mapping[RowId, RowState], level: str) -> dict[str, int] | None:
    if not rows:
        return None
    return _count(s.rag.get("overall") for (lvl, _, _), s in rows.items() if lvl == level)


def colour_counts(projects: pd.DataFrame, epics: pd.DataFrame, changes: Changes) -> dict[str, Counts]:
    return {level: Counts(_count(frame["rag_overall"] if len(frame) else ()),
                          _counts_of(changes.previous_rows, level), _counts_of(changes.month_ago_rows, level))
            for level, frame in (("project", projects), ("epic", epics))}


def _fix(row: Mapping[str, Any], top_fix: str) -> str:
    deciding = [d for d in RAG_DIMENSIONS if row.get(f"rag_{d}") == RED]
    if "compliance" in deciding and top_fix:
        deciding.remove("compliance")
        return " ".join([top_fix, *(_FIXES[d] for d in deciding)])
    return " ".join(_FIXES[d] for d in deciding)


def decisions(projects: pd.DataFrame, epics: pd.DataFrame, findings: pd.DataFrame,
              since: Mapping[RowId, datetime]) -> tuple[Decision, ...]:
    """Red projects, then red epics, the longest red first."""
    top_fix: dict[tuple[str, str], str] = {}
    if len(findings):
        worst = findings.sort_values(["site", "item", "severity_rank"], ascending=[True, True, False])
        for (site, item), group in worst.groupby(["site", "item"], sort=False):
            top_fix[(site, item)] = str(group.iloc[0]["fix"])
    out = []
    for level, frame, key_col in (("project", projects, "project"), ("epic", epics, "key")):
        if not len(frame):
            continue
        for r in frame[frame["rag_overall"] == RED].to_dict("records"):
            key = r[key_col]
            out.append(Decision(
                level=level, site=r["site"], project=r["project"], key=key,
                name=str(r.get("name") if level == "project" else r.get("summary") or ""),
                why=r["why"], owner=r.get("owner") or "", red_since=since.get((level, r["site"], key)),
                fix=_fix(r, top_fix.get((r["site"], key), "")), url=str(r.get("url") or "")))
    far_past = datetime.max.replace(tzinfo=None)
    return tuple(sorted(out, key=lambda d: (d.level != "project",
                                            d.red_since.replace(tzinfo=None) if d.red_since else far_past,
                                            d.site, natural_key(d.key))))


def gates(epics: pd.DataFrame, today) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(upcoming target ends within the window, soonest first; late epics, latest first)."""
    if not len(epics):
        return epics.iloc[0:0], epics.iloc[0:0]
    open_epics = epics[epics["open"].astype(bool) & (epics["target_end"] != "")]
    days_to_go = [(datetime.fromisoformat(t).date() - today).days for t in open_epics["target_end"]]
    with_days = open_epics.assign(days_to_go=days_to_go)
    upcoming = with_days[(with_days["days_to_go"] >= 0) & (with_days["days_to_go"] <= GATE_WINDOW_DAYS)]
    late = with_days[with_days["days_late"] > 0]
    return (upcoming.sort_values(["days_to_go", "site", "key"], key=_natural).reset_index(drop=True),
            late.sort_values(["days_late", "site", "key"], ascending=[False, True, True],
                             key=_natural).reset_index(drop=True))


def _natural(column: pd.Series) -> pd.Series:
    """Issue keys in the order people read them (DIG-9 before DIG-10); other columns as they are."""
    return column.map(natural_key) if column.name == "key" else column


def build_summary(projects: pd.DataFrame, epics: pd.DataFrame, findings: pd.DataFrame, changes: Changes,
                  since: Mapping[RowId, datetime], today) -> Summary:
    upcoming, late = gates(epics, today)
    return Summary(colour_counts(projects, epics, changes), decisions(projects, epics, findings, since),
                   upcoming, late)
