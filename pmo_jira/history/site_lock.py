"""A lock per Jira site in the shared PostgreSQL history, so runners anywhere never sync one site at once.

The run lock file (``runlock.py``) only stops runs that see the same file. Runners on several
machines, or with different lock paths, that share a PostgreSQL history take a PostgreSQL
advisory lock per site instead (as well). It is session-level: held by a connection kept open
for the run, and released by the server the moment that connection ends, so a crashed or killed
runner never leaves a stale lock; nor, within about a minute (TCP keepalives), does one whose
machine vanished without closing it. The lock is keyed by the site's URL, not its name, because two
configs may name one site differently.

Sites are locked in URL order, so two runs over overlapping sites cannot deadlock.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pmo_jira.errors import LockError, PmoError
from pmo_jira.history.database import HistoryTarget, advisory_lock_id, database_errors, make_engine
from pmo_jira.settings import SiteSettings

log = logging.getLogger(__name__)


KEEPALIVES = {"tcp_keepalives_idle": "30", "tcp_keepalives_interval": "10", "tcp_keepalives_count": "3"}
"""The server asks after a silent runner every 30 s and lets its lock go after three unanswered
probes: a runner whose machine vanished (power cut, lost node, network cut) sends no goodbye,
and with the kernel's defaults its lock would be held for more than two hours. A live runner's
kernel answers the probes however busy the run is."""


def site_lock_id(site: SiteSettings) -> int:
    return advisory_lock_id("site " + site.url.rstrip("/").lower())


class SiteLock:
    """Hold the advisory lock of every site in ``sites`` for the duration of a ``with`` block.

    ``wait=False``: raise ``LockError`` at once when another run holds one of them.
    ``wait=True``: queue, at most ``timeout`` seconds (None: as long as it takes).
    """

    def __init__(self, target: HistoryTarget, sites: Sequence[SiteSettings], *, wait: bool = False,
                 timeout: float | None = None, poll_interval: float = 0.2):
        self.target, self.wait, self.timeout, self.poll_interval = target, wait, timeout, poll_interval
        self.sites = sorted({s.url.rstrip("/").lower(): s for s in sites}.values(), key=site_lock_id)
        self._engine: Engine | None = None
        self._conn: Connection | None = None

    def acquire(self) -> None:
        try:
            with database_errors(self.target):
                self._engine = make_engine(self.target)
                self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                settings = {"application_name": f"pmo-jira pid {os.getpid()} on {socket.gethostname()}"[:63],
                            **KEEPALIVES}
                if (self._conn.dialect.server_version_info or (0,)) >= (14,):
                    # a DBA's idle_session_timeout (PostgreSQL 14+) would end this session, idle
                    # while the run reads Jira, and the lock with it
                    settings["idle_session_timeout"] = "0"
                self._conn.execute(sa.select(*(sa.func.set_config(name, value, False)
                                               for name, value in settings.items())))
        except PmoError as exc:  # why a run asked for no history still needs the database
            self.release()
            names = ", ".join(s.name for s in sorted(self.sites, key=lambda s: s.name))
            raise PmoError(f"cannot lock site{'s' if len(self.sites) > 1 else ''} {names} in the shared history "
                           f"(a sync locks its sites there before it reads Jira, also with --no-history): "
                           f"{exc.one_line()}") from None
        with database_errors(self.target):
            try:
                for site in self.sites:
                    self._lock(site)
            except BaseException:
                self.release()
                raise

    def _lock(self, site: SiteSettings) -> None:
        assert self._conn is not None
        key = site_lock_id(site)
        if self._try(key):
            return
        who = self._holder(key)
        where = f"site {site.name} ({site.url}) in the shared history {self.target}"
        if not self.wait:
            raise LockError(f"another pmo-jira run ({who}) is syncing {where}; use --wait to queue behind it")
        log.info("waiting for %s, held by %s", where, who)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while not self._try(key):
            if deadline is not None and time.monotonic() >= deadline:
                raise LockError(f"another pmo-jira run ({who}) still holds {where} after waiting "
                                f"{self.timeout:g}s")
            time.sleep(self.poll_interval)

    def _try(self, key: int) -> bool:
        assert self._conn is not None
        return bool(self._conn.execute(sa.select(sa.func.pg_try_advisory_lock(key))).scalar())

    def _holder(self, key: int) -> str:
        """Who holds the lock, as its connection names itself."""
        assert self._conn is not None
        unsigned = key & 0xFFFFFFFFFFFFFFFF
        row = self._conn.execute(sa.text(
            "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l"
            " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1"),
            {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}).first()
        if row is None:
            return "holder unknown"
        since = row[2].strftime("%Y-%m-%d %H:%M %Z").strip() if row[2] else "?"
        return f"{row[0] or 'unnamed'}, connected since {since}"

    def check(self) -> None:
        """LockError unless this run still holds every site's lock. The lock lives as long as its
        connection: a database restart, a failover or a dropped connection frees it silently, and
        another runner may then take the site. Asked before writing, so such a run writes nothing."""
        if self._conn is None:
            return
        try:
            held = {(int(hi) << 32) | int(lo) for hi, lo in self._conn.execute(sa.text(
                "SELECT classid, objid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND objsubid = 1 AND pid = pg_backend_pid()"))}
        except sa.exc.SQLAlchemyError:
            held = set()
        lost = [s for s in self.sites if site_lock_id(s) & 0xFFFFFFFFFFFFFFFF not in held]
        if lost:
            names = ", ".join(f"{s.name} ({s.url})" for s in sorted(lost, key=lambda s: s.name))
            what, was, it = ("the lock of site", "was", "it") if len(lost) == 1 else ("the locks of sites", "were", "them")
            raise LockError(f"{what} {names} in the shared history {self.target} {was} lost before writing "
                            f"(the database restarted or the connection dropped), so another run may be syncing "
                            f"{it}: nothing was written; run again")

    def release(self) -> None:
        conn, engine = self._conn, self._engine
        self._conn = self._engine = None
        if conn is not None:
            try:
                conn.execute(sa.select(sa.func.pg_advisory_unlock_all()))
            except sa.exc.SQLAlchemyError:
                pass  # the connection is gone: the server freed its locks with it
            conn.close()
        if engine is not None:
            engine.dispose()

    def __enter__(self) -> SiteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
