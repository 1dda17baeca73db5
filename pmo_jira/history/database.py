"""Where the run history lives and how to connect to it: a SQLite file or a PostgreSQL URL.

One code path through SQLAlchemy Core serves both. SQLite (the default, one machine) runs in
WAL mode so readers never wait for a writer, and takes its write lock up front (``BEGIN
IMMEDIATE``) so writers queue instead of failing half-way. PostgreSQL (several runners sharing
one history) is selected with ``history = "postgresql://user@host/db"``; its password comes from
``PMO_JIRA_HISTORY_PASSWORD``, ``PGPASSWORD``, libpq's ``~/.pgpass`` or the system keyring, never
from the URL: config files end up in repositories and ConfigMaps, and ``--db`` in process lists.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.errors
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from pmo_jira.errors import PmoError

log = logging.getLogger(__name__)

PASSWORD_VAR = "PMO_JIRA_HISTORY_PASSWORD"
KEYRING_SERVICE = "pmo-jira"
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


@dataclass(frozen=True)
class HistoryTarget:
    """A parsed history location: ``path`` for SQLite, ``url`` (no password) for PostgreSQL."""

    path: Path | None = None
    url: URL | None = None

    @property
    def is_postgres(self) -> bool:
        return self.url is not None

    def __str__(self) -> str:
        """How messages name it: the file, or the URL without any password."""
        if self.path is not None:
            return str(self.path)
        return self.url.set(drivername="postgresql").render_as_string(hide_password=True)

    @property
    def keyring_user(self) -> str:
        """The keyring entry of a PostgreSQL history's password: its URL without the password."""
        return f"history {self}"


def advisory_lock_id(name: str) -> int:
    """A stable signed 64-bit id for a PostgreSQL advisory lock named ``name``."""
    return int.from_bytes(hashlib.sha256(("pmo-jira " + name).encode()).digest()[:8], "big", signed=True)


def password_in_url(text: str) -> bool:
    """True when ``text`` is a database URL that carries a password (``user:secret@host``)."""
    if "://" not in text or text.startswith("sqlite"):
        return False
    try:
        return make_url(text).password is not None
    except (sa.exc.ArgumentError, ValueError):
        return False


def parse_target(text: str) -> HistoryTarget:
    """A history setting (a path, ``sqlite:///path`` or ``postgresql://user@host/db``) parsed."""
    if text.startswith("sqlite:///"):
        return HistoryTarget(path=Path(text[len("sqlite:///"):]).expanduser())
    if "://" not in text:
        return HistoryTarget(path=Path(text).expanduser())
    scheme = text.split("://", 1)[0].lower()
    if scheme not in _POSTGRES_SCHEMES:
        raise PmoError(f"history {text.split('://', 1)[0]}://...: not a supported history database "
                       "(a SQLite file path, sqlite:///path or postgresql://user@host/db)")
    try:
        url = make_url(text)
    except (sa.exc.ArgumentError, ValueError):
        raise PmoError(f"history {scheme}://...: not a valid database URL "
                       "(e.g. postgresql://pmo@db.example.com:5432/pmo)") from None
    if url.password is not None:
        raise PmoError(f"history {url.render_as_string(hide_password=True)}: a password in the URL "
                       f"is refused (remove it; set {PASSWORD_VAR} or PGPASSWORD, or store it with "
                       "`pmo-jira login --history`)")
    if not url.database:
        raise PmoError(f"history {url.render_as_string(hide_password=True)}: the URL names no "
                       "database (postgresql://user@host/DATABASE)")
    return HistoryTarget(url=url.set(drivername="postgresql+psycopg"))


def find_password(target: HistoryTarget, env: Mapping[str, str] | None = None) -> str | None:
    """The PostgreSQL password: environment first (unattended runs), then the keyring.

    None lets libpq look further (``PGPASSFILE`` / ``~/.pgpass``, or no password for trust and
    certificate authentication).
    """
    env = os.environ if env is None else env
    for var in (PASSWORD_VAR, "PGPASSWORD"):
        if env.get(var):
            return env[var]
    try:
        return keyring.get_password(KEYRING_SERVICE, target.keyring_user) or None
    except keyring.errors.KeyringError:
        return None


