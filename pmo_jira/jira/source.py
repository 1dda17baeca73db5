"""What to read from one Jira site for one mapping: projects, epics, children and risks.

One JQL search over the projects in scope fetches every epic, child and risk in pages, asking only
for the fields the active standards and phase rules need, so an audit costs ceil(N / page size)
search requests plus a small constant. The sync state property comes inline on Cloud
(``properties=`` on ``/search/jql``). Data Center's ``/search`` cannot return issue properties
(JRASERVER-62898), so there it is read per issue, and only for issues carrying a label with the
write-back prefix: every issue pmo-jira wrote findings or a phase to carries one.
"""

from __future__ import annotations

import dataclasses
import gc
import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pmo_jira.errors import ConfigError, JiraApiError, PmoError
from pmo_jira.jira.client import CHANGELOG_MAX_FIELDS, JiraClient, jql_quote
from pmo_jira.jira.payloads import (
    IssueParser,
    change_order,
    decode_changes,
    encode_changes,
    parse_changes,
    parse_datetime,
    parse_project,
)
from pmo_jira.model import Change, Flavour, Issue, Project, ReadPlan, Snapshot
from pmo_jira.state import STATE_PROPERTY
from pmo_jira.suggest import did_you_mean

# Always read: identity, hierarchy, status and the dates that freshness and phases rely on. Not
# `project`: the issue key names it, and the project object is a sixth of a page's bytes.
BASE_FIELDS = (
    "summary", "status", "issuetype", "labels", "created", "updated",
    "statuscategorychangedate", "resolutiondate", "issuelinks",
)
# The property cache's slot for epics' changelogs (a space: never a Jira property key).
CHANGELOG_SLOT = "pmo-jira changelog "
KEYS_PER_SEARCH = 1000  # keys named in one search (Data Center: one page of 1,000)
# Logical names that are Jira system fields when the mapping does not bind them.
SYSTEM_FIELDS = {
    "owner": "assignee", "assignee": "assignee", "reporter": "reporter", "due": "duedate",
    "duedate": "duedate", "priority": "priority", "description": "description",
}


def resolve_fieldmap(client: JiraClient, mapping: Any, logical: Iterable[str]) -> dict[str, str]:
    """Logical field -> Jira field id for those the site has; the rest are 'not applicable'."""
    out: dict[str, str] = {}
    for name in sorted(set(logical)):
        spec = mapping.fields.get(name)
        if spec is None:
            if name in SYSTEM_FIELDS:
                out[name] = SYSTEM_FIELDS[name]
            continue
        found = client.resolve_field(spec)
        if found is not None:
            out[name] = found["id"]
    if client.flavour is Flavour.DC:
        epic_link = client.resolve_field({"schema": "com.pyxis.greenhopper.jira:gh-epic-link"})
        if epic_link is not None:
            out["epic_link"] = epic_link["id"]
    return out


def projects_in_scope(client: JiraClient, mapping: Any) -> list[Project]:
    """The projects the mapping's scope selects; a named project the account cannot see is an error."""
    scope = mapping.scope
    props = _needs_project_properties(mapping)
    visible = [parse_project(raw, site=client.site.name, base_url=client.site.url)
               for raw in client.projects(properties=props)]
    by_key = {p.key: p for p in visible}
    wanted = list(scope.projects)
    for key in wanted:
        if key not in by_key:
            guess = did_you_mean(key, by_key)
            hint = f"{guess} " if guess else ""
            raise PmoError(
                f"project '{key}' is not visible on site {client.site.name} ({client.site.url}): "
                f"{hint}check the key (--project, the site's `projects` in the config, or scope.projects "
                f"in {mapping.source_file}) and that the account has Browse Projects there"
            )
    selected = [by_key[k] for k in wanted] if wanted else visible
    if scope.categories:
        _check_categories(client, mapping, visible)
        cats = {c.lower() for c in scope.categories}
        selected = [p for p in selected if (p.category or "").lower() in cats]
    excluded = set(scope.exclude_projects)
    return sorted((p for p in selected if p.key not in excluded), key=lambda p: p.key)


