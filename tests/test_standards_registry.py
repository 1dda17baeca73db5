"""The catalogue, its documentation, and how a mapping switches standards on and configures them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pmo_jira.errors import ConfigError, PluginError
from pmo_jira.findings import Severity
from pmo_jira.mapping import load_mapping
from pmo_jira.mapping.schema import Mapping
from pmo_jira.run.audit import required_fields
from pmo_jira.standards.base import Check, Standard, StandardOptions
from pmo_jira.standards.builtin.governance import AccountableOwner
from pmo_jira.standards.registry import Registry, builtin_registry, builtin_standards, configure

from standards_fixtures import load, mapping, mapping_data

CONTRACT_CODES = {
    "PMO-GOV-001", "PMO-PLN-001", "PMO-INI-001", "PMO-PLN-002", "PMO-EXE-001", "PMO-EXE-002",
    "PMO-PLN-003", "PMO-RSK-001", "PMO-RSK-002", "PMO-CLS-001", "PMO-EXE-003",
    "PMO-GOV-003", "PMO-GAT-001", "PMO-BSL-001", "PMO-CHG-001", "PMO-CHG-002", "PMO-CLS-002", "PMO-CLS-003",
    "PMO-RSK-003", "PMO-RSK-004", "PMO-ISS-001", "PMO-DEP-001", "PMO-PLN-004",
}
SANDBOX = Path(__file__).resolve().parents[1] / "mappings" / "sandbox.yaml"


def test_builtin_catalogue_has_the_contract_codes_and_a_project_level_standard():
    codes = {cls.code for cls in builtin_registry()}
    assert CONTRACT_CODES <= codes
    assert any(cls.applies_to == "project" for cls in builtin_registry())


@pytest.mark.parametrize("cls", builtin_standards(), ids=lambda c: c.code)
def test_docstring_is_complete_and_its_example_loads_through_the_real_loader(cls, tmp_path):
    assert cls.summary() and cls.why(), "summary line and Why: paragraph"
    example = yaml.safe_load(cls.example_yaml())
    entries = example["standards"]
    assert [e["code"] for e in entries] == [cls.code]
    m = load(tmp_path, mapping_data(entries))
    (active,) = configure(m)
    assert active.options == cls.Options.model_validate(entries[0].get("options", {}))


def test_every_option_has_a_default_and_a_description():
    for cls in builtin_standards():
        cls.Options()  # all defaults
        assert all(cls.option_docs().values()), cls.code


def test_sandbox_mapping_configures_every_builtin_it_lists():
    active = configure(load_mapping(SANDBOX))
    assert [a.code for a in active][:2] == ["PMO-GOV-001", "PMO-PLN-001"]
    assert {a.code for a in active} == CONTRACT_CODES


def test_no_standards_listed_means_all_with_defaults():
    active = configure(mapping([]))
    assert {a.code for a in active} == {cls.code for cls in builtin_standards()}
    gov = next(a for a in active if a.code == "PMO-GOV-001")
    assert gov.severity is Severity.HIGH and gov.phases == AccountableOwner.default_phases


def test_mapping_overrides_severity_phases_and_options():
    (a,) = configure(mapping([{"code": "PMO-EXE-001", "severity": "low", "phases": ["planning", "execution"],
                               "options": {"max_days": 7}}]))
    assert (a.severity, a.phases, a.options.max_days) == (Severity.LOW, ("planning", "execution"), 7)


def test_unknown_option_names_file_line_entry_option_and_suggestion(tmp_path):
    entries = [{"code": "PMO-GOV-001"}, {"code": "PMO-PLN-002", "options": {"min_ratoi": 0.5}}]
    m = load(tmp_path, mapping_data(entries))
    with pytest.raises(ConfigError) as e:
        configure(m)
    msg = str(e.value)
    assert msg.startswith(f"{tmp_path / 'site.yaml'}:")
    assert e.value.line == m.line_of("standards", 1, "options", "min_ratoi") is not None
    assert "standards[1].options.min_ratoi" in msg and "PMO-PLN-002 has no option 'min_ratoi'" in msg
    assert "did you mean 'min_ratio'?" in msg


def test_bad_option_value_is_a_config_error(tmp_path):
    m = load(tmp_path, mapping_data([{"code": "PMO-PLN-002", "options": {"min_ratio": 80}}]))
    with pytest.raises(ConfigError, match=r"standards\[0\]\.options\.min_ratio: PMO-PLN-002 option 'min_ratio': "
                                          r"Input should be less than or equal to 1"):
        configure(m)


def test_bad_regex_option_is_a_config_error():
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        configure(mapping([{"code": "PMO-INI-001", "options": {"document_url_pattern": "(["}}]))


def test_unknown_code_suggests_the_closest(tmp_path):
    m = load(tmp_path, mapping_data([{"code": "PMO-GOV-01"}]))
    with pytest.raises(ConfigError) as e:
        configure(m)
    assert e.value.line == m.line_of("standards", 0, "code")
    assert "unknown standard 'PMO-GOV-01'" in str(e.value) and "did you mean 'PMO-GOV-001'?" in str(e.value)


def test_waiver_for_unknown_standard_is_a_config_error():
    data = mapping_data([], waivers=[{"standard": "PMO-XYZ-001", "item": "WEB-1", "owner": "ann",
                                      "reason": "r", "expires": "2027-01-01"}])
    m = Mapping.model_validate(data, context={"defer_consistency": True})
    with pytest.raises(ConfigError, match=r"waivers\[0\]\.standard: waiver names unknown standard 'PMO-XYZ-001'"):
        configure(m)


class _Good(Standard):
    """Say hello.

    Why: because.

    ```yaml
    standards:
      - code: ACME-GOV-001
    ```
    """

    code = "ACME-GOV-001"
    title = "Hello"
    default_severity = Severity.LOW

    def evaluate(self, item, ctx, options):
        yield Check.passed()


def test_a_failure_without_a_fix_is_a_bug_in_the_standard():
    with pytest.raises(ValueError, match="must say how to fix it"):
        Check.fail("owner is not set", "")


def test_registry_rejects_duplicate_codes_and_broken_classes():
    registry = builtin_registry()
    registry.register(_Good)
    registry.register(_Good)  # the same class twice is harmless (built-in plugin + direct registration)
    assert "ACME-GOV-001" in registry

    class Clash(_Good):
        """Clash.

        ```yaml
        standards: [{code: ACME-GOV-001}]
        ```
        """

    with pytest.raises(PluginError, match="duplicate standard code ACME-GOV-001"):
        registry.register(Clash)

    class Broken(Standard):
        code = "lower-case"
        default_phases = ("build",)

    with pytest.raises(PluginError) as e:
        Registry([Broken])
    assert "code 'lower-case'" in str(e.value) and "no title" in str(e.value) and "docstring" in str(e.value)

    class BadOptions(_Good):
        """Bad.

        ```yaml
        standards: [{code: ACME-GOV-002}]
        ```
        """
        code = "ACME-GOV-002"
        Options = dict

    with pytest.raises(PluginError, match="Options must subclass StandardOptions"):
        Registry([BadOptions])


def test_a_plugin_standard_is_configured_like_a_builtin():
    registry = Registry([_Good])
    (a,) = configure(mapping([{"code": "ACME-GOV-001", "severity": "critical"}]), registry)
    assert a.severity is Severity.CRITICAL and isinstance(a.options, StandardOptions)


def test_required_fields_follow_active_standards_and_phase_rules():
    assert required_fields(mapping([{"code": "PMO-GOV-001"}])) == {"owner", "phase"}
    assert required_fields(mapping([{"code": "PMO-RSK-002"}])) == {"phase", "risk_impact", "risk_mitigation",
                                                                   "risk_owner", "assignee"}
    assert required_fields(load_mapping(SANDBOX)) == {
        "owner", "start", "target_end", "story_points", "phase", "description", "objective", "due",
        "risk_impact", "risk_mitigation", "risk_owner", "assignee",
        # the governance standards the sandbox enables
        "sponsor", "gate_approval", "sponsor_acceptance", "baseline_start", "baseline_end", "reporter",
        "risk_likelihood"}
