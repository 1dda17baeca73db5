"""Per-issue write-back state, kept in the issue property ``pmo-jira.state``.

The source reads it with the issues (inline with the search on Cloud, per labelled issue on Data
Center), the standards consult it (a sync's own edit must not make a stale epic look fresh) and
the write-back plans from it, so it lives on its own.

The state lets a run decide what to write from data it already read, so an unchanged portfolio
costs zero writes. Anyone who can edit the issue can edit the property, so parsing is defensive:
anything unexpected means "no state", never a crash.

Stored value (version 1)::

    {"v": 1,
     "fingerprint": "<16 hex: the written findings and their severities, '' when none>",
     "comment_id": "10042" | null,        # the owned comment
     "mapping": "<mapping content hash at the last write>",
     "labels": ["pmo-noncompliant", ...], # labels this tool owns on the issue
     "findings": {"<finding fingerprint>": "<code>", ...},   # for "fixed since last check"
     "titles": {"<code>": "<standard title>", ...},
     "updated": "2026-11-25T18:00:00+00:00",   # when pmo-jira wrote (its run's clock)
     "seen": "2026-11-02T09:14:00+00:00",      # the issue's `updated` as people left it
     "baseline": {"at": "2026-03-02T10:00:00+00:00", "by": "Ann Lee", "start": "2026-03-01",
                  "end": "2026-06-30", "children": 12, "points": 40.0}}   # epics past the planning gate

``baseline`` is an epic's plan as it passed the planning gate (see ``pmo_jira.standards.timeline``),
recorded once and kept from then on, so a later run judges slippage against it even when Jira's
changelog no longer reaches back that far. Optional: a state without it is still valid.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from pmo_jira.findings import Finding

STATE_PROPERTY = "pmo-jira.state"
STATE_VERSION = 1
MAX_REMEMBERED_FINDINGS = 500
"""Cap on remembered finding fingerprints, keeping the property far below Jira's 32 KB limit."""
MAX_STATE_CHARS = 32_768
"""A stored value larger than Jira's property limit was not written by pmo-jira."""

OWN_WRITE_WINDOW = timedelta(hours=1)
"""An issue updated within this long after pmo-jira's write to it was (probably) updated by it."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far Jira's clock may lag the clock that stamped the write (Jira's ``updated`` vs our now)."""

_COMMENT_ID = re.compile(r"^\d{1,20}$")
_FINGERPRINT = re.compile(r"^[0-9a-f]{0,64}$")


def findings_fingerprint(findings: Iterable[Finding]) -> str:
    """Identity of what is written for an issue: which problems, at which severity.

    Messages are left out on purpose: they carry figures ("17 days") that change daily, and
    rewriting the comment every night would notify watchers for nothing.
    """
    lines = sorted({f"{f.fingerprint}:{f.severity.value}" for f in findings})
    if not lines:
        return ""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class IssueState:
    fingerprint: str = ""
    comment_id: str | None = None
    mapping: str = ""
    labels: tuple[str, ...] = ()
    findings: tuple[tuple[str, str], ...] = ()  # (finding fingerprint, code), sorted
    titles: tuple[tuple[str, str], ...] = ()  # (code, title), sorted
    updated: str = ""
    seen: str = ""  # the issue's `updated` before pmo-jira's own writes: when people last touched it
    baseline: Mapping[str, Any] | None = None  # the epic's recorded baseline (``parse_baseline`` shape)

    @property
    def has_findings(self) -> bool:
        return self.fingerprint != ""

    def same_content(self, other: IssueState | None) -> bool:
        """Equal in everything that matters; ``updated``, ``seen`` and ``mapping`` alone never cause a write."""
        if other is None:
            return False
        return (self.fingerprint, self.comment_id, self.labels, self.findings, self.titles, self.baseline) == (
            other.fingerprint, other.comment_id, other.labels, other.findings, other.titles, other.baseline)

    def with_comment_id(self, comment_id: str | None) -> IssueState:
        return replace(self, comment_id=comment_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": STATE_VERSION,
            "fingerprint": self.fingerprint,
            "comment_id": self.comment_id,
            "mapping": self.mapping,
            "labels": list(self.labels),
            "findings": dict(self.findings),
            "titles": dict(self.titles),
            "updated": self.updated,
            "seen": self.seen,
            **({"baseline": dict(self.baseline)} if self.baseline else {}),
        }


