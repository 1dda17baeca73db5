"""Work item -> PMO phase, by the mapping's ordered rules.

The first rule that matches decides and the item records which rule that was, so a surprising
phase can be traced to one line of the mapping. An item no rule matches stays unmapped (phase
None) with the facts the rules looked at: pmo-jira never guesses a phase.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from collections.abc import Mapping as MappingOf
from datetime import date, datetime
from typing import Any

from pmo_jira.mapping.schema import EpicWhen, Mapping, ProjectWhen
from pmo_jira.model import PHASES, ClassifiedItem, Issue, Project, Snapshot, User, phase_index


def classify(snapshot: Snapshot, mapping: Mapping) -> list[ClassifiedItem]:
    """Classify the snapshot's epics (in snapshot order), then its projects (in snapshot order)."""
    # a site has a handful of issue types: each type's kind is looked up once, not once per issue
    epic_types = {t for t in {i.issue_type for i in snapshot.issues} if mapping.issue_types.kind_of(t) == "epic"}
    epics = [i for i in snapshot.issues if i.issue_type in epic_types]
    rules = EpicRules(mapping)
    epic_items = [rules.classify(e) for e in epics]
    return epic_items + classify_projects(snapshot, mapping, epic_items, {e.key: e.is_done for e in epics})


def classify_projects(snapshot: Snapshot, mapping: Mapping, epic_items: Sequence[ClassifiedItem],
                      done: MappingOf[str, bool]) -> list[ClassifiedItem]:
    """Classify the snapshot's projects (in snapshot order), given its classified epics and whether
    each (by key) is done."""
    by_project: dict[str, list[tuple[ClassifiedItem, bool]]] = {}
    for item in epic_items:
        by_project.setdefault(item.project_key, []).append((item, done[item.key]))
    return [classify_project(p, mapping, by_project.get(p.key, [])) for p in snapshot.projects]


# --- epics --------------------------------------------------------------------------------------


_ABSENT = object()  # a field the site lacks (unlike one it has, left empty: None)
_DECIDED_MAX = 4096  # distinct facts remembered; epics past it are decided afresh


class _When:
    """One rule's condition with its wanted values normalised once, not once per epic."""

    __slots__ = ("kind", "labels", "statuses", "categories", "field", "wanted", "any_wanted")

    def __init__(self, when: EpicWhen):
        self.labels = when.labels
        self.statuses = frozenset(s.casefold() for s in when.status or ())
        self.categories = tuple(when.status_category or ())
        self.field = when.field
        values = [when.equals] if when.in_ is None else when.in_
        self.wanted = tuple((w, _comparable(w)) for w in values) if when.field is not None else ()
        self.any_wanted = frozenset(v for _, c in self.wanted for v in c)
        self.kind = ("label" if when.label is not None else "status" if when.status is not None
                     else "status_category" if when.status_category is not None else "field")
        assert self.kind != "field" or self.field is not None


