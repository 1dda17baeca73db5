"""Simulated nightly runs for the history: a portfolio where a small share of issues changes.

``nights(issues=..., nights=..., churn=0.01)`` yields one ``AuditResult`` per night. Every issue
is an item on one of two sites with up to four possible findings; each night ``churn`` of the
issues change: a finding opens or is fixed, gets waived, changes severity, or the item moves
phase. The benchmarks use it too (bench/bench_history.py), so tests and figures see the same runs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

from pmo_jira.findings import AuditResult, Outcome, Severity

from reports_fixtures import STARTED, WAIVER, finding, item, result

CODES = ("PMO-GOV-001", "PMO-PLN-001", "PMO-PLN-002", "PMO-RSK-001")
PHASES = ("initiation", "planning", "execution", "closing", None)
SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
SITES = ("cloud", "dc")


def nights(*, issues: int, nights: int, churn: float = 0.01, seed: int = 7,
           mapping: str = "sandbox") -> Iterator[tuple[AuditResult, int]]:
    """``(result, changed findings that night)`` for each night, oldest first."""
    rng = random.Random(seed)
    keys = [(SITES[i % 2], f"P{i % 7}-{i + 1}") for i in range(issues)]
    phase = {k: rng.choice(PHASES) for k in keys}
    # (site, key, code) -> (severity, outcome); absent: not found
    found = {(s, k, c): (rng.choice(SEVERITIES), Outcome.FAIL)
             for s, k in keys for c in CODES if rng.random() < 0.3}
    changed = len(found)
    for night in range(nights):
        if night:
            changed = 0
            for site, key in rng.sample(keys, max(1, int(issues * churn))):
                code = rng.choice(CODES)
                what = rng.random()
                slot = (site, key, code)
                if what < 0.15:
                    phase[(site, key)] = rng.choice(PHASES)
                    continue
                changed += 1
                if slot not in found:
                    found[slot] = (rng.choice(SEVERITIES), Outcome.FAIL)
                elif what < 0.55:
                    del found[slot]
                elif what < 0.7:
                    found[slot] = (found[slot][0], Outcome.WAIVED)
                elif what < 0.8:
                    found[slot] = (found[slot][0], Outcome.ERROR)
                else:
                    found[slot] = (rng.choice(SEVERITIES), found[slot][1])
        started = STARTED + timedelta(days=night)
        yield result(
            [finding(code, key, site=site, severity=sev, outcome=outcome, phase=phase[(site, key)],
                     waiver=WAIVER if outcome is Outcome.WAIVED else None)
             for (site, key, code), (sev, outcome) in sorted(found.items(), key=lambda x: x[0])],
            [item(key, phase[(site, key)], site=site) for site, key in keys],
            started=started, mapping=mapping, sites=SITES), changed
