"""Progress on a terminal: a 20,000-issue audit and a sync's writes show bars in a pseudo-terminal;
piped, with JSON logs or -q they show none, and rich is not even imported."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from test_lazy_imports import _loaded

from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import MAPPING, PINNED_NOW, site_env

_ESC = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def big():
    with SandboxServer("cloud", issues=20_000, seed=11) as server:
        yield server


def _env(sb: SandboxServer, tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMO_JIRA_", "NO_COLOR", "COLUMNS"))}
    env.update(site_env(sb, mapping=MAPPING), PMO_JIRA_NOW=PINNED_NOW, PMO_JIRA_HISTORY=str(tmp / "h.sqlite"),
               PMO_JIRA_LOCK=str(tmp / "lock"), HOME=str(tmp), TERM="xterm-256color",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring", **extra)
    return env


def in_terminal(args: list[str], env: dict[str, str], cwd: Path, *, stdout_too: bool = False) -> tuple[int, str]:
    """``pmo-jira ARGS`` with stderr (and stdin) on a pseudo-terminal 120 columns wide; stdout goes
    to a file (or the terminal too). Returns the exit code and everything the terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    with open(cwd / "stdout.txt", "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pmo_jira", *args], stdin=slave,
                                stdout=slave if stdout_too else out, stderr=slave, env=env, cwd=cwd)
    os.close(slave)
    seen = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(timeout=600), seen.decode("utf-8", "replace")


def piped(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pmo_jira", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_a_20000_issue_audit_shows_its_reads_on_a_terminal_and_nothing_when_piped(big, tmp_path):
    args = ["audit", "--fail-on", "never", "--no-history", "-o", str(tmp_path / "audit.txt")]
    code, screen = in_terminal(args, _env(big, tmp_path), tmp_path)
    assert code == 0, screen
    text = _ESC.sub("", screen)
    counts = [tuple(map(int, m)) for m in re.findall(r"reading jira\S*\s.*?(\d+)/(\d+)\s+issues", text)]
    assert counts, text[-2000:]
    assert len({total for _, total in counts}) == 1 and counts[0][1] > 15_000  # the search's count, from the start
    assert len({read for read, _ in counts}) >= 3  # it moved: several pages were shown as they came
    summary = next(ln for ln in text.splitlines() if "audit: 1 site" in ln)
    assert "issues read" in summary and "\x1b" not in summary  # the log line is whole, not garbled

    done = piped(args, _env(big, tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "reading jira" not in done.stderr and "\x1b" not in done.stderr and "\r" not in done.stderr


@pytest.fixture
def small(tmp_path):
    with SandboxServer("cloud", issues=300, seed=5) as server:
        yield server


def test_sync_apply_shows_its_writes_on_a_terminal(small, tmp_path):
    code, screen = in_terminal(["sync", "--apply", "--no-history"], _env(small, tmp_path), tmp_path)
    assert code == 0, screen
    text = _ESC.sub("", screen)
    written = re.findall(r"writing jira\S*\s.*?(\d+)/(\d+)\s+issues written", text)
    assert written, text[-2000:]
    planned = int(re.search(r"issues written: (\d+)/(\d+)", text).group(2))
    assert {int(total) for _, total in written} == {planned}
    after = text[text.index("writing jira"):]
    assert "reading jira" not in after  # the read's bars left the screen before the writes began


@pytest.mark.parametrize("flags", [["-q"], ["--log-format", "json"], ["-v"]])
def test_no_progress_with_quiet_json_or_verbose_logs(small, tmp_path, flags):
    code, screen = in_terminal(["audit", "--fail-on", "never", "--no-history", "-o", str(tmp_path / "a.txt"), *flags],
                               _env(small, tmp_path), tmp_path)
    assert code == 0, screen
    assert "reading jira" not in _ESC.sub("", screen)


def test_piped_runs_do_not_import_rich(small, tmp_path):
    code, modules = _loaded(["audit", "--fail-on", "never", "--no-history", "-o", str(tmp_path / "a.txt")],
                            _env(small, tmp_path), tmp_path)
    assert code in (0, None)
    assert not {m for m in modules if m == "rich" or m.startswith("rich.")}
    _, at_start = _loaded(["--version"], {}, tmp_path)
    assert "rich" not in at_start


def test_colour_on_a_terminal_unless_no_color(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env.update(TERM="xterm-256color", HOME=str(tmp_path))
    code, screen = in_terminal(["standards", "list"], env, tmp_path, stdout_too=True)
    assert code == 0 and "\x1b[1;31mhigh" in screen and max(len(_ESC.sub("", ln)) for ln in screen.splitlines()) <= 120
    code, plain = in_terminal(["standards", "list"], {**env, "NO_COLOR": "1"}, tmp_path, stdout_too=True)
    assert code == 0 and "\x1b[" not in plain and "high" in plain
