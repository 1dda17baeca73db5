"""Promises about the package's shape: what ships, and which layer may import what."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pmo_jira"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _core_modules() -> list[Path]:
    """Everything but the CLI layer and ``python -m pmo_jira``, its entry point."""
    return sorted(p for p in PACKAGE.rglob("*.py")
                  if "cli" not in p.relative_to(PACKAGE).parts and p.name != "__main__.py")


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"


@pytest.mark.parametrize("module", _core_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_never_imports_the_cli(module: Path):
    bad = {n for n in _imports(module) if n == "click" or n.startswith(("click.", "pmo_jira.cli"))}
    assert not bad, f"{module.relative_to(ROOT)} imports {sorted(bad)}: the core must not depend on the CLI"


@pytest.mark.parametrize("module", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_client_speaks_http(module: Path):
    if module.relative_to(PACKAGE).parts[0] == "jira":
        return
    http = {n for n in _imports(module) if n.split(".")[0] in ("requests", "jira", "atlassian", "urllib3")}
    assert not http, f"{module.relative_to(ROOT)} imports {sorted(http)}: HTTP belongs in pmo_jira/jira/"
