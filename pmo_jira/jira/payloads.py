"""Jira JSON (Cloud REST v3 / Data Center REST v2) to ``pmo_jira.model`` objects.

This is where Jira's shapes stop: rich text is flattened (ADF on v3, wiki markup on v2), custom
field values are normalised by shape (date pickers to ``date``, numbers to ``float``, options to
``str``, users to ``User``, arrays to tuples), and the flavour differences (``parent`` vs Epic
Link, ``accountId`` vs user key) are resolved, so nothing downstream needs to know the flavour.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, timezone
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from pmo_jira.errors import JiraApiError
from pmo_jira.jira.richtext import adf_to_text, wiki_to_text
from pmo_jira.model import Change, Comment, FieldChange, FieldValues, Flavour, Issue, IssueLink, Project, User

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


class _Malformed(ValueError):
    pass


_OFFSET = re.compile(r"^(.*[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([+-]\d{2}):?(\d{2})$")


def parse_datetime(value: str | None) -> datetime | None:
    """Jira timestamps: ``2025-11-10T15:47:42.072+0100`` (offset without a colon) and variants."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Malformed(f"not a timestamp: {value!r}")
    return _timestamp(value)


@lru_cache(maxsize=4096)
def _timestamp(value: str) -> datetime:
    """One (immutable) ``datetime`` per recent timestamp text: an issue's ``updated``,
    ``resolutiondate`` and ``statuscategorychangedate`` are often the same instant, and a bulk
    change gives many issues the same one."""
    try:  # Python 3.11 reads Jira's form as it comes; the rewriting below is for 3.10 and variants
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    m = _OFFSET.match(text)
    if m:
        text = f"{m.group(1)}{m.group(2)}:{m.group(3)}"
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise _Malformed(f"not a timestamp: {value!r}") from exc


def parse_date(value: str | None) -> date | None:
    if value is None or value == "":
        return None
    try:
        return _day(str(value)[:10])
    except ValueError as exc:
        raise _Malformed(f"not a date: {value!r}") from exc


@lru_cache(maxsize=16384)
def _day(text: str) -> date:
    """One (immutable) ``date`` per day: a site's due, start and end dates fall on a few thousand
    days, shared by every issue that names one."""
    return date.fromisoformat(text)


def parse_user(raw: Any) -> User | None:
    """Cloud users carry ``accountId``; Data Center users a ``key`` (stable) and a ``name``."""
    if not isinstance(raw, dict):
        return None
    ident = raw.get("accountId") or raw.get("key") or raw.get("name")
    if not ident:
        return None
    return _user(str(ident), str(raw.get("displayName") or ident), bool(raw.get("active", True)))


@lru_cache(maxsize=65536)
def _user(account_id: str, display_name: str, active: bool) -> User:
    """One shared (immutable) ``User`` per person: a big site names the same few thousand people on
    every issue, and one object each keeps the issues read compact."""
    return User(account_id=sys.intern(account_id), display_name=display_name, active=active)


def _rich_text(value: Any, flavour: Flavour) -> str:
    if isinstance(value, dict):
        return adf_to_text(value)
    if isinstance(value, str):
        return wiki_to_text(value) if flavour is Flavour.DC else value.strip()
    return ""


_SHARED_MAX = 64  # option values, names and keys up to this length repeat across issues: one copy each


def _shared(text: str) -> str:
    return sys.intern(text) if len(text) <= _SHARED_MAX else text


