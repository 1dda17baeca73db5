"""Files that hold site data are created readable by their owner only: the history (with its
SQLite -wal/-shm files), the Data Center state cache and the run summary."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pmo_jira.history import HistoryStore
from pmo_jira.jira.statecache import PropertyCache

from cli_fixtures import one_error_line


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """A umask that would make every new file world-readable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_history_and_its_wal_files_are_owner_only(tmp_path, open_umask):
    path = tmp_path / "h" / "history.sqlite"
    with HistoryStore(path) as store:
        store.runs()
        files = [p for p in path.parent.iterdir() if p.name.startswith("history.sqlite")]
        assert {p.name for p in files} >= {"history.sqlite", "history.sqlite-wal", "history.sqlite-shm"}
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_an_existing_history_keeps_the_mode_its_admin_gave_it(tmp_path, open_umask):
    path = tmp_path / "history.sqlite"
    HistoryStore(path).close()
    path.chmod(0o640)
    HistoryStore(path).close()
    assert mode(path) == 0o640


def test_state_cache_is_owner_only(tmp_path, open_umask):
    cache = PropertyCache(tmp_path / "state.sqlite")
    cache.store("https://jira.example.com", "pmo-jira.state", "OPS-1", "2026-01-01T00:00:00.000+0000", True, {"a": 1})
    cache.close()
    assert mode(tmp_path / "state.sqlite") == 0o600


def test_sync_leaves_history_and_summary_owner_only(pmo, sandbox, open_umask):
    sb = sandbox("dc", issues=40)
    summary = pmo.home / "out" / "summary.json"
    result = pmo.run(["sync", "--summary-json", str(summary)], sb=sb)
    assert result.exit_code == 0, result.stderr
    assert json.loads(summary.read_text())["command"] == "sync"
    assert mode(summary) == 0o600
    history = pmo.home / "history.sqlite"
    assert mode(history) == 0o600
    for extra in (history.with_name(history.name + "-wal"), history.with_name(history.name + "-shm")):
        if extra.exists():
            assert mode(extra) == 0o600


def test_a_history_that_cannot_be_created_is_one_line(pmo, sandbox):
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    sb = sandbox("dc", issues=40)
    locked = pmo.home / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = pmo.run(["audit", "--fail-on", "never"], sb=sb,
                         env={"PMO_JIRA_HISTORY": str(locked / "history.sqlite")})
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2
    assert "cannot create it" in one_error_line(result)
