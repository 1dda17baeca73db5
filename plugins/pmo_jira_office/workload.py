"""Spreading open work over time and counting working days, vectorised with numpy.

An open issue's remaining load is spread evenly over the working days from today (or its start,
when that is later) to its end: its due date, else its target end, else its epic's target end. Work
whose end has passed is due now: it all lands on today. Work without any date
cannot be placed and is counted apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

DAY = "datetime64[D]"


def as_days(values: Sequence[date | None]) -> np.ndarray:
    return np.array([np.datetime64(v, "D") if v is not None else np.datetime64("NaT") for v in values], dtype=DAY)


def working_days(begin: np.ndarray, end: np.ndarray, *, weekmask: str, holidays: Sequence[date]) -> np.ndarray:
    """Working days in [begin, end] (inclusive), 0 where end < begin."""
    stop = end + np.timedelta64(1, "D")
    stop = np.maximum(stop, begin)
    return np.busday_count(begin, stop, weekmask=weekmask, holidays=as_days(holidays))


def spread(starts: np.ndarray, ends: np.ndarray, windows: Sequence[tuple[date, date]], *, today: date,
           weekmask: str, holidays: Sequence[date]) -> np.ndarray:
    """Share (0..1) of each item's work that falls in each window [first, last]: items x windows.

    Items without an end get zeros everywhere (the caller counts them apart).
    """
    n = len(ends)
    out = np.zeros((n, len(windows)))
    dated = ~np.isnat(ends)
    if not dated.any() or not windows:
        return out
    now = np.datetime64(today, "D")
    end = np.maximum(ends[dated], now)
    start = np.where(np.isnat(starts[dated]), now, np.maximum(starts[dated], now))
    start = np.minimum(start, end)
    total = working_days(start, end, weekmask=weekmask, holidays=holidays)
    # A span without a working day (a weekend, a holiday) counts on its end day.
    point = total == 0
    shares = np.zeros((len(end), len(windows)))
    for j, (first, last) in enumerate(windows):
        lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
        overlap = working_days(np.maximum(start, lo), np.minimum(end, hi), weekmask=weekmask, holidays=holidays)
        with np.errstate(divide="ignore", invalid="ignore"):
            shares[:, j] = np.where(point, ((end >= lo) & (end <= hi)).astype(float), overlap / np.maximum(total, 1))
    out[dated] = shares
    return out


def capacity_days(first: date, last: date, *, weekmask: str, holidays: Sequence[date]) -> int:
    """Working days in [first, last] (``holidays``: everyone's and the person's own)."""
    return int(working_days(as_days([first]), as_days([last]), weekmask=weekmask, holidays=holidays)[0])
