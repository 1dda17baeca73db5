"""Plain, immutable model objects.

Jira JSON stops at ``pmo_jira.jira.payloads``; everything after it (phases, standards, findings,
write-back, reports) works on these objects and can be tested without HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

PHASES: tuple[str, ...] = ("initiation", "planning", "execution", "closing")
"""The PMO phases, in lifecycle order."""

STATUS_CATEGORIES: tuple[str, ...] = ("new", "indeterminate", "done", "undefined")
"""Jira status-category keys (names are localised; keys are not)."""


_NUMBERS = re.compile(r"(\d+)")


@lru_cache(maxsize=1024)
def natural_key(key: str) -> tuple[tuple[int, int, str], ...]:
    """Issue keys in the order people expect: DIG-4 before DIG-11 (any text with numbers works).

    Cached: sorting tens of thousands of findings asks for the same few keys in a row (an item's
    findings come together), and one shared tuple each keeps the sort's keys small; so do the
    parts, shared by every key with the same prefix or number."""
    return tuple(map(_natural_part, filter(None, _NUMBERS.split(key))))


@lru_cache(maxsize=4096)
def _natural_part(part: str) -> tuple[int, int, str]:
    return (0, int(part), "") if part.isdecimal() else (1, 0, part)


def phase_index(phase: str) -> int:
    """Position of a phase in the lifecycle, so standards can say 'from planning on'."""
    return PHASES.index(phase)


class Flavour(str, Enum):
    CLOUD = "cloud"
    DC = "dc"

    @property
    def api_version(self) -> str:
        return "3" if self is Flavour.CLOUD else "2"


@dataclass(frozen=True, slots=True)
class Site:
    """One Jira site as the run sees it. ``name`` labels every finding and report row."""

    name: str
    url: str
    flavour: Flavour


@dataclass(frozen=True, slots=True)
class User:
    account_id: str  # Cloud accountId, or the Data Center user key / name
    display_name: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class IssueLink:
    type_name: str  # link type name, e.g. "Relates", "Risk"
    direction: str  # "outward" or "inward", seen from the issue holding the link
    label: str  # the phrase, e.g. "is mitigated by"
    other_key: str
    other_type: str | None = None  # issue type of the other end, when Jira sent it


@dataclass(frozen=True, slots=True)
class Comment:
    id: str
    author: User | None
    body_text: str  # flattened plain text (ADF or wiki)
    created: datetime
    updated: datetime


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of one changelog entry. ``field`` is the mapping's logical name when the changed
    Jira field is bound to one (``target_end``), else Jira's own field name (``status``)."""

    field: str
    from_value: str | None  # Jira's raw value (an id, an ISO date), when it sent one
    from_string: str | None  # the value as a person reads it
    to_value: str | None
    to_string: str | None


@dataclass(frozen=True, slots=True)
class Change:
    """One changelog entry: who changed what, when (several fields may change at once)."""

    id: str
    author: User | None
    created: datetime
    items: tuple[FieldChange, ...]


class FieldValues(tuple, Mapping[str, Any]):  # type: ignore[type-arg]
    """An issue's logical fields as a read-only mapping that holds only the values that are set.

    A site's issues do not each carry a dict of the same dozen keys, nor a slot per field they
    leave empty: each issue's values are one tuple of the fields it sets, and its class (one per
    read and pattern of empty fields, shared by every issue with that pattern) knows every name
    and where its value sits. ``FieldValues.maker(index)`` makes one read's values. Compares equal
    to a dict of the same items; a field the site has and the issue leaves empty reads as None.
    """

    __slots__ = ()
    _names: tuple[str, ...] = ()  # every field, in order
    _at: Mapping[str, int] = {}  # name -> position of its value in the tuple, -1 when empty (None)

    _KINDS_MAX = 1024  # patterns of empty fields given a class of their own per read; then all are held

    def __new__(cls, index: Mapping[str, int], values: tuple[Any, ...]) -> FieldValues:
        return FieldValues.maker(index)(values)

    @staticmethod
    def maker(index: Mapping[str, int]) -> Callable[[tuple[Any, ...]], FieldValues]:
        """Makes the values of one read, given in ``index`` order (name -> position)."""
        names = tuple(sorted(index, key=index.__getitem__))
        kinds: dict[tuple[int, ...], type[FieldValues]] = {}
        every = tuple(range(len(names)))

        def kind(held: tuple[int, ...]) -> type[FieldValues]:
            at = dict.fromkeys(names, -1)
            for pos, i in enumerate(held):
                at[names[i]] = pos
            return type("FieldValues", (FieldValues,), {"__slots__": (), "_names": names, "_at": at,
                                                        "__module__": FieldValues.__module__})

        def make(values: tuple[Any, ...]) -> FieldValues:
            if len(values) != len(names):
                raise ValueError(f"{len(values)} values for {len(names)} fields")
            held = tuple(i for i, value in enumerate(values) if value is not None)
            found = kinds.get(held)
            if found is None:
                if len(kinds) >= FieldValues._KINDS_MAX:
                    held = every
                found = kinds.get(held) or kinds.setdefault(held, kind(held))
            return tuple.__new__(found, [values[i] for i in held])

        return make

    def __getnewargs__(self) -> tuple[Any, ...]:
        return {name: i for i, name in enumerate(self._names)}, tuple(self[name] for name in self._names)

    def __getitem__(self, name: str) -> Any:  # type: ignore[override]
        at = self._at[name]
        return None if at < 0 else tuple.__getitem__(self, at)

    def get(self, name: str, default: Any = None) -> Any:
        at = self._at.get(name)
        if at is None:
            return default
        return None if at < 0 else tuple.__getitem__(self, at)

    def __contains__(self, name: object) -> bool:
        return name in self._at

    def as_dict(self) -> dict[str, Any]:
        """A plain dict of the same items (without a call per field, as ``dict(values)`` makes)."""
        held = tuple.__getitem__(self, slice(None))
        return {name: None if at < 0 else held[at] for name, at in self._at.items()}

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __eq__(self, other: object) -> bool:
        return Mapping.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(frozen=True, slots=True)