def normalise_value(value: Any, flavour: Flavour) -> Any:
    """A custom/system field value in the model's vocabulary, decided by the value's shape."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if _DATE.match(value):
            return parse_date(value)
        if _DATETIME.match(value):
            return parse_datetime(value)
        return wiki_to_text(value) if flavour is Flavour.DC and _looks_wiki(value) else _shared(value)
    if isinstance(value, list):
        return tuple(v for v in (normalise_value(item, flavour) for item in value) if v is not None)
    if isinstance(value, dict):
        if value.get("type") == "doc":
            return adf_to_text(value) or None
        if "accountId" in value or ("key" in value and "displayName" in value) or "emailAddress" in value:
            return parse_user(value)
        for key in ("value", "name", "key"):
            if key in value and isinstance(value[key], str):
                return _shared(value[key])
        return dict(value)
    return value


def _looks_wiki(value: str) -> bool:
    """Data Center text areas hold wiki markup; plain one-line values (an Epic Link key) do not."""
    return "\n" in value or bool(re.search(r"[*_{}\[\]|!\\]|^(?:h[1-6]|bq)\.", value))


def _hierarchy_level(issuetype: Mapping[str, Any]) -> int:
    level = issuetype.get("hierarchyLevel")
    if isinstance(level, int):
        return level
    if str(issuetype.get("name", "")).lower() == "epic":
        return 1
    return -1 if issuetype.get("subtask") else 0


def _links(raw_links: Any, share: Callable[[str], str] = str) -> tuple[IssueLink, ...]:
    links: list[IssueLink] = []
    for link in raw_links or ():
        ltype = link.get("type") or {}
        for direction, side in (("outward", "outwardIssue"), ("inward", "inwardIssue")):
            other = link.get(side)
            if not other:
                continue
            other_type = ((other.get("fields") or {}).get("issuetype") or {}).get("name")
            links.append(IssueLink(type_name=_shared(str(ltype.get("name", ""))), direction=direction,
                                   label=_shared(str(ltype.get(direction, ""))), other_key=share(str(other["key"])),
                                   other_type=_shared(other_type) if isinstance(other_type, str) else other_type))
    return tuple(links)


def _parent_key(fields: Mapping[str, Any], flavour: Flavour, fieldmap: Mapping[str, str]) -> str | None:
    epic_field = fieldmap.get("epic_link")
    if flavour is Flavour.DC and epic_field and fields.get(epic_field):
        value = fields[epic_field]
        return value.get("key") if isinstance(value, dict) else str(value)
    parent = fields.get("parent")
    if isinstance(parent, dict) and parent.get("key"):
        return str(parent["key"])
    return None


_NO_PROPERTIES: Mapping[str, Any] = MappingProxyType({})


class IssueParser:
    """Turns the raw issues of one read into ``Issue`` objects, compactly.

    What is the same for every issue of the read is worked out once: the logical field names
    (each issue holds only the values it sets, in a ``FieldValues`` whose class knows the names), the browse URL
    prefix, which issue types keep their description. Names, option values and people repeat
    across issues and are shared. ``description_types``: the issue types whose description is
    kept (flattened); None keeps every issue's. Standards judge epics and projects only, so a
    read keeps the epics' and spares flattening and holding every child's text.
    """

    def __init__(self, *, site: str, base_url: str, flavour: Flavour, fieldmap: Mapping[str, str],
                 description_types: Collection[str] | None = None) -> None:
        self.site, self.flavour = site, flavour
        self.browse = f"{base_url.rstrip('/')}/browse/"
        self.path = f"/rest/api/{flavour.api_version}/issue/"
        self.index = {name: i for i, name in enumerate(fieldmap)}  # shared by the issues, never changed
        self.values = FieldValues.maker(self.index)
        self.field_ids = tuple(fieldmap.values())
        self.fieldmap = dict(fieldmap)
        self.describe = None if description_types is None else frozenset(t.casefold() for t in description_types)
        self.description_at = self.index.get("description") if fieldmap.get("description") == "description" else None
        self.keys: dict[str, str] = {}  # one string per issue key, whether the issue, a parent or a link names it
        self.label_sets: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # one tuple per combination of labels

    def key(self, key: str) -> str:
        return self.keys.setdefault(key, key)

    def __call__(self, raw: Mapping[str, Any]) -> Issue:
        """One issue from a search page or ``GET /issue``; raises ``JiraApiError`` when malformed."""
        flavour = self.flavour
        try:
            if not isinstance(raw, Mapping) or not raw.get("key") or not isinstance(raw.get("fields"), Mapping):
                raise _Malformed("an issue needs 'key' and 'fields'")
            f = raw["fields"]
            issuetype = f.get("issuetype") or {}
            status = f.get("status") or {}
            if not issuetype.get("name") or not status.get("name"):
                raise _Malformed("'issuetype' and 'status' are required fields")
            created, updated = parse_datetime(f.get("created")), parse_datetime(f.get("updated"))
            if created is None or updated is None:
                raise _Malformed("'created' and 'updated' are required fields")
            key = self.key(str(raw["key"]))
            project = f.get("project") or {}
            issue_type = sys.intern(str(issuetype["name"]))
            describe = self.describe is None or issue_type.casefold() in self.describe
            description = _rich_text(f.get("description"), flavour) if describe else ""
            values = [normalise_value(f.get(field_id), flavour) if i != self.description_at
                      else self._description(f.get(field_id), description, describe)
                      for i, field_id in enumerate(self.field_ids)]
            parent = _parent_key(f, flavour, self.fieldmap)
            priority = (f.get("priority") or {}).get("name")
            properties = raw.get("properties")
            return Issue(
                site=self.site, key=key, id=str(raw.get("id", "")),
                # the few distinct names of projects, types, statuses and labels are shared across issues
                project_key=sys.intern(str(project.get("key") or key.rsplit("-", 1)[0])),
                issue_type=issue_type, hierarchy_level=_hierarchy_level(issuetype),
                summary=str(f.get("summary") or ""), status=sys.intern(str(status["name"])),
                status_category=sys.intern(str((status.get("statusCategory") or {}).get("key") or "undefined")),
                created=created, updated=updated,
                labels=self._labels(f.get("labels")),
                assignee=parse_user(f.get("assignee")), reporter=parse_user(f.get("reporter")),
                priority=_shared(priority) if isinstance(priority, str) else priority,
                description=description,
                due=parse_date(f.get("duedate")), resolved=parse_datetime(f.get("resolutiondate")),
                status_category_changed=parse_datetime(f.get("statuscategorychangedate")),
                parent_key=self.key(parent) if isinstance(parent, str) else parent,
                links=_links(f.get("issuelinks"), self.key),
                fields=self.values(tuple(values)),
                properties=dict(properties) if properties else _NO_PROPERTIES,
                browse=self.browse,
                comments=_inline_comments(f.get("comment"), flavour) if "comment" in f else None,
            )
        except (_Malformed, KeyError, TypeError, AttributeError, ValueError) as exc:
            name = (raw.get("key") or raw.get("id") or "?") if isinstance(raw, Mapping) else "?"
            raise JiraApiError(f"malformed response body for issue {name}: {exc}", method="GET",
                               url=f"{self.path}{name}") from None


    def _labels(self, raw: Any) -> tuple[Any, ...]:
        labels = tuple(sys.intern(label) if isinstance(label, str) else label for label in raw or ())
        if not labels or not all(isinstance(label, str) for label in labels):
            return labels
        return self.label_sets.setdefault(labels, labels)

    def _description(self, value: Any, text: str, kept: bool) -> Any:
        """The ``description`` logical field: the same flattened text as ``Issue.description``
        (one copy), None where the issue's type keeps no description."""
        if not kept:
            return None
        if isinstance(value, dict):  # ADF: normalise_value would flatten it the same way
            return text or None
        return normalise_value(value, self.flavour)


