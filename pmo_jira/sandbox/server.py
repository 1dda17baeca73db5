"""The sandbox HTTP server: a loopback-only Jira stand-in, Cloud or Data Center flavoured.

Only the standard library serves HTTP (``ThreadingHTTPServer``). The routes are the ones pmo-jira
and the common Python Jira libraries use; anything else answers 404 like an unknown Jira path.
Every endpoint requires authentication (Cloud: Basic ``email:token``; Data Center: Bearer PAT)
except ``serverInfo``, which, as on Jira, answers anyone and reports failed credentials only in
the ``X-Seraph-LoginReason`` header.
Searches evaluate JQL with :mod:`pmo_jira.sandbox.jql`, and cache the ordered match list per
``(jql, store version)`` so that paging through 100,000 issues costs one evaluation.

Behaviour chosen where real Jira's is undocumented (each is stricter than the likely reality, so
a client that survives the sandbox survives Jira): ``notifyUsers=false`` on issue edits *and*
comment edits answers 403 unless the bot is an admin; issue property writes advance ``updated``.
"""

from __future__ import annotations

import base64
import bisect
import gc
import hashlib
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pmo_jira.model import Flavour
from pmo_jira.sandbox import jql as jqlmod
from pmo_jira.sandbox.errors import HttpError
from pmo_jira.sandbox.faults import Fault, Faults, Request, RequestLog
from pmo_jira.sandbox.generator import REFERENCE_NOW, generate
from pmo_jira.sandbox.index import SearchIndex, key_number
from pmo_jira.sandbox.issue_routes import IssueRoutes
from pmo_jira.sandbox.ratelimit import RateLimits
from pmo_jira.sandbox.shapes import Shapes, adf_to_wiki, fmt_datetime, rank_of, select_fields, sprint_of
from pmo_jira.sandbox.store import (
    ADMIN_GROUPS,
    ADMIN_ROLES,
    BOT_GROUPS,
    BOT_ROLES,
    ISSUE_TYPES,
    LINK_TYPES,
    PRIORITIES,
    RESOLUTIONS,
    SELECT_OPTIONS,
    STATUS_CATEGORIES,
    STATUSES,
    IssueRec,
    ProjectRec,
    Store,
    StoreError,
    option_id,
)

SANDBOX_EMAIL = "pmo-bot@example.com"
SANDBOX_TOKEN = "sandbox-token"
"""The sandbox's fixed credentials. Not a secret: the sandbox only listens on loopback."""
_BASIC_CREDENTIALS = base64.b64encode(f"{SANDBOX_EMAIL}:{SANDBOX_TOKEN}".encode()).decode()

CHANGE_2046 = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
               "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
UNBOUNDED = "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
NOTIFY_ADMIN = "To discard the user notification either admin or project admin permissions are required."
NOT_FOUND_ISSUE = "Issue does not exist or you do not have permission to see it."
UNAUTHORISED = "You are not authenticated. Authentication required to perform this operation."

PERMISSIONS: dict[str, tuple[str, str, str, str]] = {
    # key -> (id, name, type, description)
    "BROWSE_PROJECTS": ("10", "Browse Projects", "PROJECT", "Ability to browse projects and the issues within them."),
    "CREATE_ISSUES": ("11", "Create Issues", "PROJECT", "Ability to create issues."),
    "EDIT_ISSUES": ("12", "Edit Issues", "PROJECT", "Ability to edit issues."),
    "ADD_COMMENTS": ("15", "Add Comments", "PROJECT", "Ability to comment on issues."),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "PROJECT", "Ability to administer a project in Jira."),
    "EDIT_ALL_COMMENTS": ("34", "Edit All Comments", "PROJECT", "Ability to edit all comments made on issues."),
    "EDIT_OWN_COMMENTS": ("35", "Edit Own Comments", "PROJECT", "Ability to edit own comments made on issues."),
    "DELETE_ALL_COMMENTS": ("36", "Delete All Comments", "PROJECT", "Ability to delete all comments made on issues."),
    "DELETE_OWN_COMMENTS": ("37", "Delete Own Comments", "PROJECT", "Ability to delete own comments made on issues."),
    "TRANSITION_ISSUES": ("46", "Transition Issues", "PROJECT", "Ability to transition issues."),
    "ADMINISTER": ("0", "Administer Jira", "GLOBAL", "Ability to perform most administration functions."),
}

DC_MAX_RESULTS = 1000
DC_RESULT_WINDOW = 10_000
"""Data Center's default max_result_window: a page reaching past it is refused, so deep reads
go on in windows by issue key (see ``JiraClient``)."""
CLOUD_MAX_WITH_FIELDS = 100
CLOUD_MAX_IDS = 5000
CLOUD_PROJECT_PAGE_MAX = 100
CLOUD_ISSUE_CHANGELOG = 100
"""Cloud's ``expand=changelog`` on GET issue: only the 100 newest entries, no paging."""
CLOUD_SEARCH_CHANGELOG = 40
"""Cloud's ``expand=changelog`` on ``/search/jql`` is truncated harder (reported at 20-40 entries)."""
RECONCILE_MAX = 50
SEARCH_LAG_ENV = "PMO_SANDBOX_SEARCH_LAG"
"""Default of ``search_lag`` (a whole number of writes; 0: none), so a whole test run can switch it on."""
BULK_CHANGELOG_ISSUES = 1000
BULK_CHANGELOG_FIELDS = 10
BULK_CHANGELOG_MAX = 10_000


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _flag(value: str | None) -> bool:
    return str(value).lower() in ("true", "1", "yes")


class _Accessor:
    """The JQL parser's view of one issue (``jql_value(name)``); reused across a whole search."""

    __slots__ = ("app", "rec", "getters")

    def __init__(self, app: SandboxApp):
        self.app, self.rec = app, None
        self.getters = app.jql_getters

    def jql_value(self, name: str) -> Any:
        getter = self.getters.get(name)
        if getter is None:
            raise jqlmod.JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
        return getter(self.rec)

    def jql_history(self, name: str) -> tuple[list, list]:
        return self.app.field_history(self.rec, name)

    def jql_linked(self, key: str, link_type: str | None) -> frozenset[str]:
        return self.app.linked_keys(key, link_type)


def _operand(values: tuple[jqlmod.Value, ...], listed: bool) -> dict:
    def one(v: jqlmod.Value) -> dict:
        if v.kind == "empty":
            return {"keyword": "empty"}
        if v.kind == "func":
            return {"function": v.text, "arguments": list(v.args), "encodedOperand": f"{v.text}({', '.join(v.args)})"}
        return {"value": v.text, "encodedValue": json.dumps(v.text) if v.quoted else v.text}

    if not listed:
        return one(values[0])
    items = [one(v) for v in values]
    return {"values": items, "encodedOperand": "(" + ", ".join(i.get("encodedValue", i.get("encodedOperand", "EMPTY"))
                                                              for i in items) + ")"}


def _jql_node(node: Any) -> dict:
    if isinstance(node, (jqlmod.And, jqlmod.Or)):
        return {"clauses": [_jql_node(n) for n in node.items], "operator": "and" if isinstance(node, jqlmod.And) else "or"}
    if isinstance(node, jqlmod.Not):
        return {"clause": _jql_node(node.item), "operator": "not"}
    name = node.spelling or node.field
    out = {"field": {"name": name, "encodedName": json.dumps(name) if " " in name else name}, "operator": node.op}
    if isinstance(node, jqlmod.HistoryClause):  # Cloud's FieldWasClause / FieldChangedClause
        if node.op != "changed":
            out["operand"] = _operand(node.values, node.op.endswith(" in"))
        out["predicates"] = [{"operator": word, "operand": _operand(values, len(values) > 1)}
                             for word, values in node.predicates]
        return out
    out["operand"] = _operand(node.values, node.op in ("in", "not in"))
    return out


