"""Two nightly `sync --apply` runs started at the same moment never both write."""

from __future__ import annotations

from collections import Counter

import pytest

from pmo_jira.sandbox.faults import Faults
from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import PINNED_NOW, owned_comments, run_subprocess, site_env, writes


def _start_two(sb: SandboxServer, tmp_path, *extra: str):
    env = {**site_env(sb), "PMO_JIRA_HISTORY": str(tmp_path / "history.sqlite"),
           "PMO_JIRA_LOCK": str(tmp_path / "pmo-jira.lock"), "PMO_JIRA_NOW": PINNED_NOW}
    procs = [run_subprocess(["sync", "--apply", *extra], env, tmp_path) for _ in range(2)]
    return [(p, *p.communicate(timeout=120)) for p in procs]


@pytest.fixture
def slow_site():
    # Every request answers after 25 ms, so one run lasts well over a second: the two runs overlap
    # for certain, however the processes get scheduled.
    # search_lag=0: the second run is another process; by the time it reads, Cloud's index has
    # caught up with the first one's writes (a lag counted in writes never would).
    with SandboxServer("cloud", issues=150, seed=5, faults=Faults(rate_slow=1.0, slow_seconds=0.025),
                       search_lag=0) as sb:
        yield sb


def test_second_run_exits_with_a_clear_message_and_writes_nothing(slow_site, tmp_path):
    results = _start_two(slow_site, tmp_path)
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 2], [(p.returncode, err) for p, _, err in results]
    (loser_err,) = [err for p, _, err in results if p.returncode == 2]
    (line,) = [ln for ln in loser_err.splitlines() if ln.startswith("Error: ")]
    assert "another pmo-jira run" in line and "--wait" in line and "Traceback" not in loser_err
    comments = Counter(len(owned_comments(slow_site, r.key)) for r in slow_site.store.issues)
    assert max(comments) == 1  # exactly one owned comment wherever there is one


def test_with_wait_the_second_run_queues_and_then_has_nothing_to_write(slow_site, tmp_path):
    results = _start_two(slow_site, tmp_path, "--wait")
    assert [p.returncode for p, _, _ in results] == [0, 0], [err for _, _, err in results]
    outputs = sorted(out for _, out, _ in results)
    assert any("0 issues to write (0 writes)" in out for out in outputs)
    posted = [w for w in writes(slow_site) if w.method == "POST" and w.path.endswith("/comment")]
    assert len(posted) == len({w.path for w in posted})  # no issue got two comments
