"""JSON shapes of the sandbox, as real Jira renders them (Cloud v3 / v2, Data Center v2).

Differences that matter to clients are kept: v3 rich text is ADF and v2 is wiki markup; Cloud
users carry ``accountId`` and Data Center users ``name``/``key``; Cloud issue types carry
``hierarchyLevel`` (Data Center's do not); a Cloud child names its epic in ``parent`` while a
Data Center child carries the Epic Link custom field. Dates look like ``2025-11-10T15:47:42.072+0000``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

from pmo_jira.model import Flavour
from pmo_jira.sandbox.store import (
    GROUPS,
    ISSUE_TYPES,
    LINK_TYPES,
    PRIORITIES,
    RESOLUTIONS,
    ROLES,
    STATUS_CATEGORIES,
    STATUSES,
    USER_ATTRS,
    CommentRec,
    FieldDef,
    HistoryRec,
    IssueRec,
    ProjectRec,
    Store,
    UserRec,
    option_id,
)

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def fmt_datetime(dt: datetime, tz: tzinfo = timezone.utc) -> str:
    """Jira's datetime format: milliseconds and an offset without a colon, in the site's zone
    (``2026-03-01T10:15:00.000+0100``)."""
    dt = dt.astimezone(tz)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}" + dt.strftime("%z")


DC_VERSION = (11, 3, 0)
"""The Data Center release the DC flavour claims: one whose search platform (Jira 11.x) refuses a
page reaching past its 10,000-result window with a 500, as the sandbox does."""

SPRINT_ZERO = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)
"""Monday the generated two-week sprints count from."""


def sprint_of(rec: IssueRec) -> tuple[int, str, str, datetime] | None:
    """(id, name, ACTIVE/CLOSED, start) of the sprint a started story, task or bug was worked in."""
    if rec.hierarchy_level != 0 or rec.type == "Risk" or rec.status_category == "new":
        return None
    n = max((rec.status_changed - SPRINT_ZERO).days // 14, 0) + 1
    state = "ACTIVE" if rec.status_category == "indeterminate" else "CLOSED"
    return 100 + n, f"{rec.project} Sprint {n}", state, SPRINT_ZERO + timedelta(days=14 * (n - 1))


def rank_of(rec: IssueRec) -> str:
    """A LexoRank-shaped value ordering issues by id."""
    return f"0|i{rec.id:05x}:"


def fmt_date(d: date | None) -> str | None:
    return d.isoformat() if d else None


# --- rich text ------------------------------------------------------------------------------


def _adf_text(text: str) -> list[dict]:
    return [{"type": "text", "text": text}] if text else []


def wiki_to_adf(text: str | None) -> dict | None:
    """The wiki subset the sandbox writes (``h2.`` headings, ``*`` bullets, paragraphs) as ADF."""
    if not text:
        return None
    content: list[dict] = []
    bullets: list[dict] = []
    para: list[str] = []

    def flush() -> None:
        nonlocal bullets, para
        if para:
            content.append({"type": "paragraph", "content": _adf_text(" ".join(para))})
            para = []
        if bullets:
            content.append({"type": "bulletList", "content": bullets})
            bullets = []

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif len(stripped) > 3 and stripped[0] == "h" and stripped[1] in "123456" and stripped[2:4] == ". ":
            flush()
            content.append({"type": "heading", "attrs": {"level": int(stripped[1])},
                            "content": _adf_text(stripped[4:])})
        elif stripped.startswith("* "):
            if para:
                flush()
            bullets.append({"type": "listItem", "content": [{"type": "paragraph", "content": _adf_text(stripped[2:])}]})
        else:
            if bullets:
                flush()
            para.append(stripped)
    flush()
    return {"type": "doc", "version": 1, "content": content}


def _inline_wiki(nodes: Iterable[dict]) -> str:
    out = []
    for node in nodes or ():
        kind = node.get("type")
        if kind == "text":
            text = node.get("text", "")
            marks = {m.get("type") for m in node.get("marks", ())}
            if "strong" in marks:
                text = f"*{text}*"
            if "code" in marks:
                text = "{{" + text + "}}"
            out.append(text)
        elif kind == "hardBreak":
            out.append("\n")
        elif kind == "mention":
            out.append(f"[~accountid:{node.get('attrs', {}).get('id', '')}]")
        else:
            out.append(_inline_wiki(node.get("content", ())))
    return "".join(out)


def adf_to_wiki(doc: dict | None) -> str:
    """An ADF document as the wiki markup a v2 reader of the same site would see."""
    if not doc:
        return ""
    blocks = []
    for node in doc.get("content", ()):
        kind = node.get("type")
        if kind == "heading":
            blocks.append(f"h{node.get('attrs', {}).get('level', 1)}. {_inline_wiki(node.get('content', ()))}")
        elif kind in ("bulletList", "orderedList"):
            mark = "*" if kind == "bulletList" else "#"
            blocks.append("\n".join(f"{mark} {_inline_wiki(item.get('content', ()))}" for item in node.get("content", ())))
        else:
            blocks.append(_inline_wiki(node.get("content", ())))
    return "\n\n".join(blocks)


# --- the renderer ---------------------------------------------------------------------------


class Shapes:
    """Renders store records for one API version (``"2"`` or ``"3"``) of one site."""

    def __init__(self, store: Store, base_url: str, api_version: str):
        self.store, self.base, self.v = store, base_url.rstrip("/"), api_version
        self.api = f"{self.base}/rest/api/{api_version}"
        self.cloud = store.flavour is Flavour.CLOUD
        self.adf = api_version == "3"

    def dt(self, value: datetime) -> str:
        return fmt_datetime(value, self.store.time_zone)

    def rich(self, wiki: str | None) -> Any:
        if self.adf:
            return wiki_to_adf(wiki)
        return wiki or None

    def body(self, body: Any) -> Any:
        """A comment body as stored (wiki string or ADF dict) in this version's format."""
        if self.adf:
            return body if isinstance(body, dict) else wiki_to_adf(body)
        return adf_to_wiki(body) if isinstance(body, dict) else body

    def avatars(self, kind: str, ident: str) -> dict[str, str]:
        return {f"{n}x{n}": f"{self.base}/secure/{kind}avatar?size={n}&id={ident}" for n in (48, 24, 16, 32)}

    def user(self, uid: str | None) -> dict | None:
        u = self.store.users.get(uid) if uid else None
        if u is None:
            return None
        return self.user_rec(u)

    def user_rec(self, u: UserRec) -> dict:
        if self.cloud:
            return {"self": f"{self.api}/user?accountId={u.account_id}", "accountId": u.account_id,
                    "avatarUrls": self.avatars("user", u.account_id), "displayName": u.display_name,
                    "active": u.active, "timeZone": u.time_zone, "accountType": "atlassian"}
        return {"self": f"{self.api}/user?username={u.name}", "name": u.name, "key": u.key,
                "emailAddress": u.email, "avatarUrls": self.avatars("user", u.key),
                "displayName": u.display_name, "active": u.active, "timeZone": u.time_zone}

    def myself(self) -> dict:
        out = self.user_rec(self.store.bot)
        if self.cloud:
            out["emailAddress"] = self.store.bot.email
            out["locale"] = "en_US"
        else:
            out["locale"] = "en_UK"
        out["groups"] = {"size": 1, "items": []}
        out["applicationRoles"] = {"size": 1, "items": []}
        out["expand"] = "groups,applicationRoles"
        return out

    def status_category(self, key: str) -> dict:
        cid, name, color = STATUS_CATEGORIES[key]
        return {"self": f"{self.api}/statuscategory/{cid}", "id": cid, "key": key, "colorName": color, "name": name}

    def status(self, name: str) -> dict:
        sid, cat = STATUSES[name]
        out = {"self": f"{self.api}/status/{sid}", "description": "", "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
               "name": name, "id": str(sid), "statusCategory": self.status_category(cat)}
        if self.cloud:
            out["untranslatedName"] = name
        return out

    def issuetype(self, name: str) -> dict:
        tid, level, description = ISSUE_TYPES[name]
        out = {"self": f"{self.api}/issuetype/{tid}", "id": str(tid), "description": description,
               "iconUrl": f"{self.base}/secure/viewavatar?size=medium&avatarId={tid}&avatarType=issuetype",
               "name": name, "subtask": level < 0, "avatarId": tid}
        if self.cloud:
            out["hierarchyLevel"] = level
        return out

    def priority(self, name: str) -> dict:
        pid = PRIORITIES[name]
        return {"self": f"{self.api}/priority/{pid}", "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
                "name": name, "id": str(pid)}

    def category(self, cid: str | None) -> dict | None:
        cat = self.store.categories.get(cid) if cid else None
        if cat is None:
            return None
        return {"self": f"{self.api}/projectCategory/{cat.id}", "id": cat.id, "name": cat.name,
                "description": cat.description}

    def project_ref(self, key: str) -> dict:
        p = self.store.projects[key]
        out = {"self": f"{self.api}/project/{p.id}", "id": p.id, "key": p.key, "name": p.name,
               "projectTypeKey": "software", "avatarUrls": self.avatars("project", p.id)}
        if self.cloud:
            out["simplified"] = False
        cat = self.category(p.category_id)
        if cat:
            out["projectCategory"] = cat
        return out

    def project(self, p: ProjectRec, expand: Sequence[str] = (), properties: Sequence[str] = ()) -> dict:
        out = self.project_ref(p.key)
        if self.cloud:  # Cloud's /project/search returns the asked-for project properties inline
            props = {k: copy.deepcopy(p.properties[k]) for k in properties if k in p.properties}
            out.update({"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
                        "style": "classic", "isPrivate": False, "properties": props})
        else:
            out.update({"expand": "description,lead,url,projectKeys", "archived": False})
        if "lead" in expand:
            out["lead"] = self.user(p.lead)
        if "description" in expand:
            out["description"] = p.description
        if "projectKeys" in expand:
            out["projectKeys"] = [p.key]
        return out

    def field(self, f: FieldDef) -> dict:
        out = {"id": f.id, "key": f.id, "name": f.name, "custom": f.custom, "orderable": f.orderable,
               "navigable": f.navigable, "searchable": f.searchable, "clauseNames": list(f.clause_names)}
        if f.id not in ("statusCategory", "issuekey"):
            out["schema"] = dict(f.schema)
        return out

    def linked(self, key: str) -> dict:
        other = self.store.by_key[key]
        return {"id": str(other.id), "key": other.key, "self": f"{self.api}/issue/{other.id}",
                "fields": {"summary": other.summary, "status": self.status(other.status),
                           "priority": self.priority(other.priority), "issuetype": self.issuetype(other.type)}}

    def links(self, rec: IssueRec) -> list[dict]:
        out = []
        for link in rec.links or ():
            lid, inward, outward = LINK_TYPES[link.type]
            entry = {"id": str(link.id), "self": f"{self.api}/issueLink/{link.id}",
                     "type": {"id": str(lid), "name": link.type, "inward": inward, "outward": outward,
                              "self": f"{self.api}/issueLinkType/{lid}"}}
            entry["outwardIssue" if link.outward else "inwardIssue"] = self.linked(link.other)
            out.append(entry)
        return out

    def option(self, attr: str, value: str | None) -> dict | None:
        if value is None:
            return None
        oid = option_id(attr, value)
        return {"self": f"{self.api}/customFieldOption/{oid}", "value": value, "id": oid}

    def comment(self, rec: IssueRec, c: CommentRec) -> dict:
        out = {"self": f"{self.api}/issue/{rec.id}/comment/{c.id}", "id": str(c.id), "author": self.user(c.author),
               "body": self.body(c.body), "updateAuthor": self.user(c.update_author or c.author),
               "created": self.dt(c.created), "updated": self.dt(c.updated)}
        if c.visibility is not None:
            kind, name = c.visibility
            out["visibility"] = {"type": kind, "value": name}
            if self.cloud:
                out["visibility"]["identifier"] = GROUPS[name] if kind == "group" else str(ROLES[name])
        if self.cloud:
            out["jsdPublic"] = True
        return out

    def comment_page(self, rec: IssueRec, start: int = 0, limit: int = 5000, newest_first: bool = False) -> dict:
        """The comments the account may see (restricted ones only for members, as in Jira)."""
        comments = [c for c in rec.comments or () if self.store.can_see(c)]
        if newest_first:
            comments.reverse()
        page = comments[start:start + limit]
        return {"comments": [self.comment(rec, c) for c in page], "self": f"{self.api}/issue/{rec.id}/comment",
                "maxResults": limit, "total": len(comments), "startAt": start}

    def history(self, h: HistoryRec) -> dict:
        """One changelog entry (Cloud ``Changelog``; Data Center's history has the same keys)."""
        items = []
        for item in h.items:
            f = self.store.field_by_id[item.field_id]
            out = {"field": f.name if f.custom else f.id, "fieldtype": "custom" if f.custom else "jira"}
            if self.cloud:
                out["fieldId"] = f.id
            out.update({"from": item.from_id, "fromString": item.from_string, "to": item.to_id,
                        "toString": item.to_string})
            items.append(out)
        entry: dict[str, Any] = {"id": str(h.id)}
        if h.author is not None:
            entry["author"] = self.user(h.author)
        entry.update({"created": self.dt(h.created), "items": items})
        return entry

    def changelog_page(self, rec: IssueRec, start: int, limit: int) -> dict:
        """Cloud's GET /issue/{key}/changelog: oldest first, paged by ``startAt``."""
        histories = self.store.history(rec)
        page = histories[start:start + limit]
        url = f"{self.api}/issue/{rec.key}/changelog"
        out: dict[str, Any] = {"self": f"{url}?startAt={start}&maxResults={limit}", "maxResults": limit,
                               "startAt": start, "total": len(histories),
                               "isLast": start + len(page) >= len(histories),
                               "values": [self.history(h) for h in page]}
        if not out["isLast"]:
            out["nextPage"] = f"{url}?&startAt={start + limit}&maxResults={limit}"
        return out

    def changelog(self, rec: IssueRec, most_recent: int | None = None) -> dict:
        """``expand=changelog``: Data Center gives the whole history, oldest first; Cloud only the
        ``most_recent`` entries, newest first, without paging."""
        histories = self.store.history(rec)
        if most_recent is not None:
            histories = histories[::-1][:most_recent]
        return {"startAt": 0, "maxResults": len(histories), "total": len(self.store.history(rec)),
                "histories": [self.history(h) for h in histories]}

    def subtasks(self, rec: IssueRec) -> list[dict]:
        return [self.linked(k) for k in self.store.subtasks_of.get(rec.key, ())]

    def value(self, rec: IssueRec, f: FieldDef) -> tuple[bool, Any]:
        """(present, JSON value) of one field on one issue; absent means Jira would omit the key."""
        attr = f.attr
        if attr == "summary":
            return True, rec.summary
        if attr == "issuetype":
            return True, self.issuetype(rec.type)
        if attr == "status":
            return True, self.status(rec.status)
        if attr == "project":
            return True, self.project_ref(rec.project)
        if attr in ("assignee", "reporter", *USER_ATTRS):
            return True, self.user(getattr(rec, attr))
        if attr == "priority":
            return True, self.priority(rec.priority)
        if attr == "labels":
            return True, list(rec.labels or ())
        if attr in ("description", "mitigation"):
            return True, self.rich(getattr(rec, attr))
        if attr in ("created", "updated", "resolved", "status_changed"):
            value = getattr(rec, attr)
            return True, self.dt(value) if value else None
        if attr in ("due", "start", "target_end"):
            return True, fmt_date(getattr(rec, attr))
        if attr == "resolution":
            return True, self.resolution(rec.resolution) if rec.resolution else None
        if attr == "links":
            return True, self.links(rec)
        if attr == "parent":
            level = rec.hierarchy_level
            if rec.parent is None or (not self.cloud and level >= 0):
                return False, None
            return True, self.linked(rec.parent)
        if attr == "comments":
            return True, self.comment_page(rec)
        if attr == "subtasks":
            return True, self.subtasks(rec)
        if attr in ("phase", "impact", "likelihood", "objective"):
            return True, self.option(attr, getattr(rec, attr))
        if attr in ("points", "epic_name", "epic_link", "business_value", "time_criticality", "risk_reduction",
                    "job_size", "blocked_by"):
            return True, getattr(rec, attr)
        if attr == "target_start":
            return True, fmt_date(rec.start)
        if attr == "rank":
            return True, rank_of(rec)
        if attr == "sprint":
            return True, self.sprints(rec)
        if attr in ("fix_versions", "components"):
            return True, []
        if attr in ("team", "flagged", "parent_link", "app_start", "app_points"):
            return True, None  # on the site, never filled in by the generated portfolio
        return False, None

    def resolution(self, name: str) -> dict:
        rid, description = RESOLUTIONS[name]
        return {"self": f"{self.api}/resolution/{rid}", "id": rid, "description": description, "name": name}

    def sprints(self, rec: IssueRec) -> list | None:
        """The Sprint field: objects on Cloud, Data Center's ``toString()`` form on v2 there."""
        sprint = sprint_of(rec)
        if sprint is None:
            return None
        sid, name, state, start = sprint
        end = start + timedelta(days=14)
        if self.cloud:
            return [{"id": sid, "name": name, "state": state.lower(), "boardId": 1, "goal": "",
                     "startDate": self.dt(start), "endDate": self.dt(end)}]
        return [f"com.atlassian.greenhopper.service.sprint.Sprint@{sid:x}[id={sid},rapidViewId=1,state={state},"
                f"name={name},startDate={start.isoformat()},endDate={end.isoformat()},goal=,sequence={sid}]"]

    def issue(self, rec: IssueRec, fields: Sequence[FieldDef], *, properties: Sequence[str] = (),
              names: bool = False, changelog: bool = False, changelog_limit: int | None = None) -> dict:
        """``changelog``: include the history (only its ``changelog_limit`` newest entries, see :meth:`changelog`)."""
        out: dict[str, Any] = {"expand": ISSUE_EXPAND, "id": str(rec.id), "self": f"{self.api}/issue/{rec.id}",
                               "key": rec.key}
        if fields:
            rendered = {}
            for f in fields:
                present, value = self.value(rec, f)
                if present:
                    rendered[f.id] = value
            out["fields"] = rendered
            if names:
                out["names"] = {f.id: f.name for f in fields if f.id in rendered}
        if properties:
            props = rec.properties or {}
            out["properties"] = {k: props[k] for k in properties if k in props}
        if changelog:
            out["changelog"] = self.changelog(rec, changelog_limit)
        return out

    def server_info(self, now: datetime) -> dict:
        if self.cloud:
            zone = getattr(self.store.time_zone, "key", "Etc/UTC")
            return {"baseUrl": self.base, "displayUrl": self.base, "displayUrlServicedeskHelpCenter": self.base,
                    "displayUrlConfluence": self.base, "version": "1001.0.0-SNAPSHOT",
                    "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100300,
                    "buildDate": "2026-01-01T00:00:00.000+0000", "serverTime": self.dt(now),
                    "scmInfo": "0c5b9b2f0a7e4d5c8b1e6f3a2d9c8b7a6e5f4d3c", "serverTitle": "pmo-jira sandbox",
                    "defaultLocale": {"locale": self.store.locale}, "serverTimeZone": zone}
        major, minor, patch = DC_VERSION
        build = major * 1_000_000 + minor * 1000 + patch
        return {"baseUrl": self.base, "version": f"{major}.{minor}.{patch}", "versionNumbers": list(DC_VERSION),
                "deploymentType": "Server", "buildNumber": build, "buildDate": "2025-11-18T00:00:00.000+0000",
                "databaseBuildNumber": build, "serverTime": self.dt(now),
                "scmInfo": "0c5b9b2f0a7e4d5c8b1e6f3a2d9c8b7a6e5f4d3c", "serverTitle": "pmo-jira sandbox (Data Center)"}


def select_fields(store: Store, specs: Iterable[str], default: str) -> list[FieldDef]:
    """Jira's ``fields`` parameter: ids, ``*all``, ``*navigable``, ``-id`` exclusions; unknown ids ignored.

    Only exclusions (or nothing at all) start from ``default``; ``id``/``key`` alone select no fields.
    """
    parts = [p.strip() for s in specs for p in str(s).split(",") if p.strip()]
    if not parts:
        parts = [default]
    include: list[FieldDef] = []
    exclude: set[str] = set()
    positive = [p for p in parts if not p.startswith("-")]
    if not positive:
        positive = [default]
    renderable = [f for f in store.fields if f.id not in ("statusCategory", "issuekey")]
    for p in positive:
        if p == "*all":
            include.extend(renderable)
        elif p == "*navigable":
            include.extend(f for f in renderable if f.navigable)
        elif p in ("id", "key"):
            continue
        else:
            f = store.field_by_id.get(p)
            if f is not None and f in renderable:
                include.append(f)
    for p in parts:
        if p.startswith("-"):
            exclude.add(p[1:])
    seen: set[str] = set()
    out = []
    for f in include:
        if f.id not in seen and f.id not in exclude:
            seen.add(f.id)
            out.append(f)
    return out
