"""The run-wide load index PMO-RES-002 reads: built once per audit, shared by every site's epics.

A standard sees one epic of one site; a person's load spans every site of the run, so the index
is built from all the snapshots audited together and kept in the audit's shared memo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pmo_jira_office.config import resources_of
from pmo_jira_office.inputs import gather
from pmo_jira_office.people import Directory
from pmo_jira_office.resources import capacity_of, load_between, work_items


@dataclass
class CapacityIndex:
    directory: Directory
    first: date
    last: date
    load: dict[str, float]
    _capacity: dict[str, float] = field(default_factory=dict)

    def capacity(self, person_id: str) -> float:
        if person_id not in self._capacity:
            self._capacity[person_id] = capacity_of(self.directory, person_id, self.first, self.last)
        return self._capacity[person_id]


def capacity_index(ctx: Any, first: date, last: date) -> CapacityIndex:
    memo = ctx.shared
    key = ("pmo_jira_office.capacity", first, last)
    if key not in memo:
        conf = resources_of(ctx.mapping)
        inp = gather((), ctx.run_snapshots, ctx.mapping)
        directory = Directory(conf, inp.users())
        work, _ = work_items(inp, directory, conf)
        load = load_between(work, first, last, today=ctx.today, conf=conf)
        memo[key] = CapacityIndex(directory, first, last, {k: float(v) for k, v in load.items()})
    return memo[key]
