"""``pmo-jira doctor``: will tonight's unattended sync work? Checked site by site, with fixes.

A nightly run that fails at 02:00 on a missing permission costs a day; doctor asks Jira the same
questions up front — reachable, token accepted, flavour as configured, the mapping's fields
present, and the bot account's permissions in every project in scope — and names the fix for
each failure. ``ok`` is True only when a sync would succeed; warnings (a field some standard
cannot evaluate, notifications that will be sent) do not stop a sync and do not fail doctor.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pmo_jira.credentials import credentials_for, find_token
from pmo_jira.errors import ConfigError, JiraApiError, PmoError
from pmo_jira.jira.client import Credentials, JiraClient
from pmo_jira.mapping import load_mapping
from pmo_jira.mapping.fields import field_report
from pmo_jira.mapping.schema import Mapping as MappingFile
from pmo_jira.run.audit import required_fields
from pmo_jira.run.connect import site_client
from pmo_jira.settings import Settings, SiteSettings
from pmo_jira.site_proof import prove_mapping
from pmo_jira.standards.registry import configure, plugin_registry

Status = Literal["ok", "warn", "fail"]

PERMISSION_NAMES: dict[str, str] = {
    "BROWSE_PROJECTS": "Browse Projects",
    "EDIT_ISSUES": "Edit Issues",
    "ADD_COMMENTS": "Add Comments",
    "EDIT_OWN_COMMENTS": "Edit Own Comments",
    "ADMINISTER_PROJECTS": "Administer Projects",
}
_WHY: dict[str, str] = {
    "BROWSE_PROJECTS": "read the project's issues",
    "EDIT_ISSUES": "write labels and the pmo-jira.state issue property",
    "ADD_COMMENTS": "add the pmo-jira comment",
    "EDIT_OWN_COMMENTS": "update the pmo-jira comment in place",
}

ClientFactory = Callable[[SiteSettings, Credentials], Any]
MappingLoader = Callable[[Path], MappingFile]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str = ""
    fix: str | None = None


@dataclass
class SiteReport:
    site: str
    url: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    def add(self, name: str, status: Status, detail: str = "", fix: str | None = None) -> Check:
        check = Check(name, status, detail, fix)
        self.checks.append(check)
        return check


@dataclass
class DoctorReport:
    sites: list[SiteReport]
    local: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sites) and all(c.status != "fail" for c in self.local)

    def to_dict(self) -> dict[str, Any]:
        def check(c: Check) -> dict[str, Any]:
            return {"name": c.name, "status": c.status, "detail": c.detail, "fix": c.fix}

        return {"version": 1, "ok": self.ok,
                "local": [check(c) for c in self.local],
                "sites": [{"site": s.site, "url": s.url, "ok": s.ok, "checks": [check(c) for c in s.checks]}
                          for s in self.sites]}


def default_client_factory(site: SiteSettings, credentials: Credentials, **client_kwargs: Any) -> JiraClient:
    """A client that gives up on a dead site within seconds: doctor is run by a waiting human."""
    return site_client(site, credentials, **{"timeout": 15.0, "max_wait": 5.0, **client_kwargs})


def run_doctor(settings: Settings, *, sites: Sequence[str] = (),
               mapping_loader: MappingLoader = load_mapping,
               client_factory: ClientFactory | None = None,
               env: Mapping[str, str] | None = None) -> DoctorReport:
    """Check every selected site (all by default) and the local files a run writes.

    ``client_factory(site, credentials)`` builds the client (default: ``default_client_factory``).
    """
    env = os.environ if env is None else env
    client_factory = client_factory or default_client_factory
    mappings: dict[Path, MappingFile | ConfigError] = {}

    def mapping_for(site: SiteSettings) -> MappingFile:
        path = settings.mapping_for(site)
        if path not in mappings:
            try:
                mappings[path] = mapping_loader(path)
            except ConfigError as exc:
                mappings[path] = exc
        found = mappings[path]
        if isinstance(found, ConfigError):
            raise found
        return found

    reports = [_check_site(settings, site, mapping_for, client_factory, env)
               for site in settings.select_sites(sites)]
    return DoctorReport(reports, _local_checks(settings))


def _check_site(settings: Settings, site: SiteSettings, mapping_for: Callable[[SiteSettings], MappingFile],
                client_factory: ClientFactory, env: Mapping[str, str]) -> SiteReport:
    report = SiteReport(site.name, site.url)
    try:
        credentials = credentials_for(site, env)
        report.add("token", "ok", f"from {(find_token(site, env) or ('', 'the environment'))[1]}")
    except ConfigError as exc:
        report.add("token", "fail", exc.message, exc.hint)
        credentials = Credentials(email=site.email)  # still tell "down" from "no token"

    client = client_factory(site, credentials)
    try:
        info = client.server_info()
    except JiraApiError as exc:
        if exc.status is None:
            report.add("reachable", "fail", exc.message,
                       f"check the url {site.url}, DNS, proxy settings (HTTPS_PROXY) and firewall")
            return report
        if exc.status not in (401, 403):
            report.add("reachable", "fail", exc.one_line(), f"check that {site.url} is the Jira base URL")
            return report
        # refused: maybe credentials of the other flavour; asked anonymously, the site says which it is
        info = client.public_server_info()
        refused = True
        if info is not None and site.flavour in ("auto", _flavour_of(info)):
            info = None  # the flavour is right: the token itself is what was refused
    else:
        refused = False
    actual = None
    if info is not None:
        actual = _flavour_of(info)
        version = info.get("version") or "?"
        report.add("reachable", "ok", f"Jira {version} ({info.get('deploymentType', 'Server')})")
        if site.flavour not in ("auto", actual):
            report.add("flavour", "fail", f"configured {site.flavour!r} but the site is {actual!r}"
                       + (", so the credentials were sent the other flavour's way and refused" if refused else ""),
                       f"set flavour = \"{actual}\" (or \"auto\") for site {site.name!r}")
            return report
        report.add("flavour", "ok", actual + (" (detected)" if site.flavour == "auto" else ""))
    else:
        report.add("reachable", "ok", "answers (serverInfo needs a login)")
    if not report.ok:
        return report

    try:
        me = client.myself()
    except JiraApiError as exc:
        if exc.status == 401:
            report.add("authentication", "fail", "the token was refused (401)", _token_fix(site, actual))
        else:
            report.add("authentication", "fail", exc.one_line(), "check the site URL and the account")
        return report
    account = me.get("displayName") or me.get("name") or "the bot account"
    ident = me.get("emailAddress") or me.get("name") or me.get("accountId") or ""
    report.add("authentication", "ok", f"as {account}" + (f" ({ident})" if ident else ""))

    try:
        mapping = mapping_for(site)
        needed = required_fields(mapping)
    except PmoError as exc:
        path = site.mapping or settings.mapping or "FILE"
        report.add("mapping", "fail", exc.one_line(),
                   f"fix the mapping file (`pmo-jira mappings check {path}` lists every problem)")
        return report
    report.add("mapping", "ok", f"{mapping.name} ({mapping.source_file or 'built in'})")

    try:
        _check_fields(report, client, mapping, needed)
        _check_names(report, client, mapping)
        projects = _projects_in_scope(client, site, mapping)
        _check_permissions(report, client, site, mapping, settings, projects, account)
    except JiraApiError as exc:
        report.add("jira", "fail", exc.one_line(), "retry; if it persists, check the site's status page")
    return report


def _flavour_of(info: Mapping[str, Any]) -> str:
    return "cloud" if info.get("deploymentType") == "Cloud" else "dc"


def _token_fix(site: SiteSettings, actual: str | None) -> str:
    # a refused token hides the flavour from "auto": an account email means a Cloud API token
    if (actual or site.flavour) == "cloud" or (actual is None and site.flavour == "auto" and site.email):
        return (f"create an API token at https://id.atlassian.com/manage-profile/security/api-tokens "
                f"while logged in as {site.email or 'the bot account'}, then set {site.token_var} "
                f"or run `pmo-jira login {site.name}`")
    return (f"create a personal access token in Jira (Profile > Personal Access Tokens) for the bot "
            f"account, then set {site.token_var} or run `pmo-jira login {site.name}`")


def _check_fields(report: SiteReport, client: Any, mapping: MappingFile, needed: set[str]) -> None:
    fields = field_report(mapping, client.fields(), client.resolve_field)
    for logical, found in fields.resolved.items():
        report.add(f"field {logical}", "ok", f"-> {found.get('id')} ({found.get('name')})")
    for error in fields.errors:
        logical = (error.key or "").rsplit(".", 1)[-1]
        used = logical in needed
        report.add(f"field {logical}", "warn" if used else "ok",
                   f"missing: {error.message}" + ("" if used else " (no active standard reads it)"),
                   (f"{error.hint}; until then the standards that read it report 'not applicable'"
                    if used else None))


def _check_names(report: SiteReport, client: Any, mapping: MappingFile) -> None:
    """The mapping's issue types, projects, statuses, options and JQL on this site (fields are
    checked above): what a run would fail on fails here, a rule that never matches warns."""
    proof = prove_mapping(mapping, client, configure(mapping, plugin_registry()))
    field_keys = {e.key for e in proof.fields.errors}
    failures = [e for e in proof.errors if e.key not in field_keys]
    fix = f"fix the mapping (`pmo-jira mappings check {mapping.source_file or 'FILE'} --site {report.site}` lists all)"
    if failures:
        for error in failures:
            report.add(f"mapping {error.key}", "fail", error.message, error.hint)
    else:
        report.add("mapping names", "ok", f"{proof.issue_types} issue types on the site; every issue type, project "
                   f"and query of the mapping is accepted")
    for warning in proof.warnings:
        report.add(f"mapping {warning.key}", "warn", warning.message, warning.hint or fix)
    for code, why in proof.not_applicable:
        report.add(f"standard {code}", "warn", f"not applicable on this site: {why}",
                   "bind the field or issue type in the mapping once the site has it, or drop the standard")


def _projects_in_scope(client: Any, site: SiteSettings, mapping: MappingFile) -> list[str]:
    explicit = list(site.projects or mapping.scope.projects)
    excluded = set(mapping.scope.exclude_projects)
    if explicit:
        return [k for k in explicit if k not in excluded]
    categories = set(mapping.scope.categories)
    keys = []
    for raw in client.projects():
        category = (raw.get("projectCategory") or {}).get("name")
        if raw.get("key") not in excluded and (not categories or category in categories):
            keys.append(raw["key"])
    return keys


def _check_permissions(report: SiteReport, client: Any, site: SiteSettings, mapping: MappingFile,
                       settings: Settings, projects: list[str], account: str) -> None:
    if not projects:
        report.add("projects", "warn", "no project in scope: the account can browse none that the mapping selects",
                   "check the mapping's scope and that the account has 'Browse Projects'")
        return
    report.add("projects", "ok", f"{len(projects)} in scope")
    wanted = ["BROWSE_PROJECTS", "EDIT_ISSUES"]
    if mapping.writeback.comment:
        wanted += ["ADD_COMMENTS", "EDIT_OWN_COMMENTS"]
    missing: dict[str, list[str]] = {p: [] for p in [*wanted, "ADMINISTER_PROJECTS"]}
    for key in projects:
        try:
            granted = client.my_permissions(key, [*wanted, "ADMINISTER_PROJECTS"])
        except JiraApiError as exc:
            if exc.status != 404:  # 404: no such project, or one the account cannot see
                raise
            granted = {p: False for p in missing}
        for perm, have in granted.items():
            if not have:
                missing[perm].append(key)

    for perm in wanted:
        name = PERMISSION_NAMES[perm]
        if not missing[perm]:
            report.add(name, "ok", f"in all {len(projects)} projects ({_WHY[perm]})")
            continue
        where = _list(missing[perm])
        report.add(name, "fail", f"missing in {where}: cannot {_WHY[perm]}",
                   f"grant '{name}' to {account} in the permission scheme of {_projects(missing[perm])} "
                   "(Project settings > Permissions; a Jira admin edits shared schemes)")

    notify = settings.writeback.notify if settings.writeback.notify is not None else mapping.writeback.notify
    lacking = missing["ADMINISTER_PROJECTS"]
    if notify:
        report.add("notifications", "ok", "writes notify watchers (notify = true); no admin right needed")
    elif not lacking or _is_admin(client):
        report.add("notifications", "ok", "can write without notifying watchers")
    else:
        where = _list(lacking)
        fix = (f"grant 'Administer Projects' to {account} in {_projects(lacking)} (Project settings > "
               "Permissions), or set notify: true in the mapping's writeback")
        if mapping.writeback.on_notify_refused == "fail":
            report.add("notifications", "fail",
                       f"cannot suppress notifications in {where} and the mapping says on_notify_refused: fail",
                       fix + " or on_notify_refused: notify")
        else:
            report.add("notifications", "warn",
                       f"cannot suppress notifications in {where}: watchers will get emails", fix)


def _is_admin(client: Any) -> bool:
    try:
        return bool(client.my_permissions(None, ["ADMINISTER"]).get("ADMINISTER"))
    except JiraApiError:
        return False


def _projects(keys: list[str]) -> str:
    return ("project " if len(keys) == 1 else "projects ") + _list(keys)


def _list(keys: Iterable[str], limit: int = 8) -> str:
    keys = list(keys)
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def _local_checks(settings: Settings) -> list[Check]:
    checks = []
    history = settings.history or ""
    if "://" not in history:
        checks.append(_writable("history", Path(history)))
    else:
        checks.append(_shared_history(history))
    if settings.lock is not None:
        checks.append(_writable("run lock", settings.lock))
    if settings.summary_json is not None:
        checks.append(_writable("summary json", settings.summary_json))
    return checks


def _shared_history(url: str) -> Check:
    """Whether a run can record itself in the shared (PostgreSQL) history: the server answers the
    password, the schema is this pmo-jira's, the account may write. A sync checks the same before
    it reads Jira and stops when it cannot; doctor says so the day before."""
    from pmo_jira.history import HistoryStore  # the database layer loads only for this check
    from pmo_jira.history.migrate import stamped_head

    try:
        with HistoryStore(url, create=False, migrate=False, timeout=5.0) as store:
            if store.empty:
                return Check("history", "ok", f"{store}: empty, the first run creates its tables")
            store.check_writable()
    except PmoError as exc:
        message = exc.one_line()
        fix = None
        if "cannot connect" in message:
            fix = ("start the database server, or correct the history URL and its password "
                   "(PMO_JIRA_HISTORY_PASSWORD, PGPASSWORD, `pmo-jira login --history`)")
        return Check("history", "fail", message, fix)
    return Check("history", "ok", f"{store}: schema revision {stamped_head()}, runs can be recorded")


def _writable(name: str, path: Path) -> Check:
    """Whether a run can create or write ``path`` (the nearest existing folder decides)."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    target = path if path.exists() else folder
    if os.access(target, os.W_OK):
        return Check(name, "ok", str(path))
    return Check(name, "fail", f"{path}: not writable",
                 f"make {target} writable for the account that runs pmo-jira, or set another path")
