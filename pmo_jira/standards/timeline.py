"""An epic's past, replayed from its changelog: its phase over time, the planning gate, its baseline.

Jira keeps every field change with its author and time, so nothing has to be recorded ahead of
time: the baseline is what the epic's dates and scope were at the moment it passed the planning
gate (first entered execution or a later phase under the mapping's own phase rules), and every
later move of the target end is a re-plan with an author. A site with baseline fields (Advanced
Roadmaps / Plans) can bind ``baseline_start`` / ``baseline_end`` instead; those win. Jira Cloud
keeps a limited changelog and admins prune history, so a sync records the baseline in the issue
state the first time it sees one (``baseline_record``), and later runs read it from there
(``stored_baseline``) rather than replaying a history that may no longer reach the gate.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pmo_jira.model import FieldValues, Issue, User, phase_index
from pmo_jira.state import STATE_PROPERTY, parse_state

_DATE_FORMATS = ("%d/%b/%y", "%d/%b/%Y", "%d %b %Y", "%b %d, %Y", "%Y-%m-%d %H:%M:%S.%f")


def change_date(raw: str | None, text: str | None) -> date | None:
    """A date from a changelog item: Jira's raw value (ISO) first, then the displayed string, whose
    format depends on the site's locale (``2026-03-01``, ``01/Mar/26``)."""
    for value in (raw, text):
        if not value:
            continue
        head = value.strip()[:10]
        try:
            return date.fromisoformat(head)
        except ValueError:
            pass
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(value.strip(), fmt).date()
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class Move:
    """One change of one field: when, by whom, from what to what (as people read it)."""

    at: datetime
    by: User | None
    before: str | None
    after: str | None
    before_date: date | None = None
    after_date: date | None = None

    @property
    def who(self) -> str:
        return self.by.display_name if self.by else "an unknown user"


def moves(issue: Issue, field: str) -> list[Move]:
    """Every change of ``field`` (logical or Jira name), oldest first; empty without history."""
    out = []
    for change in issue.changelog or ():
        for item in change.items:
            if item.field == field:
                out.append(Move(change.created, change.author, item.from_string, item.to_string,
                                change_date(item.from_value, item.from_string),
                                change_date(item.to_value, item.to_string)))
    return out


def date_at(issue: Issue, field: str, moment: datetime) -> date | None:
    """The value a date field had at ``moment``: the 'from' of its first change after it, else now."""
    for move in moves(issue, field):
        if move.at > moment:
            return move.before_date
    return issue.day(field)


@dataclass(frozen=True)
class Gate:
    """When (and by whom) an epic first reached ``phase`` or a later one."""

    phase: str
    at: datetime
    by: User | None  # None when it started there (created in that phase)


def past_states(issue: Issue, categories: dict[str, str]) -> list[tuple[datetime, User | None, dict[str, Any]]]:
    """(moment, who, what differed from now from then on), oldest first, from creation to now.

    The changes are undone one by one from the issue as it is now: each point holds the
    attributes (``status``, ``status_category``, ``labels``, ``fields``) whose values then
    differed, ``as_of`` builds the issue as it was. A status's category comes from
    ``categories`` (status name -> category key, as seen on the site) when it is not the current one.
    """
    undone: dict[str, Any] = {}
    points: list[tuple[datetime, User | None, dict[str, Any]]] = []
    for change in reversed(issue.changelog or ()):
        points.append((change.created, change.author, undone))
        undone = _undo(issue, undone, change.items, categories)
    points.append((issue.created, None, undone))
    points.reverse()
    return points


def _undo(issue: Issue, undone: dict[str, Any], items: Any, categories: dict[str, str]) -> dict[str, Any]:
    """``undone`` with one change's items undone too (a new dict: each point keeps its own)."""
    out = dict(undone)
    for item in items:
        if item.field == "status" and item.from_string:
            out["status"] = item.from_string
            out["status_category"] = categories.get(item.from_string.casefold(), "undefined")
        elif item.field == "labels":
            out["labels"] = tuple((item.from_string or "").split())
        elif item.field in issue.fields:
            if out.get("fields") is undone.get("fields"):  # copied only when a change touches them
                fields = undone.get("fields")
                if fields is not None:
                    out["fields"] = dict(fields)
                elif isinstance(issue.fields, FieldValues):
                    out["fields"] = issue.fields.as_dict()
                else:
                    out["fields"] = dict(issue.fields)
            out["fields"][item.field] = item.from_string
    return out


