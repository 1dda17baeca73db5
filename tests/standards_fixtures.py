"""Builders for hand-made issues, snapshots and mappings used by the standards and engine tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import yaml

from pmo_jira.findings import AuditResult, Finding
from pmo_jira.mapping import load_mapping
from pmo_jira.mapping.schema import Mapping
from pmo_jira.model import Flavour, Issue, IssueLink, Project, Site, Snapshot, User
from pmo_jira.run.audit import run_audit

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
SITE = Site("acme", "https://acme.example.net", Flavour.CLOUD)
ALL_FIELDS = frozenset({"owner", "start", "target_end", "story_points", "phase", "description", "due", "assignee",
                        "risk_impact", "risk_likelihood", "risk_mitigation"})
ANN = User("acc-ann", "Ann Lee")
GONE = User("acc-bob", "Bob Gone", active=False)
CHARTER = "h2. Objective\nCut checkout time in half.\nh2. Scope\nWeb only."

_STATUS = {  # status name -> category
    "Idea": "new", "Planning": "new", "To Do": "new", "Open": "new",
    "In Progress": "indeterminate", "In Review": "indeterminate", "Blocked": "indeterminate",
    "Mitigating": "indeterminate", "Done": "done", "Closed": "done",
}
_PHASE_STATUS = {"Initiation": "Idea", "Planning": "Planning", "Execution": "In Progress", "Closing": "Done"}


def days_ago(n: int) -> datetime:
    return NOW - timedelta(days=n)


def day(offset: int) -> date:
    """A date relative to TODAY: day(-3) is three days ago."""
    return TODAY + timedelta(days=offset)


def issue(key: str, issue_type: str, *, status: str = "To Do", fields: dict[str, Any] | None = None,
          **kw: Any) -> Issue:
    kw.setdefault("created", days_ago(60))
    kw.setdefault("updated", days_ago(1))
    return Issue(site=SITE.name, key=key, id=str(abs(hash(key)) % 100000), project_key=key.split("-")[0],
                 issue_type=issue_type, hierarchy_level=1 if issue_type == "Epic" else 0,
                 summary=f"{issue_type} {key}", status=status, status_category=_STATUS[status],
                 fields=fields or {}, browse=f"{SITE.url}/browse/", **kw)


def epic(key: str = "WEB-1", phase: str = "Execution", *, status: str | None = None, **fields: Any) -> Issue:
    """An epic that passes every built-in standard in its phase (bar the risk register) unless told otherwise.

    Keyword arguments are logical fields (owner, start, target_end ...) except the Issue attributes
    description, updated, labels, links, status_category_changed, properties.
    """
    attrs = {k: fields.pop(k) for k in ("description", "updated", "labels", "links", "status_category_changed",
                                        "properties") if k in fields}
    attrs.setdefault("description", CHARTER)
    values = {"owner": ANN, "start": day(-30), "target_end": day(60), "phase": phase, **fields}
    return issue(key, "Epic", status=status or _PHASE_STATUS[phase], fields=values, **attrs)


def child(key: str, parent: str, *, status: str = "To Do", points: float | None = 3.0, **kw: Any) -> Issue:
    fields = {"story_points": points}
    fields.update(kw.pop("fields", {}))
    return issue(key, kw.pop("issue_type", "Story"), status=status, fields=fields, parent_key=parent, **kw)


def risk(key: str, epic_key: str | None = None, *, impact: str = "High", mitigation: str | None = "Pair reviews",
         owner: User | None = ANN, status: str = "Open", **kw: Any) -> Issue:
    links = (IssueLink("Relates", "outward", "relates to", epic_key, "Epic"),) if epic_key else ()
    return issue(key, "Risk", status=status, assignee=owner, links=links,
                 fields={"risk_impact": impact, "risk_mitigation": mitigation}, **kw)


def project(key: str = "WEB", *, lead: User | None = ANN, category: str | None = "Digital") -> Project:
    return Project(site=SITE.name, key=key, id="1", name=f"Project {key}", category=category, lead=lead,
                   url=f"{SITE.url}/browse/{key}")


def snapshot(issues: Iterable[Issue], *, projects: Iterable[Project] | None = None,
             fields: frozenset[str] = ALL_FIELDS, waived_keys: dict[int, frozenset[str]] | None = None,
             site: Site = SITE) -> Snapshot:
    issues = tuple(issues)
    if projects is None:
        projects = [project(k) for k in sorted({i.project_key for i in issues})]
    return Snapshot(site=site, projects=tuple(projects), issues=issues, fetched_at=NOW,
                    available_fields=fields, waived_keys=waived_keys or {})


def mapping_data(standards: list[dict[str, Any]] | None = None, waivers: list[dict[str, Any]] | None = None,
                 **extra: Any) -> dict[str, Any]:
    """A mapping as a dict, shaped like mappings/sandbox.yaml: epic phases come from the 'phase' field."""
    data = {
        "version": 1,
        "name": "test",
        "issue_types": {"epic": ["Epic"], "child": ["Story", "Task", "Bug"], "risk": ["Risk"]},
        "fields": {"owner": "assignee", "start": "Start date", "target_end": "Target end",
                   "story_points": "Story point estimate", "phase": "PMO Phase",
                   "risk_impact": "Risk Impact", "risk_likelihood": "Risk Likelihood",
                   "risk_mitigation": "Mitigation"},
        "phases": {
            "epic": [{"when": {"field": "phase", "in": [p.title()]}, "phase": p}
                     for p in ("initiation", "planning", "execution", "closing")],
            "project": [{"when": {"epics": "least_advanced_open"}}],
        },
        "standards": standards if standards is not None else [],
        "waivers": waivers or [],
    }
    data.update(extra)
    return data


def mapping(standards: list[dict[str, Any]] | None = None, waivers: list[dict[str, Any]] | None = None,
            **extra: Any) -> Mapping:
    return Mapping.model_validate(mapping_data(standards, waivers, **extra))


def only(code: str, **entry: Any) -> Mapping:
    """A mapping that enables a single standard."""
    return mapping([{"code": code, **entry}])


def audit(issues: Iterable[Issue], m: Mapping, **snap: Any) -> AuditResult:
    return run_audit([snapshot(issues, **snap)], m, today=TODAY, now=NOW)


def findings(issues: Iterable[Issue], code: str, **snap: Any) -> list[Finding]:
    """The findings of one standard, run alone with its default options."""
    return [f for f in audit(issues, only(code), **snap).findings if f.code == code]


def load(tmp_path: Any, data: dict[str, Any], name: str = "site.yaml") -> Mapping:
    """Write the mapping dict as a YAML file and load it the way the CLI does (file, lines, hash)."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_mapping(path)
