"""Plugins that break the contract: the CLI names the plugin and what it did in one line, never
shows a traceback, and keeps the other plugins working where leaving one out is safe (commands,
reports, audit formats are only used when asked for by name; standards and mapping sections
change what an audit finds, so a broken one stops the run).

Each plugin is installed for real (a distribution with its entry point) into a folder this test
process alone puts on ``sys.path``.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from pmo_jira.plugin_manager import reset_plugin_manager


def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> None:
    """A distribution ``pmo-jira-NAME`` whose ``pmo_jira`` entry point ``NAME`` is ``source``."""
    module = f"{_PREFIX}{name}"
    site = tmp_path / f"site-{name}"
    info = site / f"{module}-1.0.dist-info"
    info.mkdir(parents=True)
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[pmo_jira]\n{name} = {module}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    reset_plugin_manager()


_PREFIX = "pmo_jira_misbehaving_"


@pytest.fixture(autouse=True)
def _fresh_plugins():
    """Each test's plugins are gone after it: modules unloaded, the plugin manager rebuilt."""
    yield
    for name in [m for m in sys.modules if m.startswith(_PREFIX)]:
        del sys.modules[name]
    importlib.invalidate_caches()
    reset_plugin_manager()


RAISES = """
    from pmo_jira.hookspecs import hookimpl

    @hookimpl
    def pmo_jira_standards():
        raise RuntimeError("boom in standards")

    @hookimpl
    def pmo_jira_audit_formats():
        raise RuntimeError("boom in formats")

    @hookimpl
    def pmo_jira_reports():
        raise RuntimeError("boom in reports")

    @hookimpl
    def pmo_jira_cli_commands(run_options):
        raise RuntimeError("boom in commands")
"""

WRONG_TYPES = """
    from pmo_jira.hookspecs import hookimpl

    @hookimpl
    def pmo_jira_standards():
        return "ACME-GOV-001"

    @hookimpl
    def pmo_jira_reports():
        return {"weekly": 1}

    @hookimpl
    def pmo_jira_cli_commands(run_options):
        return 42
"""

GOOD_COMMAND = """
    import click
    from pmo_jira.hookspecs import hookimpl

    @hookimpl
    def pmo_jira_cli_commands(run_options):
        @click.command("hello")
        def hello():
            click.echo("hello from good")
        return [hello]
"""

CLASHES = """
    import click
    from pmo_jira.hookspecs import hookimpl

    @hookimpl
    def pmo_jira_cli_commands(run_options):
        @click.command("audit")
        def audit():
            click.echo("not the real audit")
        return [audit]
"""


