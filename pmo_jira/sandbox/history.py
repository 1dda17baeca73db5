"""Generated change history of sandbox issues: how each issue got to where it is today.

A generated site builds an issue's changelog the first time something reads or changes it, from
a random stream seeded by the site's seed and the issue id, so the same site always tells the
same story and a search that never asks for history costs nothing. The story ends in the
issue's current state: status transitions along the issue type's workflow up to its status
(the last one at ``status_changed``, with the resolution when it lands in Done), assignee
hand-overs, target end and due date set after creation and often moved later (a baseline and its
slippage), start dates set late, estimates set late or re-estimated. Every entry falls between
``created`` and ``updated``; authors are the site's people.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pmo_jira.sandbox.store import HistoryRec, IssueRec, Store

WORKFLOWS: dict[str, tuple[str, ...]] = {
    # issue type -> the usual path through the workflow, first status at creation
    "Epic": ("Idea", "Proposed", "Planning", "Approved", "In Progress"),
    "Story": ("To Do", "In Progress", "In Review"),
    "Task": ("To Do", "In Progress", "In Review"),
    "Bug": ("To Do", "In Progress", "In Review"),
    "Sub-task": ("To Do", "In Progress"),
    "Risk": ("Open", "Mitigating"),
}
ENDINGS = {"Done", "Closed", "Blocked"}
"""Statuses reached from the last working status rather than being on the main path."""

POINTS = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0)
IDS_PER_ISSUE = 100


def status_path(itype: str, status: str, rng: random.Random) -> list[str]:
    """The statuses an issue of ``itype`` went through to reach ``status``, first at creation."""
    flow = WORKFLOWS.get(itype, ("To Do", "In Progress"))
    if status in flow:
        path = list(flow[:flow.index(status) + 1])
    elif status in ENDINGS:
        working = flow[-1] if itype not in ("Story", "Task", "Bug") or rng.random() < 0.5 else flow[-2]
        path = list(flow[:flow.index(working) + 1]) + [status]
    else:
        path = [flow[0], status]
    if len(path) > 3 and rng.random() < 0.3:
        del path[1]  # a step skipped, as people do
    return path


def history_source(seed: int) -> Callable[[Store, IssueRec], list[HistoryRec]]:
    """The ``Store.history_source`` of a site generated with ``seed``."""
    people: list[str] = []

    def build(store: Store, rec: IssueRec) -> list[HistoryRec]:
        if not people:
            people.extend(u for u in store.users if u != store.bot.account_id)
        return _History(store, rec, random.Random(seed * 1_000_003 + rec.id), people).build()

    return build


class _History:
    def __init__(self, store: Store, rec: IssueRec, rng: random.Random, people: list[str]):
        self.store, self.rec, self.rng, self.people = store, rec, rng, people
        self.start = rec.created
        self.end = max(rec.updated, rec.created)
        self.entries: list[tuple[datetime, str | None, list[tuple[str, Any, Any]]]] = []

    def when(self, low: float = 0.0, high: float = 1.0) -> datetime:
        """A moment between ``created`` and ``updated`` (fractions of that span)."""
        span = (self.end - self.start).total_seconds()
        return self.start + timedelta(seconds=span * self.rng.uniform(low, high))

    def who(self) -> str | None:
        candidates = [u for u in (self.rec.assignee, self.rec.reporter) if u]
        if not candidates or self.rng.random() < 0.2:
            return self.rng.choice(self.people) if self.people else None
        return self.rng.choice(candidates)

    def add(self, at: datetime, changes: list[tuple[str, Any, Any]], author: str | None = None) -> None:
        self.entries.append((min(max(at, self.start), self.end), author or self.who(), changes))

    def build(self) -> list[HistoryRec]:
        self.statuses()
        self.assignee()
        self.dates()
        self.estimate()
        self.entries.sort(key=lambda e: e[0])
        out = []
        logged = self.store.field_by_attr
        for n, (at, author, changes) in enumerate(self.entries[:IDS_PER_ISSUE]):
            items = tuple(self.store.change_item(attr, old, new) for attr, old, new in changes if attr in logged)
            if not items:
                continue
            out.append(HistoryRec(self.rec.id * IDS_PER_ISSUE + n, author, at, items))
        return out

    def statuses(self) -> None:
        rec, rng = self.rec, self.rng
        mapped = self.store.profile.status_map
        path = []
        for status in status_path(rec.type, rec.status, rng):
            status = mapped.get(status, status)
            if not path or path[-1] != status:
                path.append(status)
        last = min(max(rec.status_changed, self.start), self.end)
        span = (last - self.start).total_seconds()
        moments = sorted(self.start + timedelta(seconds=span * rng.uniform(0.05, 0.95)) for _ in path[2:])
        moments.append(last)
        for (old, new), at in zip(zip(path, path[1:]), moments):
            changes: list[tuple[str, Any, Any]] = [("status", old, new)]
            if new == rec.status and rec.resolved is not None:
                changes.append(("resolution", None, "Done"))
            self.add(at, changes, rec.assignee if rec.assignee and rng.random() < 0.7 else None)

    def assignee(self) -> None:
        rec, rng = self.rec, self.rng
        if not self.people:
            return
        if rec.assignee and rng.random() < 0.3:
            before = None if rng.random() < 0.4 else rng.choice(self.people)
            self.add(self.when(0.05, 0.8), [("assignee", before, rec.assignee)])
        elif rec.assignee is None and rng.random() < 0.15:
            self.add(self.when(0.5, 1.0), [("assignee", rng.choice(self.people), None)])

    def dates(self) -> None:
        """Target end (and the due date when it follows it): set late, and for some moved later."""
        rec, rng = self.rec, self.rng
        if rec.start is not None and rng.random() < 0.3:
            self.add(self.when(0.0, 0.3), [("start", None, rec.start)])
        end = rec.target_end or rec.due
        if end is None:
            return
        tied = rec.due == rec.target_end
        fields = ("target_end", "due") if tied else (("target_end",) if rec.target_end else ("due",))
        roll = rng.random()
        if roll < 0.35:  # slipped once or twice: the first value is the baseline
            slips = 2 if rng.random() < 0.3 else 1
            values = [end]
            for _ in range(slips):
                values.insert(0, values[0] - timedelta(days=int(rng.uniform(7, 60))))
            self.add(self.when(0.0, 0.3), [(f, None, values[0]) for f in fields])
            moments = sorted(self.when(0.35, 1.0) for _ in range(slips))
            for old, new, at in zip(values, values[1:], moments):
                self.add(at, [(f, old, new) for f in fields])
        elif roll < 0.7:  # set after the issue was created
            self.add(self.when(0.0, 0.5), [(f, None, end) for f in fields])

    def estimate(self) -> None:
        rec, rng = self.rec, self.rng
        if rec.points is None:
            return
        roll = rng.random()
        if roll < 0.25:  # re-estimated
            first = rng.choice([p for p in POINTS if p != rec.points])
            self.add(self.when(0.0, 0.3), [("points", None, first)])
            self.add(self.when(0.35, 1.0), [("points", first, rec.points)])
        elif roll < 0.6:
            self.add(self.when(0.0, 0.6), [("points", None, rec.points)])