def state_for(findings: Iterable[Finding], *, comment_id: str | None, mapping: str,
              labels: Iterable[str], updated: str, seen: str = "",
              baseline: Mapping[str, Any] | None = None) -> IssueState:
    """The state describing ``findings`` as written (all written findings of one issue)."""
    findings = list(findings)
    remembered = sorted({(f.fingerprint, f.code) for f in findings})[:MAX_REMEMBERED_FINDINGS]
    codes = {code for _, code in remembered}
    titles = sorted({(f.code, f.title) for f in findings if f.code in codes})
    return IssueState(
        fingerprint=findings_fingerprint(findings),
        comment_id=comment_id,
        mapping=mapping,
        labels=tuple(sorted(set(labels))),
        findings=tuple(remembered),
        titles=tuple(dict(titles).items()),
        updated=updated,
        seen=seen,
        baseline=parse_baseline(baseline),
    )


def parse_state(value: Any) -> IssueState | None:
    """The stored state, or None when absent or not something this version wrote."""
    if not isinstance(value, Mapping) or value.get("v") != STATE_VERSION:
        return None
    try:
        if len(json.dumps(value, default=str)) > MAX_STATE_CHARS:
            return None
    except (TypeError, ValueError, RecursionError):
        return None
    fingerprint = value.get("fingerprint")
    comment_id = value.get("comment_id")
    if isinstance(comment_id, int) and not isinstance(comment_id, bool):
        comment_id = str(comment_id)
    mapping = value.get("mapping", "")
    labels = value.get("labels", [])
    findings = value.get("findings", {})
    titles = value.get("titles", {})
    updated = value.get("updated", "")
    seen = value.get("seen", "")
    if not isinstance(seen, str):
        seen = ""
    if not (isinstance(fingerprint, str) and _FINGERPRINT.match(fingerprint)):
        return None
    if comment_id is not None and not (isinstance(comment_id, str) and _COMMENT_ID.match(comment_id)):
        return None
    if not isinstance(mapping, str) or not isinstance(updated, str):
        return None
    if not (isinstance(labels, list) and all(_is_label(x) for x in labels)):
        return None
    if not (_is_str_map(findings) and _is_str_map(titles)):
        return None
    return IssueState(
        fingerprint=fingerprint,
        comment_id=comment_id,
        mapping=mapping,
        labels=tuple(sorted(set(labels))),
        findings=tuple(sorted(findings.items())),
        titles=tuple(sorted(titles.items())),
        updated=updated,
        seen=seen,
        baseline=parse_baseline(value.get("baseline")),
    )


def _is_date(x: Any) -> bool:
    if not isinstance(x, str) or len(x) != 10:
        return False
    try:
        date.fromisoformat(x)
    except ValueError:
        return False
    return True


def parse_baseline(value: Any) -> dict[str, Any] | None:
    """A recorded baseline in its stored shape, or None when absent or malformed (never an error:
    anyone who can edit the issue can edit the property)."""
    if not isinstance(value, Mapping):
        return None
    at, by, start, end = value.get("at"), value.get("by", ""), value.get("start"), value.get("end")
    children, points = value.get("children"), value.get("points")
    try:
        datetime.fromisoformat(at) if isinstance(at, str) else None
    except ValueError:
        return None
    if not isinstance(at, str) or not isinstance(by, str) or len(by) > 255:
        return None
    if not _is_date(end) or not (start is None or _is_date(start)):
        return None
    if children is not None and (isinstance(children, bool) or not isinstance(children, int) or children < 0):
        return None
    if points is not None and (isinstance(points, bool) or not isinstance(points, (int, float))):
        return None
    return {"at": at, "by": by, "start": start, "end": end, "children": children,
            "points": None if points is None else float(points)}


def people_updated(updated: datetime, state: IssueState | None) -> datetime:
    """When people last updated an issue whose Jira ``updated`` is ``updated``.

    pmo-jira's own label, comment and property writes bump ``updated``; without this a stale epic
    would look fresh the day after it was flagged. When ``updated`` falls just after our last write
    (within ``OWN_WRITE_WINDOW``, allowing ``CLOCK_SKEW``), the time recorded before that write wins.
    """
    if state is None or not state.updated or not state.seen:
        return updated
    try:
        wrote, seen = datetime.fromisoformat(state.updated), datetime.fromisoformat(state.seen)
    except ValueError:
        return updated
    if (wrote.tzinfo is None) != (updated.tzinfo is None) or (seen.tzinfo is None) != (updated.tzinfo is None):
        return updated
    return seen if wrote - CLOCK_SKEW <= updated <= wrote + OWN_WRITE_WINDOW else updated


def _is_label(x: Any) -> bool:
    return isinstance(x, str) and 0 < len(x) <= 255 and not any(c.isspace() for c in x)


def _is_str_map(x: Any) -> bool:
    return isinstance(x, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in x.items())