def no_traceback(result) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def test_a_plugin_hook_that_raises_is_named_and_other_commands_keep_working(pmo, tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, "good", GOOD_COMMAND)
    install(tmp_path, monkeypatch, "broken", RAISES)

    result = pmo.run(["--help"])
    assert result.exit_code == 0, result.stderr
    assert "hello" in result.stdout and "audit" in result.stdout
    warning = [line for line in result.stderr.splitlines() if line.strip()]
    assert warning == ["Warning: plugin 'broken' failed in pmo_jira_cli_commands: RuntimeError: boom in commands; "
                       "its commands are left out"]

    result = pmo.run(["hello"])
    assert (result.exit_code, result.stdout) == (0, "hello from good\n"), result.stderr

    result = pmo.run(["standards", "list"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("Error: plugin 'broken' failed in pmo_jira_standards: "
                                     "RuntimeError: boom in standards")
    no_traceback(result)

    result = pmo.run(["standards", "explain", "PMO-PLN-001"])
    assert result.exit_code == 2 and "plugin 'broken' failed in pmo_jira_standards" in result.stderr
    no_traceback(result)


def test_a_hook_that_raises_keeps_its_own_exception_as_the_cause(pmo, tmp_path, monkeypatch):
    from pmo_jira.errors import PluginError
    from pmo_jira.standards.registry import plugin_registry

    install(tmp_path, monkeypatch, "broken", RAISES)
    with pytest.raises(PluginError) as caught:
        plugin_registry()
    assert isinstance(caught.value.__cause__, RuntimeError)  # the plugin's own traceback is kept for -v


def test_a_report_hook_that_raises_leaves_only_that_plugin_out(tmp_path, monkeypatch, caplog):
    from pmo_jira.reports import available_reports

    install(tmp_path, monkeypatch, "broken", RAISES)
    reports = available_reports()
    assert {"portfolio", "monthly"} <= set(reports)
    assert "plugin 'broken' failed in pmo_jira_reports: RuntimeError: boom in reports; its reports are left out" \
        in caplog.text


def test_an_audit_format_hook_that_raises_leaves_the_built_in_formats(tmp_path, monkeypatch, caplog):
    from pmo_jira.formats import plugin_formats

    install(tmp_path, monkeypatch, "broken", RAISES)
    assert {"json", "csv", "table"} <= set(plugin_formats())
    assert "plugin 'broken' failed in pmo_jira_audit_formats" in caplog.text


def test_a_hook_returning_the_wrong_type_is_named(pmo, tmp_path, monkeypatch, caplog):
    from pmo_jira.reports import available_reports

    install(tmp_path, monkeypatch, "wrong", WRONG_TYPES)
    result = pmo.run(["standards", "list"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("Error: plugin 'wrong': pmo_jira_standards returned a value of type str, "
                                     "expected a list or a dict")

    result = pmo.run(["--help"])
    assert result.exit_code == 0 and "audit" in result.stdout
    assert "plugin 'wrong': pmo_jira_cli_commands returned a value of type int" in result.stderr

    assert "weekly" not in available_reports()
    assert "plugin 'wrong': report 'weekly' is not a report" in caplog.text

    result = pmo.run(["plugins", "list"])
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("wrong"))
    assert "standards: error: plugin 'wrong': pmo_jira_standards returned a value of type str" in line


def test_a_command_taking_a_built_in_name_is_left_out_and_the_built_in_runs(pmo, tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, "clash", CLASHES)
    result = pmo.run(["--help"])
    assert result.exit_code == 0
    assert "Warning: command 'audit' is offered by both pmo-jira itself and plugin 'clash'" in result.stderr
    result = pmo.run(["audit", "--help"])
    assert result.exit_code == 0 and "not the real audit" not in result.stdout
    assert "--format" in result.stdout


def test_a_plugin_listing_shows_what_the_hook_raised(pmo, tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, "broken", RAISES)
    result = pmo.run(["plugins", "list", "--format", "json"])
    assert result.exit_code == 0
    import json
    row = next(p for p in json.loads(result.stdout)["plugins"] if p["name"] == "broken")
    assert row["provides"]["standards"] == "error: RuntimeError: boom in standards"
    assert row["provides"]["commands"] == "error: RuntimeError: boom in commands"


SECTION_WITH_A_BUG = """
    from pydantic import field_validator
    from pmo_jira.hookspecs import hookimpl
    from pmo_jira.mapping import MappingSection

    class Acme(MappingSection):
        owner: str = ""

        @field_validator("owner")
        @classmethod
        def _known(cls, value):
            return {"Ann": "acc-ann"}[value]  # a KeyError for anyone else: the plugin's bug

    @hookimpl
    def pmo_jira_mapping_sections():
        return {"acme": Acme}
"""


def test_a_mapping_section_model_that_raises_is_named_with_the_plugin_model(pmo, tmp_path, monkeypatch):
    from cli_fixtures import MAPPING

    install(tmp_path, monkeypatch, "section", SECTION_WITH_A_BUG)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(MAPPING.read_text(encoding="utf-8") + "\nacme:\n  owner: Ann\n", encoding="utf-8")
    bad.write_text(MAPPING.read_text(encoding="utf-8") + "\nacme:\n  owner: Bob\n", encoding="utf-8")

    assert pmo.run(["mappings", "check", str(good)]).exit_code == 0
    result = pmo.run(["mappings", "check", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("Error: mapping section 'acme': the plugin's model "
                                     f"{_PREFIX}section.Acme failed on it: KeyError: 'Bob'")
    no_traceback(result)


CRASHING_COMMAND = """
    import click
    from pmo_jira.hookspecs import hookimpl

    @hookimpl
    def pmo_jira_cli_commands(run_options):
        @click.command("crash")
        def crash():
            raise RuntimeError("the export folder is gone")
        return [crash]
"""


def test_a_plugin_command_that_crashes_is_one_line_naming_the_plugin(pmo, tmp_path, monkeypatch):
    install(tmp_path, monkeypatch, "crashing", CRASHING_COMMAND)
    result = pmo.run(["crash"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("Error: command 'crash' of plugin 'crashing' failed: "
                                     "RuntimeError: the export folder is gone")
    no_traceback(result)


@pytest.mark.parametrize("escape", ["../escaped.txt", "sub/../../escaped.txt", "/tmp/pmo-jira-escaped.txt",
                                    "..\\escaped.txt"])
def test_a_report_naming_a_file_outside_its_folder_writes_nothing(tmp_path, escape):
    from pmo_jira.errors import PluginError
    from pmo_jira.reports import render_report

    class Leaky:
        name, title, formats = "leaky", "Leaky", ("files",)

        def render(self, ctx, fmt):
            return {}

        def render_from_history(self, ctx, fmt):
            return {"index.html": "<p>ok</p>", escape: "outside"}

    out = tmp_path / "reports" / "out"
    with pytest.raises(PluginError, match=r"report 'leaky' format 'files' names the file .* outside its folder"):
        render_report(Leaky(), object(), "files", out_dir=out)
    assert not (tmp_path / "reports" / "escaped.txt").exists() and not Path("/tmp/pmo-jira-escaped.txt").exists()
    assert not (out / "leaky-files" / "index.html").exists()  # checked before anything is written


def test_a_report_whose_name_is_a_path_is_left_out(tmp_path, monkeypatch, caplog):
    from pmo_jira.reports import available_reports

    install(tmp_path, monkeypatch, "pathname", """
        from pmo_jira.hookspecs import hookimpl

        class Report:
            name, title, formats = "../../weekly", "Weekly", ("md",)

            def render(self, ctx, fmt):
                return ""

        @hookimpl
        def pmo_jira_reports():
            return [Report()]
    """)
    assert "../../weekly" not in available_reports()
    assert "report name '../../weekly' must be letters, digits" in caplog.text
