"""JUnit XML is valid for CI servers, counts correctly and survives hostile text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from pmo_jira.formats import formats

from reports_fixtures import NOW, finding, item, result, rich_result

XSD = Path(__file__).parent / "schemas" / "junit-10.xsd"


@pytest.fixture(scope="module")
def schema():
    return xmlschema.XMLSchema(XSD)


def render(r=None) -> str:
    return formats["junit"].render(r or rich_result(), now=NOW)


def test_report_validates_against_the_jenkins_junit_schema(schema):
    schema.validate(render())
    schema.validate(render(result([], [], sites=())))
    assert not schema.is_valid(render().replace(' failures="0"', "", 1))  # the schema does bite


def test_one_suite_per_standard_and_outcomes_map_to_junit():
    root = ET.fromstring(render())
    suites = {s.get("name").split()[0]: s for s in root.iter("testsuite")}
    assert list(suites) == ["pmo-jira", "PMO-CLS-001", "PMO-EXE-001", "PMO-EXE-002",
                            "PMO-GOV-001", "PMO-PLN-001", "PMO-PLN-002", "PMO-RSK-001"]
    assert suites["PMO-GOV-001"].get("failures") == "2"
    assert suites["PMO-CLS-001"].find("testcase/error") is not None  # the check itself crashed
    assert suites["PMO-RSK-001"].find("testcase/skipped").get("message").startswith("waived by ann")
    assert suites["PMO-EXE-001"].find("testcase/skipped").get("message").startswith("not applicable")
    failure = suites["PMO-EXE-002"].find("testcase/failure")
    assert "Fix: Move the target end." in failure.text
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("11", "5", "1")


def test_items_without_findings_pass_so_a_clean_run_is_not_empty():
    r = result([], [item("DIG-1", "execution"), item("DIG-2", "planning")])
    suite = ET.fromstring(render(r)).find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name").split()[0] for c in cases] == ["DIG-1", "DIG-2"]
    assert all(len(c) == 0 for c in cases) and suite.get("failures") == "0"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["mapping.name"] == "sandbox" and props["sites"] == "cloud,dc"


def test_hostile_text_is_escaped_and_invalid_characters_replaced(schema):
    nasty = 'A <b>&"quoted"</b> ]]> \x00\x08 end'
    r = result([finding("PMO-GOV-001", "DIG-1", summary=nasty, message=nasty, fix=nasty)],
               [item("DIG-1", "execution")])
    xml = render(r)
    schema.validate(xml)
    case = ET.fromstring(xml).find("testsuite[@name='PMO-GOV-001 Title of PMO-GOV-001']/testcase")
    assert case.get("name") == 'DIG-1 A <b>&"quoted"</b> ]]> end'
    assert 'A <b>&"quoted"</b> ]]> \ufffd\ufffd end' in case.find("failure").text
