"""Two `sync --apply` runs of one site with different lock files but one PostgreSQL history:
the site's lock in the shared history stops the second; no issue gets a second owned comment."""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest

from pmo_jira.errors import LockError
from pmo_jira.history import HistoryStore
from pmo_jira.run import RunEvents, RunRequest, run_sync_command
from pmo_jira.sandbox.faults import Faults
from pmo_jira.sandbox.server import SandboxServer
from pmo_jira.settings import load_settings

from cli_fixtures import PINNED_NOW, owned_comments, run_subprocess, site_env, writes


@pytest.fixture(autouse=True)
def _password(postgres, monkeypatch):
    for var, value in postgres.env().items():
        monkeypatch.setenv(var, value)


@pytest.fixture
def slow_site():
    # Every request answers after 25 ms, so one run lasts well over a second: the runs overlap.
    # search_lag=0: the second run is another process; by the time it reads, Cloud's index has
    # caught up with the first one's writes (a lag counted in writes never would).
    with SandboxServer("cloud", issues=150, seed=5, faults=Faults(rate_slow=1.0, slow_seconds=0.025),
                       search_lag=0) as sb:
        yield sb


def _env(sb, postgres, url, tmp_path, n):
    # separate lock files (two machines, or two configs): only the shared history can tell
    return {**site_env(sb), **postgres.env(), "PMO_JIRA_HISTORY": url,
            "PMO_JIRA_LOCK": str(tmp_path / f"runner{n}" / "pmo-jira.lock"), "PMO_JIRA_NOW": PINNED_NOW}


def _start_two(sb, postgres, tmp_path, *extra):
    url = postgres.url(postgres.create_database())
    with HistoryStore(url, migrate=True):  # as `pmo-jira history migrate` before the runners
        pass
    procs = [run_subprocess(["sync", "--apply", *extra], _env(sb, postgres, url, tmp_path, n), tmp_path)
             for n in range(2)]
    return url, [(p, *p.communicate(timeout=120)) for p in procs]


def test_second_runner_is_refused_and_writes_nothing(slow_site, postgres, tmp_path):
    url, results = _start_two(slow_site, postgres, tmp_path)
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes == [0, 2], [(p.returncode, err) for p, _, err in results]
    (loser_err,) = [err for p, _, err in results if p.returncode == 2]
    (line,) = [ln for ln in loser_err.splitlines() if ln.startswith("Error: ")]
    assert "another pmo-jira run (pmo-jira pid" in line and "--wait" in line
    assert f"site jira ({slow_site.url}) in the shared history {url}" in line
    assert postgres.password not in loser_err
    assert max(Counter(len(owned_comments(slow_site, r.key)) for r in slow_site.store.issues)) == 1
    with HistoryStore(url) as store:
        assert [r.kind for r in store.runs(None)] == ["sync"]


def test_with_wait_the_second_runner_queues_and_has_nothing_left_to_write(slow_site, postgres, tmp_path):
    url, results = _start_two(slow_site, postgres, tmp_path, "--wait")
    assert [p.returncode for p, _, _ in results] == [0, 0], [err for _, _, err in results]
    assert any("0 issues to write (0 writes)" in out for _, out, _ in results)
    posted = [w for w in writes(slow_site) if w.method == "POST" and w.path.endswith("/comment")]
    assert len(posted) == len({w.path for w in posted})  # no issue got two comments
    with HistoryStore(url) as store:
        assert len(store.runs(None)) == 2


def test_a_killed_runner_leaves_no_stale_lock(slow_site, postgres, tmp_path):
    url = postgres.url(postgres.create_database())
    first = run_subprocess(["sync", "--apply"], _env(slow_site, postgres, url, tmp_path, 0), tmp_path)
    deadline = time.monotonic() + 60
    while not any(w.method == "PUT" for w in writes(slow_site)) and time.monotonic() < deadline:
        time.sleep(0.05)  # until it is writing, under the lock
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    second = run_subprocess(["sync", "--apply"], _env(slow_site, postgres, url, tmp_path, 1), tmp_path)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err