class Issue:
    """An issue of any kind (epic, story, task, risk ...), flavour-neutral.

    ``fields`` holds the mapping's logical fields (``start``, ``target_end``, ``story_points`` ...)
    already normalised: dates as ``date``, numbers as ``float``, users as ``User``, options as
    ``str``, multi-values as tuples. A logical field the site lacks is absent from the dict; one
    the site has but the issue leaves empty is present with value None.
    """

    site: str
    key: str
    id: str
    project_key: str
    issue_type: str
    hierarchy_level: int  # Epic 1, standard 0, sub-task -1
    summary: str
    status: str
    status_category: str  # one of STATUS_CATEGORIES
    created: datetime
    updated: datetime
    labels: tuple[str, ...] = ()
    assignee: User | None = None
    reporter: User | None = None
    priority: str | None = None
    description: str = ""
    due: date | None = None
    resolved: datetime | None = None
    status_category_changed: datetime | None = None
    parent_key: str | None = None  # the epic: Cloud `parent`, Data Center Epic Link
    links: tuple[IssueLink, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)
    browse: str = ""  # the site's issue address up to the key (".../browse/"), one string for all its issues
    changelog: tuple[Change, ...] | None = None  # oldest first; None when the run did not read history
    comments: tuple[Comment, ...] | None = None  # None when the run did not read comments

    @property
    def is_done(self) -> bool:
        return self.status_category == "done"

    def day(self, name: str) -> date | None:
        """A date field's calendar day: a date picker's value, or a date-time picker's day as Jira
        gave it (in the offset it wrote, ``2026-03-29T01:30:00.000+0100`` is 29 March); None when
        unset or not a date. A standard comparing dates reads them this way, never ``fields[name]``:
        a date-time would not compare with a date."""
        value = self.fields.get(name)
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else None

    @property
    def url(self) -> str:
        """The issue's page in Jira ('' when the site's address is not known). Made when asked:
        kept per issue it would be the largest string most issues hold."""
        return self.browse + self.key if self.browse else ""


@dataclass(frozen=True, slots=True)
class Project:
    site: str
    key: str
    id: str
    name: str
    category: str | None = None
    lead: User | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    url: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one run read from one site: the input of phases and standards."""

    site: Site
    projects: tuple[Project, ...]
    issues: tuple[Issue, ...]
    fetched_at: datetime
    available_fields: frozenset[str] = frozenset()  # logical fields the site resolved
    waived_keys: Mapping[int, frozenset[str]] = field(default_factory=dict)  # waiver index -> keys its JQL matched
    requests: int = 0
    comments_cut: frozenset[str] = frozenset()  # issues whose search result held only part of their comments


@dataclass(frozen=True, slots=True)
class ReadPlan:
    """What one run must read from each site, decided by the active standards and phase rules.

    ``history`` names the logical fields (and Jira fields such as ``status``) whose changelog an
    active standard reads; empty means no history is read at all, which keeps an audit that needs
    none at its search-only cost. ``issue_types`` are extra types read with the scope (change
    requests, approvals, RAID records) so standards can follow links to them. ``history_phases``
    are the phases whose epics need their history (None: every epic's).
    """

    fields: frozenset[str] = frozenset()
    history: frozenset[str] = frozenset()
    comments: bool = False
    issue_types: tuple[str, ...] = ()
    history_phases: frozenset[str] | None = None


# --- rich text, rendered to ADF (Cloud v3) or wiki markup (v2) by pmo_jira.jira.richtext ---------


@dataclass(frozen=True, slots=True)
class Text:
    """A run of literal text. It is always escaped on output: never markup, never a mention."""

    text: str
    strong: bool = False
    code: bool = False
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Paragraph:
    content: tuple[Text, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    content: tuple[Text, ...]


@dataclass(frozen=True, slots=True)
class BulletList:
    items: tuple[tuple[Text, ...], ...]


Block = Paragraph | Heading | BulletList


@dataclass(frozen=True, slots=True)
class Doc:
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class ClassifiedItem:
    """An epic or project with the phase the mapping gave it (None: no rule matched)."""

    site: str
    key: str
    kind: str  # "epic" | "project"
    project_key: str
    summary: str
    phase: str | None
    rule: str  # which rule decided, e.g. "status 'In Progress' -> execution" or "unmapped"
    url: str = ""