class EpicRules:
    """The mapping's epic phase rules, prepared once for classifying many epics (or one epic's
    states over its history): the first rule that matches decides."""

    def __init__(self, mapping: Mapping):
        self._rules = [(_When(rule.when), rule.phase, number)
                       for number, rule in enumerate(mapping.phases.epic, start=1)]
        self._steps = _steps(self._rules)
        self._reads = tuple(dict.fromkeys(w.field for w, _, _ in self._rules if w.field is not None))
        self._labels = any(w.kind == "label" for w, _, _ in self._rules)
        # (status, category, labels, the rules' text field values) -> (phase, rule text): epics share a few
        self._decided: dict[Hashable, tuple[str | None, str]] = {}

    def classify(self, issue: Issue) -> ClassifiedItem:
        """The epic's phase and the rule that decided it, or unmapped with what the rules looked at."""
        values = tuple(issue.fields.get(name, _ABSENT) for name in self._reads)
        if not all(type(v) is str or v is None or v is _ABSENT for v in values):
            # other values may be equal yet match differently (True == 1.0): decided afresh
            return _epic_item(issue, *self._decide(issue))
        facts = (issue.status, issue.status_category, issue.labels if self._labels else (), values)
        found = self._decided.get(facts)
        if found is None:
            found = self._decide(issue)
            if len(self._decided) < _DECIDED_MAX:
                self._decided[facts] = found
        return _epic_item(issue, *found)

    def _decide(self, issue: Issue) -> tuple[str | None, str]:
        seen: dict[str, set[str]] = {}
        for when, phase, number in self._rules:
            reason = _epic_match(when, issue, seen)
            if reason is not None:
                return phase, sys.intern(f"{reason} (rule {number})")
        return None, sys.intern(f"unmapped: no rule matched status '{issue.status}' "
                                f"(category {issue.status_category})")

    def phase(self, issue: Issue) -> str | None:
        """Only the phase (what ``classify`` gives, without saying why)."""
        return self.phase_as_of(issue, {})

    def phase_as_of(self, issue: Issue, undone: MappingOf[str, Any]) -> str | None:
        """The phase of a past state of the epic, given as the attributes (``status``,
        ``status_category``, ``labels``, ``fields``) whose values then differed from now: cheap
        enough to replay over every state an epic's history passed through."""
        status = undone.get("status", issue.status)
        category = undone.get("status_category", issue.status_category)
        fields = undone.get("fields", issue.fields)
        for kind, name, table in self._steps:
            if kind == "status":
                hit = table.get(status.casefold())
            elif kind == "status_category":
                hit = table.get(category)
            else:
                if kind == "field":
                    assert name is not None
                    if name not in fields:
                        continue
                    keys: Iterable[str] = _comparable(fields[name])
                else:
                    keys = undone.get("labels", issue.labels)
                hit = min((table[k] for k in keys if k in table), default=None)
            if hit is not None:
                return hit[1]
        return None


def _steps(rules: Sequence[tuple[_When, str, int]]) -> list[tuple[str, str | None, dict[str, tuple[int, str]]]]:
    """The rules for ``EpicRules.phase``: each run of rules of one kind (and field) becomes one
    look-up table, wanted value -> (position, phase) of the first rule in the run that wants it."""
    steps: list[tuple[str, str | None, dict[str, tuple[int, str]]]] = []
    for position, (when, phase, _) in enumerate(rules):
        wanted = {"label": when.labels, "status": when.statuses, "status_category": when.categories,
                  "field": when.any_wanted}[when.kind]
        if not steps or steps[-1][:2] != (when.kind, when.field):
            steps.append((when.kind, when.field, {}))
        for value in wanted:
            steps[-1][2].setdefault(value, (position, phase))
    return steps


def _epic_item(issue: Issue, phase: str | None, rule: str) -> ClassifiedItem:
    # thousands of epics share a few rule texts (interned by ``_decide``): one copy each
    return ClassifiedItem(site=issue.site, key=issue.key, kind="epic", project_key=issue.project_key,
                          summary=issue.summary, phase=phase, rule=rule, url=issue.url)


def _field_values(when: _When, issue: Issue, seen: dict[str, set[str]]) -> set[str] | None:
    """The normalised values of the rule's field on the issue (None: the site lacks the field),
    normalised once per issue however many rules read the field."""
    name = when.field
    assert name is not None
    have = seen.get(name)
    if have is None:
        if name not in issue.fields:
            return None
        have = seen[name] = _comparable(issue.fields[name])
    return have


def _epic_match(when: _When, issue: Issue, seen: dict[str, set[str]]) -> str | None:
    """Why the condition holds for the issue (the rule text), or None when it does not."""
    if when.kind == "label":
        hit = next((label for label in when.labels if label in issue.labels), None)
        return None if hit is None else f"label '{hit}'"
    if when.kind == "status":
        return f"status '{issue.status}'" if issue.status.casefold() in when.statuses else None
    if when.kind == "status_category":
        cat = issue.status_category
        return f"status category '{cat}'" if cat in when.categories else None
    have = _field_values(when, issue, seen)
    if have is None:
        return None
    matched = next((w for w, comparable in when.wanted if comparable & have), None)
    return None if matched is None else f"field {when.field} = '{_show(matched)}'"


