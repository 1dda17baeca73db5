"""Jira (or a proxy in front of it) answering 200 with a body of the wrong shape: one line naming
the request, exit 2, never 'unexpected AttributeError'. Real payloads, one piece corrupted."""

from __future__ import annotations

import json
import re

import pytest
import requests
import responses

from pmo_jira.errors import JiraApiError
from pmo_jira.model import Flavour

from cli_fixtures import one_error_line
from client_fixtures import CLOUD_URL, DC_URL, make_client, payload


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.mark.parametrize("flavour, url", [(Flavour.CLOUD, CLOUD_URL), (Flavour.DC, DC_URL)])
@pytest.mark.parametrize("body", [
    {"errorMessages": ["Service temporarily unavailable"], "errors": {}},  # an error body sent with 200
    [1, 2, 3],
    "",  # an empty answer: not a site without fields
])
def test_a_field_list_that_is_not_a_list_of_fields_is_malformed(rsps, flavour, url, body):
    api = flavour.api_version
    rsps.get(f"{url}/rest/api/{api}/field", body=body if isinstance(body, str) else json.dumps(body),
             content_type="application/json")
    with pytest.raises(JiraApiError) as err:
        make_client(flavour).resolve_field("Start date")
    assert "malformed response body" in str(err.value) and f"/rest/api/{api}/field" in str(err.value)


def test_a_field_whose_schema_is_not_an_object_is_malformed(rsps):
    fields = payload("dc", "field")
    fields[0]["schema"] = "string"
    rsps.get(f"{DC_URL}/rest/api/2/field", json=fields)
    with pytest.raises(JiraApiError, match=r"malformed response body \(a field whose 'schema'"):
        make_client(Flavour.DC).resolve_field({"schema": "com.atlassian.jpo:jpo-custom-field-baseline-end"})


@pytest.mark.parametrize("what", ["issuetype", "status"])
def test_issue_types_and_statuses_must_be_lists_of_objects(rsps, what):
    rsps.get(f"{DC_URL}/rest/api/2/{what}", json={"values": []})
    client = make_client(Flavour.DC)
    with pytest.raises(JiraApiError, match="malformed response body"):
        client.issue_types() if what == "issuetype" else client.statuses()


def test_json_nested_beyond_any_real_answer_is_malformed_not_a_recursion_error(rsps):
    rsps.get(f"{CLOUD_URL}/rest/api/3/field", body="[" * 100_000 + "]" * 100_000, content_type="application/json")
    with pytest.raises(JiraApiError, match=r"malformed response body \(not JSON\)"):
        make_client(Flavour.CLOUD).fields()


def test_a_data_center_search_page_with_a_null_or_keyless_issue_is_one_line(pmo, sandbox):
    """Data Center reads the sync state of labelled issues before parsing them: that step met the
    broken issue first and crashed."""
    sb = sandbox("dc", issues=40)
    real = requests.get(f"{sb.url}/rest/api/2/search", params={"jql": "order by key", "maxResults": 50,
                                                               "fields": "summary,labels,updated"},
                        headers={"Authorization": f"Bearer {sb.credentials.token}"}, timeout=10).json()
    keyless = {k: v for k, v in real["issues"][1].items() if k != "key"}
    keyless["fields"]["labels"] = ["pmo-noncompliant"]
    for broken in (None, keyless):
        page = {**real, "issues": [real["issues"][0], broken, *real["issues"][2:]]}
        with responses.RequestsMock() as rsps:
            rsps.add_passthru(sb.url)
            rsps.get(re.compile(re.escape(sb.url) + r"/rest/api/2/search\b.*"), json=page)
            result = pmo.run(["audit", "--no-history"], sb=sb)
        assert result.exit_code == 2, result.output
        line = one_error_line(result)
        assert "malformed response body for issue" in line and "unexpected" not in line