def _check_categories(client: JiraClient, mapping: Any, visible: Sequence[Project]) -> None:
    """A scope category no visible project has stops the site: it would check nothing, and an
    empty audit reads as "all compliant"."""
    known = {(p.category or "").lower(): p.category for p in visible if p.category}
    for i, name in enumerate(mapping.scope.categories):
        if name.lower() not in known:
            guess = did_you_mean(name, list(known.values()))
            choices = ", ".join(sorted(known.values())) or "none"
            raise ConfigError(
                f"no project the account can see on {client.site.name} is in category '{name}'",
                file=mapping.source_file, line=mapping.line_of("scope", "categories", i),
                key=f"scope.categories[{i}]",
                hint=f"{guess + ' ' if guess else ''}categories there: {choices}",
            )


def scope_jql(mapping: Any, project_keys: Sequence[str], extra_types: Sequence[str] = ()) -> str:
    types = [*mapping.issue_types.epic, *mapping.issue_types.child, *mapping.issue_types.risk]
    types += [t for t in extra_types if t.casefold() not in {x.casefold() for x in types}]
    jql = f"project in ({', '.join(jql_quote(k) for k in project_keys)}) AND issuetype in ({', '.join(jql_quote(t) for t in types)})"
    if mapping.scope.jql.strip():
        jql += f" AND ({mapping.scope.jql.strip()})"
    return jql + " ORDER BY key ASC"


def matching_keys(client: JiraClient, mapping: Any, projects: Sequence[Project], jql: str) -> frozenset[str]:
    """Keys of the in-scope issues that ``jql`` also matches (one search asking only for keys)."""
    if not projects:
        return frozenset()
    scoped = scope_jql(mapping, [p.key for p in projects]).removesuffix(" ORDER BY key ASC")
    return frozenset(raw["key"] for raw in client.search(f"{scoped} AND ({jql})", ["key"]))


def _needs_project_properties(mapping: Any) -> list[str]:
    return [rule.when.property for rule in mapping.phases.project if getattr(rule.when, "property", None)]


def read_site(client: JiraClient, mapping: Any, logical_fields: Iterable[str] | ReadPlan, *,
              now: datetime, on_page: Callable[[int, int | None], None] | None = None,
              history_for: Callable[[Issue], bool] | None = None,
              on_issues: Callable[[Sequence[Issue]], None] | None = None) -> Snapshot:
    """Read one site into a Snapshot; raises PmoError / JiraApiError with one clear line.

    ``logical_fields`` is the fields to read, or a whole ``ReadPlan`` (fields, history, comments,
    extra issue types) as ``pmo_jira.run.audit.read_plan`` makes it. ``on_page(read, total)``
    hears after each page how many issues were read of how many the search will return (one
    more request, asked only when someone listens; None when the site cannot say).
    ``history_for(epic)`` says which epics' changelogs the run needs (default: every epic's).
    ``on_issues(issues)`` hears each page's issues once parsed, while the next page is on its way
    (their histories are added to the same objects after the last page).
    """
    plan = logical_fields if isinstance(logical_fields, ReadPlan) else ReadPlan(fields=frozenset(logical_fields))
    start_requests = client.requests_made
    flavour = client.flavour  # asked (at most once) before the two reads below go out together
    # The field list and the project list do not depend on each other: one round trip, not two.
    # Should both fail, the field list's error is the one reported, as when they went in turn.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pmo-jira-projects") as pool:
        listing = pool.submit(projects_in_scope, client, mapping)
        try:
            fieldmap = resolve_fieldmap(client, mapping, plan.fields | (plan.history - {"status"}))
        except JiraApiError as exc:
            if exc.status != 404:
                raise
            # Every Jira answers /field: a 404 there means the URL (or flavour) is wrong.
            raise PmoError(f"no Jira REST API at {client.base_url} ({exc.method} {exc.url} answered 404); "
                           "check the site URL (the address Jira answers on, with its context path if "
                           "any) and the flavour") from None
        projects = listing.result()
    prop_keys = _needs_project_properties(mapping)
    if prop_keys and flavour is Flavour.DC:  # Cloud delivered them with the project list
        projects = [_with_properties(client, p, prop_keys) for p in projects]
    issues = []
    cut: set[str] = set()
    if projects:
        cloud = flavour is Flavour.CLOUD
        fields = sorted(set(BASE_FIELDS) | set(fieldmap.values()) | ({"parent"} if cloud else set())
                        | ({"comment"} if plan.comments else set()))
        jql = scope_jql(mapping, [p.key for p in projects], plan.issue_types)
        total = client.count(jql) if on_page is not None else None
        parse = IssueParser(site=client.site.name, base_url=client.site.url, flavour=flavour,
                            fieldmap=fieldmap, description_types=mapping.issue_types.epic)
        try:
            for page in client.search_pages(jql, fields, properties=[STATE_PROPERTY] if cloud else ()):
                if not cloud:
                    _add_state(client, page, mapping.writeback.label_prefix)
                start = len(issues)
                for raw in page:  # the page stays whole: the client reads its keys for the next window
                    issues.append(parse(raw))
                    if plan.comments and _comments_cut(raw):
                        cut.add(issues[-1].key)
                if on_issues is not None:
                    on_issues(issues[start:])
                if on_page is not None:
                    on_page(len(issues), total)
                # The issues read so far live as long as the run: exempt them from the collector, which
                # otherwise rescans every one of them in each full collection (cost growing with N).
                # Reference counting still frees them.
                gc.freeze()
        except JiraApiError as exc:
            if exc.status == 400 and not issues:
                _missing_issue_types(client, mapping, plan.issue_types)
            raise
        del parse  # its index of every key read: not needed past the read, and large
        if plan.history:
            issues = _with_history(client, mapping, issues, fieldmap, plan.history, history_for)
    waived: dict[int, frozenset[str]] = {}
    for index, waiver in enumerate(mapping.waivers):
        if waiver.jql:
            try:
                waived[index] = frozenset(raw["key"] for raw in client.search(waiver.jql, ["key"]))
            except PmoError as exc:
                raise ConfigError(f"waiver JQL failed on site {client.site.name}: {exc}",
                                  file=str(mapping.source_file), key=f"waivers[{index}].jql") from exc
    available = frozenset(k for k in fieldmap if k != "epic_link")
    return Snapshot(site=client.site, projects=tuple(projects), issues=tuple(issues), fetched_at=now,
                    available_fields=available, waived_keys=waived,
                    requests=client.requests_made - start_requests, comments_cut=frozenset(cut))


