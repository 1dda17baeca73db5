"""Failures become one readable JiraApiError, and no credential ever leaks into text or logs."""

from __future__ import annotations

import logging

import pytest
import requests
import responses

from pmo_jira.errors import ConfigError, JiraApiError
from pmo_jira.jira.client import Credentials, JiraClient, connect_from_env
from pmo_jira.model import Doc, Flavour, Paragraph, Text

from client_fixtures import CLOUD_CREDS, CLOUD_URL, DC_URL, SECRETS, make_client, payload


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


def _fail(call) -> JiraApiError:
    with pytest.raises(JiraApiError) as info:
        call()
    return info.value


@pytest.mark.parametrize("status,body,expected", [
    (401, {"errorMessages": ["You are not authenticated."]},
     "authentication failed: check PMO_JIRA_EMAIL/PMO_JIRA_TOKEN"),
    (403, {"errorMessages": ["You do not have the permission to see the specified issue."], "errors": {}},
     "permission denied"),
    (404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}},
     "not found"),
    (410, {"errorMessages": ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                             "API. A full migration guideline is available at "
                             "https://developer.atlassian.com/changelog/#CHANGE-2046"]},
     "endpoint removed"),
    (400, {"errorMessages": [], "errors": {"labels": "The label 'a b' contains spaces which is invalid."}},
     "labels: The label 'a b' contains spaces"),
    (500, {"errorMessages": ["Internal server error"]}, "server error"),
])
def test_http_errors_are_clear(rsps, status, body, expected):
    rsps.get(f"{CLOUD_URL}/rest/api/3/issue/PM-1", status=status, json=body)
    err = _fail(lambda: make_client(Flavour.CLOUD).issue("PM-1", ["summary"]))
    assert err.status == status and err.method == "GET" and err.url == "/rest/api/3/issue/PM-1"
    assert expected in str(err)
    for message in body["errorMessages"]:
        assert message in err.error_messages


