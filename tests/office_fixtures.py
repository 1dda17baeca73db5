"""A two-site portfolio for the resource, strategy and monthly views, worked out on paper.

Today is Wednesday 2026-11-25 (standards_fixtures.NOW). Capacity: 5 points per person per week,
so a five-working-day week is 5 points; 2026-11-26 and 2026-12-24 are public holidays.

- Site "acme" (Cloud): Ann (acc-ann) owns WEB-1 (execution, rank 1: WSJF (8+8+4)/2 = 10) and
  has WEB-11 (20 points, due 2026-12-04) and WEB-12 (3 points, due 2027-02-26); WEB-13 and WEB-14
  are unassigned (WEB-1 therefore has 2 unassigned children). Cy (acc-cy) has WEB-21 (2 points) on
  WEB-2 (execution, WSJF (1+1+1)/3 = 1, serves no objective).
- Site "beta" (Data Center): Ann is JIRAUSER1 there (mapped as one person "Ann Lee"); she has
  OPS-11 (5 points, due 2026-12-04) on OPS-1 (planning, WSJF (5+3+1)/3 = 3, objective OBJ-2).

Ann's load is 20 + 5 points over the 7 working days to 2026-12-04 (2026-11-26 is a holiday); 3 of
them are in November: 25 x 3/7 = 10.7 points plus a sliver of WEB-12 against a capacity of 3:
over-allocated in 2026-11. Cy Young has unmapped accounts on both sites (acc-cy on each): two
people, shown with their site.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pmo_jira.model import Flavour, IssueLink, Site, User
from pmo_jira.run.audit import run_audit
from pmo_jira.standards.registry import plugin_registry

from standards_fixtures import NOW, TODAY, child, day, epic, mapping, mapping_data, snapshot

BETA = Site("beta", "https://beta.example.net", Flavour.DC)
ANN = User("acc-ann", "Ann Lee")
ANN_DC = User("JIRAUSER1", "Ann Lee (DC)")
CY = User("acc-cy", "Cy Young")

RESOURCES = {
    "capacity": {"default": 5, "holidays": ["2026-11-26", "2026-12-24"]},
    "people": [{"name": "Ann Lee", "accounts": {"acme": "acc-ann", "beta": "JIRAUSER1"}, "team": "Core"}],
    "teams": {"Core": {"members": ["Ann Lee", "acc-cy"]}},
    "max_epics": 1,
}
STRATEGY = {
    "objectives": {"source": "link", "link_type": "Supports", "names": {"OBJ-1": "Grow digital sales",
                                                                       "OBJ-2": "Run cheaper"}},
    "score": {"method": "wsjf"},
    "alignment": {"top": 0.34, "starved_below": 2, "busy_from": 1},
}


def supports(key: str) -> tuple[IssueLink, ...]:
    return (IssueLink("Supports", "outward", "supports", key, "Objective"),)


def wsjf(bv: float, tc: float, rr: float, size: float) -> dict[str, float]:
    return {"business_value": bv, "time_criticality": tc, "risk_reduction": rr, "job_size": size}


def acme_issues() -> list:
    return [
        epic("WEB-1", "Execution", owner=ANN, target_end=date(2027, 3, 31), links=supports("OBJ-1"), **wsjf(8, 8, 4, 2)),
        child("WEB-11", "WEB-1", status="In Progress", points=20.0, assignee=ANN, due=date(2026, 12, 4)),
        child("WEB-12", "WEB-1", points=3.0, assignee=ANN, due=date(2027, 2, 26)),
        child("WEB-13", "WEB-1", points=2.0),
        child("WEB-14", "WEB-1", points=None),
        epic("WEB-2", "Execution", owner=CY, target_end=day(60), **wsjf(1, 1, 1, 3)),
        child("WEB-21", "WEB-2", points=2.0, assignee=CY, due=date(2027, 1, 15)),
    ]


def beta_issues() -> list:
    return [epic("OPS-1", "Planning", owner=CY, target_end=date(2027, 1, 29), links=supports("OBJ-2"),
                 **wsjf(5, 3, 1, 3)),
            child("OPS-11", "OPS-1", points=5.0, assignee=ANN_DC, due=date(2026, 12, 4))]


def snapshots() -> list:
    from dataclasses import replace

    beta = [replace(i, site="beta", browse=f"{BETA.url}/browse/") for i in beta_issues()]
    return [snapshot(acme_issues()), snapshot(beta, site=BETA)]


def office_mapping(standards: list[dict[str, Any]] | None = None, **sections: Any):
    """The test mapping with the plugin's sections (``resources:``, ``strategy:``) as a file would hold them."""
    data = {"resources": RESOURCES, "strategy": STRATEGY, **sections}
    fields = {f: f for f in ("business_value", "time_criticality", "risk_reduction", "job_size")}
    return mapping(standards if standards is not None else [{"code": "PMO-GOV-001"}],
                   fields={**mapping_data()["fields"], **fields}, **{k: v for k, v in data.items() if v is not None})


def audit_all(m: Any = None, snaps: list | None = None, now=NOW):
    m = m or office_mapping()
    snaps = snaps or snapshots()
    return run_audit(snaps, m, today=now.date(), now=now, registry=plugin_registry()), snaps, m


__all__ = ["NOW", "TODAY", "ANN", "CY", "office_mapping", "snapshots", "audit_all"]