_ISSUE_FIELDS = tuple(f.name for f in dataclasses.fields(Issue))
_issue_values = operator.attrgetter(*_ISSUE_FIELDS)
_POSITION = {name: i for i, name in enumerate(_ISSUE_FIELDS)}


def as_of(issue: Issue, undone: dict[str, Any]) -> Issue:
    """The issue as it was at a point of ``past_states`` (itself when nothing differed)."""
    if not undone:
        return issue
    values = list(_issue_values(issue))  # field by field, not with dataclasses.replace: this runs often
    for name, value in undone.items():
        values[_POSITION[name]] = value
    return Issue(*values)


def gate_passed(issue: Issue, phase: str, phase_of: Callable[[Issue], str | None],
                categories: dict[str, str], *,
                phase_as_of: Callable[[Issue, dict[str, Any]], str | None] | None = None) -> Gate | None:
    """The first time the epic was in ``phase`` or later; None when it never was (or has no history).

    Its past states are classified by ``phase_of`` (the mapping's phase rules), or without being
    built by ``phase_as_of(issue, undone)`` when the rules can say it from what differed then.
    """
    if issue.changelog is None:
        return None
    for at, by, undone in past_states(issue, categories):
        now = phase_as_of(issue, undone) if phase_as_of is not None else phase_of(as_of(issue, undone))
        if now is not None and phase_index(now) >= phase_index(phase):
            return Gate(phase, at, by)
    return None


@dataclass(frozen=True)
class Baseline:
    """An epic's approved plan: dates and scope when it passed the planning gate (or a baseline field)."""

    source: str  # "gate" (replayed from the changelog), "field" (the site's baseline fields), "stored" (recorded)
    at: datetime | None
    by: User | None
    start: date | None
    end: date | None
    children: int | None  # scope at the baseline; None when the children were not read
    points: float | None


def baseline(issue: Issue, gate: Gate | None, children: list[Issue], has_field: Callable[[str], bool]) -> Baseline | None:
    """The epic's baseline: its baseline fields when the site has them and they are set, else its
    dates and scope at the planning gate. Scope at the gate counts the children that existed then."""
    at = gate.at if gate else None
    scope = [c for c in children if at is None or c.created <= at]
    count = len(scope) if at is not None else None
    points = sum(float(p) for c in scope if isinstance(p := c.fields.get("story_points"), (int, float))) \
        if at is not None else None
    end = issue.day("baseline_end") if has_field("baseline_end") else None
    if end is not None:
        return Baseline("field", at, gate.by if gate else None, issue.day("baseline_start"), end, count, points)
    if gate is None:
        return None
    return Baseline("gate", gate.at, gate.by, date_at(issue, "start", gate.at), date_at(issue, "target_end", gate.at),
                    count, points)


def stored_baseline(issue: Issue) -> Baseline | None:
    """The baseline pmo-jira recorded in the issue's state when the epic passed the gate, if any."""
    state = parse_state(issue.properties.get(STATE_PROPERTY))
    b = state.baseline if state else None
    if not b:
        return None
    by = User("", b["by"]) if b["by"] else None
    return Baseline("stored", datetime.fromisoformat(b["at"]), by,
                    date.fromisoformat(b["start"]) if b["start"] else None, date.fromisoformat(b["end"]),
                    b["children"], b["points"])


def baseline_record(base: Baseline) -> dict[str, Any] | None:
    """What the issue state keeps of a baseline taken at the gate (None for one that is not worth keeping:
    from the site's own fields, or without a target end yet)."""
    if base.source != "gate" or base.end is None or base.at is None:
        return None
    return {"at": base.at.isoformat(), "by": base.by.display_name if base.by else "",
            "start": base.start.isoformat() if base.start else None, "end": base.end.isoformat(),
            "children": base.children, "points": base.points}