def test_refused_credentials_answered_as_anonymous_are_an_authentication_error(rsps):
    """An expired Cloud API token gets 200s with anonymous (often empty) results, flagged only by
    Seraph's header: without this check an audit would read nothing and call the portfolio clean."""
    rsps.get(f"{CLOUD_URL}/rest/api/2/serverInfo", json=payload("cloud", "serverInfo"),
             headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"})
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", json={"issues": [], "isLast": True},
             headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"})
    rsps.get(f"{DC_URL}/rest/api/2/project", json=[], headers={"X-Seraph-LoginReason": "AUTHENTICATION_DENIED"})
    err = _fail(lambda: make_client(None).flavour)
    assert err.status == 401 and "authentication failed" in str(err)
    err = _fail(lambda: list(make_client(Flavour.CLOUD).search("project = PM", ["summary"])))
    assert err.status == 401 and err.url == "/rest/api/3/search/jql"
    err = _fail(lambda: list(make_client(Flavour.DC).projects()))
    assert err.status == 401 and "CAPTCHA" in str(err)


def test_anonymous_server_info_without_credentials_is_fine(rsps):
    rsps.get(f"{DC_URL}/rest/api/2/serverInfo", json=payload("dc", "serverInfo"),
             headers={"X-Seraph-LoginReason": "OUT"})
    client = JiraClient(DC_URL, Credentials(), flavour=None)
    assert client.flavour is Flavour.DC


def test_get_property_is_none_on_404_but_other_errors_raise(rsps):
    rsps.get(f"{DC_URL}/rest/api/2/issue/INF-1/properties/pmo.sync", status=404,
             json={"errorMessages": ["The property with key 'pmo.sync' does not exist."], "errors": {}})
    rsps.get(f"{DC_URL}/rest/api/2/issue/INF-2/properties/pmo.sync", status=403,
             json={"errorMessages": ["You do not have permission."], "errors": {}})
    client = make_client(Flavour.DC)
    assert client.get_property("INF-1", "pmo.sync") is None
    assert _fail(lambda: client.get_property("INF-2", "pmo.sync")).status == 403


def test_dns_failure_and_refused_connection_say_cannot_reach():
    for exc, reason in [(requests.ConnectionError("HTTPSConnectionPool: NameResolutionError(Failed to resolve)"),
                         "host name not found"),
                        (requests.ConnectionError("NewConnectionError: [Errno 111] Connection refused"),
                         "connection refused")]:
        with responses.RequestsMock() as mock:
            mock.get(f"{CLOUD_URL}/rest/api/3/myself", body=exc)
            err = _fail(make_client(Flavour.CLOUD, max_wait=3).myself)
        assert f"cannot reach acme.atlassian.net: {reason}" in str(err) and err.status is None


def test_real_refused_connection():
    client = JiraClient("http://127.0.0.1:9", CLOUD_CREDS, flavour=Flavour.CLOUD, max_wait=0,
                        sleep=lambda s: None, timeout=2)
    err = _fail(client.myself)
    assert "cannot reach 127.0.0.1:9" in str(err)


def test_malformed_json(rsps):
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", body='{"issues": [', content_type="application/json")
    err = _fail(lambda: list(make_client(Flavour.CLOUD).search("project = PM", ["summary"])))
    assert "malformed response body" in str(err) and err.status == 200


def test_search_page_without_issues_list_is_malformed(rsps):
    rsps.get(f"{DC_URL}/rest/api/2/search", json={"startAt": 0, "total": 1})
    err = _fail(lambda: list(make_client(Flavour.DC).search("project = INF", ["summary"])))
    assert "malformed response body" in str(err)


def test_html_login_page_means_wrong_url(rsps):
    page = "<!DOCTYPE html><html><head><title>Log in - Jira</title></head><body>login</body></html>"
    rsps.get(f"{DC_URL}/rest/api/2/serverInfo", body=page, content_type="text/html;charset=UTF-8")
    err = _fail(lambda: make_client(None, url=DC_URL).flavour)
    assert f"not a Jira REST API at {DC_URL}" in str(err)


def test_credentials_never_appear_in_errors_or_logs(rsps, caplog):
    caplog.set_level(logging.DEBUG)
    doc = Doc((Paragraph((Text("x"),)),))
    rsps.get(f"{CLOUD_URL}/rest/api/3/myself", status=401, json={"errorMessages": ["Unauthorized"]})
    rsps.get(f"{CLOUD_URL}/rest/api/3/search/jql", status=429, headers={"Retry-After": "1"})
    rsps.post(f"{CLOUD_URL}/rest/api/3/issue/PM-1/comment", body=requests.ConnectionError(
        f"HTTPSConnectionPool(host='acme.atlassian.net'): Authorization: Basic {SECRETS[0]}"))
    rsps.get(f"{DC_URL}/rest/api/2/myself", status=403, body="<html>Forbidden</html>", content_type="text/html")
    cloud = make_client(Flavour.CLOUD, max_wait=5)
    errors = [_fail(cloud.myself), _fail(lambda: list(cloud.search("project = PM", ["summary"]))),
              _fail(lambda: cloud.add_comment("PM-1", doc)), _fail(make_client(Flavour.DC).myself)]
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [r.getMessage() for r in caplog.records]
    texts += [repr(cloud), repr(CLOUD_CREDS), str(CLOUD_CREDS), repr(cloud._session.auth)]
    assert caplog.records, "requests are logged"
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
        assert "Authorization" not in text and "Basic " not in text


def test_credentials_from_env_and_connect_from_env():
    env = {"PMO_JIRA_URL": "https://acme.atlassian.net/", "PMO_JIRA_EMAIL": "bot@acme.example",
           "PMO_JIRA_TOKEN": "t0k3n", "PMO_JIRA_FLAVOUR": "cloud"}
    creds = Credentials.from_env(environ=env)
    assert creds == Credentials("bot@acme.example", "t0k3n") and "t0k3n" not in repr(creds)
    client = connect_from_env(environ=env)
    assert client.flavour is Flavour.CLOUD and client.base_url == "https://acme.atlassian.net"
    with pytest.raises(ConfigError, match="PMO_JIRA_TOKEN is not set"):
        Credentials.from_env(environ={"PMO_JIRA_EMAIL": "bot@acme.example"})
    with pytest.raises(ConfigError, match="PMO_JIRA_URL is not set"):
        connect_from_env(environ={"PMO_JIRA_TOKEN": "x"})
    with pytest.raises(ConfigError, match="cloud, dc or auto"):
        connect_from_env(environ=env | {"PMO_JIRA_FLAVOUR": "server"})


def test_auth_scheme_follows_credentials(rsps):
    rsps.get(f"{CLOUD_URL}/rest/api/3/myself", json=payload("cloud", "myself"))
    rsps.get(f"{DC_URL}/rest/api/2/myself", json={"name": "carol", "key": "JIRAUSER10100"})
    make_client(Flavour.CLOUD).myself()
    make_client(Flavour.DC).myself()
    assert rsps.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert rsps.calls[1].request.headers["Authorization"] == f"Bearer {SECRETS[1]}"


def test_url_with_user_info_is_stripped():
    client = JiraClient("https://bot:hunter2@acme.atlassian.net/jira/", CLOUD_CREDS, flavour=Flavour.CLOUD)
    assert client.base_url == "https://acme.atlassian.net/jira" and "hunter2" not in repr(client)
    with pytest.raises(ConfigError):
        JiraClient("acme.atlassian.net", CLOUD_CREDS)


def test_redirect_on_a_write_is_reported_not_followed(rsps):
    rsps.put(f"{CLOUD_URL}/rest/api/3/issue/PM-1", status=301,
             headers={"Location": "https://acme-new.atlassian.net/rest/api/3/issue/PM-1"})
    err = _fail(lambda: make_client(Flavour.CLOUD).edit_labels("PM-1", ["x"], [], notify=True))
    assert err.status == 301 and "redirected to acme-new.atlassian.net" in str(err)


def test_real_dns_failure_says_cannot_reach():
    client = JiraClient("https://no-such-site.invalid", CLOUD_CREDS, flavour=Flavour.CLOUD, max_wait=0,
                        sleep=lambda s: None, timeout=5)
    err = _fail(client.myself)
    assert "cannot reach no-such-site.invalid" in str(err) and err.status is None
