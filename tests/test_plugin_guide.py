"""docs/plugins.md works as written: its example plugin is pip-installed and used through the CLI.

The fenced blocks of the guide marked ``file=NAME`` are written into a folder and installed with
pip (no dependencies, no build isolation: fast and offline) into a folder of its own that this
test process puts on ``sys.path``. A real install, metadata and entry point included, that other
test processes running in parallel never see (a plugin in the shared environment would change
what their `standards list` or an empty `standards:` mapping runs).
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pmo_jira.plugin_manager import reset_plugin_manager
from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import MAPPING
from sandbox_fixtures import module_site

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
_BLOCK = re.compile(r"^(`{3,})\w+ file=(\S+)\n(.*?)^\1[ \t]*$", re.MULTILINE | re.DOTALL)


def guide_files() -> dict[str, str]:
    return {name: text for _, name, text in _BLOCK.findall(GUIDE.read_text(encoding="utf-8"))}


def pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    files = guide_files()
    assert {"pyproject.toml", "pmo_jira_acme.py", "mapping-addition.yaml"} <= set(files)
    folder = tmp_path_factory.mktemp("pmo-jira-acme")
    for name in ("pyproject.toml", "pmo_jira_acme.py"):
        (folder / name).write_text(files[name], encoding="utf-8")
    site = tmp_path_factory.mktemp("site-packages")
    pip("install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(site), str(folder))
    assert (site / "pmo_jira_acme-1.0.0.dist-info" / "entry_points.txt").is_file()
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(site))
        reset_plugin_manager()
        yield files
    sys.modules.pop("pmo_jira_acme", None)
    importlib.invalidate_caches()
    reset_plugin_manager()


cloud = module_site("cloud", issues=150, seed=11)


@pytest.fixture
def acme_mapping(acme, tmp_path) -> Path:
    """mappings/sandbox.yaml with the guide's mapping addition: its standards appended, its own
    `acme:` section added."""
    data = yaml.safe_load(MAPPING.read_text(encoding="utf-8"))
    addition = yaml.safe_load(acme["mapping-addition.yaml"])
    data["standards"] += addition.pop("standards")
    data.update(addition)
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_plugins_list_shows_the_plugin_and_what_it_adds(acme, pmo):
    result = pmo.run(["plugins", "list"])
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(lines) == {"builtin", "acme", "office", "portfolio"}
    assert re.match(r"^acme\s+1\.0\.0\s+pmo-jira-acme\s+standards: ACME-GOV-001; audit formats: acme-count; "
                    r"reports: acme-sponsors; commands: acme-hello$", lines["acme"]), lines["acme"]


def test_the_standard_yields_findings_and_the_report_and_format_render(acme, acme_mapping, pmo, cloud):
    env = {"PMO_JIRA_MAPPING": str(acme_mapping)}
    audit = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=cloud, env=env)
    assert audit.exit_code == 0, audit.stderr
    findings = json.loads(audit.stdout)["findings"]
    sponsor = [f for f in findings if f["code"] == "ACME-GOV-001" and f["open"]]
    assert sponsor, "the plugin's standard found nothing on the sandbox"
    assert all(f["fix"].startswith("Add a label sponsor-") for f in sponsor)
    assert {f["phase"] for f in sponsor} <= {"planning", "execution"}

    report = pmo.run(["report", "acme-sponsors", "--format", "json", "--no-history"], sb=cloud, env=env)
    assert report.exit_code == 0, report.stderr
    per_project = json.loads(report.stdout)["without_sponsor"]
    assert sum(per_project.values()) == len(sponsor)
    table = pmo.run(["report", "acme-sponsors", "--no-history"], sb=cloud, env=env)
    assert table.stdout.startswith("Project    Epics without a sponsor\n")

    count = pmo.run(["audit", "--format", "acme-count", "--fail-on", "never", "--no-history"], sb=cloud, env=env)
    assert count.exit_code == 0, count.output
    assert count.stdout == f"{sum(1 for f in findings if f['open'])} open findings\n"


def test_the_command_and_the_explanation(acme, pmo):
    assert pmo.run(["acme-hello"]).stdout == "hello from acme\n"
    explained = pmo.run(["standards", "explain", "ACME-GOV-001"])
    assert explained.exit_code == 0 and "Every epic names its business sponsor with a label." in explained.stdout


def test_a_plugin_that_fails_to_import_is_one_line_and_the_rest_still_works(pmo, tmp_path):
    dist = tmp_path / "pmo_jira_broken-0.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pmo-jira-broken\nVersion: 0.3\n")
    (dist / "entry_points.txt").write_text("[pmo_jira]\nbroken = pmo_jira_broken\n")
    (tmp_path / "pmo_jira_broken.py").write_text("import acme_missing_dependency\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(tmp_path))
        reset_plugin_manager()
        result = pmo.run(["plugins", "list"])
        listed = pmo.run(["standards", "list"])
    reset_plugin_manager()
    assert result.exit_code == 0 and "Traceback" not in result.output
    broken = [line for line in result.stdout.splitlines() if line.startswith("broken")]
    assert len(broken) == 1
    assert re.sub(r"\s+", " ", broken[0]) == (
        "broken 0.3 pmo-jira-broken FAILED to load pmo_jira_broken: "
        "ModuleNotFoundError: No module named 'acme_missing_dependency'")
    assert any(line.startswith("portfolio") and "reports: portfolio" in line for line in result.stdout.splitlines())
    assert listed.exit_code == 0 and "PMO-GOV-001" in listed.stdout


def test_the_plugins_mapping_section_is_read_by_its_standard_and_checked_like_the_rest(acme, acme_mapping, pmo,
                                                                                      tmp_path):
    env = {"PMO_JIRA_MAPPING": str(acme_mapping)}
    with SandboxServer("cloud", issues=60, seed=5) as sb:
        first = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb, env=env)
        assert first.exit_code == 0, first.stderr
        keys = sorted({f["item"] for f in json.loads(first.stdout)["findings"] if f["code"] == "ACME-GOV-001"})
        approved, unknown = keys[:2]
        sb.store.add_label(approved, "sponsor-alice")
        sb.store.add_label(unknown, "sponsor-mallory")
        audit = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb, env=env)
    sponsor = {f["item"]: f for f in json.loads(audit.stdout)["findings"] if f["code"] == "ACME-GOV-001"}
    assert approved not in sponsor  # alice is listed under acme.sponsors
    assert sponsor[unknown]["message"] == "sponsor mallory is not on the approved list"
    assert sponsor[unknown]["fix"] == "Add a label sponsor-<name> naming one of: alice, bob."

    text = acme_mapping.read_text(encoding="utf-8")
    line = text.splitlines().index("acme:") + 2
    typo = tmp_path / "typo.yaml"
    typo.write_text(text.replace("  sponsors:", "  sponsor:"), encoding="utf-8")
    checked = pmo.run(["mappings", "check", str(typo)])
    assert checked.exit_code == 2
    assert f"{typo}:{line}: acme.sponsor: unknown key (did you mean 'sponsors'?)" in checked.stderr
    top = tmp_path / "top.yaml"
    top.write_text(text.replace("acme:", "acmee:"), encoding="utf-8")
    assert "unknown key (did you mean 'acme'?)" in pmo.run(["mappings", "check", str(top)]).stderr
