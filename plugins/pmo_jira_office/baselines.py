"""Baselines moved in a month: each epic's plan as every run kept it, compared month end against start.

Every recorded run keeps, per epic, its target end, its scope (children of the mapping's child
types, done ones included) and the approved change requests linked to it (``plan_of``, in the
run facts). The monthly pack compares the plan at the month's end with the plan at its start:
an epic whose target end moved or was cleared, or whose scope grew or shrank, *moved its
baseline*, by so many days and children. The move is *approved* when a change request linked to
the epic was approved during the month (approved at the end, not at the start); a change request
approved before the month covered an earlier move, so it is named but does not count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pmo_jira.model import Issue, Snapshot, natural_key
from pmo_jira.standards.builtin.change_control import ChangeControlOptions, ScheduleChangeControlled, ScopeChangeControlled

FACTS_KEY = "plans"
Plan = tuple[str | None, int, tuple[str, ...]]  # (target end ISO date, children, approved change requests)


def _options(mapping: Any) -> ChangeControlOptions:
    """How the site records approved change requests: the change-control standards' options, else defaults."""
    for code in (ScheduleChangeControlled.code, ScopeChangeControlled.code):
        conf = mapping.standard(code) if hasattr(mapping, "standard") else None
        if conf is not None:
            known = ChangeControlOptions.model_fields
            return ChangeControlOptions(**{k: v for k, v in conf.options.items() if k in known})
    return ChangeControlOptions()


def plans_of(snapshots: Sequence[Snapshot], mapping: Any) -> dict[tuple[str, str], Plan]:
    """(site, key) -> (target end, children, approved change requests) of every epic read."""
    options = _options(mapping)
    cr_types = {t.casefold() for t in options.change_request_types}
    cr_links = {t.casefold() for t in options.change_link_types}
    approved = {s.casefold() for s in options.approved_statuses}
    types = mapping.issue_types
    any_child = not types.child
    kinds: dict[str, str | None] = {}
    out: dict[tuple[str, str], Plan] = {}
    for snap in snapshots:
        site = snap.site.name
        by_key: dict[str, Issue] = {}
        epics: list[Issue] = []
        children: dict[str, int] = {}
        for issue in snap.issues:
            kind = kinds.get(issue.issue_type, "?")
            if kind == "?":
                kind = kinds[issue.issue_type] = types.kind_of(issue.issue_type)
            if kind == "epic":
                epics.append(issue)
            elif issue.parent_key and (kind == "child" or (any_child and kind is None)):
                children[issue.parent_key] = children.get(issue.parent_key, 0) + 1
            if issue.issue_type.casefold() in cr_types:
                by_key[issue.key] = issue
        for epic in epics:
            crs = tuple(sorted({link.other_key for link in epic.links
                          if (cr := by_key.get(link.other_key)) is not None and cr.status.casefold() in approved
                          and (not cr_links or link.type_name.casefold() in cr_links)}))
            end = epic.fields.get("target_end")
            out[(site, epic.key)] = (end.isoformat() if isinstance(end, date) else None, children.get(epic.key, 0), crs)
    return out


def plans_facts(plans: dict[tuple[str, str], Plan]) -> dict[str, list[Any]]:
    """The plans as kept in the run facts: ``"site<TAB>key"`` -> [target end, children, change requests]."""
    return {f"{site}\t{key}": [end, children, list(crs)] for (site, key), (end, children, crs) in plans.items()}


def plans_from(facts: dict[str, Any] | None) -> dict[tuple[str, str], Plan] | None:
    """The plans a run kept (None: it kept none, e.g. recorded before baselines were kept)."""
    if not facts or FACTS_KEY not in facts:
        return None
    out: dict[tuple[str, str], Plan] = {}
    for ref, (end, children, crs) in facts[FACTS_KEY].items():
        site, key = ref.split("\t", 1)
        out[(site, key)] = (end, int(children), tuple(crs))
    return out


@dataclass(frozen=True)
class BaselineMove:
    site: str
    key: str
    end_before: date | None
    end_after: date | None
    children_before: int
    children_after: int
    approved_in_month: tuple[str, ...]  # change requests approved during the month
    approved_before: tuple[str, ...]  # approved before the month (they covered an earlier move)
    summary: str = ""  # as the report's run reads it (empty: the epic is no longer read)
    url: str = ""

    @property
    def days(self) -> int | None:
        """Days the target end moved (later is positive); None when it was cleared."""
        if self.end_before is None or self.end_after is None:
            return None
        return (self.end_after - self.end_before).days

    @property
    def scope(self) -> int:
        return self.children_after - self.children_before

    @property
    def approved(self) -> bool:
        return bool(self.approved_in_month)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def baseline_moves(before: dict[tuple[str, str], Plan], after: dict[tuple[str, str], Plan],
                   sites: Iterable[str]) -> list[BaselineMove]:
    """Epics on ``sites`` (those the month's end audited) whose target end or scope moved.

    An epic first given a target end in the month got its first plan, not a moved one; an epic
    new in the month has no baseline to move.
    """
    checked = set(sites)
    out = []
    for (site, key), (end, children, crs) in sorted(after.items(), key=lambda kv: (kv[0][0], natural_key(kv[0][1]))):
        was = before.get((site, key))
        if site not in checked or was is None:
            continue
        moved_end = was[0] is not None and was[0] != end
        if not moved_end and was[1] == children:
            continue
        earlier = set(was[2])
        out.append(BaselineMove(site, key, _day(was[0]), _day(end), was[1], children,
                                tuple(c for c in crs if c not in earlier), tuple(c for c in crs if c in earlier)))
    return out


__all__ = ["FACTS_KEY", "BaselineMove", "baseline_moves", "plans_facts", "plans_from", "plans_of"]
