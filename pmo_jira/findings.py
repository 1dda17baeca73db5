"""Findings: what a standard found wrong with one item, with a fingerprint stable across runs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any

from pmo_jira.model import ClassifiedItem


class Severity(str, Enum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_SEVERITY_ORDER = list(Severity)


class Outcome(str, Enum):
    """What became of a check on one item. Only FAIL and ERROR count against ``--fail-on``."""

    FAIL = "fail"
    WAIVED = "waived"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Waiver:
    standard: str
    owner: str
    reason: str
    expires: date
    item: str | None = None  # an issue or project key
    jql: str | None = None

    def expired(self, today: date) -> bool:
        return today > self.expires


@dataclass(frozen=True, slots=True)
class Finding:
    code: str  # stable standard code, e.g. PMO-GOV-001
    title: str  # the standard's title
    severity: Severity
    outcome: Outcome
    site: str
    project_key: str
    item_key: str  # issue key, or project key for project-level findings
    item_kind: str  # "epic" | "project" | "issue" | "risk"
    item_summary: str
    phase: str | None
    message: str  # what is wrong, concretely (may carry figures that change between runs)
    fix: str  # what to do about it
    subject: str = ""  # what inside the item the finding is about (a child key ...); part of the fingerprint
    url: str = ""
    waiver: Waiver | None = None
    note: str = ""  # e.g. "waiver by ann expired 2026-01-31: finding re-opened"

    @property
    def fingerprint(self) -> str:
        """Same problem, same fingerprint: independent of wording, figures, severity and time."""
        raw = "\x1f".join((self.site, self.code, self.item_key, self.subject))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    @property
    def counts(self) -> bool:
        """Whether the finding is an open problem: it counts against ``--fail-on`` (only FAIL ones
        are written back to Jira; an ERROR is the tool's problem and stays in reports)."""
        return self.outcome in (Outcome.FAIL, Outcome.ERROR)


@dataclass(frozen=True)
class AuditResult:
    findings: tuple[Finding, ...]
    items: tuple[ClassifiedItem, ...]
    started: datetime
    finished: datetime
    mapping_name: str
    mapping_hash: str
    sites: tuple[str, ...]
    issues_read: int = 0
    requests: int = 0
    site_errors: dict[str, str] = field(default_factory=dict)  # site name -> one-line error
    baselines: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(site, epic key) -> the baseline taken at its planning gate in this run, to be recorded in its
    state (``pmo_jira.standards.timeline.baseline_record``); epics whose history was read only."""
    narrowed: bool = False
    """Only part of the portfolio was checked (``--project``/``--jql``): what it did not read is
    neither new nor resolved."""

    @property
    def unmapped(self) -> tuple[ClassifiedItem, ...]:
        return tuple(i for i in self.items if i.phase is None)

    def open_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.counts)

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.open_findings()), default=None, key=lambda s: s.rank)

    def fails_at(self, threshold: Severity) -> bool:
        return any(f.severity >= threshold for f in self.open_findings())


def by_item(findings: Iterable[Finding]) -> dict[tuple[str, str], list[Finding]]:
    """Group findings by (site, item key), keeping their order."""
    out: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        out.setdefault((f.site, f.item_key), []).append(f)
    return out
