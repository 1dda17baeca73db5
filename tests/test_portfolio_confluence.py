"""Publishing to Confluence: find by title, create, update only on change, one-line errors.

HTTP is faked with ``responses`` using payloads shaped like Confluence Cloud's content REST API.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from xml.etree import ElementTree

import pytest
import responses
from click.testing import CliRunner

from pmo_jira.cli.main import cli
from pmo_jira.errors import PmoError
from pmo_jira.jira.client import Credentials
from pmo_jira.sandbox.server import SandboxServer
from pmo_jira_portfolio.confluence import connect, publish, storage_body
from pmo_jira_portfolio.rollup import build_rollup

from cli_fixtures import site_env
from portfolio_fixtures import portfolio_context, portfolio_snapshot

publish_confluence = cli.get_command(None, "publish-confluence")  # as `pmo-jira` finds it

WIKI = "https://acme.atlassian.net/wiki"
CONTENT = f"{WIKI}/rest/api/content"
TITLE = "Portfolio report - test"
CLOUD = Credentials(email="pmo-bot@example.com", token="s3cret-token")


def search_page(results: list[dict]) -> dict:
    return {"results": results, "start": 0, "limit": 25, "size": len(results),
            "_links": {"base": WIKI, "context": "/wiki", "self": CONTENT}}


def page(page_id: str, version: int, body: str) -> dict:
    return {
        "id": page_id, "type": "page", "status": "current", "title": TITLE,
        "space": {"id": 65538, "key": "PMO", "name": "PMO", "type": "global", "status": "current"},
        "version": {"by": {"type": "known", "accountId": "5b10a2844c20165700ede21g", "displayName": "PMO bot"},
                    "when": "2026-11-24T12:00:00.000Z", "number": version, "minorEdit": True},
        "body": {"storage": {"value": body, "representation": "storage", "embeddedContent": []}},
        "_links": {"webui": f"/spaces/PMO/pages/{page_id}/Portfolio+report+-+test", "base": WIKI,
                   "context": "/wiki", "self": f"{CONTENT}/{page_id}"},
    }


def history(version: int) -> dict:
    return {"latest": True, "createdDate": "2026-10-01T09:00:00.000Z",
            "lastUpdated": {"number": version, "when": "2026-11-24T12:00:00.000Z", "minorEdit": True}}


@pytest.fixture(scope="module")
def body():
    snap = portfolio_snapshot()
    issues = tuple(dataclasses.replace(i, summary="R&D <b>budget</b> ]]> \"x\"") if i.key == "WEB-1" else i
                   for i in snap.issues)
    return storage_body(build_rollup(portfolio_context(snapshots=[dataclasses.replace(snap, issues=issues)])))


def test_storage_body_is_valid_xhtml_with_status_macros_and_no_svg(body):
    doc = ElementTree.fromstring(
        '<root xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource/identifier">'
        f"{body}</root>")
    macros = doc.findall(".//{http://atlassian.com/content}structured-macro")
    assert macros and {m.get("{http://atlassian.com/content}name") for m in macros} == {"status"}
    assert "<svg" not in body and "<script" not in body
    assert "R&amp;D &lt;b&gt;budget&lt;/b&gt; ]]&gt; &quot;x&quot;" in body
    for heading in ("RAG definitions", "RAG by project", "Epics by phase", "Open findings over runs",
                    "Portfolios", "Projects", "Epics", "Changes since the previous run"):
        assert f"<h2>{heading}</h2>" in body
    assert "Percent of classified items with an open finding of medium severity or worse." in body


@responses.activate
def test_creates_the_page_when_the_space_has_none(body):
    responses.get(CONTENT, json=search_page([]),
                  match=[responses.matchers.query_param_matcher(
                      {"spaceKey": "PMO", "title": TITLE, "type": "page", "expand": "body.storage,version"})])
    responses.post(CONTENT, json=page("98310", 1, body))
    done = publish(connect(WIKI, CLOUD), space="PMO", title=TITLE, body=body)
    assert (done.action, done.page_id, done.version) == ("created", "98310", 1)
    assert done.url == f"{WIKI}/spaces/PMO/pages/98310/Portfolio+report+-+test"
    sent = json.loads(responses.calls[1].request.body)
    assert (sent["type"], sent["title"], sent["space"]) == ("page", TITLE, {"key": "PMO"})
    assert sent["body"]["storage"] == {"value": body, "representation": "storage"}
    expected = base64.b64encode(b"pmo-bot@example.com:s3cret-token").decode()
    assert all(c.request.headers["Authorization"] == f"Basic {expected}" for c in responses.calls)


@responses.activate
def test_updates_with_the_next_version_when_the_content_changed(body):
    responses.get(CONTENT, json=search_page([page("98310", 3, "<p>old report</p>")]))
    responses.get(f"{CONTENT}/98310/history", json=history(3))
    responses.put(f"{CONTENT}/98310", json=page("98310", 4, body),
                  match=[responses.matchers.query_param_matcher({"status": "current"})])
    done = publish(connect(WIKI, CLOUD), space="PMO", title=TITLE, body=body)
    assert (done.action, done.version) == ("updated", 4)
    sent = json.loads(responses.calls[-1].request.body)
    assert sent["version"]["number"] == 4 and sent["version"]["minorEdit"] is True
    assert sent["body"]["storage"]["value"] == body


@responses.activate
def test_leaves_the_page_alone_when_only_the_as_of_line_differs(body):
    older = re.sub(r"Report as of [^<]*", "Report as of 2026-01-01T00:00:00Z", body, count=1)
    assert older != body
    responses.get(CONTENT, json=search_page([page("98310", 7, older)]))
    done = publish(connect(WIKI, CLOUD), space="PMO", title=TITLE, body=body)
    assert (done.action, done.version) == ("unchanged", 7)
    assert [c.request.method for c in responses.calls] == ["GET"]


@responses.activate
@pytest.mark.parametrize("status, payload, expected", [
    (401, {"statusCode": 401, "message": "Client must be authenticated to access this resource."},
     "Confluence publish of 'Portfolio report - test' in space PMO failed: HTTP 401: Client must be "
     "authenticated to access this resource. (check the email and API token)"),
    (404, {"statusCode": 404, "message": "No space with key : PMO"},
     "failed: HTTP 404: No space with key : PMO (check the space key and the Confluence URL)"),
])
def test_errors_are_one_line_without_credentials(body, status, payload, expected):
    responses.get(CONTENT, json=payload, status=status)
    with pytest.raises(PmoError) as err:
        publish(connect(WIKI, CLOUD), space="PMO", title=TITLE, body=body)
    text = err.value.one_line()
    assert expected in text and "\n" not in str(err.value)
    assert "s3cret-token" not in text and "pmo-bot@example.com" not in text


@responses.activate
def test_data_center_uses_the_token_as_bearer_and_no_wiki_prefix(body):
    base = "https://confluence.example.com"
    responses.get(f"{base}/rest/api/content", json={**search_page([]), "_links": {"base": base}})
    responses.post(f"{base}/rest/api/content", json={**page("4711", 1, body), "_links": {"webui": "/x", "base": base}})
    done = publish(connect(base, Credentials(token="dc-pat")), space="PMO", title=TITLE, body=body)
    assert done.action == "created"
    assert all(c.request.headers["Authorization"] == "Bearer dc-pat" for c in responses.calls)


def test_cloud_site_url_gets_the_wiki_context():
    assert connect("https://acme.atlassian.net/", CLOUD).url == WIKI


def test_the_command_audits_the_sandbox_and_publishes_with_the_jira_credentials(pmo, monkeypatch):
    with SandboxServer("cloud", issues=120, seed=3) as sb:
        for name, value in {**pmo.base_env(), **site_env(sb), "PMO_JIRA_CONFLUENCE_URL": WIKI}.items():
            monkeypatch.setenv(name, value)
        with responses.RequestsMock() as rs:
            rs.add_passthru(sb.url)
            rs.get(CONTENT, json=search_page([]))
            rs.post(CONTENT, json=page("98310", 1, "<p>x</p>"))
            result = CliRunner().invoke(publish_confluence, ["--space", "PMO"], catch_exceptions=False)
            posted = [c for c in rs.calls if c.request.method == "POST" and c.request.url.startswith(WIKI)]
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (f"created page 'Portfolio report - sandbox' in space PMO (id 98310, version 1): "
                                     f"{WIKI}/spaces/PMO/pages/98310/Portfolio+report+-+test")
    sent = json.loads(posted[0].request.body)
    assert sent["title"] == "Portfolio report - sandbox" and "<h2>Projects</h2>" in sent["body"]["storage"]["value"]
    assert sb.credentials.token not in result.output


def test_the_command_without_a_confluence_url_is_one_error_line(pmo, monkeypatch):
    for name, value in pmo.base_env().items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(publish_confluence, ["--space", "PMO"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("Error: no Confluence URL (pass --confluence-url or set "
                                     "PMO_JIRA_CONFLUENCE_URL)")
