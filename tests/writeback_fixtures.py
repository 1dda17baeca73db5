"""Builders for write-back tests: issues, findings, audit results, and an in-memory Jira.

``FakeJira`` keeps what write-back touches (labels, comments, issue properties) and renders comment
bodies with the real rich-text code, so escaping and sizes are the client's. ``FakeClient`` offers
the ``JiraClient`` methods apply uses, with the same error types and statuses.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

from pmo_jira.errors import JiraApiError, NotifyRefused
from pmo_jira.findings import AuditResult, Finding, Outcome, Severity
from pmo_jira.jira.richtext import to_adf, to_wiki
from pmo_jira.mapping.schema import Writeback
from pmo_jira.model import ClassifiedItem, Doc, Flavour, Issue
from pmo_jira.state import STATE_PROPERTY

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=timezone.utc)
SITE = "jira"
BOT_CLOUD = {"accountId": "5b10-bot", "displayName": "PMO bot"}
BOT_DC = {"key": "JIRAUSER10100", "name": "pmo-bot", "displayName": "PMO bot"}
PERSON_CLOUD = {"accountId": "5b10-ann", "displayName": "Ann"}
PERSON_DC = {"key": "JIRAUSER10001", "name": "ann", "displayName": "Ann"}
NOTIFY_REFUSED = "To discard the user notification either admin or project admin permissions are required."

TITLES = {"PMO-GOV-001": "Accountable owner set", "PMO-EXE-001": "Status fresh",
          "PMO-PLN-001": "Start and target end dates set", "PMO-RSK-001": "Risk register",
          "PMO-INI-001": "Objective present"}


def mapping(**writeback: Any) -> SimpleNamespace:
    """A mapping stand-in carrying the real ``Writeback`` settings model."""
    wb = {"label_prefix": "pmo-", "on_notify_refused": "notify", **writeback}
    return SimpleNamespace(writeback=Writeback(**wb), standards=[SimpleNamespace(code=c) for c in TITLES])


def finding(key: str, code: str = "PMO-GOV-001", *, severity: Severity = Severity.HIGH,
            outcome: Outcome = Outcome.FAIL, subject: str = "", message: str = "No owner is set.",
            fix: str = "Assign an accountable owner.", site: str = SITE) -> Finding:
    return Finding(code=code, title=TITLES.get(code, code), severity=severity, outcome=outcome,
                   site=site, project_key=key.split("-")[0], item_key=key, item_kind="epic",
                   item_summary=f"Summary of {key}", phase="execution", message=message, fix=fix,
                   subject=subject)


def result(findings: Sequence[Finding] = (), *, epics: dict[str, str | None] | None = None,
           site_errors: dict[str, str] | None = None) -> AuditResult:
    items = tuple(ClassifiedItem(site=SITE, key=k, kind="epic", project_key=k.split("-")[0],
                                 summary="", phase=ph, rule="test") for k, ph in (epics or {}).items())
    return AuditResult(findings=tuple(findings), items=items, started=NOW, finished=NOW,
                       mapping_name="test", mapping_hash="m1", sites=(SITE,),
                       site_errors=site_errors or {})


def issue(key: str, *, labels: Sequence[str] = (), state: Any = None, summary: str = "",
          site: str = SITE) -> Issue:
    props = {} if state is None else {STATE_PROPERTY: state}
    return Issue(site=site, key=key, id=str(10000 + int(key.split("-")[1])),
                 project_key=key.split("-")[0], issue_type="Epic", hierarchy_level=1,
                 summary=summary or f"Summary of {key}", status="In Progress",
                 status_category="indeterminate", created=NOW, updated=NOW, labels=tuple(labels),
                 properties=props)


def issues(*items: Issue) -> dict[tuple[str, str], Issue]:
    return {(i.site, i.key): i for i in items}


# --- an in-memory Jira --------------------------------------------------------------------------


@dataclass
class FakeIssue:
    labels: list[str] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    summary: str = ""


class FakeJira:
    """What the write-back reads and writes on one site, plus knobs for failures."""

    def __init__(self, flavour: Flavour = Flavour.CLOUD):
        self.flavour = flavour
        self.bot = BOT_CLOUD if flavour is Flavour.CLOUD else BOT_DC
        self.person = PERSON_CLOUD if flavour is Flavour.CLOUD else PERSON_DC
        self.issues: dict[str, FakeIssue] = {}
        self.log: list[tuple[str, str]] = []  # (operation, key)
        self.notify_needs_admin = False
        self.bot_edits_all = False  # an admin bot: Jira lets it edit and delete anyone's comment
        self.fail: dict[tuple[str, str], tuple[int, str]] = {}  # (operation, key) -> (status, message)
        self._ids = itertools.count(10000)

    def add(self, key: str, *, labels: Sequence[str] = (), summary: str = "") -> None:
        self.issues[key] = FakeIssue(labels=list(labels), summary=summary or f"Summary of {key}")

    def body(self, doc: Doc) -> Any:
        return to_adf(doc) if self.flavour is Flavour.CLOUD else to_wiki(doc)

    def person_comments(self, key: str, text: str) -> None:
        body = ({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": text}]}]}
            if self.flavour is Flavour.CLOUD else text)
        self.issues[key].comments.append(self._comment(body, self.person))

    def _comment(self, body: Any, author: dict) -> dict:
        stamp = "2026-11-25T18:00:00.000+0000"
        return {"id": str(next(self._ids)), "author": dict(author), "body": body,
                "created": stamp, "updated": stamp}

    def owned_comments(self, key: str) -> list[dict]:
        return [c for c in self.issues[key].comments if c["author"] == self.bot]

    def snapshot(self, site: str = SITE) -> dict[tuple[str, str], Issue]:
        """The issues as the source would read them (labels and the state property inline)."""
        return {(site, k): replace(issue(k, summary=v.summary, site=site), labels=tuple(v.labels),
                                   properties=dict(v.properties))
                for k, v in self.issues.items()}


class FakeClient:
    """The ``JiraClient`` write-back surface over a ``FakeJira``, raising ``JiraApiError`` like it."""

    def __init__(self, jira: FakeJira):
        self.jira = jira
        self.flavour = jira.flavour

    def _check(self, op: str, key: str, *, notify: bool | None = None) -> FakeIssue:
        j = self.jira
        j.log.append((op, key))
        path = f"/rest/api/{j.flavour.api_version}/issue/{key}"
        if (op, key) in j.fail:
            status, message = j.fail[op, key]
            raise JiraApiError("request failed", method="PUT", url=path, status=status,
                               error_messages=(message,))
        if key not in j.issues:
            raise JiraApiError("not found", method="PUT", url=path, status=404,
                               error_messages=("Issue does not exist or you do not have permission to see it.",))
        if notify is False and j.notify_needs_admin:
            raise NotifyRefused("forbidden", method="PUT", url=path, status=403,
                                error_messages=(NOTIFY_REFUSED,))
        return j.issues[key]

    def myself(self) -> dict:
        self.jira.log.append(("myself", ""))
        return dict(self.jira.bot)

    def comments(self, key: str) -> list[dict]:
        return [dict(c) for c in self._check("comments", key).comments]

    def add_comment(self, key: str, body: Doc) -> dict:
        raw = self.jira._comment(self.jira.body(body), self.jira.bot)
        self._check("add_comment", key).comments.append(raw)
        return dict(raw)

    def edit_comment(self, key: str, comment_id: str, body: Doc, *, notify: bool) -> dict:
        it = self._check("edit_comment", key, notify=notify)
        for c in it.comments:
            if c["id"] == comment_id:
                if c["author"] != self.jira.bot and not self.jira.bot_edits_all:
                    raise JiraApiError("forbidden", method="PUT", url=f"/comment/{comment_id}",
                                       status=403, error_messages=("You do not have permission to edit this comment.",))
                c["body"] = self.jira.body(body)
                return dict(c)
        raise JiraApiError("not found", method="PUT", url=f"/comment/{comment_id}", status=404)

    def delete_comment(self, key: str, comment_id: str) -> None:
        it = self._check("delete_comment", key)
        for c in it.comments:
            if c["id"] == comment_id and c["author"] != self.jira.bot and not self.jira.bot_edits_all:
                raise JiraApiError("forbidden", method="DELETE", url=f"/comment/{comment_id}", status=403,
                                   error_messages=("You do not have permission to delete this comment.",))
        it.comments = [c for c in it.comments if c["id"] != comment_id]

    def edit_labels(self, key: str, add: Sequence[str], remove: Sequence[str], *, notify: bool,
                    properties: Mapping[str, Any] | None = None) -> None:
        it = self._check("edit_labels", key, notify=notify)
        it.labels = [lb for lb in it.labels if lb not in remove] + [lb for lb in add if lb not in it.labels]
        for prop, value in (properties or {}).items():
            self.set_property(key, prop, value)

    def get_property(self, key: str, prop: str) -> Any | None:
        return self._check("get_property", key).properties.get(prop)

    def set_property(self, key: str, prop: str, value: Any) -> None:
        self._check("set_property", key).properties[prop] = value


def writes(log: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    return [e for e in log if e[0] in ("add_comment", "edit_comment", "delete_comment", "edit_labels",
                                       "set_property")]
