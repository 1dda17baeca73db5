"""Heavy libraries load only in the commands that use them, so a plain audit starts quickly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pmo_jira.sandbox.generator import REFERENCE_NOW
from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import MAPPING, site_env

HEAVY = ("pandas", "numpy", "openpyxl", "atlassian", "sqlalchemy", "alembic", "keyring", "pmo_jira.sandbox",
         "pmo_jira.history", "pmo_jira_portfolio.rollup", "pmo_jira_portfolio.render_xlsx")

_RUN = """
import atexit, json, sys
from pmo_jira.cli.main import main
sys.argv = ["pmo-jira", *json.loads(sys.argv[1])]

def loaded():  # at the very end: the program ends its process itself
    with open({out!r}, "w") as f:
        json.dump(sorted(sys.modules), f)

atexit.register(loaded)
main()
"""


def _loaded(args: list[str], env: dict[str, str], tmp: Path) -> tuple[int, set[str]]:
    out = tmp / "modules.json"
    full = {k: v for k, v in os.environ.items() if not k.startswith("PMO_JIRA_")}
    full.update(env)
    done = subprocess.run([sys.executable, "-c", _RUN.format(out=str(out)), json.dumps(args)], env=full, cwd=tmp,
                          capture_output=True, timeout=120)
    return done.returncode, set(json.loads(out.read_text()))


def _heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)}


def test_version_loads_nothing_heavy(tmp_path):
    code, modules = _loaded(["--version"], {}, tmp_path)
    assert code in (0, None)
    assert not _heavy(modules)
    assert "requests" not in modules and "pydantic" not in modules


def test_an_audit_without_history_loads_neither_history_nor_reports_nor_the_sandbox(tmp_path):
    with SandboxServer("cloud", issues=120, seed=2) as sb:
        env = {**site_env(sb, mapping=MAPPING), "PMO_JIRA_NOW": REFERENCE_NOW.isoformat(),
               "PMO_JIRA_HISTORY": str(tmp_path / "history.sqlite"), "XDG_CONFIG_HOME": str(tmp_path)}
        code, modules = _loaded(["audit", "--format", "json", "-o", str(tmp_path / "a.json"), "--no-history",
                                 "--fail-on", "never"], env, tmp_path)
    assert code in (0, None)
    assert json.loads((tmp_path / "a.json").read_text())["findings"], "the audit ran"
    assert not _heavy(modules)


_RUN_MODULE = """
import json, runpy, sys
sys.argv = ["pmo-jira", "--version"]
try:
    runpy.run_module("pmo_jira", run_name="__main__")
except SystemExit:
    pass
with open({out!r}, "w") as f:
    json.dump(sorted(sys.modules), f)
"""


def test_python_m_version_loads_neither_click_nor_the_package_metadata(tmp_path):
    """``python -m pmo_jira --version`` answers as fast as ``pmo-jira --version``: no click, no
    scan of every installed distribution's metadata, no signal handling set up for nothing."""
    out = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", _RUN_MODULE.format(out=str(out))], cwd=tmp_path,
                          capture_output=True, text=True, check=True, timeout=120)
    assert proc.stdout == "pmo-jira, version 0.1.0\n"
    modules = set(json.loads(out.read_text()))
    assert not {"click", "importlib.metadata", "pmo_jira.interrupt"} & modules


def test_an_audit_loads_neither_the_run_lock_nor_a_toml_parser_it_does_not_use(tmp_path):
    """Reading only (no lock: `audit` never writes) and configured by the environment alone (no
    TOML file): filelock and the TOML parser stay unloaded, as do the `standards` commands."""
    with SandboxServer("cloud", issues=60, seed=3) as sb:
        env = {**site_env(sb, mapping=MAPPING), "PMO_JIRA_NOW": REFERENCE_NOW.isoformat(),
               "XDG_CONFIG_HOME": str(tmp_path)}
        code, modules = _loaded(["audit", "--format", "json", "-o", str(tmp_path / "a.json"), "--no-history",
                                 "--fail-on", "never"], env, tmp_path)
    assert code in (0, None)
    assert json.loads((tmp_path / "a.json").read_text())["findings"], "the audit ran"
    assert not {"filelock", "tomllib", "tomli", "pmo_jira.runlock", "pmo_jira.cli.standards"} & modules