def _comments_cut(raw: dict) -> bool:
    """The search returned only part of the issue's comments (its ``total`` says more exist)."""
    page = (raw.get("fields") or {}).get("comment")
    listed = page.get("comments") if isinstance(page, dict) else None
    total = page.get("total") if isinstance(page, dict) else None
    return isinstance(total, int) and total > len(listed or ())


def _missing_issue_types(client: JiraClient, mapping: Any, extra_types: Sequence[str]) -> None:
    """After Jira refused the scope search: a ConfigError naming an issue type the search named and
    the site lacks (Jira refuses a whole query naming one), with the site's nearest; else nothing."""
    have = [str(t.get("name")) for t in client.issue_types()]
    known = {h.casefold() for h in have}
    named: list[tuple[tuple[Any, ...], str]] = [
        (("issue_types", kind, i), name) for kind in ("epic", "child", "risk")
        for i, name in enumerate(getattr(mapping.issue_types, kind))]
    named += [(("standards",), name) for name in extra_types]  # issue types standards' options name
    for path, name in named:
        if name.casefold() in known:
            continue
        hint = did_you_mean(name, have) or f"the site's issue types: {', '.join(have)}"
        raise ConfigError(f"issue type '{name}' does not exist on site {client.site.name} ({client.site.url}), "
                          "so Jira refuses the search; nothing was read or written on this site",
                          file=mapping.source_file, line=mapping.line_of(*path),
                          key=".".join(map(str, path[:2])) + (f"[{path[2]}]" if len(path) > 2 else ""),
                          hint=f"{hint}; check every name with `pmo-jira mappings check FILE --site "
                               f"{client.site.name}`")


