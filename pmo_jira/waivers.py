"""Waivers: accepted exceptions with an owner, a reason and an expiry date.

A waived finding stays visible (outcome WAIVED, with its waiver); an expired waiver re-opens the
finding and says so, so exceptions cannot quietly become permanent. The JQL of a waiver is run
by the Jira source; here we only consume the keys it matched (``Snapshot.waived_keys``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date

from pmo_jira.findings import Finding, Outcome, Waiver


def _matches(waiver: Waiver, keys: frozenset[str], finding: Finding) -> bool:
    targets = {finding.item_key, finding.subject}
    # Jira keys are case-insensitive: a waiver for "web-1" covers WEB-1
    item = waiver.item.upper() if waiver.item is not None else None
    return (item is not None and item in {t.upper() for t in targets}) or bool(targets & keys)


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver],
                  waived_keys: Mapping[int, frozenset[str]], today: date) -> list[Finding]:
    """Mark failing findings a waiver covers. An active waiver wins over an expired one."""
    by_code: dict[str, list[tuple[Waiver, frozenset[str]]]] = defaultdict(list)
    for index, waiver in enumerate(waivers):
        by_code[waiver.standard].append((waiver, frozenset(waived_keys.get(index, ()))))
    out = []
    for finding in findings:
        candidates = by_code.get(finding.code) if finding.outcome is Outcome.FAIL else None
        matching = [w for w, keys in candidates or () if _matches(w, keys, finding)]
        active = [w for w in matching if not w.expired(today)]
        if active:
            w = max(active, key=lambda w: w.expires)
            finding = replace(finding, outcome=Outcome.WAIVED, waiver=w,
                              note=f"waived by {w.owner} until {w.expires.isoformat()}: {w.reason}")
        elif matching:
            w = max(matching, key=lambda w: w.expires)
            finding = replace(finding, note=f"waiver by {w.owner} expired {w.expires.isoformat()}: "
                                            f"finding re-opened")
        out.append(finding)
    return out