def _comparable(value: Any) -> set[str]:
    """Normalised forms of a field value, so 'Execution' == 'execution' and 3 == 3.0."""
    if value is None:
        return set()
    if type(value) is str:  # the common case first
        return {value.strip().casefold()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return set().union(*(_comparable(v) for v in value)) if value else set()
    if isinstance(value, User):
        return {value.account_id.casefold(), value.display_name.casefold()}
    if isinstance(value, bool):
        return {str(value).lower()}
    if isinstance(value, (int, float)):
        return {repr(float(value))}
    if isinstance(value, (date, datetime)):
        return {value.isoformat()}
    return {str(value).strip().casefold()}


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- projects -----------------------------------------------------------------------------------


def classify_project(project: Project, mapping: Mapping,
                     epics: Sequence[tuple[ClassifiedItem, bool]] = ()) -> ClassifiedItem:
    """The phase of one project; ``epics`` are its classified epics with whether each is done."""
    notes: list[str] = []
    for number, rule in enumerate(mapping.phases.project, start=1):
        found = _project_match(rule.when, project, epics, notes)
        if found is not None:
            phase, reason = found
            return _project_item(project, phase, f"{reason} (rule {number})")
    category = f"category '{project.category}'" if project.category else "no category"
    open_count = sum(1 for item, done in epics if not done)
    facts = [category, f"{_count(len(epics), 'epic')} ({open_count} open)", *notes]
    return _project_item(project, None, f"unmapped: no rule matched ({'; '.join(facts)})")


def _project_item(project: Project, phase: str | None, rule: str) -> ClassifiedItem:
    return ClassifiedItem(site=project.site, key=project.key, kind="project", project_key=project.key,
                          summary=project.name, phase=phase, rule=rule, url=project.url)


def _project_match(when: ProjectWhen, project: Project, epics: Sequence[tuple[ClassifiedItem, bool]],
                   notes: list[str]) -> tuple[str, str] | None:
    if when.property is not None:
        if when.property not in project.properties:
            return None
        raw = project.properties[when.property]
        value = raw.get("phase") if isinstance(raw, dict) else raw
        phase = value.strip().lower() if isinstance(value, str) else None
        if phase not in PHASES:
            notes.append(f"property {when.property} = {raw!r} is not a PMO phase")
            return None
        return phase, f"property {when.property} = '{value}'"
    if when.category is not None:
        if project.category is None:
            return None
        cat = project.category.casefold()
        hit = next((name for name in when.category if name.casefold() == cat), None)
        return None if hit is None else (when.category[hit], f"category '{project.category}'")
    if when.projects is not None:
        phase = when.projects.get(project.key.upper())
        return None if phase is None else (phase, f"project key '{project.key}'")
    assert when.epics is not None
    return _from_epics(when.epics, epics)


def _from_epics(mode: str, epics: Iterable[tuple[ClassifiedItem, bool]]) -> tuple[str, str] | None:
    """Derive a project phase from its classified epics (unmapped epics do not count).

    - least_advanced_open: the least advanced phase among open epics; when every classified epic
      is done, the least advanced among all of them.
    - most_advanced: the most advanced phase among all classified epics.
    - majority: the most common phase among open epics (all epics when none is open); a tie goes
      to the less advanced phase.
    """
    classified = [(item.phase, done) for item, done in epics if item.phase is not None]
    if not classified:
        return None
    open_phases = [phase for phase, done in classified if not done]
    all_phases = [phase for phase, _ in classified]
    if mode == "most_advanced":
        return max(all_phases, key=phase_index), f"epics most_advanced of {_count(len(all_phases), 'epic')}"
    pool, which = (open_phases, "open") if open_phases else (all_phases, "done")
    if mode == "least_advanced_open":
        return min(pool, key=phase_index), f"epics least_advanced_open of {_count(len(pool), which + ' epic')}"
    counts = Counter(pool)
    phase = min(counts, key=lambda p: (-counts[p], phase_index(p)))
    return phase, f"epics majority ({counts[phase]} of {_count(len(pool), which + ' epic')})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
