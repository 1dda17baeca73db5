"""Loading mapping files: the model others rely on, and errors that name file, line and fix."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from pmo_jira.errors import ConfigError
from pmo_jira.findings import Severity, Waiver
from pmo_jira.mapping import Mapping, load_mapping, validate_mapping
from pmo_jira.mapping.fields import field_report
from pmo_jira.standards.registry import builtin_registry, configure
from pmo_jira_portfolio.config import DEFAULT_DEFINITIONS, RAG_DIMENSIONS

ROOT = Path(__file__).parent.parent
PRESETS = sorted((ROOT / "mappings").glob("*.yaml"))
GOOD = sorted((ROOT / "tests" / "mappings" / "good").glob("*.yaml"))
CODES = {cls.code for cls in builtin_registry()}


@pytest.mark.parametrize("path", PRESETS + GOOD, ids=lambda p: p.stem)
def test_presets_and_good_files_load_and_configure(path: Path) -> None:
    mapping = load_mapping(path, known_codes=CODES)
    configure(mapping, builtin_registry())  # standard options are valid too


def test_presets_cover_the_documented_set() -> None:
    assert {p.stem for p in PRESETS} >= {"sandbox", "pmbok-default", "jira-cloud-example", "datacenter-example"}


def test_sandbox_mapping_as_the_other_modules_see_it() -> None:
    path = ROOT / "mappings" / "sandbox.yaml"
    m = load_mapping(path)
    assert (m.version, m.name) == (1, "sandbox")
    assert m.scope.projects == [] and m.scope.jql == ""
    assert (m.issue_types.epic, m.issue_types.child, m.issue_types.risk) == (["Epic"], ["Story", "Task", "Bug"], ["Risk"])
    assert m.fields["target_end"] == {"schema": "com.atlassian.jpo:jpo-custom-field-baseline-end"}
    assert m.field_candidates("story_points") == ["Story point estimate", "Story Points"]
    assert m.field_candidates("owner") == ["assignee"] and m.field_candidates("nothing") == []
    assert len(m.phases.epic) == 8 and m.phases.epic[6].phase == "execution"
    assert m.phases.project[0].when.property == "pmo.phase"
    assert m.phases.project[1].when.category == {"Ideas": "initiation"}
    assert m.phases.project[2].when.epics == "majority"
    assert m.standard("PMO-PLN-002").options == {"min_ratio": 0.8}
    assert m.standard("PMO-GOV-001").phases is None and m.standard("PMO-GOV-001").severity is None
    assert m.standard("PMO-NOPE-001") is None
    assert m.standards[0].code == "PMO-GOV-001" and len(m.standards) == 23
    wb = m.writeback
    assert (wb.label_prefix, wb.comment, wb.notify, wb.on_notify_refused, wb.max_writes) == ("pmo-", True, False, "notify", 20000)
    assert wb.severities == [Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    assert m.source_file == str(path)
    assert m.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert m.line_of("phases", "epic", 6) == 44
    assert m.line_of("fields", "owner") == 23


def test_values_are_normalised(tmp_path: Path) -> None:
    m = load_mapping(ROOT / "tests" / "mappings" / "good" / "every_key.yaml")
    assert m.scope.projects == ["WEB", "NO"]  # upper-cased; NO is not YAML 1.1 'false'
    assert m.phases.epic[4].phase == "execution"
    assert m.phases.project[1].when.projects == {"WEB": "execution"}
    assert m.standard("PMO-GOV-001").severity is Severity.CRITICAL
    assert m.standard("PMO-GOV-001").phases == ["planning", "execution"]
    assert [w.expires for w in m.waivers] == [date(2026, 1, 31), date(2026, 12, 31)]
    assert m.waiver_objects()[1] == Waiver(standard="PMO-EXE-001", owner="bob", reason="Frozen project.",
                                           expires=date(2026, 12, 31), jql="project = NO")
    assert m.phases.epic[1].when.labels == ["pmo-idea", "idea"]
    assert m.phases.epic[0].when.labels == ["pmo-phase-closing"]


def test_defaults_fill_what_a_minimal_mapping_leaves_out() -> None:
    m = load_mapping(ROOT / "tests" / "mappings" / "good" / "minimal.yaml")
    assert m.issue_types.epic == ["Epic"] and m.standards == [] and m.waivers == []
    assert (m.writeback.label_prefix, m.writeback.notify, m.writeback.on_notify_refused) == ("pmo-", False, "fail")
    assert m.portfolio.group_by == "category"
    rag = m.portfolio.rag
    assert (rag.schedule.amber, rag.schedule.red) == (7, 30)
    assert all(getattr(rag, d).red >= getattr(rag, d).amber for d in RAG_DIMENSIONS)
    assert set(rag.definitions) == set(DEFAULT_DEFINITIONS)


def test_given_rag_definitions_replace_only_their_keys() -> None:
    m = load_mapping(ROOT / "tests" / "mappings" / "good" / "every_key.yaml")
    defs = m.portfolio.rag.definitions
    assert defs["red"] == "Escalate to the steering committee."
    assert defs["green"] == DEFAULT_DEFINITIONS["green"]


def test_load_raises_the_first_problem_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nname: x\nwriteback:\n  max_writes: -1\nscope:\n  projetcs: []\n")
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    err = info.value
    assert (err.file, err.line, err.key) == (str(path), 4, "writeback.max_writes")
    assert str(err) == f"{path}:4: writeback.max_writes: must be greater than 0, got the number -1"
    assert [e.line for e in validate_mapping(path)] == [4, 6]


def test_unknown_codes_are_errors_only_against_a_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nname: x\nstandards:\n  - code: ACME-SEC-001\n")
    assert [s.code for s in load_mapping(path).standards] == ["ACME-SEC-001"]
    errors = validate_mapping(path, known_codes=CODES)
    assert [str(e) for e in errors] == [f"{path}:4: standards[0].code: unknown standard 'ACME-SEC-001' "
                                        "(see `pmo-jira standards list`)"]
    assert load_mapping(path, known_codes=CODES | {"ACME-SEC-001"}).name == "x"


def test_valid_file_has_no_problems() -> None:
    assert validate_mapping(ROOT / "mappings" / "sandbox.yaml", known_codes=CODES) == []


@pytest.mark.parametrize("content, message", [
    (b"version: 1\nname: \xff\n", ":2: the file is not UTF-8 text (save it as UTF-8)"),
    (b"\xef\xbb\xbfversion: 1\nname: bom\n", None),
    (b"version: 1\nname: x\nscope:\n  projects: [NO, ON, Y]\n", None),
])
def test_encoding_and_yaml_1_1_surprises(tmp_path: Path, content: bytes, message: str | None) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(content)
    if message is None:
        load_mapping(path)
    else:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_mapping(path)


def test_a_directory_is_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_mapping(tmp_path)


def test_mapping_built_in_code_is_checked_and_hashed() -> None:
    data = {"version": 1, "name": "code", "standards": [{"code": "PMO-GOV-001"}]}
    m = Mapping.model_validate(data)
    assert m.source_file is None
    assert m.content_hash == Mapping.model_validate(data).content_hash and len(m.content_hash) == 12
    with pytest.raises(ValidationError, match="duplicate standard 'PMO-GOV-001'"):
        Mapping.model_validate({**data, "standards": [{"code": "PMO-GOV-001"}, {"code": "PMO-GOV-001"}]})


def test_mapping_is_immutable() -> None:
    m = load_mapping(ROOT / "mappings" / "sandbox.yaml")
    with pytest.raises(ValidationError):
        m.writeback.notify = True  # type: ignore[misc]


SITE_FIELDS = [
    {"id": "assignee", "name": "Assignee", "custom": False, "schema": {"type": "user", "system": "assignee"}},
    {"id": "customfield_10015", "name": "Start date", "custom": True,
     "schema": {"type": "date", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:datepicker"}},
    {"id": "customfield_10023", "name": "Target end", "custom": True,
     "schema": {"type": "date", "custom": "com.atlassian.jpo:jpo-custom-field-baseline-end"}},
]


def _resolve(spec):
    for f in SITE_FIELDS:
        if isinstance(spec, str) and spec.casefold() in (f["id"], f["name"].casefold()):
            return f
        if isinstance(spec, dict) and spec.get("schema") == f["schema"].get("custom"):
            return f
    return None


def test_field_report_resolves_lists_in_order_and_suggests_site_names(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text('version: 1\nname: x\nfields:\n  owner: assignee\n  start: ["Begin", "Start date"]\n'
                    '  target_end: {schema: "com.atlassian.jpo:jpo-custom-field-baselin-end"}\n'
                    '  objective: "Strat date"\n')
    report = field_report(load_mapping(path), SITE_FIELDS, _resolve)
    assert {k: v["id"] for k, v in report.resolved.items()} == {"owner": "assignee", "start": "customfield_10015"}
    assert [str(e) for e in report.errors] == [
        f"{path}:6: fields.target_end: no field on the site matches "
        "{schema: com.atlassian.jpo:jpo-custom-field-baselin-end} "
        "(did you mean {schema: com.atlassian.jpo:jpo-custom-field-baseline-end} ('Target end')?)",
        f"{path}:7: fields.objective: no field on the site matches 'Strat date' (did you mean 'Start date'?)",
    ]


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as out:  # 40 MB of valid-looking YAML
        out.write(b"version: 1\nname: huge\nwaivers:\n")
        out.write(b"  - {standard: PMO-GOV-001, item: WEB-1, owner: a, reason: r, expires: 2099-01-01}\n" * 500_000)
    errors = validate_mapping(path)
    assert [str(e) for e in errors] == [
        f"{path}:1: the file is {path.stat().st_size / 1024 / 1024:.1f} MiB, more than a mapping's limit of 2 MiB "
        "(is this the right file? a mapping is a few kilobytes of YAML)"]


@pytest.mark.parametrize("body", ["[" * 100_000 + "]" * 100_000, "{a: " * 100_000 + "}" * 100_000,
                                  "\n  " + "- " * 5_000 + "x"], ids=["flow lists", "flow mappings", "block lists"])
def test_deep_nesting_is_one_error_line_not_a_recursion_error(tmp_path: Path, body: str) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("version: 1\nname: deep\ndescription: " + body + "\n")
    (error,) = validate_mapping(path)
    assert str(error).startswith(f"{path}:")
    assert "the YAML nests more than 40 levels deep" in str(error)


def test_expired_waivers_are_errors_only_when_asked_relative_to_a_given_day(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nname: x\nstandards: [{code: PMO-GOV-001}]\nwaivers:\n"
                    "  - {standard: PMO-GOV-001, item: WEB-1, owner: a, reason: r, expires: 2026-01-31}\n")
    assert validate_mapping(path) == []  # a run only warns: a waiver running out never stops it
    assert validate_mapping(path, today=date(2026, 1, 31)) == []  # active up to and including that day
    (error,) = validate_mapping(path, today=date(2026, 2, 1))
    assert str(error) == (f"{path}:5: waivers[0].expires: the waiver expired on 2026-01-31, so it waives nothing "
                          "(renew it with a later date, or delete it)")
