"""What the run history answers with: runs, findings as it keeps them, deltas, time to fix, trend."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pmo_jira.model import natural_key


class PerSite(dict):  # type: ignore[type-arg]
    """Run facts kept per site (site -> JSON-able figures) rather than once per run: only the
    newest run of each site keeps them, so they cost one copy per site, not one per night. A
    report reads them back with ``HistoryStore.latest_site_facts`` to roll the sites up from the
    history alone."""


@dataclass(frozen=True)
class RunRecord:
    id: int
    started: datetime
    finished: datetime
    kind: str
    mapping_name: str
    mapping_hash: str
    sites: tuple[str, ...]
    site_errors: dict[str, str]
    issues_read: int
    requests: int
    findings_total: int
    findings_open: int
    items_checked: int
    unmapped: int
    writes_planned: int
    writes_applied: int
    errors: int
    narrowed: str | None = None  # e.g. "--project DIG": only part of the portfolio was checked
    interrupted: str | None = None  # e.g. "SIGTERM": the run was stopped before it finished

    @property
    def compared(self) -> bool:
        """A full, finished run: the only kind that feeds new / resolved / persisting.

        A run of some sites (``--site``) is a full run of those sites; narrowed and interrupted
        runs are kept for the record but never compared, nor compared against."""
        return self.narrowed is None and self.interrupted is None

    @property
    def checked_sites(self) -> frozenset[str]:
        """Sites this run audited in full (listed and without a site error); none when the run
        is not ``compared``, so it never stands for a site's state."""
        if not self.compared:
            return frozenset()
        return frozenset(self.sites) - set(self.site_errors)


@dataclass(frozen=True)
class FindingRef:
    """A finding as the history keeps it: enough to name it, not its wording."""

    fingerprint: str
    code: str
    site: str
    project_key: str
    item_key: str
    severity: str
    outcome: str
    phase: str | None


@dataclass(frozen=True)
class PhaseMove:
    site: str
    key: str
    kind: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Delta:
    """One run against the previous compared run of the same mapping (``previous`` None: the
    first, or a run that is not compared itself)."""

    run: RunRecord
    previous: RunRecord | None
    new: tuple[FindingRef, ...]
    resolved: tuple[FindingRef, ...]  # as they were in the previous run
    persisting: tuple[FindingRef, ...]  # as they are now
    unchecked: tuple[FindingRef, ...]  # open before, on a site this run could not audit
    phase_moves: tuple[PhaseMove, ...]

    @property
    def compared(self) -> bool:
        """False for a narrowed or interrupted run: it has no changes of its own."""
        return self.run.compared

    @property
    def mapping_changed(self) -> bool:
        """The mapping file changed between the runs: standards may have come or gone."""
        return self.previous is not None and self.previous.mapping_hash != self.run.mapping_hash


@dataclass(frozen=True)
class Fix:
    fingerprint: str
    code: str
    site: str
    item_key: str
    first_seen: datetime
    resolved: datetime

    @property
    def days(self) -> float:
        return (self.resolved - self.first_seen).total_seconds() / 86400


@dataclass(frozen=True)
class TimeToFix:
    """How long findings stayed open: first run that saw one -> first run that no longer did."""

    fixes: tuple[Fix, ...]
    still_open: int

    @property
    def count(self) -> int:
        return len(self.fixes)

    @property
    def median_days(self) -> float | None:
        return statistics.median(f.days for f in self.fixes) if self.fixes else None

    @property
    def mean_days(self) -> float | None:
        return statistics.fmean(f.days for f in self.fixes) if self.fixes else None

    def by_code(self) -> dict[str, TimeToFix]:
        codes = sorted({f.code for f in self.fixes})
        return {c: TimeToFix(tuple(f for f in self.fixes if f.code == c), 0) for c in codes}


@dataclass(frozen=True)
class TrendPoint:
    run_id: int
    started: datetime
    kind: str
    mapping_name: str
    open_by_severity: dict[str, int]  # every severity, critical first
    items_checked: int

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())


def stored_time(dt: datetime) -> str:
    """A time as the history stores it (UTC ISO text, so text order is time order); naive = UTC.

    Tables that plugins keep beside the history key runs by (mapping name, stored_time(started)).
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def sorted_refs(refs: Iterable[FindingRef], *, reading: bool = False) -> tuple[FindingRef, ...]:
    """Findings in the order every comparison lists them: site, project, item, code. ``reading``:
    items in the order people read keys (DIG-9 before DIG-10), as the reports list them."""
    item: Callable[[str], Any] = natural_key if reading else str
    return tuple(sorted(refs, key=lambda f: (f.site, f.project_key, item(f.item_key), f.code, f.fingerprint)))
