"""Writes: label operations, comment bodies per flavour, notifyUsers, properties, comment paging."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from pmo_jira.errors import JiraApiError, NotifyRefused
from pmo_jira.model import BulletList, Doc, Flavour, Heading, Paragraph, Text

from client_fixtures import CLOUD_URL, DC_URL, make_client, payload

DOC = Doc((Heading(2, (Text("PMO audit"),)),
           Paragraph((Text("Owner missing for [~admin] "), Text("PMO-GOV-001", code=True))),
           BulletList(((Text("set an assignee"),),))))


@pytest.fixture
def rsps():
    with responses.RequestsMock() as mock:
        yield mock


def _query(call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


@pytest.mark.parametrize("flavour,url,api", [(Flavour.CLOUD, CLOUD_URL, "3"), (Flavour.DC, DC_URL, "2")])
def test_labels_are_update_operations_with_notify_off(rsps, flavour, url, api):
    rsps.put(f"{url}/rest/api/{api}/issue/PM-1", status=204)
    make_client(flavour).edit_labels("PM-1", ["pmo-gov-001", "pmo-managed"], ["pmo-pln-001"], notify=False)
    call = rsps.calls[0]
    assert json.loads(call.request.body) == {"update": {"labels": [
        {"add": "pmo-gov-001"}, {"add": "pmo-managed"}, {"remove": "pmo-pln-001"}]}}
    assert _query(call) == {"notifyUsers": ["false"]}


def test_labels_with_notify_on_send_no_parameter_and_nothing_to_do_sends_nothing(rsps):
    rsps.put(f"{CLOUD_URL}/rest/api/3/issue/PM-1", status=204)
    client = make_client(Flavour.CLOUD)
    client.edit_labels("PM-1", [], [], notify=False)
    assert client.requests_made == 0
    client.edit_labels("PM-1", ["pmo-x"], [], notify=True)
    assert _query(rsps.calls[0]) == {}


def test_labels_and_state_in_one_request_on_cloud(rsps):
    rsps.put(f"{CLOUD_URL}/rest/api/3/issue/PM-1", status=204)
    state = {"v": 1, "fingerprint": "ab" * 8}
    make_client(Flavour.CLOUD).edit_labels("PM-1", ["pmo-x"], [], notify=False,
                                           properties={"pmo-jira.state": state})
    (call,) = rsps.calls
    assert json.loads(call.request.body) == {"update": {"labels": [{"add": "pmo-x"}]},
                                             "properties": [{"key": "pmo-jira.state", "value": state}]}


def test_labels_then_the_state_property_on_data_center(rsps):
    rsps.put(f"{DC_URL}/rest/api/2/issue/PM-1", status=204)
    rsps.put(f"{DC_URL}/rest/api/2/issue/PM-1/properties/pmo-jira.state", status=200)
    make_client(Flavour.DC).edit_labels("PM-1", ["pmo-x"], [], notify=False,
                                        properties={"pmo-jira.state": {"v": 1}})
    labels, prop = rsps.calls
    assert json.loads(labels.request.body) == {"update": {"labels": [{"add": "pmo-x"}]}}
    assert json.loads(prop.request.body) == {"v": 1}


def test_notify_refused_is_a_403_error(rsps):
    rsps.put(f"{CLOUD_URL}/rest/api/3/issue/PM-1", status=403, json={
        "errorMessages": ["To discard the user notification either admin or project admin permissions are required."],
        "errors": {}})
    with pytest.raises(JiraApiError) as info:
        make_client(Flavour.CLOUD).edit_labels("PM-1", ["pmo-x"], [], notify=False)
    assert info.value.status == 403 and "project admin permissions" in str(info.value)


def test_cloud_comment_body_is_adf(rsps):
    rsps.post(f"{CLOUD_URL}/rest/api/3/issue/PM-1/comment", status=201, json=payload("cloud", "comment_created"))
    created = make_client(Flavour.CLOUD).add_comment("PM-1", DOC)
    assert created["id"] == "10203"
    body = json.loads(rsps.calls[0].request.body)["body"]
    assert body["type"] == "doc" and body["version"] == 1
    assert body["content"][0] == {"type": "heading", "attrs": {"level": 2},
                                  "content": [{"type": "text", "text": "PMO audit"}]}
    assert {"type": "text", "text": "Owner missing for [~admin] "} in body["content"][1]["content"]


def test_dc_comment_body_is_escaped_wiki(rsps):
    rsps.post(f"{DC_URL}/rest/api/2/issue/INF-1/comment", status=201, json=payload("dc", "comment_created"))
    make_client(Flavour.DC).add_comment("INF-1", DOC)
    body = json.loads(rsps.calls[0].request.body)["body"]
    assert isinstance(body, str)
    assert body == "h2. PMO audit\n\nOwner missing for \\[\\~admin\\] {{PMO-GOV-001}}\n\n* set an assignee"


@pytest.mark.parametrize("notify,query", [(False, {"notifyUsers": ["false"]}), (True, {})])
def test_edit_comment_puts_body_with_notify_flag(rsps, notify, query):
    rsps.put(f"{CLOUD_URL}/rest/api/3/issue/PM-1/comment/10201", json=payload("cloud", "comment_created"))
    make_client(Flavour.CLOUD).edit_comment("PM-1", "10201", DOC, notify=notify)
    assert _query(rsps.calls[0]) == query
    assert json.loads(rsps.calls[0].request.body)["body"]["type"] == "doc"


@pytest.mark.parametrize("flavour,url,api,first", [(Flavour.CLOUD, CLOUD_URL, "3", "10200"),
                                                   (Flavour.DC, DC_URL, "2", "30100")])
def test_comments_page_through_all_oldest_first(rsps, flavour, url, api, first):
    name = flavour.value
    rsps.get(f"{url}/rest/api/{api}/issue/PM-1/comment", json=payload(name, "comments_page1"))
    rsps.get(f"{url}/rest/api/{api}/issue/PM-1/comment", json=payload(name, "comments_page2"))
    comments = make_client(flavour).comments("PM-1")
    assert [c["id"] for c in comments][0] == first and len(comments) == 3
    assert [_query(c)["startAt"] for c in rsps.calls] == [["0"], ["2"]]


def test_issue_properties_round_trip(rsps):
    value = {"hash": "9f2c", "comment_id": "10201"}
    rsps.put(f"{CLOUD_URL}/rest/api/3/issue/PM-1/properties/pmo.sync", status=201, body="")
    rsps.get(f"{CLOUD_URL}/rest/api/3/issue/PM-1/properties/pmo.sync", json={"key": "pmo.sync", "value": value})
    client = make_client(Flavour.CLOUD)
    client.set_property("PM-1", "pmo.sync", value)
    assert json.loads(rsps.calls[0].request.body) == value
    assert client.get_property("PM-1", "pmo.sync") == value


GERMAN_REFUSAL = {"errorMessages": ["Zum Verwerfen der Benutzerbenachrichtigung sind Administrator- oder "
                                    "Projektadministratorberechtigungen erforderlich."], "errors": {}}


def _permissions(url: str, api: str, **granted: bool) -> dict:
    return {"permissions": {k: {"id": "1", "key": k, "name": k, "type": "PROJECT", "description": "",
                                "havePermission": v} for k, v in granted.items()}}


@pytest.mark.parametrize("flavour,url,api", [(Flavour.CLOUD, CLOUD_URL, "3"), (Flavour.DC, DC_URL, "2")])
def test_notify_refusal_is_told_by_status_and_permissions_not_by_language(rsps, flavour, url, api):
    rsps.put(f"{url}/rest/api/{api}/issue/PM-1", status=403, json=GERMAN_REFUSAL)
    rsps.get(f"{url}/rest/api/{api}/mypermissions", json=_permissions(
        url, api, EDIT_ISSUES=True, ADMINISTER_PROJECTS=False, ADMINISTER=False))
    with pytest.raises(NotifyRefused) as err:
        make_client(flavour).edit_labels("PM-1", ["pmo-x"], [], notify=False)
    assert err.value.status == 403
    assert _query(rsps.calls[1])["projectKey"] == ["PM"]


def test_a_403_the_account_would_get_anyway_is_not_a_notify_refusal(rsps):
    rsps.put(f"{CLOUD_URL}/rest/api/3/issue/PM-1/comment/7", status=403, json=GERMAN_REFUSAL)
    rsps.get(f"{CLOUD_URL}/rest/api/3/mypermissions", json=_permissions(
        CLOUD_URL, "3", EDIT_OWN_COMMENTS=False, EDIT_ALL_COMMENTS=False, ADMINISTER_PROJECTS=False,
        ADMINISTER=False))
    with pytest.raises(JiraApiError) as err:
        make_client(Flavour.CLOUD).edit_comment("PM-1", "7", DOC, notify=False)
    assert not isinstance(err.value, NotifyRefused) and err.value.status == 403


def test_a_400_naming_notify_users_is_a_refusal_and_a_403_with_notifications_on_is_not(rsps):
    rsps.put(f"{DC_URL}/rest/api/2/issue/PM-1", status=400,
             json={"errorMessages": [], "errors": {"notifyUsers": "Nicht erlaubt."}})
    with pytest.raises(NotifyRefused):
        make_client(Flavour.DC).edit_labels("PM-1", ["pmo-x"], [], notify=False)
    rsps.replace(responses.PUT, f"{DC_URL}/rest/api/2/issue/PM-1", status=403, json=GERMAN_REFUSAL)
    with pytest.raises(JiraApiError) as err:
        make_client(Flavour.DC).edit_labels("PM-1", ["pmo-x"], [], notify=True)
    assert not isinstance(err.value, NotifyRefused)
    assert not any("mypermissions" in c.request.url for c in rsps.calls)
