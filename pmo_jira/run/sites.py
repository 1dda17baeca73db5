"""One audit run over one or more Jira sites: connect, read, classify, check.

Each site is read on its own, so one site being down fails that site (recorded in
``AuditResult.site_errors``) and the others still count. Sites sharing a mapping are checked
together; the results are merged into one ``AuditResult``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pmo_jira.errors import ConfigError, PmoError
from pmo_jira.findings import AuditResult
from pmo_jira.jira.client import JiraClient
from pmo_jira.jira.source import matching_keys, read_site
from pmo_jira.jira.statecache import PropertyCache
from pmo_jira.mapping import Mapping, load_mapping
from pmo_jira.mapping.jql import jql_problem
from pmo_jira.mapping.schema import expired_waivers, format_path
from pmo_jira.model import ReadPlan, Snapshot
from pmo_jira.run.audit import SitePrep, needs_history, read_plan, run_audit
from pmo_jira.run.connect import client_for
from pmo_jira.settings import Settings, SiteSettings
from pmo_jira.site_proof import check_bound_fields, check_site_jql
from pmo_jira.standards.registry import Registry

log = logging.getLogger("pmo_jira.run")


@dataclass(frozen=True)
class Scope:
    """Command-line narrowing of the mapping's scope (`--project`, `--jql`).

    ``projects`` narrows what is read. ``jql`` narrows what is reported and written, not what is
    read: an epic is judged with all its children and risks, so its findings do not depend on
    whether ``--jql`` happened to match them too.
    """

    projects: tuple[str, ...] = ()
    jql: str = ""


@dataclass
class AuditedSites:
    """What one audit over the sites produced: the merged result and, per site read, its
    snapshot, client and mapping (what a write-back or a report needs next)."""

    result: AuditResult
    snapshots: tuple[Snapshot, ...]
    clients: dict[str, JiraClient]
    mappings: dict[str, Mapping]  # site name -> mapping
    primary_mapping: Mapping | None = None
    read_plans: dict[str, ReadPlan] = field(default_factory=dict)  # site name -> what was read


def narrow(mapping: Mapping, scope: Scope) -> Mapping:
    """The mapping with the command line's projects in place of its own project scope."""
    if not scope.projects:
        return mapping
    update: dict[str, Any] = {"projects": list(scope.projects), "categories": []}
    return mapping.model_copy(update={"scope": mapping.scope.model_copy(update=update)})


