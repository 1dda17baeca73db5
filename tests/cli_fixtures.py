"""Run the real `pmo-jira` CLI against a sandbox: in-process (CliRunner) or as a child process.

Import what you use: ``from cli_fixtures import cli_env, run_cli, run_subprocess, MAPPING``.
History and the run lock live in the test's tmp_path; the run clock is pinned to the sandbox's
reference time, so findings are the same on every machine and every day.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pmo_jira.cli.main import cli
from pmo_jira.jira.client import JiraClient
from pmo_jira.jira.richtext import adf_to_text, wiki_to_text
from pmo_jira.model import Flavour
from pmo_jira.sandbox.generator import REFERENCE_NOW
from pmo_jira.sandbox.server import SandboxServer
from pmo_jira.writeback import MARKER, STATE_PROPERTY

MAPPING = Path(__file__).resolve().parent.parent / "mappings" / "sandbox.yaml"
PINNED_NOW = REFERENCE_NOW.isoformat()
_CLEARED = ("PMO_JIRA_CONFIG", "PMO_JIRA_URL", "PMO_JIRA_EMAIL", "PMO_JIRA_TOKEN", "PMO_JIRA_FLAVOUR",
            "PMO_JIRA_SITE", "PMO_JIRA_MAPPING", "PMO_JIRA_HISTORY", "PMO_JIRA_LOCK", "PMO_JIRA_NOW",
            "PMO_JIRA_MAX_WRITES", "PMO_JIRA_NOTIFY", "PMO_JIRA_CONCURRENCY", "PMO_JIRA_LOG_FORMAT",
            "PMO_JIRA_SUMMARY_JSON", "PMO_JIRA_STATE_CACHE")


def site_env(sb: SandboxServer, *, url: str | None = None, token: str | None = None,
             mapping: Path = MAPPING) -> dict[str, str]:
    """The environment of a single-site run against ``sb`` (no config file)."""
    env = {"PMO_JIRA_URL": url or sb.url, "PMO_JIRA_TOKEN": token or sb.credentials.token,
           "PMO_JIRA_FLAVOUR": sb.flavour.value, "PMO_JIRA_MAPPING": str(mapping)}
    if sb.flavour is Flavour.CLOUD:
        env["PMO_JIRA_EMAIL"] = sb.credentials.email
    return env


@dataclass
class Cli:
    """Runs `pmo-jira ...` in-process with a clean environment rooted at ``home``."""

    home: Path
    monkeypatch: pytest.MonkeyPatch

    def base_env(self) -> dict[str, str]:
        return {"PMO_JIRA_HISTORY": str(self.home / "history.sqlite"),
                "PMO_JIRA_LOCK": str(self.home / "pmo-jira.lock"), "PMO_JIRA_NOW": PINNED_NOW}

    def run(self, args: Sequence[str], *, sb: SandboxServer | None = None,
            env: Mapping[str, str] | None = None) -> Result:
        """``pmo-jira ARGS`` against ``sb`` (or only ``env``); stdout and stderr kept apart."""
        full = self.base_env()
        if sb is not None:
            full.update(site_env(sb))
        full.update(env or {})
        for name in _CLEARED:  # each run sees only its own settings, not the previous run's
            if name not in full:
                self.monkeypatch.delenv(name, raising=False)
        for name, value in full.items():
            self.monkeypatch.setenv(name, value)
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def pmo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A CLI runner: no config file, keyring or user settings leak in; cwd is tmp_path."""
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr("pmo_jira.credentials.keyring_token", lambda site_name: None)
    monkeypatch.chdir(tmp_path)
    return Cli(tmp_path, monkeypatch)


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every JiraClient waits in simulated time: Retry-After and backoff are recorded, not spent."""
    waits: list[float] = []
    original = JiraClient.__init__

    def init(self: JiraClient, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("sleep", waits.append)
        original(self, *args, **kwargs)

    monkeypatch.setattr(JiraClient, "__init__", init)
    return waits


def run_subprocess(args: Sequence[str], env: Mapping[str, str], cwd: Path, **popen: Any) -> subprocess.Popen:
    """Start ``python -m pmo_jira ARGS`` as a real process (for kill tests); the caller waits."""
    full = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    full.update({"HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd / "config"), "XDG_DATA_HOME": str(cwd / "data"),
                 "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    full.update(env)
    return subprocess.Popen([sys.executable, "-m", "pmo_jira", *args], env=full, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


# --- what the sandbox holds, as a person would see it in Jira -----------------------------------


def comment_text(body: Any) -> str:
    return adf_to_text(body) if isinstance(body, dict) else wiki_to_text(body)


def owned_comments(sb: SandboxServer, key: str) -> list[str]:
    """Texts of the bot's marked comments on an issue, oldest first."""
    with sb.store.lock:
        rec = sb.store.issue(key)
        bodies = [c.body for c in rec.comments or () if c.author == sb.store.bot.account_id]
    return [t for t in map(comment_text, bodies) if MARKER in t]


def end_state(sb: SandboxServer, *, prefix: str = "pmo-") -> dict[str, tuple]:
    """Per issue touched by the tool: (its labels with the prefix, owned comment texts, state
    fingerprint and label list). Comment ids and timestamps are left out: they differ by run."""
    out: dict[str, tuple] = {}
    with sb.store.lock:
        keys = [r.key for r in sb.store.issues]
    for key in keys:
        with sb.store.lock:
            rec = sb.store.issue(key)
            labels = tuple(sorted(lb for lb in rec.labels or () if lb.startswith(prefix)))
            state = (rec.properties or {}).get(STATE_PROPERTY)
        comments = tuple(owned_comments(sb, key))
        if not (labels or comments or state):
            continue
        fingerprint = (state["fingerprint"], tuple(state["labels"]), tuple(sorted(state["findings"])),
                       state["comment_id"] is not None) if state else None
        out[key] = (labels, comments, fingerprint)
    return out


def writes(sb: SandboxServer) -> list:
    """Every write request the sandbox answered (PUT/POST other than searches, JQL checks and bulk
    history reads)."""
    return [r for r in sb.log if r.method in ("PUT", "POST", "DELETE") and "/search" not in r.path
            and not r.path.endswith(("/changelog/bulkfetch", "/jql/parse"))]


def one_error_line(result: Result) -> str:
    """The single ``Error: ...`` line a failed run prints; asserts there is exactly one line."""
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    return errors[0]


