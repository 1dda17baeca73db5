"""Every Cloud endpoint pmo-jira calls answers, in the sandbox, with the shape of Atlassian's
official OpenAPI schema (tests/openapi/): what pmo-jira really received during doctor, a site
proof, an audit with history, a sync and a re-sync, on a site whose comments carry visibility.

An endpoint pmo-jira starts to call without a schema here fails this test, so the contract
cannot silently shrink behind the client."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from pmo_jira.jira.client import LONG_JQL, JiraClient
from pmo_jira.model import Doc, Paragraph, Text
from pmo_jira.sandbox.server import SandboxServer, _Handler
from pmo_jira.writeback import STATE_PROPERTY

from cli_fixtures import MAPPING
from openapi_fixtures import validate

ID = r"[^/]+"
CONTRACT: dict[tuple[str, str], str | None] = {
    # (method, path after /rest/api/3) -> schema of the answer's body (None: no body); "[X]" a list of X
    ("GET", "/serverInfo"): "ServerInformation",  # asked on /rest/api/2, which both flavours have
    ("GET", "/myself"): "User",
    ("GET", "/field"): "[FieldDetails]",
    ("GET", "/project/search"): "PageBeanProject",
    ("GET", "/status"): "[StatusDetails]",
    ("GET", "/issuetype"): "[IssueTypeDetails]",
    ("GET", "/mypermissions"): "Permissions",
    ("POST", "/jql/parse"): "ParsedJqlQueries",
    ("GET", f"/project/{ID}/properties/{ID}"): "EntityProperty",
    ("GET", "/search/jql"): "SearchAndReconcileResults",
    ("POST", "/search/jql"): "SearchAndReconcileResults",
    ("POST", "/changelog/bulkfetch"): "BulkChangelogResponseBean",
    ("GET", f"/issue/{ID}"): "IssueBean",
    ("PUT", f"/issue/{ID}"): None,
    ("GET", f"/issue/{ID}/comment"): "PageOfComments",
    ("POST", f"/issue/{ID}/comment"): "Comment",
    ("PUT", f"/issue/{ID}/comment/{ID}"): "Comment",
    ("DELETE", f"/issue/{ID}/comment/{ID}"): None,
    ("GET", f"/issue/{ID}/properties/{ID}"): "EntityProperty",
    ("PUT", f"/issue/{ID}/properties/{ID}"): None,
}
"""Every Cloud endpoint ``JiraClient`` calls, with the schema Atlassian documents for its answer."""
ERROR_SCHEMA = "ErrorCollection"


def _endpoint(method: str, path: str) -> tuple[str, str] | None:
    rest = re.sub(r"^/rest/api/[23]", "", path)
    for (m, pattern), _ in CONTRACT.items():
        if m == method and re.fullmatch(pattern, rest):
            return m, pattern
    return None


@pytest.fixture
def answers(monkeypatch):
    """(method, path, status, payload) of every answer the sandbox sends."""
    seen: list[tuple[str, str, int, object]] = []
    send = _Handler._send

    def recording(self, status, payload, headers):
        seen.append((self.command, urlsplit(self.path).path, status, payload))
        send(self, status, payload, headers)

    monkeypatch.setattr(_Handler, "_send", recording)
    return seen


def _restrict_comments(sb: SandboxServer) -> int:
    """People's comments with visibility: some for a group and a role the bot is in, some it is not."""
    store = sb.store
    people = [u for u in store.users.values() if u.account_id != store.bot.account_id]
    recs = [r for r in store.issues if r.type == "Epic" and store.projects[r.project].browsable][:12]
    for n, rec in enumerate(recs):
        who = people[n % len(people)].account_id
        store.add_comment_as(who, rec.key, "For the team only.", ("group", "jira-software-users"))
        store.add_comment_as(who, rec.key, "For developers.", ("role", "Developers"))
        store.add_comment_as(who, rec.key, "Board eyes only.", ("group", "executives"))
    return len(recs)


def test_every_cloud_endpoint_pmo_jira_calls_matches_its_schema(pmo, answers, tmp_path):
    with SandboxServer("cloud", issues=160, seed=4) as sb:
        assert _restrict_comments(sb)
        for args in (["doctor"], ["mappings", "check", str(MAPPING), "--site", "jira"],
                     ["audit", "--format", "json", "--fail-on", "never"], ["sync", "--apply"]):
            result = pmo.run(args, sb=sb)
            assert "Traceback" not in result.output, result.output
        # a person edits an owned comment's issue back and a duplicate owned comment appears, so
        # the re-sync edits and deletes comments too
        owner = next(r for r in sb.store.issues if any(c.author == sb.store.bot.account_id for c in r.comments or ()))
        owned = next(c for c in owner.comments if c.author == sb.store.bot.account_id)
        sb.store.add_comment(owner.key, owned.body)
        sb.store.edit(owner.key, labels=[lb for lb in owner.labels or () if not lb.startswith("pmo-")])
        result = pmo.run(["sync", "--apply"], sb=sb)
        assert result.exit_code == 0, result.output
        # what other commands and options call, through the same client
        client = JiraClient(sb.url, sb.credentials)
        sb.store.set_project_property("DIG", "pmo.phase", {"phase": "Execution"})
        assert client.server_info()["deploymentType"] == "Cloud"
        assert client.project_property("DIG", "pmo.phase") == {"phase": "Execution"}
        assert client.issue(owner.key, ["summary", "comment"], properties=[STATE_PROPERTY])["key"] == owner.key
        assert client.get_property(owner.key, STATE_PROPERTY)
        client.edit_comment(owner.key, str(owned.id), Doc((Paragraph((Text("edited"),)),)), notify=True)
        client.set_property(owner.key, "pmo-jira.contract", {"checked": True})
        long_jql = "project = DIG OR labels in (" + ", ".join(f"x{n:04}" for n in range(LONG_JQL // 6)) + ")"
        assert len(long_jql) > LONG_JQL and list(client.search(long_jql, ["summary"], properties=[STATE_PROPERTY]))

    used: dict[tuple[str, str], int] = {}
    unknown = set()
    for method, path, status, payload in answers:
        if not path.startswith("/rest/api/3/") and path != "/rest/api/2/serverInfo":  # v2: tells the flavour
            continue
        endpoint = _endpoint(method, path)
        if endpoint is None:
            unknown.add((method, path))
            continue
        used[endpoint] = used.get(endpoint, 0) + 1
        schema = CONTRACT[endpoint] if status < 400 else ERROR_SCHEMA
        if schema is None:
            assert payload is None, (method, path)
        elif schema.startswith("["):
            assert isinstance(payload, list) and payload, (method, path)
            for item in payload:
                validate(item, schema[1:-1])
        else:
            validate(payload, schema)
    assert not unknown, f"pmo-jira called endpoints the contract has no schema for: {sorted(unknown)}"
    missing = set(CONTRACT) - set(used)
    assert not missing, f"the contract lists endpoints the runs never called: {sorted(missing)}"

    comments = [c for m, p, s, body in answers if m == "GET" and p.endswith("/comment") and s == 200
                for c in body["comments"]]
    restricted = [c for c in comments if "visibility" in c]
    assert {c["visibility"]["value"] for c in restricted} == {"jira-software-users", "Developers"}
    assert all(c["visibility"]["identifier"] for c in restricted)
    assert not any("Board eyes only" in str(c["body"]) for c in comments)