def _add_state(client: JiraClient, page: list[dict], label_prefix: str) -> None:
    """Data Center: put the state property into the raw issues that may have one (see module doc).

    An issue whose ``updated`` is the one the client's property cache holds the state for costs no
    request; the others are read (concurrently) and kept in the cache for the next run.
    """
    prefix = label_prefix.strip().lower()
    tagged = [raw for raw in page if any(str(label).startswith(prefix) for label in _labels_of(raw))]
    if not tagged:
        return
    cache = client.property_cache
    updated = {raw["key"]: (raw.get("fields") or {}).get("updated") for raw in tagged}
    known = cache.lookup(client.base_url, STATE_PROPERTY,
                         ((k, u) for k, u in updated.items() if isinstance(u, str))) if cache else {}
    unknown = [raw for raw in tagged if raw["key"] not in known]
    if unknown:
        with ThreadPoolExecutor(max_workers=max(1, client.gate.concurrency)) as pool:
            values = list(pool.map(lambda raw: client.get_property(raw["key"], STATE_PROPERTY), unknown))
        for raw, value in zip(unknown, values):
            known[raw["key"]] = (value is not None, value)
            stamp = updated[raw["key"]]
            if cache is not None and isinstance(stamp, str):
                cache.store(client.base_url, STATE_PROPERTY, raw["key"], stamp, value is not None, value)
    for raw in tagged:
        present, value = known[raw["key"]]
        if present:
            props = raw.get("properties")
            raw["properties"] = {**(props if isinstance(props, dict) else {}), STATE_PROPERTY: value}


