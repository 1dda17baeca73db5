"""The report contract and the pieces every format shares.

A renderer turns one ``AuditResult`` into text, and does nothing else: no printing, no files, no
clock of its own (``now`` is passed in). Every format sorts what it emits, so that the same
result always gives byte-identical output: golden files, diffs between runs and CI caches rely on
that.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from operator import attrgetter
from typing import Any, Protocol, runtime_checkable

from pmo_jira.findings import AuditResult, Finding, Outcome, Severity
from pmo_jira.model import PHASES, ClassifiedItem, natural_key


@runtime_checkable
class AuditFormat(Protocol):
    """What a report format is: one pure method.

    Optional extras a renderer may define: ``extension`` (the format's usual file suffix, e.g.
    "json"; descriptive, nothing picks file names by it), ``for_terminal(*, color, width) ->
    AuditFormat`` (used by ``get_renderer``) and ``render_pieces(result, *, now) -> Iterable[str]``
    (the same text in pieces, which a report saved to a file is written from as they come, so a
    large report is never held whole).
    """

    def render(self, result: AuditResult, *, now: datetime) -> str: ...


def finding_sort_key(f: Finding) -> tuple[Any, ...]:
    """Site, project, item; worst first inside an item; then code and subject (always total)."""
    return (*_finding_order(f), f.fingerprint)


def _finding_order(f: Finding) -> tuple[Any, ...]:
    """``finding_sort_key`` but the fingerprint, which only orders findings this leaves equal."""
    return (f.site, f.project_key, natural_key(f.item_key), -_RANK[f.severity], f.code,
            natural_key(f.subject), _OUTCOME_RANK[f.outcome])


def item_sort_key(i: ClassifiedItem) -> tuple[Any, ...]:
    return (i.site, i.project_key, i.kind != "project", natural_key(i.key))


_OUTCOME_ORDER = (Outcome.ERROR, Outcome.FAIL, Outcome.WAIVED, Outcome.NOT_APPLICABLE)
_OUTCOME_RANK = {o: n for n, o in enumerate(_OUTCOME_ORDER)}
_RANK = {s: s.rank for s in Severity}


def sorted_findings(result: AuditResult) -> list[Finding]:
    """The findings in ``finding_sort_key`` order. Each finding's key is worked out once, and its
    fingerprint (a hash) only for findings the rest of the key leaves equal: tens of thousands
    of them held at once were a large report's peak of memory."""
    findings = result.findings
    keys = [_finding_order(f) for f in findings]
    order = sorted(range(len(findings)), key=keys.__getitem__)
    out = [findings[i] for i in order]
    start = 0
    while start < len(out):
        key, end = keys[order[start]], start + 1
        while end < len(out) and keys[order[end]] == key:
            end += 1
        if end - start > 1:
            out[start:end] = sorted(out[start:end], key=lambda f: f.fingerprint)
        start = end
    return out


def sorted_items(result: AuditResult) -> list[ClassifiedItem]:
    return sorted(result.items, key=item_sort_key)


def items_without_findings(result: AuditResult) -> list[ClassifiedItem]:
    """Classified items no standard said anything about: the passes of the run."""
    flagged = {(f.site, f.item_key) for f in result.findings}
    return [i for i in sorted_items(result) if (i.site, i.key) not in flagged]


@dataclass(frozen=True)
class Summary:
    """The counts every format leads with. ``open_by_severity`` counts FAIL and ERROR only."""

    findings: int
    open: int
    worst: Severity | None
    open_by_severity: dict[Severity, int]
    by_outcome: dict[Outcome, int]
    items: int
    unmapped: int
    items_by_phase: dict[str, int]  # phase -> count, "unmapped" for items no rule matched


def summarize(result: AuditResult) -> Summary:
    open_by_severity = {s: 0 for s in reversed(Severity)}
    by_outcome = {o: 0 for o in Outcome}
    for (outcome, severity, counts), n in Counter(map(attrgetter("outcome", "severity", "counts"),
                                                       result.findings)).items():
        by_outcome[outcome] += n
        if counts:
            open_by_severity[severity] += n
    phases = Counter(map(attrgetter("phase"), result.items))  # None: no rule matched
    counted: dict[str, int] = {}
    for phase, n in phases.items():
        counted[phase or "unmapped"] = counted.get(phase or "unmapped", 0) + n
    extra = sorted(set(counted) - set(PHASES) - {"unmapped"})  # phases a mapping added
    by_phase = {p: counted.get(p, 0) for p in (*PHASES, *extra, "unmapped")}
    return Summary(
        findings=len(result.findings), open=sum(open_by_severity.values()),
        worst=max((s for s, n in open_by_severity.items() if n), key=_RANK.__getitem__, default=None),
        open_by_severity=open_by_severity, by_outcome=by_outcome, items=len(result.items),
        unmapped=phases[None], items_by_phase=by_phase,
    )


def iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a Z, seconds precision: the one timestamp shape every format uses."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def duration_seconds(result: AuditResult) -> float:
    return round(max((result.finished - result.started).total_seconds(), 0.0), 3)


def one_line(text: str) -> str:
    """Collapse whitespace and drop control characters, so text from Jira can neither break a
    row-based format nor smuggle terminal escape sequences into a report."""
    return " ".join("".join(c for c in text if c.isprintable() or c.isspace()).split())
