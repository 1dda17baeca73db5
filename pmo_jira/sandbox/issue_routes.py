"""Sandbox endpoints that create and move issues, find users, and restrict who sees a comment.

A mixin of the server's ``Router`` (which supplies ``store``, ``app``, ``shapes``, ``cloud``,
``v``, ``body``, ``param``, ``number`` and ``_issue``), kept apart so each module stays one job:

* ``GET/POST /issue/{key}/transitions``: the issue type's workflow on this site, every other
  status reachable (Jira's simplified workflows); an unknown transition id is a 400.
* ``POST /issue``: required project, issue type and summary, fields checked like an edit,
  errors keyed by field as Jira answers them.
* ``GET /user/search``: Cloud ``query`` (prefix of display name or email), Data Center
  ``username`` (prefix of username, display name or email).
* Comment ``visibility`` (``{"type": "group" | "role", "value": name}``; Cloud also takes and
  answers ``identifier``): checked, stored, echoed, and enforced for the reading account.
* Comment bodies on v3 are ADF checked like Cloud (:mod:`pmo_jira.sandbox.adf`).
"""

from __future__ import annotations

from typing import Any

from pmo_jira.sandbox import adf
from pmo_jira.sandbox.errors import HttpError
from pmo_jira.sandbox.store import GROUPS, ISSUE_TYPES, ROLES, STATUSES, IssueRec, StoreError

INVALID_COMMENT = {"comment": "Comment body is not valid!"}
USER_SEARCH_MAX = 1000