class _CutTheLockWhilePlanning(RunEvents):
    """The database drops the runner's connections after the read, before the writes (a restart,
    a failover): its site lock goes with them."""

    def __init__(self, postgres) -> None:
        self.postgres = postgres

    def planned(self, plan) -> None:
        import psycopg

        pg = self.postgres
        with psycopg.connect(host="127.0.0.1", port=pg.port, user=pg.user, password=pg.password,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE application_name LIKE 'pmo-jira pid %'")


def test_a_run_that_lost_its_site_lock_writes_nothing(sandbox, postgres, monkeypatch, tmp_path):
    fresh_cloud = sandbox("cloud", issues=60, seed=11)
    for var, value in site_env(fresh_cloud).items():
        monkeypatch.setenv(var, value)
    url = postgres.url(postgres.create_database())
    settings = load_settings(env={**site_env(fresh_cloud), "PMO_JIRA_HISTORY": url,
                                  "PMO_JIRA_LOCK": str(tmp_path / "pmo-jira.lock")}, cwd=tmp_path)
    with pytest.raises(LockError, match=r"the lock of site jira \(.*\) in the shared history .* was lost before "
                                        r"writing .*nothing was written"):
        run_sync_command(settings, RunRequest("sync"), apply=True, events=_CutTheLockWhilePlanning(postgres))
    assert writes(fresh_cloud) == []
    res = run_sync_command(settings, RunRequest("sync"), apply=True)  # the next run syncs as usual
    assert res.exit_code == 0 and res.applied.applied > 0


def test_a_lock_knows_whether_it_is_still_held(postgres):
    from pmo_jira.history.database import parse_target
    from pmo_jira.history.site_lock import SiteLock, site_lock_id
    from pmo_jira.settings import SiteSettings

    # ids of both signs: pg_locks shows the halves of a key as unsigned numbers
    sites = [SiteSettings(name=f"s{n}", url=f"https://jira{n}.example.com") for n in range(8)]
    assert {site_lock_id(s) < 0 for s in sites} == {True, False}
    with SiteLock(parse_target(postgres.url("postgres")), sites) as lock:
        lock.check()
        _CutTheLockWhilePlanning(postgres).planned(None)
        with pytest.raises(LockError, match=r"the locks of sites s0 \(https://jira0.example.com\), s1 .*, s7 \(https://jira7.example.com\) "
                                                r"in the shared history .* were lost before writing"):
            lock.check()


def test_the_server_lets_a_vanished_runners_lock_go_within_a_minute(postgres):
    import sqlalchemy as sa

    from pmo_jira.history.database import parse_target
    from pmo_jira.history.site_lock import SiteLock
    from pmo_jira.settings import SiteSettings

    # A machine that vanishes closes no connection; the server finds out by probing the silent
    # connection (what a test cannot cut without root), as the lock's session asks it to.
    with SiteLock(parse_target(postgres.url("postgres")), [SiteSettings(name="s", url="https://j.example.com")]) as lock:
        probing = dict(lock._conn.execute(sa.text(
            "SELECT name, setting FROM pg_settings WHERE name LIKE 'tcp_keepalives_%'")).all())
    idle, interval, count = (int(probing[f"tcp_keepalives_{k}"]) for k in ("idle", "interval", "count"))
    assert 0 < idle + interval * count <= 60


def test_a_databases_idle_session_timeout_does_not_end_the_lock_while_the_run_reads(postgres):
    import psycopg

    from pmo_jira.history.database import parse_target
    from pmo_jira.history.site_lock import SiteLock
    from pmo_jira.settings import SiteSettings

    name = postgres.create_database()
    with psycopg.connect(host="127.0.0.1", port=postgres.port, user=postgres.user, password=postgres.password,
                         dbname="postgres", autocommit=True) as conn:  # a DBA ends idle sessions after 1 s
        conn.execute(f"ALTER DATABASE \"{name}\" SET idle_session_timeout = '1s'")
    with SiteLock(parse_target(postgres.url(name)), [SiteSettings(name="s", url="https://j.example.com")]) as lock:
        time.sleep(2.5)  # the run reads Jira; the lock's session sits idle
        lock.check()


def test_wait_timeout_bounds_the_waits_for_both_locks_together(sandbox, postgres, monkeypatch, tmp_path):
    """--wait-timeout 2 with the run lock freed after about one second and the site busy elsewhere
    gives up two seconds after the start, not one second plus two more for the site."""
    import threading

    from pmo_jira.history.site_lock import SiteLock
    from pmo_jira.runlock import RunLock

    site = sandbox("cloud", issues=20, seed=11)
    url = postgres.url(postgres.create_database())
    settings = load_settings(env={**site_env(site), "PMO_JIRA_HISTORY": url,
                                  "PMO_JIRA_LOCK": str(tmp_path / "pmo-jira.lock")}, cwd=tmp_path)
    run_lock = RunLock(tmp_path / "pmo-jira.lock")
    run_lock.acquire()
    freed = threading.Timer(1.0, run_lock.release)
    with HistoryStore(url, migrate=True) as store:  # as `pmo-jira history migrate` before the runners
        target = store.target
    with SiteLock(target, settings.sites):  # another runner syncs the site
        freed.start()
        try:
            with pytest.raises(LockError, match=r"still holds site jira .* after waiting") as refused:
                run_sync_command(settings, RunRequest("sync", wait=True, wait_timeout=2.0), apply=True)
        finally:
            freed.join()
    waited = float(str(refused.value).rsplit("after waiting ", 1)[1].rstrip("s"))
    assert waited < 2.0  # what the run lock left of the two seconds
    assert writes(site) == []