def parse_issue(raw: Mapping[str, Any], *, site: str, base_url: str, flavour: Flavour,
                fieldmap: Mapping[str, str]) -> Issue:
    """One issue from a search page or ``GET /issue``; raises ``JiraApiError`` when malformed."""
    return IssueParser(site=site, base_url=base_url, flavour=flavour, fieldmap=fieldmap)(raw)


def parse_project(raw: Mapping[str, Any], *, site: str, base_url: str) -> Project:
    """A project from ``/project/search`` (Cloud) or ``/project`` (DC)."""
    try:
        key = str(raw["key"])
        return Project(site=site, key=key, id=str(raw.get("id", "")), name=str(raw.get("name", key)),
                       category=(raw.get("projectCategory") or {}).get("name"),
                       lead=parse_user(raw.get("lead")), properties=dict(raw.get("properties") or {}),
                       url=f"{base_url.rstrip('/')}/browse/{key}")
    except (KeyError, TypeError, AttributeError) as exc:
        raise JiraApiError(f"malformed response body for a project: missing {exc}", method="GET",
                           url="/project") from None


def parse_comment(raw: Mapping[str, Any], flavour: Flavour) -> Comment:
    """A comment; its body flattened from ADF (v3) or wiki markup (v2)."""
    try:
        created = parse_datetime(raw["created"])
        return Comment(id=str(raw["id"]), author=parse_user(raw.get("author")),
                       body_text=_rich_text(raw.get("body"), flavour), created=created,
                       updated=parse_datetime(raw.get("updated")) or created)
    except (_Malformed, KeyError, TypeError, AttributeError) as exc:
        raise JiraApiError(f"malformed response body for a comment: {exc}", method="GET",
                           url=f"/rest/api/{flavour.api_version}/comment") from None