def jql_structure(query: jqlmod.Query) -> dict:
    """A parsed query as Cloud's ``JqlQuery`` syntax tree."""
    out: dict[str, Any] = {}
    if query.where is not None:
        out["where"] = _jql_node(query.where)
    if query.order_by:
        out["orderBy"] = {"fields": [{"field": {"name": query.spellings.get(name, name),
                                                "encodedName": query.spellings.get(name, name)},
                                      "direction": direction.lower()} for name, direction in query.order_by]}
    return out


def _sprint_names(rec: IssueRec) -> list[str] | None:
    sprint = sprint_of(rec)
    return None if sprint is None else [sprint[1], str(sprint[0])]


_DERIVED: dict[str, Callable[[IssueRec], Any]] = {
    "target_start": lambda r: r.start,
    "sprint": _sprint_names,
    "rank": rank_of,
}


def _custom_getter(attr: str) -> Callable[[IssueRec], Any]:
    """How JQL reads a custom field: the record's attribute, a derived value, or empty."""
    if attr in _DERIVED:
        return _DERIVED[attr]
    if attr in IssueRec.__slots__ or isinstance(getattr(IssueRec, attr, None), property):
        return lambda r: getattr(r, attr)
    return lambda r: None


class SandboxApp:
    """Everything one running sandbox knows: the store, options, faults, log and search cache."""

    def __init__(self, store: Store, *, faults: Faults | None = None, log: RequestLog | None = None,
                 deny_permissions: Iterable[str] = (), notify_needs_admin: bool = True, bot_is_admin: bool = False,
                 search_lag: int | None = None, rate_limits: RateLimits | None = None):
        self.store = store
        self.flavour = store.flavour
        self.faults = faults or Faults()
        self.rate_limits = rate_limits or RateLimits()
        if self.rate_limits.active and self.flavour is not Flavour.CLOUD:
            raise ValueError("the burst and per-issue rate limits are Jira Cloud's; Data Center's admin-set "
                             "limits are the 429 fault")
        self.log = log or RequestLog()
        unknown = set(deny_permissions) - set(PERMISSIONS)
        if unknown:
            raise ValueError(f"unknown permission(s) {sorted(unknown)}; known: {sorted(PERMISSIONS)}")
        self.deny_permissions = set(deny_permissions)
        self.notify_needs_admin = notify_needs_admin
        self.bot_is_admin = bot_is_admin
        store.bot_groups = BOT_GROUPS | (ADMIN_GROUPS if bot_is_admin else frozenset())
        store.bot_roles = BOT_ROLES | (ADMIN_ROLES if bot_is_admin else frozenset())
        self.base_url = ""
        self._cache: OrderedDict[tuple[str, str], list[IssueRec]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._runs: dict[int, tuple[list[IssueRec], list[tuple[str, int, int]]]] = {}  # see _segments
        lag = os.environ.get(SEARCH_LAG_ENV, "0") if search_lag is None else search_lag
        try:
            self.search_lag = int(lag)
        except ValueError:
            raise ValueError(f"{SEARCH_LAG_ENV} must be a whole number of writes, not {lag!r}") from None
        self._writes = 0
        self._stale: dict[int, tuple[IssueRec, int]] = {}  # issue id -> (as last indexed, its last write)
        self._parsed: OrderedDict[str, jqlmod.Query] = OrderedDict()
        self.index = SearchIndex(store)
        self.jql_getters = self._jql_getters()
        self.clause_fields = {c.lower(): f for f in reversed(store.fields) if f.custom for c in f.clause_names}

    # -- JQL --

    def _jql_getters(self) -> dict[str, Callable[[IssueRec], Any]]:
        store = self.store

        def user_ident(uid: str | None) -> str | None:
            if uid is None:
                return None
            return uid if self.flavour is Flavour.CLOUD else store.users[uid].name

        def project_names(r: IssueRec) -> list[str]:
            p = store.projects[r.project]
            return [p.key, p.name, p.id]

        def category(r: IssueRec) -> str | None:
            cat = store.category_of(r.project)
            return cat.name if cat else None

        getters: dict[str, Callable[[IssueRec], Any]] = {
            "project": project_names,
            "category": category,
            "issuetype": lambda r: r.type,
            "status": lambda r: r.status,
            "statuscategory": lambda r: r.status_category,
            "labels": lambda r: r.labels or [],
            "assignee": lambda r: user_ident(r.assignee),
            "reporter": lambda r: user_ident(r.reporter),
            "priority": lambda r: r.priority,
            "resolution": lambda r: r.resolution,
            "key": lambda r: r.key,
            "id": lambda r: r.id,
            jqlmod.CURRENT_USER: lambda r: user_ident(store.bot.account_id),
            "parent": lambda r: r.parent,
            "created": lambda r: r.created,
            "updated": lambda r: r.updated,
            "resolved": lambda r: r.resolved,
            "due": lambda r: r.due,
            "statuscategorychangeddate": lambda r: r.status_changed,
            "summary": lambda r: r.summary,
            "description": lambda r: r.description or None,
            "text": self._all_text,
        }
        if self.flavour is Flavour.DC:
            getters["parent"] = lambda r: r.parent if r.hierarchy_level < 0 else None
        getters["fixversion"] = getters["component"] = lambda r: None  # the portfolio has none
        for f in store.fields:
            if f.custom:
                getter = _custom_getter(f.attr)
                for clause in f.clause_names:
                    getters.setdefault(clause.lower(), getter)  # a shared name searches the oldest field
        return getters

    def _all_text(self, rec: IssueRec) -> str:
        """What ``text ~`` searches: summary, description and the comments the account may see
        (Jira adds environment and text custom fields, which the generated issues leave empty)."""
        parts = [rec.summary, rec.description or ""]
        parts += [c.body if isinstance(c.body, str) else adf_to_wiki(c.body) for c in rec.comments or ()
                  if self.store.can_see(c)]
        return "\n".join(parts)

    def _value_names(self, name: str, raw_id: str | None, text: str | None) -> frozenset[str]:
        """Every spelling JQL may use for one historic value (name, id; for users every identity)."""
        if raw_id is None and text is None:
            return frozenset()
        if name in ("assignee", "reporter"):
            user = self.store.user(raw_id)
            if user is None:
                return frozenset(x.casefold() for x in (raw_id, text) if x)
            return self._user_names(user.account_id)
        return frozenset(x.casefold() for x in (raw_id, text) if x)

    def _user_names(self, account_id: str | None) -> frozenset[str]:
        user = self.store.users.get(account_id) if account_id else None
        if user is None:
            return frozenset()
        return frozenset(x.casefold() for x in (user.account_id, user.name, user.key, user.email, user.display_name))

    _HISTORY_IDS = {"status": "status", "assignee": "assignee", "reporter": "reporter", "priority": "priority",
                    "resolution": "resolution", "fixversion": "fixVersions"}

    def field_history(self, rec: IssueRec, name: str) -> tuple[list, list]:
        """(value periods, changes) of one field from the issue's changelog, for WAS and CHANGED.

        A period is ``(start, end or None, value names, names of who set it)``; the value at
        creation counts as set by the reporter, as in Jira. A change is ``(when, author names,
        old value names, new value names)``."""
        field_id = self._HISTORY_IDS[name]
        changes = []
        for h in self.store.history(rec):
            for item in h.items:
                if item.field_id == field_id:
                    changes.append((h.created, self._user_names(h.author),
                                    self._value_names(name, item.from_id, item.from_string),
                                    self._value_names(name, item.to_id, item.to_string)))
        if changes:
            first = changes[0][2]
        else:
            current = {"status": rec.status, "priority": rec.priority, "resolution": rec.resolution}.get(name)
            if name in ("assignee", "reporter"):
                first = self._user_names(getattr(rec, name))
            else:
                first = frozenset({current.casefold()}) if current else frozenset()
        periods = []
        start, names, by = rec.created, first, self._user_names(rec.reporter)
        for when, author, _, new in changes:
            periods.append((start, when, names, by))
            start, names, by = when, new, author
        periods.append((start, None, names, by))
        return periods, changes

    def _link_type(self, text: str) -> tuple[str, bool | None] | None:
        """(link type, direction: True outward, False inward, None both) for a name or description."""
        low = text.strip().casefold()
        for name, (_, inward, outward) in LINK_TYPES.items():
            if low == name.casefold():
                return name, None
            if low == outward.casefold():
                return name, None if inward == outward else True
            if low == inward.casefold():
                return name, False
        return None

    def linked_keys(self, key: str, link_type: str | None) -> frozenset[str]:
        """``linkedIssues(key[, link type])``: the keys linked to ``key`` (by that type and direction)."""
        rec = self.store.issue(key)
        if rec is None:
            return frozenset()
        wanted = self._link_type(link_type) if link_type else None
        out = set()
        for link in rec.links or ():
            if wanted is not None and (link.type != wanted[0] or wanted[1] not in (None, link.outward)):
                continue
            out.add(link.other)
        return frozenset(out)

    def parse_jql(self, text: str, *, cloud_search: bool) -> jqlmod.Query:
        try:
            query = self._parse_cached(text)
            query.check_fields(self.jql_getters)
            for name, _ in query.order_by:
                if name not in self.jql_getters:
                    raise jqlmod.JqlError(f"Not able to sort using field '{name}'.")
        except jqlmod.JqlError as exc:
            raise HttpError(400, [str(exc)]) from None
        errors: list[str] = []
        self._check_values(query.where, errors)
        if errors:
            raise HttpError(400, list(dict.fromkeys(errors)))
        if cloud_search and not query.bounded:
            raise HttpError(400, [UNBOUNDED])
        return query

    def _parse_cached(self, text: str) -> jqlmod.Query:
        """Parsing depends on the text alone, so each page of a search reuses the first page's parse."""
        with self._cache_lock:
            query = self._parsed.get(text)
            if query is not None:
                self._parsed.move_to_end(text)
                return query
        query = jqlmod.parse(text)
        with self._cache_lock:
            self._parsed[text] = query
            while len(self._parsed) > 256:
                self._parsed.popitem(last=False)
        return query

    def _check_values(self, node: Any, errors: list[str]) -> None:
        """Jira rejects, naming each, values that do not exist on the site (issue types, statuses,
        priorities, resolutions, options, users, versions, sprints) and projects or issue keys the
        account cannot see: the whole query answers 400, never an empty result."""
        if node is None:
            return
        if isinstance(node, (jqlmod.And, jqlmod.Or)):
            for item in node.items:
                self._check_values(item, errors)
            return
        if isinstance(node, jqlmod.Not):
            self._check_values(node.item, errors)
            return
        known = self._known_values(node.field)
        values = node.values
        if isinstance(node, jqlmod.HistoryClause):
            values += tuple(v for word, vs in node.predicates if word in ("from", "to") for v in vs)
        for value in values:
            if value.kind == "func" and value.text == jqlmod.LINKED_ISSUES:
                ref = value.args[0]
                linked = self.store.issue(ref)
                if linked is None or not self.can_browse(self.store.projects[linked.project]):
                    errors.append(f"Issue '{ref}' could not be found in function 'linkedIssues'.")
                if len(value.args) > 1 and self._link_type(value.args[1]) is None:
                    errors.append(f"Issue link type '{value.args[1]}' could not be found in function 'linkedIssues'.")
                continue
            if value.kind != "lit":
                continue
            text = value.text.strip()
            if node.field == "project":
                project = self.find_project(text)
                if project is None or not self.can_browse(project):
                    errors.append(f"The value '{text}' does not exist for the field '{node.spelling}'.")
            elif node.field in ("key", "parent", "epic link") and not text.isdigit() and node.op not in ("<", "<=", ">", ">="):
                rec = self.store.issue(text)
                if rec is None or not self.can_browse(self.store.projects[rec.project]):
                    errors.append(f"An issue with key '{text}' does not exist for field '{node.spelling}'.")
            elif known is not None and node.op not in ("~", "!~") and text.casefold() not in known[0]:
                errors.append(known[1].format(value=text, field=node.spelling))

    def _known_values(self, name: str) -> tuple[set[str], str] | None:
        """(casefolded values and ids the site has, Jira's message) for a field with a fixed value set."""
        store = self.store
        missing = "The value '{value}' does not exist for the field '{field}'."
        if name == "issuetype":
            names = {(t, str(ISSUE_TYPES[t][0])) for t in store.issue_types}
        elif name == "status":
            names = {(s, str(STATUSES[s][0])) for s in store.statuses}
        elif name == "priority":
            names = {(p, str(pid)) for p, pid in PRIORITIES.items()}
        elif name == "resolution":
            names = {(r, RESOLUTIONS[r][0]) for r in store.profile.resolutions} | {("Unresolved", "-1")}
        elif name in ("assignee", "reporter"):
            names = {(u.account_id, u.email, u.display_name) if self.flavour is Flavour.CLOUD
                     else (u.name, u.key, u.email, u.display_name) for u in store.users.values()}
        elif name in ("fixversion", "component"):
            names = set()  # the generated projects have no versions or components
        elif name == "sprint":
            names = {(s[1], str(s[0])) for s in map(sprint_of, store.issues) if s}
        else:
            f = self.clause_fields.get(name)
            if f is None or f.schema["type"] != "option":
                return None
            names = {(v, option_id(f.attr, v)) for v in SELECT_OPTIONS[f.attr]}
            missing = "The option '{value}' for field '{field}' does not exist."
        return {n.casefold() for group in names for n in group}, missing

    def find_project(self, ref: str) -> ProjectRec | None:
        return self.index.find_project(ref)

    def snapshot(self) -> str:
        """Names the data a search sees: the store version and the minute (JQL dates have minute precision)."""
        return f"{self.store.version}.{int(self.store.clock().timestamp() // 60)}"

    def note_write(self, rec: IssueRec) -> None:
        """A REST write to ``rec`` is about to happen: with a search lag, Cloud's search keeps
        seeing the issue as it was until ``search_lag`` more writes have happened on the site."""
        if self.search_lag <= 0 or self.flavour is not Flavour.CLOUD:
            return
        with self._cache_lock:
            self._writes += 1
            earlier = self._stale.get(rec.id)
            self._stale[rec.id] = (earlier[0] if earlier else replace(rec), self._writes)
            horizon = self._writes - self.search_lag
            for issue_id in [i for i, (_, n) in self._stale.items() if n <= horizon]:
                del self._stale[issue_id]

    def lagging(self, reconcile: Iterable[int]) -> dict[int, IssueRec]:
        """Issue id -> what a lagging search still sees, except the issues asked to be reconciled."""
        with self._cache_lock:
            return {i: old for i, (old, _) in self._stale.items() if i not in set(reconcile)}

    def matches(self, query: jqlmod.Query,
                stale: dict[int, IssueRec] | None = None) -> tuple[str, list[IssueRec]]:
        """(snapshot, ordered matches) of one query on the current data (with ``stale`` issues as a
        lagging index still sees them); cached per (parsed query, snapshot), so JQL written
        differently but meaning the same is evaluated once."""
        store = self.store
        with store.lock:
            snapshot = self.snapshot()
            if stale:
                snapshot += "." + hashlib.sha1(",".join(map(str, sorted(stale))).encode()).hexdigest()[:8]
            key = (query.key, snapshot)
            with self._cache_lock:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    return snapshot, self._cache[key]
            window = self._key_window(query, stale)
            found = window if window is not None else self._evaluate(query, stale)
        with self._cache_lock:
            self._cache[key] = found
            while len(self._cache) > 32:
                self._cache.popitem(last=False)
        return snapshot, found

    def _evaluate(self, query: jqlmod.Query, stale: dict[int, IssueRec] | None) -> list[IssueRec]:
        store = self.store
        pred = query.predicate(store.clock().astimezone(store.time_zone))
        acc = _Accessor(self)
        hidden = {k for k, p in store.projects.items() if not self.can_browse(p)}
        found = []
        for rec in self.index.candidates(query):
            if rec.project in hidden:
                continue
            if stale:
                rec = stale.get(rec.id, rec)
            acc.rec = rec
            if pred(acc):
                found.append(rec)
        if query.order_by:
            def sort_key(rec: IssueRec) -> tuple:
                acc.rec = rec
                return query.sort_key(acc) + (-rec.id,)
            found.sort(key=sort_key)
        else:
            found.reverse()  # Jira's default: newest first
        return found

    def _key_window(self, query: jqlmod.Query, stale: dict[int, IssueRec] | None) -> list[IssueRec] | None:
        """A Data Center key window, ``(BASE) AND project not in (...) [AND key > "P-n"] ORDER BY key
        ASC``, cut from BASE's result in key order (evaluated once, cached), where a project's issues
        lie together and by number; None for any other query.

        Evaluated on its own, each window looked at every issue of the projects left: a read of N
        issues cost N x windows, so its pages grew dearer with the site.
        """
        where = query.where
        if query.order_by != [("key", "ASC")] or not isinstance(where, jqlmod.And) or len(where.items) < 2:
            return None
        base, *extras = where.items
        excluded: set[str] = set()
        after: tuple[str, int] | None = None
        for c in extras:
            if not isinstance(c, jqlmod.Clause) or not c.values or any(v.kind != "lit" for v in c.values):
                return None
            if c.field == "project" and c.op == "not in":
                for v in c.values:
                    excluded.update(self.index.project_keys(v.text.strip()))
            elif c.field == "key" and c.op == ">" and len(c.values) == 1 and after is None:
                project, sep, num = c.values[0].text.strip().rpartition("-")
                if not sep or not num.isdigit():
                    return None
                after = (project.upper(), int(num))
            else:
                return None
        _, ordered = self.matches(jqlmod.Query(base, [("key", "ASC")], query.spellings), stale)
        out: list[IssueRec] = []
        for project, lo, hi in self._segments(ordered):
            if project in excluded or (after is not None and project != after[0]):
                continue
            if after is not None:
                lo = bisect.bisect_right(ordered, after[1], lo, hi, key=key_number)
            out.extend(ordered[lo:hi])
        return out

    def _segments(self, ordered: list[IssueRec]) -> list[tuple[str, int, int]]:
        """(project, start, end) of each project's run of issues in a result in key order (kept per result)."""
        with self._cache_lock:
            known = self._runs.get(id(ordered))
            if known is not None and known[0] is ordered:
                return known[1]
        runs: list[tuple[str, int, int]] = []
        start = 0
        for n in range(1, len(ordered) + 1):
            if n == len(ordered) or ordered[n].project != ordered[start].project:
                runs.append((ordered[start].project, start, n))
                start = n
        with self._cache_lock:
            self._runs[id(ordered)] = (ordered, runs)
            while len(self._runs) > 8:
                self._runs.pop(next(iter(self._runs)))
        return runs

    def cached(self, query: jqlmod.Query, snapshot: str) -> list[IssueRec] | None:
        with self._cache_lock:
            return self._cache.get((query.key, snapshot))

    # -- permissions --

    def has(self, permission: str) -> bool:
        if permission in self.deny_permissions:
            return False
        if permission in ("ADMINISTER", "ADMINISTER_PROJECTS"):
            return self.bot_is_admin
        return True

    def can_browse(self, project: ProjectRec) -> bool:
        """VAULT is never browsable; denying BROWSE_PROJECTS hides every project, as on a misconfigured site."""
        return project.browsable and self.has("BROWSE_PROJECTS")

    def require(self, permission: str, message: str) -> None:
        if not self.has(permission):
            raise HttpError(403, [message])

    def check_notify(self, query: dict[str, list[str]]) -> None:
        notify = query.get("notifyUsers", ["true"])[-1]
        if self.notify_needs_admin and not _flag(notify) and not self.bot_is_admin:
            raise HttpError(403, [NOTIFY_ADMIN])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pmo-jira-sandbox"
    sys_version = ""
    app: SandboxApp  # set on the subclass built per server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # the RequestLog replaces stderr noise
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- plumbing --

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, raw_query = parts.path, parts.query
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        fault = self.app.faults.next(path, method)
        if fault is not None and self._fault(fault, method, path, raw_query):
            return
        try:
            login = self._authenticate(path)
            limits = self.app.rate_limits.check(method, path, self._issue_id) if self.app.rate_limits.active else None
            if limits is not None and limits.refused:
                raise HttpError(429, ["Rate limit exceeded."], headers=limits.headers)
            query = parse_qs(raw_query, keep_blank_values=True)
            status, payload, headers = Router(self.app, self.base_url).dispatch(method, path, query, raw_body)
            headers = {**headers, **login, **(limits.headers if limits else {})}
        except HttpError as err:
            status, payload, headers = err.status, err.body, err.headers
        except StoreError as err:
            status, payload, headers = err.status, {"errorMessages": err.messages, "errors": err.errors}, {}
        except Exception as err:  # an unexpected bug answers 500 like Jira, with the reason for the tester
            status, payload, headers = 500, {"errorMessages": [f"Internal server error: {type(err).__name__}: {err}"],
                                             "errors": {}}, {}
        if fault is not None and fault.kind == "drop-after-apply":  # the write landed; its answer is lost
            self._drop(method, path, raw_query)
            return
        self.app.log.append(Request(method, path, raw_query, status))  # before answering: no race for readers
        self._send(status, payload, headers)

    @property
    def base_url(self) -> str:
        return self.app.base_url

    def _issue_id(self, ref: str) -> str | None:
        rec = self.app.store.issue(unquote(ref))
        return None if rec is None else str(rec.id)

    def _drop(self, method: str, path: str, raw_query: str) -> None:
        self.app.log.append(Request(method, path, raw_query, 0))
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _fault(self, fault: Fault, method: str, path: str, raw_query: str) -> bool:
        """Apply a fault; True when the request is fully answered (or dropped) by it."""
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        if fault.kind == "drop-after-apply":
            return False  # applied first, dropped in _handle
        if fault.kind == "drop":
            self._drop(method, path, raw_query)
            return True
        retry = str(self.app.faults.retry_after)
        if fault.kind == "429":
            headers = {"Retry-After": retry, "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"}
            if self.app.flavour is Flavour.CLOUD:
                headers["X-RateLimit-Reset"] = fmt_datetime(self.app.store.clock())
                headers["RateLimit-Reason"] = "jira-burst-based"
            else:
                headers["X-RateLimit-Interval-Seconds"] = "1"
                headers["X-RateLimit-FillRate"] = "10"
            self.app.log.append(Request(method, path, raw_query, 429))
            self._send(429, {"errorMessages": ["Rate limit exceeded."], "errors": {}}, headers)
            return True
        headers = {"Retry-After": retry} if self.app.faults.retry_after_on_503 else {}
        self.app.log.append(Request(method, path, raw_query, 503))
        self._send(503, {"errorMessages": ["Service Unavailable"], "errors": {}}, headers)
        return True

    def _authenticate(self, path: str) -> dict[str, str]:
        """Like Jira's login filter (Seraph): serverInfo answers anyone, even with credentials that
        fail, flagging the failure only in ``X-Seraph-LoginReason``; every other endpoint here
        needs a valid login (401)."""
        header = self.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if self.app.flavour is Flavour.CLOUD:
            ok = scheme.lower() == "basic" and value.strip() == _BASIC_CREDENTIALS
            challenge = 'Basic realm="protected-area"'
        else:
            ok = scheme.lower() == "bearer" and value.strip() == SANDBOX_TOKEN
            challenge = 'OAuth realm="pmo-jira sandbox"'
        if ok:
            return {"X-Seraph-LoginReason": "OK"}
        anonymous_ok = re.fullmatch(r"/rest/api/(2|3|latest)/serverInfo", path) is not None
        if anonymous_ok and not header:
            return {}
        failed = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}
        if anonymous_ok:
            return failed
        raise HttpError(401, [UNAUTHORISED], headers={"WWW-Authenticate": challenge, **failed})

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(status)
        if payload is not None:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        # headers and body in one write: two small writes meet Nagle and delayed ACKs (40 ms a request)
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()


