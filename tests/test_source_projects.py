"""The project phase from a project property: inline on Cloud, one read per project on Data Center."""

from __future__ import annotations

import pytest

from pmo_jira.jira.client import JiraClient
from pmo_jira.jira.source import read_site
from pmo_jira.mapping import classify, load_mapping
from pmo_jira.run.audit import required_fields
from pmo_jira.sandbox.generator import REFERENCE_NOW
from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import MAPPING


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_project_property_decides_the_project_phase(flavour):
    mapping = load_mapping(MAPPING)  # its first project rule: {property: pmo.phase}
    with SandboxServer(flavour, issues=120, seed=2) as sb:
        sb.store.set_project_property("WEB", "pmo.phase", "closing")
        client = JiraClient(sb.url, sb.credentials, site_name="s")
        snap = read_site(client, mapping, required_fields(mapping), now=REFERENCE_NOW)
        (web,) = [i for i in classify(snap, mapping) if i.kind == "project" and i.key == "WEB"]
        assert web.phase == "closing" and "property pmo.phase" in web.rule
        per_project = sb.log.count(path=r"/project/[^/]+/properties/")
        assert per_project == (0 if flavour == "cloud" else len(snap.projects))
