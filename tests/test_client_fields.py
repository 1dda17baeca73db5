"""Field discovery: ids differ per site, so mappings bind by id, name or schema type."""

from __future__ import annotations

import pytest
import responses

from pmo_jira.model import Flavour

from client_fixtures import CLOUD_URL, DC_URL, make_client, payload


@pytest.fixture
def cloud():
    with responses.RequestsMock() as mock:
        mock.get(f"{CLOUD_URL}/rest/api/3/field", json=payload("cloud", "field"))
        client = make_client(Flavour.CLOUD)
        yield client
        assert len(mock.calls) == 1  # /field is read once and cached


def test_resolve_by_id_name_and_schema(cloud):
    assert cloud.resolve_field("assignee")["id"] == "assignee"
    assert cloud.resolve_field("customfield_10050")["name"] == "PMO Phase"
    assert cloud.resolve_field("pmo phase")["id"] == "customfield_10050"
    assert cloud.resolve_field({"schema": "com.atlassian.jpo:jpo-custom-field-baseline-end"})["id"] == "customfield_10023"
    assert cloud.resolve_field("No Such Field") is None
    assert cloud.resolve_field({"schema": "com.example:nothing"}) is None


def test_duplicate_names_prefer_the_jira_field_type(cloud):
    # "Start date" exists twice: Jira's date picker and a marketplace app's text field.
    assert cloud.resolve_field("Start date")["id"] == "customfield_10015"
    assert cloud.resolve_field({"name": "Start date",
                                "schema": "com.acme.marketplace.plugin:start-date-text"})["id"] == "customfield_10077"


def test_list_of_specs_first_match_wins(cloud):
    assert cloud.resolve_field(["Story point estimate", "Story Points"])["id"] == "customfield_10016"
    assert cloud.resolve_field(["Nope", {"schema": "com.pyxis.greenhopper.jira:gh-epic-link"}])["id"] == "customfield_10014"


def test_dc_story_points_by_name():
    with responses.RequestsMock() as mock:
        mock.get(f"{DC_URL}/rest/api/2/field", json=payload("dc", "field"))
        dc = make_client(Flavour.DC)
        assert dc.resolve_field(["Story point estimate", "Story Points"])["id"] == "customfield_10106"
        assert dc.resolve_field("Epic Link")["schema"]["custom"] == "com.pyxis.greenhopper.jira:gh-epic-link"
