"""The docs' shell examples that need no Jira run as written, and no doc installs from an index.

A fenced ``sh`` block preceded by ``<!-- offline example: exit N -->`` runs in bash (``-e -o
pipefail``) in a scratch folder holding the repository's ``mappings/``, with ``pmo-jira`` on PATH
and the environment ``pmo-jira sandbox serve`` prints pointing at a small sandbox site; it must
exit N. A block that reads ``pmo-jira-demo/`` finds the files of a small ``pmo-jira demo``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_docs import MARKDOWN, ROOT, SHELL_OPERATORS, fenced_blocks

from pmo_jira.cli.sandbox import export_lines

MARKER = re.compile(r"^<!-- offline example: exit (\d+) -->$")
SCHEDULES = sorted((ROOT / "docs" / "schedules").iterdir())
# pmo-jira is not on a package index: an install line must name a wheel, a folder or a git URL.
BY_NAME = re.compile(r"pmo[-_]jira(\[[^\]]*\])?\s*([=<>~!]=?.*)?", re.IGNORECASE)


def installs_from_an_index(line: str) -> bool:
    """Whether a shell line pip-installs pmo-jira by name (``pmo-jira``, ``pmo-jira==0.1.0``)."""
    m = re.search(r"pip3?\s+install\s+(.*)", line)
    if not m:
        return False
    lexer = shlex.shlex(m.group(1), posix=True, punctuation_chars=True)
    lexer.whitespace_split, lexer.commenters = True, "#"
    try:
        words = list(lexer)
    except ValueError:
        words = m.group(1).split()
    args = words[:next((i for i, w in enumerate(words) if w in SHELL_OPERATORS), len(words))]
    return any(BY_NAME.fullmatch(w) for w in args if not w.startswith("-"))


def offline_examples() -> list:
    examples = []
    for path in MARKDOWN:
        text = path.read_text(encoding="utf-8").splitlines()
        for block in fenced_blocks(path):
            above = next((text[i].strip() for i in range(block.line - 3, -1, -1) if text[i].strip()), "")
            m = MARKER.match(above)
            if m:
                examples.append(pytest.param(block, int(m.group(1)), id=f"{path.name}:{block.line}"))
    return examples


EXAMPLES = offline_examples()


def test_there_are_offline_examples_to_run():
    assert len(EXAMPLES) >= 4
    assert {p.values[0].file.name for p in EXAMPLES} >= {"README.md", "audit-json.md"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, cloud_site):
    """A scratch folder with mappings/, and the environment `sandbox serve` prints for `cloud_site`."""
    work = tmp_path_factory.mktemp("docs")
    (work / "mappings").symlink_to(ROOT / "mappings")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMO_JIRA_")}
    for line in export_lines(cloud_site, "cloud"):
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value.strip("'")
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", HOME=str(work),
               PMO_JIRA_HISTORY=str(work / "history.sqlite"), PMO_JIRA_NOW=cloud_site.now.isoformat())
    return work, env


@pytest.mark.parametrize("block, expected", EXAMPLES)
def test_offline_example_runs_as_written(block, expected, workdir):
    work, env = workdir
    script = "\n".join(block.lines)
    if "pmo-jira-demo/" in script and not (work / "pmo-jira-demo").is_dir():
        subprocess.run([shutil.which("pmo-jira", path=env["PATH"]), "demo", "--issues", "30"], cwd=work, env=env,
                       check=True, capture_output=True, timeout=300)
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == expected, f"{block.file.name}:{block.line}\n{done.stdout}\n{done.stderr}"
    assert "command not found" not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("path", [*MARKDOWN, *SCHEDULES], ids=lambda p: p.name)
def test_no_doc_installs_pmo_jira_from_a_package_index(path):
    hits = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if installs_from_an_index(line)]
    assert not hits, f"{path.name}: pmo-jira is not on a package index: {hits}"


@pytest.mark.parametrize("line, found", [
    ('pip install "pmo-jira==0.1.0"', True),
    ("pip install pmo-jira", True),
    ("RUN pip install --no-cache-dir pmo-jira>=0.1 && useradd pmo", True),
    ('pip install "pmo-jira @ git+https://git.example.com/pmo/pmo-jira.git@v0.1.0"', False),
    ("/opt/pmo-jira/bin/pip install dist/pmo_jira-0.1.0-py3-none-any.whl", False),
    ("pip install ./pmo-jira-acme", False),
])
def test_the_index_install_check(line, found):
    assert installs_from_an_index(line) is found
