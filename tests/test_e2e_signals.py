"""SIGTERM and SIGINT end a run in order at any point: one `Error:` line, exit 2, the summary
JSON, a history record marked interrupted, and a next run that converges (no duplicate comments).

The signal is sent to a real `pmo-jira` process while the sandbox holds each of its writes for
a second (a slow-write fault): once two comments are in, the process is in the middle of the
write-back for many seconds, so the signal lands there however loaded the machine is.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
from collections.abc import Callable

import pytest

from pmo_jira import interrupt
from pmo_jira.cli import main as cli_main
from pmo_jira.runlock import RunLock
from pmo_jira.sandbox.faults import Faults
from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import owned_comments, run_subprocess, site_env

WRITES = r"/comment(/\d+)?$|/issue/[A-Z]+-\d+$|/properties/pmo-jira\.state$"


def _wait_for(condition, proc, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{what} did not happen in {seconds} s"
        time.sleep(0.01)


def _finish(proc) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, err


def _error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr and "Aborted!" not in stderr, stderr
    return [ln for ln in stderr.splitlines() if ln.startswith("Error: ")]


def _stopped(proc, ready: Callable[[], None], signum: int = signal.SIGTERM) -> str:
    """Send ``signum`` once ``ready()`` returns; the run's one error line (it must exit 2)."""
    try:
        ready()
        proc.send_signal(signum)
    finally:
        code, stderr = _finish(proc)
    assert code == interrupt.EXIT_INTERRUPTED, stderr
    (line,) = _error_lines(stderr)
    return line


@pytest.mark.parametrize("flavour, signum", [("cloud", signal.SIGTERM), ("dc", signal.SIGINT)])
def test_a_signal_mid_apply_ends_in_order_and_the_next_run_converges(pmo, tmp_path, flavour, signum):
    name = signal.Signals(signum).name
    summary = tmp_path / "summary.json"
    slow_writes = Faults(rate_slow=1.0, slow_seconds=1.0, only_paths=WRITES)
    with SandboxServer(flavour, issues=120, seed=5) as sb:
        env = {**pmo.base_env(), **site_env(sb)}
        # reading first, without faults, so the writes are what is slow (GET /issue/KEY reads too)
        sb.faults = Faults()
        proc = run_subprocess(["sync", "--apply", "--concurrency", "1", "--summary-json", str(summary)],
                              env, tmp_path)

        def writing() -> None:
            _wait_for(lambda: sb.log.count(path=r"/search") > 0, proc, "the read")
            sb.faults = slow_writes
            _wait_for(lambda: sb.log.count(method="POST", path=r"/comment$", status=201) >= 2, proc,
                      "two comments")

        line = _stopped(proc, writing, signum)
        sb.faults = Faults()
        assert line.startswith(f"Error: interrupted by {name} while writing: ")
        assert "the next sync finishes them" in line

        report = json.loads(summary.read_text())
        assert report["exit_code"] == 2 and report["interrupted"] == name
        assert 1 <= report["writes_applied"] < report["writes_planned"]

        runs = json.loads(pmo.run(["history", "--all", "--format", "json"], sb=sb).stdout)["runs"]
        assert [(r["kind"], r["interrupted"], r["compared"]) for r in runs] == [("sync", name, False)]
        assert report["findings_total"] == runs[0]["findings"]["open"] > 0  # what it found before the stop

        again = pmo.run(["sync", "--apply"], sb=sb)
        assert again.exit_code == 0, again.output
        dry = pmo.run(["sync", "--plan-json", "-", "--no-history"], sb=sb)
        assert json.loads(dry.stdout)["totals"]["issues_touched"] == 0  # converged
        with sb.store.lock:
            keys = [r.key for r in sb.store.issues]
        assert all(len(owned_comments(sb, k)) <= 1 for k in keys)
        runs = json.loads(pmo.run(["history", "--format", "json"], sb=sb).stdout)["runs"]
        assert runs[-1]["new"] == runs[-1]["findings"]["open"]  # the first full run: all new


def test_a_signal_while_reading_is_one_line_with_summary_and_record(pmo, tmp_path):
    summary = tmp_path / "summary.json"
    slow_search = Faults(rate_slow=1.0, slow_seconds=1.0, only_paths=r"/search")
    with SandboxServer("dc", issues=60, seed=5, faults=slow_search) as sb:
        env = {**pmo.base_env(), **site_env(sb)}
        proc = run_subprocess(["audit", "--summary-json", str(summary)], env, tmp_path)
        line = _stopped(proc, lambda: _wait_for(lambda: sb.log.count(path=r"/field") > 0, proc, "the first request"))
        assert line == "Error: interrupted by SIGTERM while reading Jira; nothing was written"
        report = json.loads(summary.read_text())
        assert (report["exit_code"], report["interrupted"], report["issues_read"]) == (2, "SIGTERM", 0)
        runs = json.loads(pmo.run(["history", "--all", "--format", "json"], sb=sb).stdout)["runs"]
        assert [(r["kind"], r["interrupted"], r["sites"]) for r in runs] == [("audit", "SIGTERM", [])]


def test_a_signal_while_waiting_for_the_run_lock_reads_nothing_and_records_nothing(pmo, tmp_path):
    summary = tmp_path / "summary.json"
    with SandboxServer("cloud", issues=30, seed=5) as sb, RunLock(pmo.base_env()["PMO_JIRA_LOCK"]):
        env = {**pmo.base_env(), **site_env(sb)}
        proc = run_subprocess(["sync", "--apply", "--wait", "--summary-json", str(summary)], env, tmp_path)

        def waiting() -> None:
            said = ""
            while "waiting for the run lock" not in said:
                assert select.select([proc.stderr], [], [], 60)[0], "the run did not wait for the lock"
                line = proc.stderr.readline()
                assert line, proc.communicate()
                said += line

        line = _stopped(proc, waiting)
        assert line == "Error: interrupted by SIGTERM before reading Jira; nothing was read or written"
        assert json.loads(summary.read_text())["interrupted"] == "SIGTERM"
        assert sb.log.count(path=r"/rest/") == 0
    runs = json.loads(pmo.run(["history", "--all", "--format", "json"]).stdout)["runs"]
    assert runs == []  # a run that never began is not a run of the history


def test_ctrl_c_while_starting_is_one_line_and_exit_2(monkeypatch, capsys):
    """Before any command runs (loading it, parsing options): no `Aborted!`, no traceback."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def loading(self, ctx, name):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the command's module loads
        time.sleep(1)  # the handler runs as soon as Python checks for signals
        raise AssertionError("the signal did not stop the start-up")

    monkeypatch.setattr(cli_main.LazyGroup, "get_command", loading)
    monkeypatch.setattr(sys, "argv", ["pmo-jira", "audit"])
    try:
        with pytest.raises(SystemExit) as stop:
            cli_main.main()
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
        interrupt.STOP.clear()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err == "Error: interrupted by SIGINT while starting; nothing was read or written\n"