def audit_sites(
    settings: Settings,
    *,
    now: datetime,
    site_names: Sequence[str] = (),
    mapping_path: Path | None = None,
    scope: Scope = Scope(),
    registry: Registry | None = None,
    client_factory: Callable[[SiteSettings], JiraClient] = client_for,
    on_site: Callable[[str, str], None] = lambda site, message: None,
    on_page: Callable[[str, int, int | None], None] | None = None,
    read_comments: bool = False,
) -> AuditedSites:
    """Audit every selected site; a site that cannot be read is reported, not fatal to the others.

    ``mapping_path`` (the ``--mapping`` flag) governs every site; otherwise each site's own mapping
    or the config's top-level one does. ``on_page(site, read, total)``: issues read so far of the
    search's total, after each page (for a progress display). ``read_comments``: read issues' comments with them (a sync proves
    which comments are its own with them).
    """
    mappings: dict[Path, Mapping] = {}
    snapshots: dict[Path, list[Snapshot]] = {}
    clients: dict[str, JiraClient] = {}
    site_mapping: dict[str, Mapping] = {}
    site_errors: dict[str, str] = {}
    selected: dict[str, frozenset[str]] = {}  # site -> keys --jql matched
    sites = settings.select_sites(site_names)
    known = [s.code for s in registry] if registry is not None else None
    cache = PropertyCache(settings.state_cache) if settings.state_cache else None  # thread-safe
    paths: dict[str, Path] = {}
    if scope.jql:
        found = jql_problem(scope.jql)
        if found:
            raise ConfigError(f"--jql: {found[0]}", hint=found[1])
    for site in sites:  # a broken mapping stops the run before any site is read
        path = Path(mapping_path or settings.mapping_for(site))
        if path not in mappings:
            mappings[path] = narrow(load_mapping(path, known_codes=known), scope)
            for key, text, hint in expired_waivers(mappings[path], now.date()):
                log.warning("%s:%s: %s: %s (%s)", path, mappings[path].line_of(*key), format_path(key), text, hint)
        mapping = mappings[path]
        if site.projects and not scope.projects:
            mapping = narrow(mapping, Scope(projects=tuple(site.projects)))
        paths[site.name], site_mapping[site.name] = path, mapping

    read_plans: dict[str, ReadPlan] = {}
    preps: dict[str, SitePrep] = {}  # site -> what its issues settled for the audit as they were read

    def read(site: SiteSettings) -> tuple[JiraClient, Snapshot, frozenset[str] | None]:
        mapping = site_mapping[site.name]
        prep = SitePrep(mappings[paths[site.name]])  # the mapping its audit runs with
        client = client_factory(site)
        client.property_cache = cache
        check_site_jql(mapping, client)  # JQL the site refuses stops this site before it is read
        plan = read_plan(mapping, registry)
        if read_comments:
            plan = dataclasses.replace(plan, comments=True)
        read_plans[site.name] = plan
        pages = None if on_page is None else functools.partial(on_page, site.name)
        snapshot = read_site(client, mapping, plan, now=now, on_page=pages, history_for=needs_history(mapping, plan),
                             on_issues=prep.add)
        check_bound_fields(mapping, client)  # a renamed field stops this site before anything is written
        matched = matching_keys(client, mapping, snapshot.projects, scope.jql) if scope.jql else None
        preps[site.name] = prep
        return client, snapshot, matched

    # Sites are read at once (each by its own client, so each keeps its own rate limit and
    # back-off), so one slow or rate-limited site no longer delays the others; at most
    # ``sites_at_once`` threads. Progress is reported from this thread as each site finishes.
    # A single site is read in this thread.
    read_sites: dict[str, tuple[JiraClient, Snapshot, frozenset[str] | None]] = {}
    workers = min(settings.sites_at_once, len(sites))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pmo-jira-site") if workers > 1 \
            else nullcontext() as pool:
        futures = {pool.submit(read, site) if pool else _done(read, site): site for site in sites}
        for future in as_completed(futures):
            site = futures[future]
            try:
                read_sites[site.name] = future.result()
            except PmoError as exc:
                site_errors[site.name] = exc.one_line()
                on_site(site.name, f"failed: {exc.one_line()}")
                continue
            snapshot = read_sites[site.name][1]
            on_site(site.name, f"read {len(snapshot.issues):,} issues in {snapshot.requests} requests")
    for site in sites:  # results in config order, however the reads finished
        if site.name not in read_sites:
            site_mapping.pop(site.name, None)
            continue
        client, snapshot, matched = read_sites[site.name]
        mapping = site_mapping[site.name]
        if matched is not None:
            selected[site.name] = matched
        if not snapshot.projects:  # "no findings" must not read as "all compliant"
            sc = mapping.scope
            log.warning("site %s: no project is in scope, nothing was checked (projects: %s; categories: %s; "
                        "exclude_projects: %s; in %s)", site.name, ", ".join(sc.projects) or "any",
                        ", ".join(sc.categories) or "any", ", ".join(sc.exclude_projects) or "none",
                        paths[site.name])
        clients[site.name] = client
        snapshots.setdefault(paths[site.name], []).append(snapshot)
    results = [
        run_audit(snaps, mappings[path], today=now.date(), now=now, registry=registry, prepared=preps)
        for path, snaps in snapshots.items()
    ]
    if scope.jql:
        results = [only_selected(r, selected) for r in results]
        snapshots = {path: [_only_selected_issues(s, selected[s.site.name]) for s in snaps]
                     for path, snaps in snapshots.items()}
    primary = next(iter(mappings.values()), None)
    merged = merge_results(results, started=now, mapping=primary, site_errors=site_errors,
                           sites=tuple(s.name for s in sites))
    all_snaps = tuple(s for snaps in snapshots.values() for s in snaps)
    return AuditedSites(merged, all_snaps, clients, site_mapping, primary,
                        {name: plan for name, plan in read_plans.items() if name in clients})


def _done(fn: Callable[[SiteSettings], Any], site: SiteSettings) -> Future[Any]:
    """``fn(site)`` run here, as a finished future."""
    future: Future[Any] = Future()
    try:
        future.set_result(fn(site))
    except BaseException as exc:
        future.set_exception(exc)
    return future


def only_selected(result: AuditResult, selected: dict[str, frozenset[str]]) -> AuditResult:
    """The findings and items of the issues ``--jql`` matched (judged with their full context)."""
    return dataclasses.replace(
        result, findings=tuple(f for f in result.findings if f.item_key in selected.get(f.site, ())),
        items=tuple(i for i in result.items if i.key in selected.get(i.site, ())))


def _only_selected_issues(snapshot: Snapshot, keys: frozenset[str]) -> Snapshot:
    """What sync may write to: only the selected issues (the others were not asked about)."""
    return dataclasses.replace(snapshot, issues=tuple(i for i in snapshot.issues if i.key in keys))


def merge_results(results: Sequence[AuditResult], *, started: datetime, mapping: Mapping | None,
                  site_errors: dict[str, str], sites: tuple[str, ...]) -> AuditResult:
    if len(results) == 1:
        return dataclasses.replace(results[0], site_errors=site_errors, sites=sites)
    findings = tuple(f for r in results for f in r.findings)
    items = tuple(i for r in results for i in r.items)
    return AuditResult(
        findings=findings, items=items, started=started,
        finished=max((r.finished for r in results), default=started),
        mapping_name=mapping.name if mapping is not None else "",
        mapping_hash="+".join(r.mapping_hash for r in results),
        sites=sites, issues_read=sum(r.issues_read for r in results),
        requests=sum(r.requests for r in results), site_errors=site_errors,
        baselines={k: v for r in results for k, v in r.baselines.items()},
    )