class IssueRoutes:
    """Handlers mixed into the server's ``Router``."""

    store: Any
    app: Any
    shapes: Any
    cloud: bool
    v: str
    body: Any

    def param(self, name: str, default: str | None = None) -> str | None:
        raise NotImplementedError

    def number(self, name: str, default: int) -> int:
        raise NotImplementedError

    def _issue(self, key: str) -> IssueRec:
        raise NotImplementedError

    # -- transitions --

    def _transitions(self, rec: IssueRec) -> list[tuple[str, str]]:
        """(id, target status) of every transition out of the issue's status: ids 11, 21, 31 ... by
        the target's place in the workflow, as Jira numbers a simplified workflow's transitions."""
        return [(str(11 + 10 * n), status) for n, status in enumerate(self.store.workflow(rec))
                if status != rec.status]

    def get_transitions(self, key: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        wanted = self.param("transitionId")
        out = []
        for tid, status in self._transitions(rec):
            if wanted and wanted != tid:
                continue
            entry: dict[str, Any] = {"id": tid, "name": status, "to": self.shapes.status(status),
                                     "hasScreen": False, "isGlobal": True, "isInitial": False,
                                     "isConditional": False}
            if self.cloud:
                entry.update({"isAvailable": True, "isLooped": False})
            out.append(entry)
        return 200, {"expand": "transitions", "transitions": out}, {}

    def do_transition(self, key: str) -> tuple[int, Any, dict]:
        rec = self._issue(key)
        self.app.require("TRANSITION_ISSUES", "You do not have permission to transition this issue.")
        body = self.body if isinstance(self.body, dict) else {}
        transition = body.get("transition")
        tid = str(transition.get("id", "")).strip() if isinstance(transition, dict) else ""
        if not tid:
            raise HttpError(400, ["Missing 'transition' identifier"])
        target = dict(self._transitions(rec)).get(tid)
        if target is None:
            raise HttpError(400, [f"Transition id '{tid}' is not valid for this issue."])
        fields, update = body.get("fields"), body.get("update")
        if fields or update:
            resolution = (fields or {}).pop("resolution", None) if isinstance(fields, dict) else None
            if resolution is not None and STATUSES[target][1] != "done":
                raise HttpError(400, [], {"resolution": "Field 'resolution' cannot be set. It is not on the "
                                                        "appropriate screen, or unknown."})
            if fields or update:
                self.store.edit_issue(rec.key, fields, update)
        self.app.note_write(rec)
        self.store.transition(rec.key, target)
        return 204, None, {}

    # -- create --

    def create_issue(self) -> tuple[int, Any, dict]:
        body = self.body if isinstance(self.body, dict) else {}
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise HttpError(400, ["Issue must be created with fields."] if self.cloud else
                            ["Can not deserialize instance of com.atlassian.jira.rest.v2.issue.IssueFields"])
        fields = dict(fields)
        errors: dict[str, str] = {}
        project = self._ref_project(fields.pop("project", None))
        if project is None:
            errors["project"] = "Specify a valid project ID or key" if self.cloud else "project is required"
        itype = self._ref_type(fields.pop("issuetype", None))
        if itype is None:
            errors["issuetype"] = "Specify an issue type" if self.cloud else "issue type is required"
        summary = fields.pop("summary", None)
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        parent = fields.pop("parent", None)
        parent_rec = None
        if itype is not None and ISSUE_TYPES[itype][1] < 0:
            ref = parent.get("key") or parent.get("id") if isinstance(parent, dict) else None
            parent_rec = self.store.issue(str(ref)) if ref else None
            if parent_rec is None or parent_rec.hierarchy_level != 0:
                errors["parent"] = "Given parent issue does not belong to appropriate hierarchy."
        if errors:
            raise HttpError(400, [], errors)
        if not self.app.has("CREATE_ISSUES"):
            raise HttpError(400, [], {"project": "You do not have permission to create issues in this project."})
        values: dict[str, Any] = {}
        for fid, value in fields.items():
            fdef = self.store.field(fid)
            if fdef is None or fdef.attr in ("key", "links", "comments", "created", "updated", "status", "resolution",
                                             "resolved", "subtasks", "status_category", "epic_name"):
                raise HttpError(400, [], {fid: f"Field '{fid}' cannot be set. It is not on the appropriate screen, "
                                               "or unknown."})
            try:
                values[fdef.attr] = self.store._coerce(fdef, value)
            except StoreError as err:
                raise HttpError(err.status, err.messages, err.errors) from None
        if parent_rec is not None:
            values["parent"] = parent_rec.key
        rec = self.store.create_issue(project.key, itype, summary.strip(), self.store.bot.account_id, values)
        if rec.parent and rec.type == "Sub-task":
            self.store.subtasks_of.setdefault(rec.parent, []).append(rec.key)
        return 201, {"id": str(rec.id), "key": rec.key, "self": f"{self.shapes.api}/issue/{rec.id}"}, {}

    def _ref_project(self, ref: Any) -> Any:
        if not isinstance(ref, dict):
            return None
        wanted = ref.get("key") or ref.get("id")
        project = self.app.find_project(str(wanted)) if wanted else None
        return project if project is not None and self.app.can_browse(project) else None

    def _ref_type(self, ref: Any) -> str | None:
        if not isinstance(ref, dict):
            return None
        for name in self.store.issue_types:
            if ref.get("name") == name or str(ref.get("id")) == str(ISSUE_TYPES[name][0]):
                return name
        return None

    # -- users --

    def user_search(self) -> tuple[int, Any, dict]:
        start = max(self.number("startAt", 0), 0)
        limit = min(max(self.number("maxResults", 50), 0), USER_SEARCH_MAX)
        users = [u for u in self.store.users.values()]
        if self.cloud:
            needle, account = self.param("query"), self.param("accountId")
            if not needle and not account:
                raise HttpError(400, ["The query parameter 'query' or 'accountId' is required."])
            if account:
                users = [u for u in users if u.account_id == account]
            fields = ("display_name", "email")
        else:
            needle = self.param("username")
            if not needle:
                raise HttpError(400, ["The username query parameter was not provided"])
            if needle == ".":
                needle = ""  # Data Center's documented "everyone"
            active = self.param("includeActive", "true") != "false"
            inactive = self.param("includeInactive", "false") == "true"
            users = [u for u in users if (u.active and active) or (not u.active and inactive)]
            fields = ("name", "display_name", "email")
        if needle:
            low = needle.casefold()
            users = [u for u in users if any(part.casefold().startswith(low) for f in fields
                                             for part in [getattr(u, f), *getattr(u, f).split()])]
        users.sort(key=lambda u: u.display_name.casefold())
        return 200, [self.shapes.user_rec(u) for u in users[start:start + limit]], {}

    # -- comments --

    def _comment_body(self) -> Any:
        body = self.body.get("body") if isinstance(self.body, dict) else None
        if self.v == "3":
            if adf.problem(body) is not None:
                raise HttpError(400, [], INVALID_COMMENT)
            if not body["content"]:
                raise HttpError(400, [], {"comment": "Comment body can not be empty!"})
        elif not isinstance(body, str):
            raise HttpError(400, ["Operation value must be a string"])
        return body

    def _visibility(self) -> tuple[str, str] | None:
        """The request's comment ``visibility`` as (type, name), refused like Jira when the group or
        role does not exist or the account is not in it (Jira lets no one hide a comment from
        themselves)."""
        raw = self.body.get("visibility") if isinstance(self.body, dict) else None
        if raw is None:
            return None
        if not isinstance(raw, dict) or raw.get("type") not in ("group", "role"):
            raise HttpError(400, [], {"commentLevel": "Visibility type must be 'group' or 'role'."})
        kind, value, ident = raw["type"], raw.get("value"), raw.get("identifier") if self.cloud else None
        if kind == "group":
            name = value if value in GROUPS else next((g for g, gid in GROUPS.items() if ident and gid == ident), None)
            if name is None:
                raise HttpError(400, [], {"commentLevel": f"Group: {value or ident} does not exist."})
            if name not in self.store.bot_groups:
                raise HttpError(400, [], {"commentLevel": f"You are currently not a member of the group: {name}."})
        else:
            name = value if value in ROLES else next((r for r, rid in ROLES.items() if ident and str(rid) == str(ident)),
                                                     None)
            if name is None:
                raise HttpError(400, [], {"commentLevel": "Invalid role level specified."})
            if name not in self.store.bot_roles:
                raise HttpError(400, [], {"commentLevel": f"You are currently not a member of the project role: {name}."})
        return kind, name