def _inline_comments(value: Any, flavour: Flavour) -> tuple[Comment, ...]:
    """The ``comment`` field of a search result: ``{"comments": [...], "total": n}`` on both flavours."""
    raw = value.get("comments") if isinstance(value, Mapping) else None
    return tuple(parse_comment(c, flavour) for c in raw or ())


def _text(value: Any) -> str | None:
    """A changelog value; the short ones (statuses, options, ids) repeat across entries: shared."""
    return None if value is None else _shared(str(value))


def parse_changes(histories: Any, *, logical_by_id: Mapping[str, str], logical_by_name: Mapping[str, str],
                  issue: str, flavour: Flavour) -> tuple[Change, ...]:
    """Changelog entries (Cloud ``changeHistories`` of bulkfetch, Data Center ``changelog.histories``
    of ``expand=changelog``), oldest first, with mapped fields renamed to their logical names.

    Cloud items carry ``fieldId``; Data Center items often only the field's display name, so both
    are matched. ``created`` may be a Jira timestamp or, in some Cloud answers, epoch seconds.
    """
    out: list[Change] = []
    try:
        for raw in histories or ():
            created_raw = raw.get("created")
            if isinstance(created_raw, (int, float)) and not isinstance(created_raw, bool):
                scale = 1000 if created_raw > 10**11 else 1  # milliseconds or seconds
                created = datetime.fromtimestamp(created_raw / scale, tz=timezone.utc)
            else:
                created = parse_datetime(created_raw)
            if created is None:
                raise _Malformed("a changelog entry needs 'created'")
            items = []
            for item in raw.get("items") or ():
                field_id, name = item.get("fieldId"), str(item.get("field") or "")
                logical = logical_by_id.get(str(field_id)) if field_id else None
                logical = logical or logical_by_name.get(name.casefold()) or name
                items.append(FieldChange(field=_shared(logical), from_value=_text(item.get("from")),
                                         from_string=_text(item.get("fromString")),
                                         to_value=_text(item.get("to")), to_string=_text(item.get("toString"))))
            out.append(Change(id=str(raw.get("id", "")), author=parse_user(raw.get("author")), created=created,
                              items=tuple(items)))
    except (_Malformed, KeyError, TypeError, AttributeError, ValueError, OverflowError) as exc:
        raise JiraApiError(f"malformed changelog for issue {issue}: {exc}", method="GET",
                           url=f"/rest/api/{flavour.api_version}/issue/{issue}/changelog") from None
    out.sort(key=change_order)
    return tuple(out)


def encode_changes(changes: Collection[Change]) -> list:
    """Parsed changes as compact JSON (for the local cache): no avatars, no links, only what
    ``decode_changes`` needs to give the very same changes back."""
    return [[c.id, c.created.isoformat(),
             None if c.author is None else [c.author.account_id, c.author.display_name, c.author.active],
             [[i.field, i.from_value, i.from_string, i.to_value, i.to_string] for i in c.items]]
            for c in changes]


def decode_changes(encoded: Any) -> list[Change] | None:
    """``encode_changes``'s output back; None for anything else (a damaged cache entry is a miss)."""
    try:
        return [Change(id=str(cid), created=datetime.fromisoformat(created),
                       author=None if author is None else _user(str(author[0]), str(author[1]), bool(author[2])),
                       items=tuple(FieldChange(_shared(str(f)), *(_text(v) for v in values))
                                   for f, *values in items))
                for cid, created, author, items in encoded]
    except (TypeError, ValueError, IndexError):
        return None


def change_order(change: Change) -> tuple[datetime, int]:
    """Changelog entries oldest first; entries of the same instant by id."""
    return change.created, int(change.id) if change.id.isdecimal() else 0
