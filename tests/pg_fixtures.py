"""A throw-away PostgreSQL server for the history tests, and one history target per test.

Import what you use: ``from pg_fixtures import postgres, history_url``. ``postgres`` starts
one server per test process (``initdb`` + ``pg_ctl`` in a temporary folder, 127.0.0.1 on a free
port, password authentication) from PostgreSQL's binaries on PATH or in
/usr/lib/postgresql/*/bin. initdb refuses to run as root, so as root the server runs as the
``postgres`` account (created by the Debian package) via ``runuser``.

Without the binaries the tests skip with one line, unless ``PMO_JIRA_REQUIRE_POSTGRES=1``
(set by ``.ci/run``), where a missing server is a failure.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRE_VAR = "PMO_JIRA_REQUIRE_POSTGRES"
PASSWORD = "pmo-test-" + uuid.uuid4().hex[:12]
USER = "pmo"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    user: str
    password: str

    def url(self, database: str) -> str:
        """A history URL as a user writes it: no password (that comes from the environment)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def env(self) -> dict[str, str]:
        return {"PMO_JIRA_HISTORY_PASSWORD": self.password}

    def create_database(self) -> str:
        import psycopg

        name = "h_" + uuid.uuid4().hex[:16]
        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl (the newest installed version), or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _missing(reason: str) -> None:
    if os.environ.get(REQUIRE_VAR) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_VAR}=1 requires a PostgreSQL server", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path) -> tuple[PostgresServer, list[str], Path]:
    """Start a server with its data in ``folder``; returns it, the command prefix and pg_ctl."""
    bindir = postgres_bin()
    if bindir is None:
        _missing("initdb/pg_ctl not found (install the postgresql package)")
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            _missing("running as root and there is no 'postgres' account to run the server as")
        runuser = shutil.which("runuser")
        as_user = [runuser, "-u", "postgres", "--"] if runuser else ["su", "postgres", "-s", "/bin/sh", "-c"]
        os.chown(folder, account.pw_uid, account.pw_gid)
    pwfile = folder / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, pwd.getpwnam("postgres").pw_uid, -1)

    def run(*args: str) -> None:
        argv = [*as_user, *args] if as_user[:1] != ["su"] else [*as_user, shlex.join(args)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=folder)
        if done.returncode != 0:
            log = folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()} {tail}")

    data = folder / "data"
    run(str(bindir / "initdb"), "-D", str(data), "-U", USER, "--auth=scram-sha-256",
        f"--pwfile={pwfile}", "--locale=C", "-E", "UTF8", "--no-sync")
    port = _free_port()
    pg_ctl = bindir / "pg_ctl"
    run(str(pg_ctl), "-D", str(data), "-l", str(folder / "server.log"), "-w", "-t", "60",
        "-o", f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
              "-c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start")
    return PostgresServer(port, USER, PASSWORD), as_user, pg_ctl


def stop_server(folder: Path, as_user: list[str], pg_ctl: Path) -> None:
    argv = [str(pg_ctl), "-D", str(folder / "data"), "-m", "immediate", "stop"]
    argv = [*as_user, *argv] if as_user[:1] != ["su"] else [*as_user, shlex.join(argv)]
    subprocess.run(argv, capture_output=True, timeout=60, cwd=folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A running PostgreSQL server for this test process (skips, or fails in CI, without one)."""
    folder = Path(tempfile.mkdtemp(prefix="pmo-jira-pg-"))
    try:
        server, as_user, pg_ctl = start_server(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    yield server
    stop_server(folder, as_user, pg_ctl)


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request, tmp_path, monkeypatch) -> str:
    """A fresh, empty history: a SQLite file, then a PostgreSQL database (password from the env)."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite")
    server: PostgresServer = request.getfixturevalue("postgres")
    for var, value in server.env().items():
        monkeypatch.setenv(var, value)
    return server.url(server.create_database())
