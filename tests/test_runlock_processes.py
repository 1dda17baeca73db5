"""The run lock: two overlapping runs never hold it together, across real processes."""

from __future__ import annotations

import multiprocessing
import os
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pmo_jira.errors import LockError
from pmo_jira.runlock import RunLock

CTX = multiprocessing.get_context("spawn")  # a fresh interpreter, like a second cron job


def _try_once(path: str, barrier, results, release) -> None:
    barrier.wait()
    try:
        with RunLock(path, wait=False):
            results.put(("acquired", os.getpid()))
            release.wait(30)
    except LockError as exc:
        results.put(("refused", str(exc)))


def _queue_behind(path: str, barrier, log: str, name: str) -> None:
    barrier.wait()
    with RunLock(path, wait=True, timeout=30):
        with open(log, "a") as fh:
            fh.write(f"{name} start {time.time():.6f}\n")
        time.sleep(0.2)  # long enough that a second holder would overlap
        with open(log, "a") as fh:
            fh.write(f"{name} end {time.time():.6f}\n")


def _acquire_and_die(path: str) -> None:
    RunLock(path).acquire()
    os._exit(0)  # no release, like a killed run


def test_two_runs_started_together_exactly_one_writes(tmp_path):
    lock = str(tmp_path / "locks" / "pmo-jira.lock")
    barrier, results, release = CTX.Barrier(2), CTX.Queue(), CTX.Event()
    procs = [CTX.Process(target=_try_once, args=(lock, barrier, results, release)) for _ in range(2)]
    for p in procs:
        p.start()
    # Both answer while the winner still holds the lock: released only after both have spoken.
    first, second = results.get(timeout=60), results.get(timeout=60)
    release.set()
    for p in procs:
        p.join(60)
    assert sorted([first[0], second[0]]) == ["acquired", "refused"]
    refusal = first[1] if first[0] == "refused" else second[1]
    assert refusal.startswith("another pmo-jira run")
    assert refusal.endswith(f"holds {lock}; use --wait to queue behind it")


def test_with_wait_the_runs_take_turns(tmp_path):
    lock, log = str(tmp_path / "pmo-jira.lock"), str(tmp_path / "times.log")
    barrier = CTX.Barrier(2)
    procs = [CTX.Process(target=_queue_behind, args=(lock, barrier, log, n)) for n in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    spans: dict[str, dict[str, float]] = {}
    for line in Path(log).read_text().splitlines():
        name, what, when = line.split()
        spans.setdefault(name, {})[what] = float(when)
    (_, first_end), (second_start, _) = sorted((v["start"], v["end"]) for v in spans.values())
    assert len(spans) == 2 and first_end <= second_start  # the second started only after the first ended


def test_the_message_names_pid_host_and_start_time(tmp_path):
    started = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)
    path = tmp_path / "pmo-jira.lock"
    with RunLock(path, clock=lambda: started), pytest.raises(LockError) as err:
        RunLock(path).acquire()
    host = os.uname().nodename
    assert str(err.value) == (f"another pmo-jira run (pid {os.getpid()} on {host}, started 2026-11-25 02:00 UTC) "
                              f"holds {path}; use --wait to queue behind it")
    assert not (tmp_path / "pmo-jira.lock.json").exists()  # released: holder info removed


def test_waiting_gives_up_after_the_timeout(tmp_path):
    path = tmp_path / "pmo-jira.lock"
    with RunLock(path), pytest.raises(LockError, match=r"still holds .* after waiting 0.05s"):
        RunLock(path, wait=True, timeout=0.05).acquire()


def test_a_killed_run_leaves_no_stale_lock(tmp_path):
    path = str(tmp_path / "pmo-jira.lock")
    proc = CTX.Process(target=_acquire_and_die, args=(path,))
    proc.start()
    proc.join(60)
    assert Path(path + ".json").exists()  # its holder note is left behind ...
    with RunLock(path) as lock:  # ... but the OS released the lock itself
        assert lock.is_locked
        assert lock.holder()["pid"] == os.getpid()


def test_unusable_lock_folder_is_a_lock_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(LockError, match="cannot create the folder of the run lock"):
        RunLock(blocker / "sub" / "pmo-jira.lock").acquire()