class Router(IssueRoutes):
    """Maps one request to a Jira answer: ``(status, json payload or None, headers)``."""

    def __init__(self, app: SandboxApp, base_url: str):
        self.app, self.store, self.base = app, app.store, base_url
        self.cloud = app.flavour is Flavour.CLOUD

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], raw_body: bytes) -> tuple[int, Any, dict]:
        segs = [unquote(s) for s in path.split("/") if s]
        if len(segs) < 4 or segs[:2] != ["rest", "api"]:
            raise HttpError(404, ["The requested resource could not be found."])
        version = {"latest": "2"}.get(segs[2], segs[2])
        if version not in (("2", "3") if self.cloud else ("2",)):
            raise HttpError(404, [f"No API version {segs[2]} on this site."])
        self.q, self.v = query, version
        self.shapes = Shapes(self.store, self.base, version)
        self.body = self._json(raw_body) if raw_body else None
        rest = segs[3:]
        handler = self._route(method, rest)
        if handler is None:
            raise HttpError(404, ["null for uri: " + self.base + path])
        with self.store.lock:
            return handler()

    def _json(self, raw: bytes) -> Any:
        try:
            return json.loads(raw)
        except ValueError:
            raise HttpError(400, ["Unexpected character in the request body: not valid JSON."]) from None

    def _route(self, method: str, rest: list[str]) -> Callable[[], tuple[int, Any, dict]] | None:
        head, n = rest[0], len(rest)
        second = rest[1] if n > 1 else ""
        table: dict[tuple[str, str, int], Callable[[], tuple[int, Any, dict]]] = {
            ("GET", "serverInfo", 1): self.server_info,
            ("GET", "myself", 1): lambda: (200, self.shapes.myself(), {}),
            ("GET", "field", 1): lambda: (200, [self.shapes.field(f) for f in self.store.fields], {}),
            ("GET", "projectCategory", 1): self.categories,
            ("GET", "statuscategory", 1): lambda: (200, [self.shapes.status_category(k) for k in STATUS_CATEGORIES], {}),
            ("GET", "status", 1): lambda: (200, [self.shapes.status(s) for s in self.store.statuses], {}),
            ("GET", "issuetype", 1): lambda: (200, [self.shapes.issuetype(t) for t in self.store.issue_types], {}),
            ("GET", "priority", 1): lambda: (200, [self.shapes.priority(p) for p in PRIORITIES], {}),
            ("GET", "resolution", 1): lambda: (200, [self.shapes.resolution(r)
                                                     for r in self.store.profile.resolutions], {}),
            ("GET", "project", 1): self.projects,
            ("GET", "mypermissions", 1): self.my_permissions,
            ("GET", "search", 1): self.legacy_search,
            ("POST", "search", 1): self.legacy_search,
            ("POST", "issue", 1): self.create_issue,
            ("GET", "user", 2): self.user_search if second == "search" else None,
        }
        if self.cloud:
            table.update({
                ("POST", "changelog", 2): self.bulk_changelog if second == "bulkfetch" else None,
                ("POST", "jql", 2): self.jql_parse if second == "parse" else None,
                ("GET", "project", 2): self.project_search if second == "search" else lambda: self.project(second),
                ("GET", "search", 2): self.enhanced_search if second == "jql" else None,
                ("POST", "search", 2): {"jql": self.enhanced_search, "approximate-count": self.approximate_count}.get(second),
            })
        else:
            table[("GET", "project", 2)] = lambda: self.project(second)
        if head == "project" and n >= 3 and rest[2] == "properties":
            table.update({
                ("GET", "project", 3): lambda: self.project_property_keys(rest[1]),
                ("GET", "project", 4): lambda: self.project_property(rest[1], rest[3]),
                ("PUT", "project", 4): lambda: self.put_project_property(rest[1], rest[3]),
            })
        if head == "issue" and n >= 2:
            key = rest[1]
            sub = rest[2] if n >= 3 else None
            table.update({
                ("GET", "issue", 2): lambda: self.get_issue(key),
                ("PUT", "issue", 2): lambda: self.edit_issue(key),
            })
            if sub == "comment":
                table.update({
                    ("GET", "issue", 3): lambda: self.list_comments(key),
                    ("POST", "issue", 3): lambda: self.add_comment(key),
                    ("GET", "issue", 4): lambda: self.get_comment(key, rest[3]),
                    ("PUT", "issue", 4): lambda: self.edit_comment(key, rest[3]),
                    ("DELETE", "issue", 4): lambda: self.delete_comment(key, rest[3]),
                })
            elif sub == "transitions":
                table.update({
                    ("GET", "issue", 3): lambda: self.get_transitions(key),
                    ("POST", "issue", 3): lambda: self.do_transition(key),
                })
            elif sub == "changelog" and self.cloud:
                table[("GET", "issue", 3)] = lambda: self.issue_changelog(key)
            elif sub == "properties":
                table.update({
                    ("GET", "issue", 3): lambda: self.property_keys(key),
                    ("GET", "issue", 4): lambda: self.get_property(key, rest[3]),
                    ("PUT", "issue", 4): lambda: self.put_property(key, rest[3]),
                    ("DELETE", "issue", 4): lambda: self.delete_property(key, rest[3]),
                })
            elif sub is not None:
                return None
        return table.get((method, head, n))

    # -- parameters --

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.q.get(name)
        return values[-1] if values else default

    def multi(self, name: str) -> list[str]:
        """A repeatable, comma-separated parameter (GET) or a list / string (POST body)."""
        if isinstance(self.body, dict) and name in self.body:
            value = self.body[name]
            items = value if isinstance(value, list) else [value]
            return [p.strip() for item in items for p in str(item).split(",") if p.strip()]
        return [p.strip() for v in self.q.get(name, []) for p in v.split(",") if p.strip()]

    def number(self, name: str, default: int) -> int:
        raw = self.body.get(name) if isinstance(self.body, dict) and name in self.body else self.param(name)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise HttpError(400, [f"The '{name}' parameter must be a number, got '{raw}'."]) from None

    def text(self, name: str) -> str | None:
        if isinstance(self.body, dict) and name in self.body:
            value = self.body[name]
            return None if value is None else str(value)
        return self.param(name)

    # -- simple resources --

    def server_info(self) -> tuple[int, Any, dict]:
        return 200, self.shapes.server_info(self.store.clock()), {}

    def categories(self) -> tuple[int, Any, dict]:
        return 200, [self.shapes.category(c) for c in self.store.categories], {}

    def visible_projects(self) -> list:
        return [p for p in self.store.projects.values() if self.app.can_browse(p)]

    def projects(self) -> tuple[int, Any, dict]:
        expand = self.multi("expand")
        return 200, [self.shapes.project(p, expand) for p in self.visible_projects()], {}

    def project_search(self) -> tuple[int, Any, dict]:
        start = max(self.number("startAt", 0), 0)
        limit = min(max(self.number("maxResults", 50), 1), CLOUD_PROJECT_PAGE_MAX)
        projects = self.visible_projects()
        keys = set(self.multi("keys"))
        if keys:
            projects = [p for p in projects if p.key in keys]
        category = self.param("categoryId")
        if category:
            projects = [p for p in projects if p.category_id == category]
        needle = (self.param("query") or "").lower()
        if needle:
            projects = [p for p in projects if needle in p.key.lower() or needle in p.name.lower()]
        order = self.param("orderBy", "key") or "key"
        reverse = order.startswith("-")
        order = order.lstrip("+-")
        keyf = {"name": lambda p: p.name.lower(), "category": lambda p: p.category_id or ""}.get(order, lambda p: p.key)
        projects = sorted(projects, key=keyf, reverse=reverse)
        page = projects[start:start + limit]
        expand = self.multi("expand")
        self_url = f"{self.shapes.api}/project/search?startAt={start}&maxResults={limit}"
        out: dict[str, Any] = {"self": self_url, "maxResults": limit, "startAt": start, "total": len(projects),
                               "isLast": start + len(page) >= len(projects),
                               "values": [self.shapes.project(p, expand, self.multi("properties"))
                                          for p in page]}
        if not out["isLast"]:
            extra = "".join(f"&{k}={v}" for k, v in (("expand", ",".join(expand)), ("categoryId", category)) if v)
            out["nextPage"] = f"{self.shapes.api}/project/search?startAt={start + limit}&maxResults={limit}{extra}"
        return 200, out, {}

    def _project(self, ref: str):
        project = self.app.find_project(ref)
        if project is None or not self.app.can_browse(project):
            raise HttpError(404, [f"No project could be found with key '{ref}'."])
        return project

    def project(self, ref: str) -> tuple[int, Any, dict]:
        return 200, self.shapes.project(self._project(ref), ["lead", "description", "projectKeys"]), {}

    def project_property_keys(self, ref: str) -> tuple[int, Any, dict]:
        project = self._project(ref)
        return 200, {"keys": [{"key": k, "self": f"{self.shapes.api}/project/{project.id}/properties/{k}"}
                              for k in sorted(project.properties)]}, {}

    def project_property(self, ref: str, prop: str) -> tuple[int, Any, dict]:
        project = self._project(ref)
        if prop not in project.properties:
            raise HttpError(404, [f"The property with key '{prop}' does not exist."])
        return 200, {"key": prop, "value": project.properties[prop]}, {}

    def put_project_property(self, ref: str, prop: str) -> tuple[int, Any, dict]:
        project = self._project(ref)
        self.app.require("ADMINISTER_PROJECTS", "You do not have permission to set this project property.")
        created = self.store.set_project_property(project.key, prop, self._property_value())
        return (201 if created else 200), None, {}

    def my_permissions(self) -> tuple[int, Any, dict]:
        wanted = self.multi("permissions")
        if not wanted:
            if self.cloud:
                raise HttpError(400, ["The permissions query parameter is required."])
            wanted = list(PERMISSIONS)
        unknown = [w for w in wanted if w not in PERMISSIONS]
        if unknown:
            raise HttpError(400, [f"Permission key '{unknown[0]}' is not valid."])
        ref = self.param("projectKey") or self.param("projectId")
        if ref:
            self._project(ref)
        out = {}
        for key in wanted:
            pid, name, ptype, description = PERMISSIONS[key]
            out[key] = {"id": pid, "key": key, "name": name, "type": ptype, "description": description,
                        "havePermission": self.app.has(key)}
        return 200, {"permissions": out}, {}

    # -- search --

    def _fields(self, default: str) -> list:
        return select_fields(self.store, self.multi("fields"), default)

    def _properties(self) -> list[str]:
        props = self.multi("properties")
        if len(props) > 5:
            raise HttpError(400, ["You can request at most 5 issue properties."])
        return props

    def _render(self, issues: list[IssueRec], fields: list, props: list[str]) -> list[dict]:
        changelog = "changelog" in self.multi("expand")
        limit = CLOUD_SEARCH_CHANGELOG if self.cloud else None
        return [self.shapes.issue(rec, fields, properties=props, changelog=changelog, changelog_limit=limit)
                for rec in issues]

    def legacy_search(self) -> tuple[int, Any, dict]:
        if self.cloud:
            raise HttpError(410, [CHANGE_2046])
        jql = self.text("jql") or ""
        query = self.app.parse_jql(jql, cloud_search=False)
        start = max(self.number("startAt", 0), 0)
        limit = min(max(self.number("maxResults", 50), 0), DC_MAX_RESULTS)
        fields = self._fields("*navigable")
        if start + limit > DC_RESULT_WINDOW:  # Jira 11's search platform: a 500, as the KB article shows
            raise HttpError(500, [f"Search limit exceeded. We couldn't complete your search because it requests "
                                  f"{start + limit:,} results which exceeded the search platform limit of "
                                  f"{DC_RESULT_WINDOW:,}. Try refining your query or contact your Jira "
                                  "administrator. Repeating the same search may not work."])
        _, found = self.app.matches(query)
        page = found[start:start + limit]
        # Data Center's search has no `properties` parameter (JRASERVER-62898): it is ignored.
        out: dict[str, Any] = {"expand": "schema,names", "startAt": start, "maxResults": limit,
                               "total": len(found), "issues": self._render(page, fields, [])}
        if "names" in self.multi("expand"):
            out["names"] = {f.id: f.name for f in fields}
        return 200, out, {}

    def enhanced_search(self) -> tuple[int, Any, dict]:
        jql = self.text("jql") or ""
        query = self.app.parse_jql(jql, cloud_search=True)
        fields = self._fields("id")
        props = self._properties()
        cap = CLOUD_MAX_WITH_FIELDS if (fields or props) else CLOUD_MAX_IDS
        limit = min(max(self.number("maxResults", 50), 0), cap)
        token = self.text("nextPageToken")
        digest = hashlib.sha1(jql.encode()).hexdigest()[:12]
        stale = self.app.lagging(self._reconcile())
        if token:
            try:
                snapshot, offset, check = base64.urlsafe_b64decode(token.encode()).decode().split(":")
                start = int(offset)
            except (ValueError, UnicodeDecodeError):
                raise HttpError(400, ["The provided next page token is invalid or expired."]) from None
            if check != digest:
                raise HttpError(400, ["The provided next page token is invalid or expired."])
            found = self.app.cached(query, snapshot)
            if found is None:  # evicted: continue on the current data, as an eventually consistent search may
                snapshot, found = self.app.matches(query, stale)
        else:
            start = 0
            snapshot, found = self.app.matches(query, stale)
        page = found[start:start + limit]
        end = start + len(page)
        out: dict[str, Any] = {"issues": self._render(page, fields, props)}
        if "names" in self.multi("expand"):
            out["names"] = {f.id: f.name for f in fields}
        if end < len(found) and limit > 0:
            out["nextPageToken"] = base64.urlsafe_b64encode(f"{snapshot}:{end}:{digest}".encode()).decode()
            out["isLast"] = False
        else:
            out["isLast"] = True
        return 200, out, {}

    def jql_parse(self) -> tuple[int, Any, dict]:
        """Cloud's POST /jql/parse: each query's syntax tree, or its errors. ``validation=strict``
        (the default) also checks fields and values like a search; ``warn`` reports those as
        warnings; ``none`` checks the syntax only."""
        level = self.param("validation", "strict")
        if level not in ("strict", "warn", "none"):
            raise HttpError(400, [f"Invalid validation level '{level}'; use strict, warn or none."])
        queries = self.body.get("queries") if isinstance(self.body, dict) else None
        if not isinstance(queries, list) or not queries or not all(isinstance(q, str) and q for q in queries):
            raise HttpError(400, ["queries must be a non-empty list of JQL queries."])
        out = []
        for text in queries:
            try:
                query = self.app._parse_cached(text)
            except jqlmod.JqlError as exc:
                out.append({"query": text, "errors": [str(exc)]})
                continue
            problems: list[str] = []
            if level != "none":
                try:
                    self.app.parse_jql(text, cloud_search=False)
                except HttpError as err:
                    problems = err.body["errorMessages"]
            entry: dict[str, Any] = {"query": text}
            if problems and level == "strict":
                entry["errors"] = problems
            else:
                entry["structure"] = jql_structure(query)
                if problems:
                    entry["warnings"] = problems
            out.append(entry)
        return 200, {"queries": out}, {}

    def approximate_count(self) -> tuple[int, Any, dict]:
        jql = self.text("jql") or ""
        query = self.app.parse_jql(jql, cloud_search=True)
        return 200, {"count": len(self.app.matches(query, self.app.lagging(()))[1])}, {}

    def _reconcile(self) -> list[int]:
        """``reconcileIssues``: issue ids (at most 50) the search must show as last written."""
        raw = self.multi("reconcileIssues")
        try:
            ids = [int(x) for x in raw]
        except ValueError:
            raise HttpError(400, ["reconcileIssues must be a list of issue ids."]) from None
        if len(ids) > RECONCILE_MAX:
            raise HttpError(400, [f"reconcileIssues can contain at most {RECONCILE_MAX} issue ids."])
        return ids

    # -- issues --

    def _issue(self, key: str) -> IssueRec:
        rec = self.store.issue(key)
        if rec is None or not self.app.can_browse(self.store.projects[rec.project]):
            raise HttpError(404, [NOT_FOUND_ISSUE])
        return rec

    def get_issue(self, key: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        fields = self._fields("*all")
        props = self.multi("properties")
        if "*all" in props:
            props = sorted(rec.properties or {})
        expand = self.multi("expand")
        return 200, self.shapes.issue(rec, fields, properties=props, names="names" in expand,
                                      changelog="changelog" in expand,
                                      changelog_limit=CLOUD_ISSUE_CHANGELOG if self.cloud else None), {}

    def issue_changelog(self, key: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        start = max(self.number("startAt", 0), 0)
        limit = min(max(self.number("maxResults", 100), 1), 100)
        return 200, self.shapes.changelog_page(rec, start, limit), {}

    def bulk_changelog(self) -> tuple[int, Any, dict]:
        """Cloud's POST /changelog/bulkfetch: the histories of up to 1000 issues in one stream,
        oldest first (then by issue id), cut into pages of ``maxResults`` entries."""
        body = self.body if isinstance(self.body, dict) else {}
        refs = body.get("issueIdsOrKeys")
        if not isinstance(refs, list) or not refs or not all(isinstance(r, (str, int)) for r in refs):
            raise HttpError(400, ["issueIdsOrKeys must be a non-empty list of issue ids or keys."])
        if len(refs) > BULK_CHANGELOG_ISSUES:
            raise HttpError(400, [f"issueIdsOrKeys can contain at most {BULK_CHANGELOG_ISSUES} issue ids or keys."])
        field_ids = body.get("fieldIds") or []
        if not isinstance(field_ids, list) or not all(isinstance(f, str) for f in field_ids):
            raise HttpError(400, ["fieldIds must be a list of field ids."])
        if len(set(field_ids)) > BULK_CHANGELOG_FIELDS:
            raise HttpError(400, [f"fieldIds can contain at most {BULK_CHANGELOG_FIELDS} field ids."])
        limit = body.get("maxResults", 1000)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= BULK_CHANGELOG_MAX:
            raise HttpError(400, [f"maxResults must be between 1 and {BULK_CHANGELOG_MAX}."])
        digest = hashlib.sha1(json.dumps([refs, sorted(set(field_ids))]).encode()).hexdigest()[:12]
        start = 0
        token = body.get("nextPageToken")
        if token:
            try:
                offset, check = base64.urlsafe_b64decode(str(token).encode()).decode().split(":")
                start = int(offset)
            except (ValueError, UnicodeDecodeError):
                raise HttpError(400, ["The provided next page token is invalid or expired."]) from None
            if check != digest:
                raise HttpError(400, ["The provided next page token is invalid or expired."])
        wanted = set(field_ids)
        stream = []
        seen: set[int] = set()
        for ref in refs:
            rec = self.store.issue(str(ref))
            if rec is None or rec.id in seen or not self.app.can_browse(self.store.projects[rec.project]):
                continue  # unknown or hidden issues are left out, as Jira does
            seen.add(rec.id)
            for h in self.store.history(rec):
                if wanted:
                    items = tuple(i for i in h.items if i.field_id in wanted)
                    if not items:
                        continue
                    h = replace(h, items=items)
                stream.append((h.created, rec.id, h.id, h))
        stream.sort(key=lambda e: e[:3])
        page = stream[start:start + limit]
        groups: dict[int, list[dict]] = {}
        for _, issue_id, _, h in page:
            groups.setdefault(issue_id, []).append(self.shapes.history(h))
        out: dict[str, Any] = {"issueChangeLogs": [{"issueId": str(i), "changeHistories": hs}
                                                   for i, hs in groups.items()]}
        if start + limit < len(stream):
            out["nextPageToken"] = base64.urlsafe_b64encode(f"{start + limit}:{digest}".encode()).decode()
        return 200, out, {}

    def edit_issue(self, key: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        self.app.require("EDIT_ISSUES", "You do not have permission to edit issues in this project.")
        self.app.check_notify(self.q)
        body = self.body if isinstance(self.body, dict) else {}
        self.app.note_write(rec)
        self.store.edit_issue(rec.key, body.get("fields"), body.get("update"))
        for prop in body.get("properties") or ():
            self.store.set_property(rec.key, prop["key"], prop["value"])
        if _flag(self.param("returnIssue")) and self.cloud:
            return 200, self.shapes.issue(rec, self._fields("*all")), {}
        return 204, None, {}

    def list_comments(self, key: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        start = max(self.number("startAt", 0), 0)
        limit = min(max(self.number("maxResults", 100 if self.cloud else 5000), 0), 5000)
        newest_first = (self.param("orderBy") or "").startswith("-")
        return 200, self.shapes.comment_page(rec, start, limit, newest_first), {}

    def add_comment(self, key: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        self.app.require("ADD_COMMENTS", "You do not have the permission to comment on this issue.")
        body, visibility = self._comment_body(), self._visibility()
        self.app.note_write(rec)
        comment = self.store.add_comment(rec.key, body, visibility=visibility)
        return 201, self.shapes.comment(rec, comment), {}

    def _visible_comment(self, rec: IssueRec, comment_id: str) -> Any:
        comment = self.store.comment(rec, comment_id)
        if not self.store.can_see(comment):
            raise HttpError(404, [f"Can not find a comment for the id: {comment_id}."])
        return comment

    def get_comment(self, key: str, comment_id: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        return 200, self.shapes.comment(rec, self._visible_comment(rec, comment_id)), {}

    def edit_comment(self, key: str, comment_id: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        existing = self._visible_comment(rec, comment_id)
        own = existing.author == self.store.bot.account_id
        if not (self.app.has("EDIT_ALL_COMMENTS") or (own and self.app.has("EDIT_OWN_COMMENTS"))):
            raise HttpError(403, ["You do not have the permission to edit this comment."])
        self.app.check_notify(self.q)
        body = self._comment_body()
        visibility = self._visibility() if isinstance(self.body, dict) and "visibility" in self.body else False
        self.app.note_write(rec)
        comment = self.store.edit_comment(rec.key, comment_id, body, visibility=visibility)
        return 200, self.shapes.comment(rec, comment), {}

    def delete_comment(self, key: str, comment_id: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        existing = self._visible_comment(rec, comment_id)
        own = existing.author == self.store.bot.account_id
        if not (self.app.has("DELETE_ALL_COMMENTS") or (own and self.app.has("DELETE_OWN_COMMENTS"))):
            raise HttpError(403, ["You do not have the permission to delete this comment."])
        self.store.delete_comment(rec.key, comment_id)
        return 204, None, {}

    def property_keys(self, key: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        return 200, {"keys": [{"key": k, "self": f"{self.shapes.api}/issue/{rec.id}/properties/{k}"}
                              for k in self.store.property_keys(rec.key)]}, {}

    def get_property(self, key: str, prop: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        return 200, {"key": prop, "value": self.store.get_property(rec.key, prop)}, {}

    def _property_value(self) -> Any:
        if self.body is None:
            raise HttpError(400, ["The property value cannot be empty."])
        return self.body

    def put_property(self, key: str, prop: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        self.app.require("EDIT_ISSUES", "You do not have permission to edit issues in this project.")
        value = self._property_value()
        self.app.note_write(rec)
        created = self.store.set_property(rec.key, prop, value)
        return (201 if created else 200), None, {}

    def delete_property(self, key: str, prop: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        self.app.require("EDIT_ISSUES", "You do not have permission to edit issues in this project.")
        self.store.delete_property(rec.key, prop)
        return 204, None, {}


class _HttpServer(ThreadingHTTPServer):
    """A client hanging up mid-request (killed, timed out, a "drop" fault) is routine here: no
    traceback on stderr, which would land in the output of the CLI run under test."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SandboxServer:
    """A running sandbox for tests and the CLI.

    >>> with SandboxServer(flavour="cloud", issues=200, seed=1) as sb:
    ...     requests.get(sb.url + "/rest/api/3/myself", auth=(sb.credentials.email, sb.credentials.token))

    ``now`` anchors the generated data and the server clock (default :data:`REFERENCE_NOW`, fixed so
    tests are reproducible). Pass ``store=`` to serve a store built elsewhere. ``profile`` picks
    the site (see :data:`pmo_jira.sandbox.store.PROFILES`). The bot is not an admin unless
    ``bot_is_admin``, like most real bot accounts. ``time_zone`` (an IANA name; default UTC) is the
    zone timestamps are written in and JQL dates read in; ``locale`` the site's ``defaultLocale``.
    ``rate_limits`` (Cloud): Jira Cloud's burst and per-issue write limits (off by default).
    ``search_lag`` (default: $PMO_SANDBOX_SEARCH_LAG,
    else 0): Cloud's search sees an issue as it was before a REST write until that many more writes
    happened, unless the search names it in ``reconcileIssues``.
    """

    def __init__(self, flavour: Flavour | str = Flavour.CLOUD, issues: int = 200, seed: int = 1, *,
                 now: datetime = REFERENCE_NOW, host: str = "127.0.0.1", port: int = 0, store: Store | None = None,
                 faults: Faults | None = None, deny_permissions: Iterable[str] = (), notify_needs_admin: bool = True,
                 bot_is_admin: bool = False, profile: str = "pmo-ready", search_lag: int | None = None,
                 time_zone: str | None = None, locale: str | None = None, rate_limits: RateLimits | None = None):
        if not _is_loopback(host):
            raise ValueError(f"the sandbox only listens on loopback (127.0.0.1, ::1, localhost), not {host!r}")
        self.store = store if store is not None else generate(flavour, issues, seed, now=now, profile=profile)
        if time_zone is not None:
            try:
                self.store.time_zone = ZoneInfo(time_zone)
            except (ValueError, ZoneInfoNotFoundError):
                raise ValueError(f"unknown time zone {time_zone!r}; use an IANA name such as Europe/Berlin") from None
            self.store.bot.time_zone = time_zone
        if locale is not None:
            if not re.fullmatch(r"[a-z]{2,3}_[A-Z]{2}", locale):
                raise ValueError(f"unknown locale {locale!r}; use a Java locale such as de_DE")
            self.store.locale = locale
        self.flavour = self.store.flavour
        self.app = SandboxApp(self.store, faults=faults, deny_permissions=deny_permissions,
                              notify_needs_admin=notify_needs_admin, bot_is_admin=bot_is_admin,
                              search_lag=search_lag, rate_limits=rate_limits)
        self.host, self.port = host, port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        return self.app.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.app.faults = value

    @property
    def log(self) -> RequestLog:
        return self.app.log

    @property
    def now(self) -> datetime:
        """The site's current time (the reference ``now`` plus time elapsed since start)."""
        return self.store.clock()

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running; use it as a context manager or call start()")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._httpd.server_address[1]}"

    @property
    def credentials(self):
        """A :class:`pmo_jira.jira.client.Credentials` for this flavour (the fixed, non-secret sandbox token)."""
        from pmo_jira.jira.client import Credentials

        if self.flavour is Flavour.CLOUD:
            return Credentials(email=SANDBOX_EMAIL, token=SANDBOX_TOKEN)
        return Credentials(token=SANDBOX_TOKEN)

    @property
    def auth_headers(self) -> dict[str, str]:
        """The Authorization header, for plain HTTP clients."""
        if self.flavour is Flavour.CLOUD:
            return {"Authorization": f"Basic {_BASIC_CREDENTIALS}"}
        return {"Authorization": f"Bearer {SANDBOX_TOKEN}"}

    def bind(self) -> ThreadingHTTPServer:
        handler = type("SandboxHandler", (_Handler,), {"app": self.app})
        server_cls = _HttpServer
        if ":" in self.host:
            server_cls = type("ThreadingHTTPServerV6", (_HttpServer,), {"address_family": socket.AF_INET6})
        httpd = server_cls((self.host, self.port), handler)
        httpd.daemon_threads = True
        self._httpd = httpd
        self.app.base_url = self.url
        return httpd

    def start(self) -> SandboxServer:
        httpd = self.bind()
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="pmo-jira-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        httpd = self._httpd or self.bind()
        # The generated site lives as long as this process: exempt it from the collector, whose full
        # collections would otherwise rescan every issue record, making pages dearer on bigger sites.
        gc.collect()
        gc.freeze()
        try:
            httpd.serve_forever(poll_interval=0.2)
        finally:
            httpd.server_close()

    def stop(self) -> None:
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
                self._thread.join(timeout=5)
            self._httpd.server_close()
        self._thread = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
