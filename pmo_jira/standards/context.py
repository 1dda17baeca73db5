"""The per-site view standards read: indexes built once, in one pass, so each check is cheap."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar, cast

from pmo_jira.model import Issue, IssueLink, Project, Snapshot
from pmo_jira.standards.timeline import Gate, gate_passed
from pmo_jira.state import STATE_PROPERTY, parse_state, people_updated

T = TypeVar("T")
_KEY = operator.attrgetter("key")


def issues_by_key(snapshot: Snapshot, shared: dict[Any, Any], built: dict[str, Issue] | None = None) -> dict[str, Issue]:
    """The snapshot's issues by key, built once per run (``shared`` is the run's memo): every
    site's context and any standard looking across sites use the one index. ``built``: that
    index, already made (``SiteIndex.issues``)."""
    memo: dict[int, tuple[Snapshot, dict[str, Issue]]] = shared.setdefault(issues_by_key, {})
    found = memo.get(id(snapshot))
    if found is None or found[0] is not snapshot:
        found = memo[id(snapshot)] = (snapshot, built if built is not None else {i.key: i for i in snapshot.issues})
    return found[1]


class SiteIndex:
    """The indexes a site's ``AuditContext`` keeps of its issues, filled as the issues come (a
    read adds each page while it waits for the next) and completed by ``AuditContext.build``:
    what links an epic and its risks needs every issue read first."""

    def __init__(self, issue_types: Any):
        self._types = issue_types
        self.kinds: dict[str, str | None] = {}  # issue type name -> epic/child/risk/None, each type added
        self._any_child = not issue_types.child  # no child types listed: every parented non-epic, non-risk issue
        self.issues: dict[str, Issue] = {}
        self.children: defaultdict[str, list[Issue]] = defaultdict(list)
        self.linking: list[Issue] = []  # the epics and risks, in the order read
        self.first_category: dict[str, str] = {}  # each status name's category as first seen
        self.count = 0
        self._held: Snapshot | None = None  # the snapshot found to hold exactly these issues

    def kind(self, issue_type: str) -> str | None:
        """'epic', 'child', 'risk' or None for an issue type name (the mapping's issue types)."""
        found = self.kinds.get(issue_type, "")
        if found == "":
            found = self.kinds[issue_type] = self._types.kind_of(issue_type)
        return found

    def add(self, issues: Iterable[Issue]) -> None:
        """Index more of the site's issues, in the order read."""
        self._held = None
        kinds, first = self.kinds, self.first_category
        for issue in issues:
            self.count += 1
            self.issues[issue.key] = issue
            if issue.status not in first:
                first[issue.status] = issue.status_category
            k = kinds[issue.issue_type] if issue.issue_type in kinds else self.kind(issue.issue_type)
            if k == "epic" or k == "risk":
                self.linking.append(issue)
            elif issue.parent_key and (k == "child" or (self._any_child and k is None)):
                self.children[issue.parent_key].append(issue)

    def holds(self, snapshot: Snapshot) -> bool:
        """Whether these are the indexes of exactly the snapshot's issues."""
        if self._held is not snapshot:
            found = map(self.issues.get, map(_KEY, snapshot.issues))
            if self.count != len(snapshot.issues) or not all(map(operator.is_, found, snapshot.issues)):
                return False
            self._held = snapshot  # asked again (the audit, then the context): not checked again
        return True


@dataclass
class AuditContext:
    """Everything about one snapshot a standard may look up, plus the injected clock."""

    site: str
    today: date
    now: datetime
    available_fields: frozenset[str]
    issues: dict[str, Issue]
    projects: dict[str, Project]
    field_specs: dict[str, Any] = field(default_factory=dict)
    risk_types: tuple[str, ...] = ()
    mapping: Any = None
    run_snapshots: tuple[Snapshot, ...] = ()
    """Every snapshot audited together with this one (all sites sharing the mapping)."""
    shared: dict[Any, Any] = field(default_factory=dict)
    """One memo for the whole audit: run-wide indexes a standard builds once (key by your module)."""
    _children: dict[str, list[Issue]] = field(default_factory=dict)
    _risks: dict[str, list[Issue]] = field(default_factory=dict)
    _unread_risks: dict[str, frozenset[str]] = field(default_factory=dict)
    phase_rules: Callable[[Issue], str | None] = lambda issue: None
    """The mapping's epic phase rules as a function (replayed over an epic's history)."""
    phase_as_of: Callable[[Issue, dict[str, Any]], str | None] | None = None
    """The same rules for a past state of an epic, given as what differed then
    (``pmo_jira.standards.timeline.past_states``); None: each past state is built for ``phase_rules``."""
    status_categories: dict[str, str] = field(default_factory=dict)  # status name (casefolded) -> category
    _gates: dict[tuple[str, str], Gate | None] = field(default_factory=dict)
    _memo: dict[Hashable, Any] = field(default_factory=dict)
    sections: dict[str, Any] = field(default_factory=dict)
    """The mapping's plugin sections by name (``pmo_jira_mapping_sections``), e.g. ``ctx.sections["acme"]``."""

    @classmethod
    def build(cls, snapshot: Snapshot, mapping: Any, *, today: date, now: datetime,
              run_snapshots: tuple[Snapshot, ...] = (), shared: dict[Any, Any] | None = None,
              index: SiteIndex | None = None) -> AuditContext:
        """The context of one snapshot; ``index``: its issues already indexed as they were read
        (one that does not hold exactly the snapshot's issues is ignored)."""
        types = mapping.issue_types
        if index is None or not index.holds(snapshot):
            index = SiteIndex(types)
            index.add(snapshot.issues)
        shared = {} if shared is None else shared
        issues = issues_by_key(snapshot, shared, index.issues)

        kinds = index.kinds  # every issue read is in the index: its type's kind is known

        def kind(issue: Issue | None) -> str | None:
            return None if issue is None else kinds[issue.issue_type]

        risks: dict[str, dict[str, Issue]] = defaultdict(dict)  # epic -> risk key -> risk (dedup, ordered)
        unread_risks: dict[str, set[str]] = defaultdict(set)  # epic -> linked risks outside the scope read
        for issue in index.linking:
            if kind(issue) == "epic":
                for link in issue.links:
                    other = issues.get(link.other_key)
                    if kind(other) == "risk":
                        risks[issue.key][other.key] = other
                    elif other is None and link.other_type and types.kind_of(link.other_type) == "risk":
                        unread_risks[issue.key].add(link.other_key)  # e.g. in a central risk project
            else:
                if issue.parent_key and kind(issues.get(issue.parent_key)) == "epic":
                    risks[issue.parent_key][issue.key] = issue
                for link in issue.links:
                    if kind(issues.get(link.other_key)) == "epic":
                        risks[link.other_key][issue.key] = issue

        from pmo_jira.mapping.phases import EpicRules  # the mapping layer sits above this module

        categories: dict[str, str] = {}
        for status, category in index.first_category.items():
            categories.setdefault(status.casefold(), category)
        rules = EpicRules(mapping)
        return cls(
            phase_rules=rules.phase,
            phase_as_of=rules.phase_as_of,
            status_categories=categories,
            site=snapshot.site.name,
            today=today,
            now=now,
            available_fields=frozenset(snapshot.available_fields),
            issues=issues,
            projects={p.key: p for p in snapshot.projects},
            field_specs=dict(mapping.fields or {}),
            sections=dict(getattr(mapping, "sections", None) or {}),
            risk_types=tuple(types.risk),
            mapping=mapping,
            run_snapshots=run_snapshots or (snapshot,),
            shared=shared,
            _children=dict(index.children),
            _risks={k: list(v.values()) for k, v in risks.items()},
            _unread_risks={k: frozenset(v) for k, v in unread_risks.items()},
        )

    def children(self, epic_key: str) -> list[Issue]:
        """The epic's children of the mapping's child types (risks excluded)."""
        return self._children.get(epic_key, [])

    def risks(self, epic_key: str) -> list[Issue]:
        """Risk issues linked to the epic (either link direction) or parented by it."""
        return self._risks.get(epic_key, [])

    def has_risk(self, epic_key: str) -> bool:
        """Whether any risk is linked to the epic, including risks in projects the run did not read
        (known only by the link's issue type, so ``risks()`` cannot return them)."""
        return bool(self._risks.get(epic_key) or self._unread_risks.get(epic_key))

    def people_updated(self, issue: Issue) -> datetime:
        """When people last updated the issue, not counting pmo-jira's own write-back."""
        return people_updated(issue.updated, parse_state(issue.properties.get(STATE_PROPERTY)))

    def gate(self, epic: Issue, phase: str) -> Gate | None:
        """When the epic first reached ``phase`` (or later), from its changelog; None without history."""
        key = (epic.key, phase)
        if key not in self._gates:
            self._gates[key] = gate_passed(epic, phase, self.phase_rules, self.status_categories,
                                           phase_as_of=self.phase_as_of)
        return self._gates[key]

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for on this site, then its result again:
        for what several standards derive from one item (key by your function and the item's key)."""
        try:
            return cast(T, self._memo[key])
        except KeyError:
            found = self._memo[key] = compute()
            return found

    def linked(self, issue: Issue, types: Iterable[str], link_types: Iterable[str] = ()) -> list[tuple[IssueLink, Issue]]:
        """Issues of ``types`` linked to ``issue`` (either direction; only ``link_types`` when given)
        that the run read, each once."""
        wanted = {t.casefold() for t in types}
        links = {t.casefold() for t in link_types}
        out: list[tuple[IssueLink, Issue]] = []
        seen: set[str] = set()
        for link in issue.links:
            other = self.issues.get(link.other_key)
            if other is None or other.issue_type.casefold() not in wanted or other.key in seen:
                continue
            if links and link.type_name.casefold() not in links:
                continue
            seen.add(other.key)
            out.append((link, other))
        return out

    def has_field(self, logical: str) -> bool:
        return logical in self.available_fields

    def field_label(self, logical: str) -> str:
        """How a user finds the logical field in Jira: the mapped field name, else the logical name."""
        spec = self.field_specs.get(logical)
        names = []
        for ref in spec if isinstance(spec, list) else [spec]:
            if isinstance(ref, dict):
                ref = ref.get("name") or ref.get("id")
            if isinstance(ref, str):
                names.append(ref)
        return " / ".join(f'"{n}"' for n in names) if names else f"the {logical.replace('_', ' ')} field"
