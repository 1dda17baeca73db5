"""Strategic alignment: which objectives each epic serves, its prioritisation score and rank, and
where the ranking and the work in execution disagree.

Only open epics are ranked, highest score first (ties by site and key); an epic missing a score
input is unscored and ranked after every scored one. A rank change compares with the ranking
kept in the run history for the last run before the current month (see ``pmo_jira_office.facts``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pmo_jira.model import natural_key
from pmo_jira_office.config import strategy_of
from pmo_jira_office.inputs import OfficeInput, gather
from pmo_jira_office.resources import UNASSIGNED, ResourceView
from pmo_jira_office.scoring import objectives_of, score_of


@dataclass(frozen=True)
class StrategyView:
    method: str
    score_fields: tuple[str, ...]
    ranking: pd.DataFrame  # open epics, rank order
    objectives: pd.DataFrame  # objective -> epics, open estimate
    unaligned: pd.DataFrame  # open epics past initiation that serve no objective
    starved: pd.DataFrame  # top-ranked epics in execution with too few people
    busy: pd.DataFrame  # low-ranked epics in execution with many people
    baseline: str  # what rank changes are measured against
    baseline_known: bool = False  # a previous ranking was found: an epic missing from it is new


def rank_order(snapshots: Sequence, mapping: Any) -> list[tuple[str, str]]:
    """(site, key) of the open epics in rank order: what the run history keeps per run."""
    from pmo_jira_office.facts import ranked

    return ranked(gather((), snapshots, mapping))


def build_strategy(snapshots: Sequence, items: Sequence, mapping: Any, resources: ResourceView,
                   previous_ranks: Mapping[tuple[str, str], int] | None, baseline: str) -> StrategyView:
    """The strategy view of a run (``items``: its classified items, for the epics' phases)."""
    return strategy_view(gather(items, snapshots, mapping), mapping, resources, previous_ranks, baseline)


def strategy_view(inp: OfficeInput, mapping: Any, resources: ResourceView,
                  previous_ranks: Mapping[tuple[str, str], int] | None, baseline: str) -> StrategyView:
    """The strategy view of what a run read (``inp``); rank changes against ``previous_ranks``."""
    conf = strategy_of(mapping)
    work = resources.work
    people_on = work[work["person"] != UNASSIGNED].groupby(["site", "epic"])["person"].nunique()
    open_estimate = work.groupby(["site", "epic"])["estimate"].sum()
    rows = []
    for site, part in inp.parts.items():
        for key, project, summary, url, phase, is_open, _, _, objectives, score in part["epics"]:
            if not is_open:
                continue
            rows.append({
                "site": site, "project": project, "key": key, "summary": summary,
                "url": url, "phase": phase or "unmapped",
                "objectives": ", ".join(conf.objectives.names.get(o, o) for o in objectives),
                "objective_keys": tuple(objectives), "score": score,
                "people": int(people_on.get((site, key), 0)),
                "open_estimate": round(float(open_estimate.get((site, key), 0.0)), 1),
            })
    cols = ["rank", "previous_rank", "change", "site", "project", "key", "summary", "url", "phase", "objectives",
            "objective_keys", "score", "people", "open_estimate"]
    df = pd.DataFrame(rows, columns=cols[3:])
    if not df.empty:
        df["_unscored"] = df["score"].isna()
        df["_neg"] = -df["score"].fillna(0)
        df["_key"] = df["key"].map(natural_key)
        df = df.sort_values(["_unscored", "_neg", "site", "_key"]).drop(columns=["_unscored", "_neg", "_key"])
        df = df.reset_index(drop=True)
    df.insert(0, "rank", range(1, len(df) + 1))
    prev = [None if previous_ranks is None else previous_ranks.get((s, k)) for s, k in zip(df["site"], df["key"])]
    df.insert(1, "previous_rank", prev)
    df.insert(2, "change", [None if p is None else int(p) - int(r) for p, r in zip(prev, df["rank"])])

    scored = df[df["score"].notna()]
    band = max(1, math.ceil(len(scored) * conf.alignment.top)) if len(scored) else 0
    top, bottom = scored.head(band), scored.tail(band) if len(scored) > band else scored.iloc[0:0]
    starved = top[(top["phase"] == "execution") & (top["people"] < conf.alignment.starved_below)]
    busy = bottom[(bottom["phase"] == "execution") & (bottom["people"] >= conf.alignment.busy_from)]
    unaligned = df[df["objective_keys"].map(len).eq(0) & df["phase"].isin(("planning", "execution", "closing"))]

    obj_rows: dict[str, dict[str, Any]] = {}
    for r in df.itertuples():
        for o in r.objective_keys:
            row = obj_rows.setdefault(o, {"objective": conf.objectives.names.get(o, o), "key": o, "epics": 0,
                                          "in_execution": 0, "open_estimate": 0.0, "people": 0, "best_rank": r.rank})
            row["epics"] += 1
            row["in_execution"] += int(r.phase == "execution")
            row["open_estimate"] = round(row["open_estimate"] + r.open_estimate, 1)
            row["people"] += r.people
    objectives = pd.DataFrame(sorted(obj_rows.values(), key=lambda r: (r["best_rank"], r["key"])),
                              columns=["objective", "key", "epics", "in_execution", "open_estimate", "people",
                                       "best_rank"])
    return StrategyView(conf.score.method, conf.score.fields, df, objectives, unaligned.reset_index(drop=True),
                        starved.reset_index(drop=True), busy.reset_index(drop=True), baseline,
                        previous_ranks is not None)


__all__ = ["StrategyView", "build_strategy", "objectives_of", "rank_order", "score_of", "strategy_view"]
