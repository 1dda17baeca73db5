"""A small hand-built portfolio whose every roll-up figure can be worked out on paper.

Projects (site "acme", today = 2026-11-25):

- WEB (category Digital)
  - WEB-1 execution, target end 10 days ago, updated 3 days ago; children: two done (3 + 5
    points), one in progress (2 points), one to do without estimate -> 2/4 = 50 % by count,
    8/10 = 80 % by estimate; risk WEB-20 (High, open, no mitigation) -> 1 unmanaged high risk.
  - WEB-2 planning, target end in 30 days, updated 20 days ago, no children, no risk
    -> an epic without a risk register.
  - WEB-3 closing (Done), target end 40 days ago -> not late (done).
- OPS (category Operations)
  - OPS-1 execution, target end 45 days ago, updated yesterday; one done child (no estimate);
    risk OPS-20 (High, owned, mitigated) -> managed.
- LAB (no category -> Uncategorised)
  - LAB-1 initiation, no target end, updated 40 days ago.
"""

from __future__ import annotations

from typing import Any

from pmo_jira.model import Snapshot
from pmo_jira.reports import ReportContext
from pmo_jira.run.audit import run_audit

from standards_fixtures import NOW, TODAY, child, day, days_ago, epic, mapping, project, risk, snapshot

ALL_STANDARDS = [{"code": c} for c in (
    "PMO-GOV-001", "PMO-PLN-001", "PMO-INI-001", "PMO-PLN-002", "PMO-EXE-001", "PMO-EXE-002",
    "PMO-PLN-003", "PMO-RSK-001", "PMO-RSK-002", "PMO-CLS-001", "PMO-EXE-003", "PMO-GOV-002")]


def portfolio_snapshot() -> Snapshot:
    issues = [
        epic("WEB-1", "Execution", target_end=day(-10), updated=days_ago(3)),
        child("WEB-11", "WEB-1", status="Done", points=3.0),
        child("WEB-12", "WEB-1", status="Done", points=5.0),
        child("WEB-13", "WEB-1", status="In Progress", points=2.0),
        child("WEB-14", "WEB-1", status="To Do", points=None),
        risk("WEB-20", "WEB-1", impact="High", mitigation=None),
        epic("WEB-2", "Planning", target_end=day(30), updated=days_ago(20)),
        epic("WEB-3", "Closing", target_end=day(-40), updated=days_ago(50)),
        epic("OPS-1", "Execution", target_end=day(-45), updated=days_ago(1)),
        child("OPS-11", "OPS-1", status="Done", points=None),
        risk("OPS-20", "OPS-1", impact="High", mitigation="Second supplier"),
        epic("LAB-1", "Initiation", target_end=None, updated=days_ago(40)),
    ]
    projects = [project("WEB", category="Digital"), project("OPS", category="Operations"),
                project("LAB", category=None)]
    return snapshot(issues, projects=projects)


def portfolio_mapping(**portfolio: Any):
    """The test mapping with every built-in standard, and ``portfolio`` settings if given."""
    return mapping(ALL_STANDARDS, **({"portfolio": portfolio} if portfolio else {}))


def portfolio_context(history=None, *, snapshots=None, m=None, now=NOW) -> ReportContext:
    m = m or portfolio_mapping()
    snapshots = snapshots or [portfolio_snapshot()]
    result = run_audit(snapshots, m, today=now.date(), now=now)
    return ReportContext(result=result, snapshots=snapshots, mapping=m, now=now, history=history)


__all__ = ["NOW", "TODAY", "portfolio_snapshot", "portfolio_mapping", "portfolio_context"]
