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


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver],
                  waived_keys: Mapping[int, frozenset[str]], today: date) -> list[Finding]:
    """Mark failing findings a waiver covers. An active waiver wins over an expired one.

    A waiver covers a finding of its standard whose item or subject is its ``item`` (Jira keys
    are case-insensitive: a waiver for "web-1" covers WEB-1) or one of the keys its JQL matched.
    The waivers are indexed by (standard, key) first, so each finding costs one look-up or two
    whatever the number of waivers and of keys their JQL matched.
    """
    by_item: dict[tuple[str, str], list[int]] = defaultdict(list)
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, waiver in enumerate(waivers):
        if waiver.item is not None:
            by_item[(waiver.standard, waiver.item.upper())].append(index)
        for key in waived_keys.get(index, ()):
            by_key[(waiver.standard, key)].append(index)
    out = []
    for finding in findings:
        if finding.outcome is Outcome.FAIL and (by_item or by_key):
            code, targets = finding.code, {finding.item_key, finding.subject}
            found = {i for t in targets for i in (*by_item.get((code, t.upper()), ()), *by_key.get((code, t), ()))}
            matching = [waivers[i] for i in sorted(found)]
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
