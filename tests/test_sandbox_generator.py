"""The generated portfolio: deterministic, believable, and non-compliant where it should be."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from pmo_jira.sandbox.generator import REFERENCE_NOW, generate


def _snapshot(store):
    return [(i.key, i.type, i.summary, i.status, i.assignee, i.created, i.updated, i.start, i.target_end,
             i.points, i.phase, i.parent, tuple(i.labels or ()), i.description) for i in store.issues]


def test_same_seed_same_site_other_seed_other_site():
    assert _snapshot(generate("cloud", 300, seed=3)) == _snapshot(generate("cloud", 300, seed=3))
    assert _snapshot(generate("cloud", 300, seed=3)) != _snapshot(generate("cloud", 300, seed=4))
    assert _snapshot(generate("cloud", 300, seed=3)) == _snapshot(generate("dc", 300, seed=3))


@pytest.mark.parametrize("n", [0, 30, 61, 1000])
def test_exactly_the_requested_number_of_issues(n):
    store = generate("cloud", n, seed=1)
    assert len(store.issues) == n
    assert len({i.key for i in store.issues}) == n


def test_portfolio_structure():
    store = generate("cloud", 600, seed=1)
    categories = {c.name for c in store.categories.values()}
    assert categories == {"Digital", "Operations", "Infrastructure", "Ideas"}
    used = Counter(store.categories[p.category_id].name if p.category_id else None for p in store.projects.values())
    assert used[None] == 1 and all(used[c] for c in categories)
    assert [p.key for p in store.projects.values() if not p.browsable] == ["VAULT"]
    epics = [i for i in store.issues if i.type == "Epic"]
    assert {e.status for e in epics} >= {"Idea", "Proposed", "Planning", "Approved", "In Progress", "Done"}
    assert {e.phase for e in epics if e.phase} == {"Initiation", "Planning", "Execution", "Closing"}
    types = Counter(i.type for i in store.issues)
    assert all(types[t] for t in ("Epic", "Story", "Task", "Bug", "Risk"))
    for risk in (i for i in store.issues if i.type == "Risk"):
        (link,) = risk.links
        assert link.type == "Relates" and link.outward and store.by_key[link.other].type == "Epic"
        assert risk.impact and risk.likelihood
    children = [i for i in store.issues if i.type in ("Story", "Task", "Bug")]
    assert all(store.by_key[c.parent].type == "Epic" for c in children)
    ideas = [e for e in epics if store.projects[e.project].category_id == "10003"]
    assert Counter(e.status for e in ideas).most_common(1)[0][0] in ("Idea", "Proposed")


def test_a_realistic_share_of_work_breaks_the_standards():
    store = generate("cloud", 3000, seed=1)
    now = store.now
    by_parent = Counter(i.parent for i in store.issues if i.parent)
    risks_of = Counter(link.other for i in store.issues if i.type == "Risk" for link in i.links)
    bad: dict[str, set[str]] = {}

    def flag(rule, rec):
        bad.setdefault(rule, set()).add(rec.key)

    for rec in store.issues:
        open_ = rec.status_category != "done"
        if rec.assignee is None and open_ and rec.type != "Sub-task":
            flag("owner", rec)
        if rec.type == "Epic":
            if rec.status not in ("Idea", "Proposed") and (rec.start is None or rec.target_end is None):
                flag("dates", rec)
            if "Objective" not in rec.description:
                flag("objective", rec)
            if rec.status in ("In Progress",) and now - rec.updated > timedelta(days=14):
                flag("stale", rec)
            if open_ and rec.target_end and rec.target_end < now.date():
                flag("overdue", rec)
            if rec.status not in ("Idea", "Proposed") and not risks_of[rec.key]:
                flag("no risks", rec)
            if rec.status == "Blocked" and now - rec.status_changed > timedelta(days=10):
                flag("blocked", rec)
            if not open_ and by_parent[rec.key] and any(
                    c.parent == rec.key and c.status_category != "done" for c in store.issues):
                flag("closed with open children", rec)
        elif rec.type == "Risk":
            if open_ and rec.impact in ("High", "Critical") and not rec.mitigation:
                flag("risk without mitigation", rec)
        elif rec.type in ("Story", "Task", "Bug"):
            epic = store.by_key[rec.parent]
            if rec.target_end and epic.target_end and rec.target_end > epic.target_end:
                flag("outside parent dates", rec)
            if rec.type != "Bug" and rec.points is None:
                flag("unestimated", rec)
            if rec.status == "Blocked" and now - rec.status_changed > timedelta(days=10):
                flag("blocked", rec)
            if rec.status_category == "indeterminate" and now - rec.updated > timedelta(days=14):
                flag("stale", rec)
    assert set(bad) == {"owner", "dates", "objective", "stale", "overdue", "no risks", "blocked",
                        "closed with open children", "risk without mitigation", "outside parent dates", "unestimated"}
    share = len(set().union(*bad.values())) / len(store.issues)
    assert 0.25 <= share <= 0.40  # about a third of the issues


def test_dates_follow_now():
    later = REFERENCE_NOW + timedelta(days=100)
    a, b = generate("cloud", 200, seed=2), generate("cloud", 200, seed=2, now=later)
    for x, y in zip(a.issues, b.issues):
        assert y.created - x.created == timedelta(days=100)
        assert x.updated <= a.now and x.created <= x.status_changed <= x.updated
        if x.target_end:
            assert y.target_end - x.target_end == timedelta(days=100)