def _labels_of(raw: Any) -> Any:
    """The labels of a raw issue that has a key; a malformed one has none here (its parse says why)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("key"), str) or not isinstance(raw.get("fields"), dict):
        return ()
    return raw["fields"].get("labels") or ()


def _with_properties(client: JiraClient, project: Project, keys: Sequence[str]) -> Project:
    props = {key: value for key in keys if (value := client.project_property(project.key, key)) is not None}
    return dataclasses.replace(project, properties=props)


@dataclass(frozen=True)
class _Histories:
    """How one site's epic histories are read for one run's standards, and where they are kept.

    The cache slot names what was read (flavour, the fields filtered on, how fields map to logical
    names), so a changed mapping never takes a history read under another one.
    """

    client: JiraClient
    field_ids: tuple[str, ...]
    logical_by_id: dict[str, str]
    slot: str

    @classmethod
    def of(cls, client: JiraClient, fieldmap: dict[str, str], history: Iterable[str]) -> _Histories:
        logical_by_id = {jira_id: logical for logical, jira_id in sorted(fieldmap.items()) if logical != "epic_link"}
        wanted = sorted({fieldmap[n] for n in history if n in fieldmap} | ({"status"} & set(history)))
        field_ids = tuple(wanted) if client.flavour is Flavour.CLOUD and len(wanted) <= CHANGELOG_MAX_FIELDS else ()
        slot = CHANGELOG_SLOT + json.dumps([client.flavour.value, field_ids, sorted(logical_by_id.items())])
        return cls(client, field_ids, logical_by_id, slot)

    def kept(self, stamps: dict[str, str], id_of: dict[str, str]) -> dict[str, list[Change]]:
        """Epic id -> its kept changes, for the epics (key -> ``updated``) whose ``updated`` is the kept one."""
        cache = self.client.property_cache
        found = cache.lookup(self.client.base_url, self.slot, stamps.items(), decode=decode_changes) if cache else {}
        return {id_of[key]: changes for key, (present, changes) in found.items() if present}

    def read(self, key_of: dict[str, str], stamps: dict[str, str]) -> dict[str, list[Change]]:
        """Epic id -> its changes read from Jira now (ids -> keys ``key_of``), each kept with its stamp."""
        fetched = _read_changelogs(self.client, key_of, self.logical_by_id, self.field_ids)
        cache = self.client.property_cache
        if cache is not None:
            for issue_id, key in key_of.items():
                if key in stamps:
                    cache.store(self.client.base_url, self.slot, key, stamps[key], True,
                                encode_changes(fetched.get(issue_id, [])))
        return fetched


def _with_history(client: JiraClient, mapping: Any, issues: list[Issue], fieldmap: dict[str, str],
                  history: Iterable[str], history_for: Callable[[Issue], bool] | None) -> list[Issue]:
    """The epics among ``issues`` that ``history_for`` selects, with their changelogs; other issues
    unchanged (an epic whose history was not read keeps ``changelog=None``).

    An epic's changelog only grows when its ``updated`` moves, so the client's property cache keeps
    it per epic and ``updated``: an unchanged epic costs no request. The others are read in bulk.
    Cloud: ``POST /changelog/bulkfetch`` for 1,000 epics per request, filtered to the fields the
    standards read (when they are at most ten), never one request per issue. Data Center: a search
    over those epics' keys with ``expand=changelog``, asking for no fields, page by page.
    """
    epic_types = {t.casefold() for t in mapping.issue_types.epic}
    epics = [i for i in issues if i.issue_type.casefold() in epic_types and (history_for is None or history_for(i))]
    if not epics:
        return issues
    histories = _Histories.of(client, fieldmap, history)
    stamps = {e.key: e.updated.isoformat() for e in epics}
    changes_by_id = histories.kept(stamps, {e.key: e.id for e in epics})
    missing = {e.id: e.key for e in epics if e.id not in changes_by_id}
    if missing:
        changes_by_id.update(histories.read(missing, stamps))
    for issue in epics:
        if issue.id in changes_by_id:
            # These issues are this read's own until it returns them, so each epic gets its history
            # in place: a replaced copy of every epic would leave as many holes in memory no other
            # object fits in.
            object.__setattr__(issue, "changelog", tuple(changes_by_id.pop(issue.id)))
    return issues


def keep_histories(client: JiraClient, mapping: Any, plan: ReadPlan, keys: Sequence[str]) -> None:
    """After pmo-jira wrote to the epics ``keys``: read their ``updated``, then their histories, and
    keep them together, so pmo-jira's own write does not make the next run read them again.

    In this order a person's edit in between leaves a kept ``updated`` older than the kept history,
    which the next run then reads again: never a newer stamp on an older history.
    """
    if not keys or not plan.history or client.property_cache is None:
        return
    histories = _Histories.of(client, resolve_fieldmap(client, mapping, plan.fields | (plan.history - {"status"})),
                              plan.history)
    key_of, stamps = {}, {}
    for start in range(0, len(keys), KEYS_PER_SEARCH):
        for raw in client.search(_keys_jql(keys[start:start + KEYS_PER_SEARCH]), ["updated"]):
            updated = parse_datetime((raw.get("fields") or {}).get("updated"))
            if updated is not None:
                key_of[str(raw.get("id"))] = str(raw.get("key"))
                stamps[str(raw.get("key"))] = updated.isoformat()
    if key_of:
        histories.read(key_of, stamps)


def _keys_jql(keys: Sequence[str]) -> str:
    return f"key in ({', '.join(jql_quote(k) for k in keys)}) ORDER BY key ASC"


def _read_changelogs(client: JiraClient, key_of: dict[str, str], logical_by_id: dict[str, str],
                     field_ids: Sequence[str]) -> dict[str, list[Change]]:
    """Epic id -> its changes, oldest first, read in bulk for the epics ``key_of`` (id -> key)."""
    names = {str(f.get("id")): str(f.get("name", "")) for f in client.fields()}
    logical_by_name = {names[jira_id].casefold(): logical for jira_id, logical in logical_by_id.items()
                       if names.get(jira_id)}
    # Each answer is parsed as it arrives and dropped: the raw changelogs of every epic at once
    # would be the run's peak of memory.
    changes_by_id: dict[str, list[Change]] = {issue_id: [] for issue_id in key_of}

    def add(issue_id: str, histories: Any) -> None:
        if issue_id not in key_of:  # not an epic asked for
            return
        changes = parse_changes(histories, logical_by_id=logical_by_id, logical_by_name=logical_by_name,
                                issue=key_of[issue_id], flavour=client.flavour)
        changes_by_id[issue_id].extend(changes)

    if client.flavour is Flavour.CLOUD:
        for issue_id, histories in client.bulk_changelogs(list(key_of), field_ids):
            add(issue_id, histories)
    else:
        keys = list(key_of.values())
        for start in range(0, len(keys), KEYS_PER_SEARCH):
            for page in client.search_pages(_keys_jql(keys[start:start + KEYS_PER_SEARCH]), ["key"],
                                            expand="changelog"):
                for raw in page:
                    issue_id = str(raw.get("id"))
                    if issue_id in key_of:  # a later page's answer replaces an earlier one
                        changes_by_id[issue_id] = []
                        add(issue_id, ((raw.get("changelog") or {}).get("histories")) or [])
    for changes in changes_by_id.values():
        if len(changes) > 1:  # answers in several parts: in order as a whole, as parse_changes orders one
            changes.sort(key=change_order)
    return changes_by_id
