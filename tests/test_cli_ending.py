"""How a `pmo-jira` process ends: everything written and flushed, the exit code kept, exit handlers
run, and what the run made left for the OS to free (no teardown object by object)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import weakref

from cli_fixtures import run_subprocess, site_env
from sandbox_fixtures import module_site

cloud = module_site("cloud", issues=120, seed=3)


def test_an_audit_ends_with_its_report_summary_and_exit_code_all_written(cloud, tmp_path):
    env = {**site_env(cloud), "PMO_JIRA_HISTORY": str(tmp_path / "h.sqlite"), "PMO_JIRA_NOW": "2026-01-15T09:00:00+00:00"}
    proc = run_subprocess(["audit", "--format", "json", "-o", str(tmp_path / "audit.json"), "--fail-on", "high",
                           "--summary-json", str(tmp_path / "summary.json")], env, tmp_path)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr  # findings at or above high
    report = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))
    assert report["summary"]["findings"] == len(report["findings"]) > 0
    assert json.loads((tmp_path / "summary.json").read_text())["exit_code"] == 1
    assert "audit: 1 site" in stderr.splitlines()[-1]  # the summary line, flushed before the end
    listed = run_subprocess(["history", "--db", str(tmp_path / "h.sqlite")], {}, tmp_path)
    stdout, _ = listed.communicate(timeout=120)
    assert listed.returncode == 0 and len(stdout.splitlines()) == 2  # the run was recorded


def _python(code: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)


def test_ending_flushes_the_streams_runs_exit_handlers_and_keeps_the_code(tmp_path):
    done = _python("""
        import atexit, sys
        from pmo_jira.cli.ending import exit_now
        atexit.register(lambda: open("handler-ran", "w").close())
        print("report", end="")
        print("summary", file=sys.stderr, end="")
        exit_now(3)
    """, tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (3, "report", "summary")
    assert (tmp_path / "handler-ran").exists()
    message = _python("from pmo_jira.cli.ending import exit_now; exit_now('Error: no site')", tmp_path)
    assert (message.returncode, message.stderr) == (1, "Error: no site\n")


def test_ending_waits_for_a_thread_still_at_work(tmp_path):
    done = _python("""
        import threading, time
        from pmo_jira.cli.ending import exit_now
        def work():
            time.sleep(0.3)
            print("finished", flush=True)
        threading.Thread(target=work).start()
        exit_now(0)
    """, tmp_path)
    assert (done.returncode, done.stdout) == (0, "finished\n")


def test_a_process_that_goes_on_after_a_command_keeps_nothing():
    """Tests and programs calling ``cli.main`` run many commands: none of their data is held."""
    from pmo_jira.cli import ending

    class Run:
        pass

    run = Run()
    gone = weakref.ref(run)
    ending.hold(run)
    del run
    assert gone() is None


def test_what_a_command_leaves_is_kept_only_while_the_process_ends_with_it():
    from pmo_jira.cli import ending

    class Run:
        pass

    ending.ends_with_command()
    try:
        run = Run()
        kept = weakref.ref(run)
        ending.hold(run)
        del run
        assert kept() is not None  # the OS frees it when the process ends
    finally:
        ending.ends_with_command(False)
    assert kept() is None  # the process went on: dropped
