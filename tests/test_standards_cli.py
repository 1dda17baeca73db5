"""`pmo-jira standards list|explain` through the real entry group."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_standards_registry import CONTRACT_CODES

from pmo_jira.cli.main import cli


def run(*args):
    return CliRunner().invoke(cli, ["standards", *args])


def test_list_table_shows_every_standard_with_severity_phases_and_target():
    result = run("list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["CODE", "TITLE", "SEVERITY", "PHASES", "APPLIES", "TO"]
    row = next(line for line in lines if line.startswith("PMO-RSK-002"))
    assert "Open high risks have owner and mitigation" in row and "critical" in row
    assert "planning,execution,closing" in row and row.endswith("epic")
    assert CONTRACT_CODES <= {line.split()[0] for line in lines[1:]}


def test_list_json_is_versioned_and_carries_option_defaults():
    result = run("list", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["version"] == 1
    exe = next(s for s in doc["standards"] if s["code"] == "PMO-EXE-003")
    assert exe == {"code": "PMO-EXE-003", "title": "Blocked longer than N days", "severity": "high",
                   "phases": ["execution"], "applies_to": "epic",
                   "options": {"blocked_statuses": ["Blocked"], "max_days": 10}}


def test_explain_shows_why_options_and_example():
    result = run("explain", "pmo-pln-002")
    assert result.exit_code == 0
    out = result.output
    assert out.startswith("PMO-PLN-002  Children estimated\n")
    assert "Why: a forecast is only as good as its estimates" in out
    assert "min_ratio (default 0.8): share of open children" in out
    assert "Phases: planning, execution" in out and "Fields: story_points" in out
    assert "- code: PMO-PLN-002" in out


def test_explain_unknown_code_is_one_line_with_a_suggestion_and_exit_2():
    result = run("explain", "PMO-RSK-02")
    assert result.exit_code == 2
    assert result.output.strip() == "Error: unknown standard 'PMO-RSK-02' (did you mean 'PMO-RSK-002'?)"
