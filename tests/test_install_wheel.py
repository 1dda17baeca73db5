"""The documented install works from a clone: the wheel the docs and the Dockerfile build is complete.

docs/operations.md and the Dockerfile build one wheel with ``pip wheel --no-deps`` and install
only that file, so everything pmo-jira needs at run time must be inside it: the portfolio plugin
and its page template, the preset mappings the demo and ``sandbox serve`` use, the JSON schema,
and both entry points. The image itself is built where a Docker daemon answers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ["wheel", "--no-deps", "--wheel-dir"]
DOCKERIGNORE = [line.strip().removeprefix("**/") for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out, src = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("clone") / "pmo-jira"
    # A copy, so the build leaves no build/ folder in the checkout (like the Dockerfile's /src).
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*DOCKERIGNORE))
    # --no-build-isolation keeps the test offline; the documented line lets pip fetch setuptools.
    subprocess.run([sys.executable, "-m", "pip", *BUILD, str(out), "--no-build-isolation", "-q", str(src)],
                   check=True, capture_output=True, timeout=300)
    (built,) = out.glob("pmo_jira-*.whl")
    with zipfile.ZipFile(built) as zf:
        yield zf


def test_the_docs_and_the_dockerfile_build_the_same_wheel():
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "python3 -m pip wheel --no-deps --wheel-dir dist ." in operations
    assert "pip wheel --no-cache-dir --no-deps --wheel-dir /wheels /src" in dockerfile
    assert "pip install --no-cache-dir /wheels/*.whl" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv"} <= set(ignored)  # the build context stays small and holds no local venv


def test_the_wheel_holds_everything_a_run_needs(wheel):
    names = set(wheel.namelist())
    for needed in ("pmo_jira/cli/main.py", "pmo_jira/presets/sandbox.yaml", "pmo_jira/presets/pmbok-default.yaml",
                   "pmo_jira_portfolio/report.html", "pmo_jira/formats/schema/audit-result.schema.json"):
        assert any(n.endswith(needed) for n in names), needed
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "pmo-jira = pmo_jira.cli.main:main" in text
    assert "portfolio = pmo_jira_portfolio.plugin" in text and "builtin = pmo_jira.builtin_plugin" in text


def _docker_answers() -> bool:
    docker = shutil.which("docker")
    return bool(docker) and subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _docker_answers(), reason="no Docker daemon: the image build is checked where one runs")
def test_the_image_builds_and_runs(tmp_path):
    tag = "pmo-jira-test:latest"
    subprocess.run(["docker", "build", "-q", "-t", tag, str(ROOT)], check=True, capture_output=True, timeout=900)
    done = subprocess.run(["docker", "run", "--rm", tag, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "pmo-jira" in done.stdout
