"""The JSON report validates against its documented, shipped schema and carries every field."""

from __future__ import annotations

import json

import jsonschema
import pytest

from pmo_jira.findings import Outcome
from pmo_jira.formats import formats
from pmo_jira.formats.json_format import load_schema
from pmo_jira.redaction import redact
from pmo_jira.reports import write_output

from reports_fixtures import NOW, result, rich_result


@pytest.fixture(scope="module")
def validator():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def render(r=None) -> dict:
    return json.loads(formats["json"].render(r or rich_result(), now=NOW))


def test_report_validates_against_the_schema(validator):
    validator.validate(render())
    validator.validate(render(result([], [], sites=(), site_errors={"dc": "GET /x -> 401"})))


def test_schema_rejects_what_it_should(validator):
    doc = render()
    for breakage in (
        lambda d: d.update(version=2),
        lambda d: d["findings"][0].pop("fingerprint"),
        lambda d: d["findings"][0].update(outcome="passed"),
        lambda d: d["summary"]["by_severity"].pop("info"),
        lambda d: d.update(extra=1),
    ):
        broken = json.loads(json.dumps(doc))
        breakage(broken)
        assert not validator.is_valid(broken)


def test_document_carries_run_metadata_and_summary():
    doc = render()
    assert (doc["schema"], doc["version"]) == ("pmo-jira/audit-result", 1)
    assert doc["run"]["mapping"] == {"name": "sandbox", "hash": "3f2a9c1d0b7e4a55"}
    assert doc["run"]["duration_seconds"] == 42.5
    assert doc["generated"] == "2026-03-02T09:30:00Z"
    assert doc["summary"]["by_severity"] == {"critical": 1, "high": 3, "medium": 0, "low": 1, "info": 1}
    assert doc["summary"]["by_outcome"] == {"fail": 5, "waived": 1, "not_applicable": 1, "error": 1}
    assert (doc["summary"]["open"], doc["summary"]["worst"]) == (6, "critical")
    assert doc["summary"]["items_by_phase"]["unmapped"] == 2


def test_every_finding_is_complete_and_faithful():
    r = rich_result()
    doc = render(r)
    by_fp = {f.fingerprint: f for f in r.findings}
    assert sorted(by_fp) == sorted(f["fingerprint"] for f in doc["findings"])
    for row in doc["findings"]:
        f = by_fp[row["fingerprint"]]
        assert (row["code"], row["item"], row["message"], row["outcome"]) == (
            f.code, f.item_key, f.message, f.outcome.value)
        assert row["open"] is (f.outcome in (Outcome.FAIL, Outcome.ERROR))
    waived = next(f for f in doc["findings"] if f["outcome"] == "waived")
    assert waived["waiver"] == {"standard": "PMO-RSK-001", "owner": "ann",
                                "reason": "Risks kept in the | steering deck",
                                "expires": "2026-06-30", "item": "DIG-1", "jql": None}
    assert [i["key"] for i in doc["items"] if i["phase"] is None] == ["DIG-11", "OPS-5"]


def test_report_written_in_pieces_is_the_rendered_report(tmp_path):
    """``-o FILE`` writes the report as it is rendered: the same bytes as the whole text, masked
    the same way, and owner-only like any new report."""
    fmt, r = formats["json"], rich_result()
    pieces = list(fmt.render_pieces(r, now=NOW))
    assert len(pieces) > 3 and "".join(pieces) == fmt.render(r, now=NOW)
    json.loads("".join(pieces))
    target = tmp_path / "out" / "audit.json"
    write_output(target, iter(pieces))
    assert target.read_text(encoding="utf-8") == redact(fmt.render(r, now=NOW))
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_report_that_fails_while_written_leaves_no_half_file(tmp_path):
    def failing():
        yield '{\n  "findings": [\n'
        raise RuntimeError("renderer broke")

    target = tmp_path / "audit.json"
    with pytest.raises(RuntimeError):
        write_output(target, failing())
    assert not target.exists()


def test_fields_of_any_type_are_written_as_json_writes_them():
    """A plugin's standard may give a field that is not a string (a number, None, a list): the
    report stays valid JSON, indented as json.dumps(indent=2) writes it, the value as given."""
    from dataclasses import replace

    from reports_fixtures import finding, item

    odd = [replace(finding("PMO-GOV-001", "DIG-1"), message=404, fix=None, note=["a", {"b": 1.5}]),
           replace(finding("PMO-GOV-002", "DIG-1", phase=None), title="Ünïcode \"quoted\"\n\ttab \x00")]
    items = [replace(item("DIG-1", None), rule=7, summary=("x", True))]
    text = formats["json"].render(result(odd, items), now=NOW)
    doc = json.loads(text)
    assert json.dumps(doc, indent=2, ensure_ascii=False) + "\n" == text
    by_code = {f["code"]: f for f in doc["findings"]}
    assert (by_code["PMO-GOV-001"]["message"], by_code["PMO-GOV-001"]["fix"]) == (404, None)
    assert by_code["PMO-GOV-001"]["note"] == ["a", {"b": 1.5}]
    assert by_code["PMO-GOV-002"]["title"] == "Ünïcode \"quoted\"\n\ttab \x00" and by_code["PMO-GOV-002"]["phase"] is None
    assert (doc["items"][0]["rule"], doc["items"][0]["summary"]) == (7, ["x", True])


def test_the_report_as_data_is_the_report_read_back():
    from pmo_jira.formats.json_format import result_to_dict

    r = rich_result()
    assert result_to_dict(r, now=NOW) == render(r)


def test_writing_a_report_leaves_the_garbage_collector_as_it_was(tmp_path):
    """The collector rests while a report is written, and is on again after, failure or not."""
    import gc

    def failing():
        yield "{"
        raise RuntimeError("renderer broke")

    assert gc.isenabled()
    write_output(tmp_path / "a.json", iter(["{}\n"]))
    with pytest.raises(RuntimeError):
        write_output(tmp_path / "b.json", failing())
    assert gc.isenabled()
    gc.disable()
    try:
        write_output(tmp_path / "c.json", "{}\n")
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()
