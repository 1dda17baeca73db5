"""Load per person and month against capacity, as plain figures: what the resource view shows and
what the run history keeps (the count of over-allocated people) without building the view's frames.

Months run from the current one over ``resources.horizon_months``; the current month's capacity
counts only the working days left (see ``pmo_jira_office.resources``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from pmo_jira_office.config import Resources, resources_of
from pmo_jira_office.inputs import OfficeInput, day
from pmo_jira_office.people import Directory
from pmo_jira_office.workload import as_days, capacity_days, spread


@dataclass(frozen=True)
class Month:
    label: str  # 2026-11
    first: date  # the first day counted (today in the current month)
    last: date


def months_from(today: date, count: int) -> tuple[Month, ...]:
    out = []
    first = today
    for _ in range(count):
        nxt = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        out.append(Month(first.strftime("%Y-%m"), first, nxt - timedelta(days=1)))
        first = nxt
    return tuple(out)


def person_loads(inp: OfficeInput, directory: Directory, conf: Resources, months: Sequence[Month],
                 today: date) -> dict[str, list[float]]:
    """Load per person (with assigned open work) and month: each item's estimate spread over the
    months. Summed per person in row order with compensation, exactly as pandas' grouped sum
    does, so the figures kept with a run and the views rendered from a frame agree to the bit."""
    people, starts, ends, estimates = [], [], [], []
    for site, part in inp.parts.items():
        for row in part["work"]:
            person = directory.person(site, row[3])
            if person is None:
                continue
            estimate = row[4]
            people.append(person)
            starts.append(day(row[5]))
            ends.append(day(row[6]))
            estimates.append(conf.unestimated if estimate is None or estimate != estimate else float(estimate))
    shares = spread(as_days(starts), as_days(ends), [(m.first, m.last) for m in months], today=today,
                    weekmask=conf.capacity.weekmask, holidays=conf.capacity.holidays)
    loads = (shares * np.array(estimates, dtype=float)[:, None]).tolist()
    sums: dict[str, list[float]] = {}
    compensation: dict[str, list[float]] = {}
    for person, row in zip(people, loads):
        if person not in sums:
            sums[person], compensation[person] = [0.0] * len(row), [0.0] * len(row)
        total, comp = sums[person], compensation[person]
        for j, value in enumerate(row):
            y = value - comp[j]
            t = total[j] + y
            comp[j] = t - total[j] - y
            total[j] = t
    return sums


def over(load: float, capacity: float) -> bool:
    return load > capacity + 1e-9


def people_over(inp: OfficeInput, mapping: Any, today: date) -> int:
    """How many people are over-allocated in a month of the horizon: the view's count, without the view."""
    conf = resources_of(mapping)
    directory = Directory(conf, inp.users())
    months = months_from(today, conf.horizon_months)
    return sum(any(over(load, capacity_of(directory, person, m.first, m.last)) for load, m in zip(row, months))
               for person, row in person_loads(inp, directory, conf, months, today).items())


def capacity_of(directory: Directory, person_id: str, first: date, last: date) -> float:
    conf = directory.conf
    person = directory.people[person_id]
    days = capacity_days(first, last, weekmask=conf.capacity.weekmask,
                         holidays=[*conf.capacity.holidays, *person.holidays])
    return person.per_week * days / max(len(conf.capacity.working_days), 1)
