"""Where a careless admin points pmo-jira's side files: a symlink, a pipe a monitor reads, a full
disk, a folder where a file belongs. The run says so in one line, never replaces what is there
with a plain file and never stops over what is only informational."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from pmo_jira.errors import PmoError
from pmo_jira.history.database import HistoryTarget, database_errors

from cli_fixtures import one_error_line


def test_summary_json_through_a_symlink_replaces_the_target_and_keeps_the_link_and_its_mode(pmo, sandbox):
    sb = sandbox("dc", issues=40)
    monitored = pmo.home / "monitor" / "last-run.json"
    monitored.parent.mkdir()
    monitored.write_text("{}")
    monitored.chmod(0o644)  # the admin let the monitoring agent read it
    link = pmo.home / "summary.json"
    link.symlink_to(monitored)
    result = pmo.run(["audit", "--fail-on", "never", "--summary-json", str(link)], sb=sb)
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == monitored.resolve()
    assert json.loads(monitored.read_text())["command"] == "audit"
    assert stat.S_IMODE(monitored.stat().st_mode) == 0o644
    assert sorted(p.name for p in monitored.parent.iterdir()) == ["last-run.json"]


def test_summary_json_into_a_named_pipe_is_written_to_the_pipe(pmo, sandbox):
    sb = sandbox("dc", issues=40)
    fifo = pmo.home / "summary.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = pmo.run(["audit", "--fail-on", "never", "--summary-json", str(fifo)], sb=sb)
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still the pipe, not a file in its place
    assert json.loads(got[0])["command"] == "audit"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_summary_json_on_a_full_disk_is_one_line_and_exit_2(pmo, sandbox):
    sb = sandbox("dc", issues=40)
    full = pmo.home / "summary.json"
    full.symlink_to("/dev/full")  # a disk with no space left
    result = pmo.run(["audit", "--fail-on", "never", "--summary-json", str(full)], sb=sb)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "cannot write the run summary" in line and "No space left on device" in line
    assert full.is_symlink() and Path("/dev/full").is_char_device()


def test_a_run_lock_whose_holder_note_cannot_be_written_still_runs(pmo, sandbox):
    sb = sandbox("dc", issues=40)
    lock = pmo.home / "run.lock"
    (pmo.home / "run.lock.json").mkdir()  # where the note of who holds the lock goes
    result = pmo.run(["sync", "--apply"], sb=sb, env={"PMO_JIRA_LOCK": str(lock)})
    assert result.exit_code == 0, result.stderr
    assert "unexpected" not in result.stderr
    assert "cannot write" in result.stderr and "who holds the run lock" in result.stderr
    assert sorted(p.name for p in pmo.home.iterdir() if p.name.startswith("run.lock")) == [
        "run.lock", "run.lock.json"]  # no temporary file left behind


def test_a_history_path_that_is_a_folder_says_to_name_a_file(pmo, sandbox):
    sb = sandbox("dc", issues=40)
    folder = pmo.home / "histories"
    folder.mkdir()
    result = pmo.run(["audit", "--fail-on", "never"], sb=sb, env={"PMO_JIRA_HISTORY": str(folder)})
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "that is a folder" in line and str(folder / "history.sqlite") in line
    assert "move the file aside" not in line


def _sqlite_full(tmp_path: Path) -> sa.exc.OperationalError:
    """SQLite's own 'database or disk is full', from a database capped at a few pages."""
    db = sqlite3.connect(tmp_path / "capped.sqlite")
    db.execute("PRAGMA max_page_count = 4")
    db.execute("CREATE TABLE t (x)")
    try:
        for _ in range(100):
            db.execute("INSERT INTO t VALUES (?)", ("x" * 4000,))
    except sqlite3.OperationalError as exc:
        return sa.exc.OperationalError("INSERT", {}, exc)
    raise AssertionError("the capped database never filled up")


def test_a_full_disk_under_the_history_is_not_told_to_move_the_history_aside(tmp_path):
    target = HistoryTarget(path=tmp_path / "history.sqlite")
    with pytest.raises(PmoError) as caught, database_errors(target):
        raise _sqlite_full(tmp_path)
    line = caught.value.one_line()
    assert "disk is full" in line and "free space" in line and "move the file aside" not in line