def store_password(target: HistoryTarget, password: str) -> None:
    """Keep a PostgreSQL history's password in the system keyring (``pmo-jira login --history``)."""
    backend = keyring.get_keyring()
    if getattr(backend, "priority", 1) <= 0:
        raise PmoError("no system keyring is available on this machine "
                       f"(set {PASSWORD_VAR} in the environment instead)")
    try:
        keyring.set_password(KEYRING_SERVICE, target.keyring_user, password)
    except keyring.errors.KeyringError as exc:
        raise PmoError(f"the system keyring refused the password: {type(exc).__name__} "
                       f"(set {PASSWORD_VAR} in the environment instead)") from None


def make_engine(target: HistoryTarget, *, timeout: float = 10.0) -> Engine:
    """An engine for ``target``; nothing is connected yet."""
    if target.path is not None:
        return _sqlite_engine(target.path, timeout)
    try:
        import psycopg  # noqa: F401 - only to turn a missing driver into one line
    except ImportError:
        raise PmoError(f"history {target}: PostgreSQL needs the psycopg driver "
                       "(pip install 'pmo-jira[postgresql]')") from None
    from pmo_jira.logs import register_secret

    password = find_password(target)
    if password:
        register_secret(password)
    url = target.url.set(password=password) if password else target.url
    return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": max(1, int(timeout))})


def _sqlite_engine(path: Path, timeout: float) -> Engine:
    engine = sa.create_engine(URL.create("sqlite+pysqlite", database=str(path)),
                              connect_args={"timeout": timeout})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Our own BEGIN (below) instead of the driver's implicit one, so that writes can take
        # the lock up front and DDL in migrations is transactional.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("write"):
            _begin_write(conn, path, timeout)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


WRITE_WAIT = 900.0
"""How long a write to a SQLite history queues behind another process's. Recording a run of
100,000 issues holds the write lock for 5 to 12 s (bench/README.md), so per-site jobs started
together on one machine queue; the busy timeout alone gave up after 10 s."""


def _begin_write(conn: Connection, path: Path, timeout: float) -> None:
    """``BEGIN IMMEDIATE``, queueing behind another run's write for up to ``WRITE_WAIT`` seconds
    in short tries: one long wait inside SQLite would not return to Python, so SIGTERM or Ctrl-C
    would go unheard until it ended. A run winding down after a stop signal does not queue: its
    record is given up, with a warning, rather than delay the exit."""
    from pmo_jira import interrupt

    sqlite = conn.connection.dbapi_connection
    assert sqlite is not None
    started = time.monotonic()
    said = False
    sqlite.execute("PRAGMA busy_timeout = 100")
    try:
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except sa.exc.OperationalError as exc:
                if "locked" not in str(exc.orig) or time.monotonic() - started >= WRITE_WAIT \
                        or interrupt.STOP.is_set():  # a stopped run's record does not wait
                    raise
            if not said and time.monotonic() - started >= 1:
                log.info("history %s: waiting for another run to finish writing to it", path)
                said = True
            time.sleep(0.1)  # a stop signal raises here
    finally:
        sqlite.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")


@contextmanager
def database_errors(target: HistoryTarget) -> Iterator[None]:
    """Any database failure becomes one line that names the history (never its password)."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        detail = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
        if target.is_postgres and exc.connection_invalidated or (
                target.is_postgres and isinstance(exc, sa.exc.OperationalError) and "connect" in detail):
            raise PmoError(f"history database {target}: cannot connect: {detail}") from None
        raise PmoError(f"history database {target} is unusable: {detail}{_sqlite_hint(target, detail)}") from None
    except sa.exc.SQLAlchemyError as exc:
        raise PmoError(f"history database {target} is unusable: {' '.join(str(exc).split())}") from None


def _sqlite_hint(target: HistoryTarget, detail: str) -> str:
    """The fix for a SQLite history's failure. Only a damaged file is worth moving aside (a new
    history starts without the runs it held); a full disk or a read-only file is fixed where it is."""
    if target.path is None:
        return ""
    text = detail.lower()
    if "disk is full" in text:
        return f" (free space on the disk of {target.path.parent}; the history is kept as it was)"
    if "readonly" in text or "read-only" in text:
        return (f" (make {target.path} and its folder writable by this account, or set "
                "PMO_JIRA_HISTORY to a writable place)")
    if "unable to open" in text and target.path.is_dir():
        return f" (that is a folder: name a file in it, e.g. {target.path / 'history.sqlite'})"
    if "unable to open" in text:
        return (f" (this account must be able to write to {target.path.parent}: SQLite keeps its "
                "-wal and -shm files next to the history)")
    if "not a database" in text or "malformed" in text:
        return " (move the file aside to start a new history)"
    return ""

