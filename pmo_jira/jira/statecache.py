"""A local copy of issue properties (and of epics' histories), valid while the issue's ``updated`` stays what it was.

Data Center's search cannot return issue properties (JRASERVER-62898), so without this every
audit and sync reads pmo-jira's sync state with one GET per labelled issue. Jira advances an
issue's ``updated`` on every change to it (fields, comments, properties), so a property value
read together with the ``updated`` it was read at stays true until ``updated`` moves:

* after writing an issue, the client reads ``updated`` and the property back in one request and
  keeps both (the value pmo-jira last saw after its own write);
* a search that shows the issue with that same ``updated`` takes the kept value, with no request;
* any other ``updated`` (a person edited the issue, another tool wrote the property) means the
  property is read again, and the new pair kept.

The cache is a SQLite file (by default ``pmo-jira-state.sqlite`` next to the history database;
setting ``state_cache``). Losing it costs requests, never correctness; a file that cannot be
opened or written turns the cache off for the run with one warning.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pmo_jira.private_files import create_private

log = logging.getLogger("pmo_jira.jira")

_ABSENT = "\0absent"  # stored for "the issue has no such property" (a 404), which is worth keeping too
_SCHEMA = """CREATE TABLE IF NOT EXISTS issue_property (
    site TEXT NOT NULL, issue TEXT NOT NULL, property TEXT NOT NULL,
    updated TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (site, issue, property))"""
_BATCH = 500  # keys per lookup: well inside SQLite's limit on bound parameters


class PropertyCache:
    """Issue property values per (site, issue key, property), each valid for one ``updated``."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _conn(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                create_private(self.path)  # it holds site data
                db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=OFF")  # a cache: a lost write costs one request later
                db.execute(_SCHEMA)
                self._db = db
            except (sqlite3.Error, OSError) as exc:
                self._off(exc)
                return None
        return self._db

    def _off(self, exc: BaseException) -> None:
        self._broken = True
        log.warning("state cache %s is not usable (%s); reading the sync state and the epics' histories from Jira instead",
                    self.path, exc)

    def lookup(self, site: str, prop: str, issues: Iterable[tuple[str, str]],
               decode: Callable[[Any], Any] | None = None) -> dict[str, tuple[bool, Any]]:
        """For each ``(key, updated)`` still current in the cache: key -> (present, value).

        ``decode`` turns each value as it is read into what the caller keeps (a value it gives as
        None is a miss), so thousands of large values are never all held as JSON at once."""
        wanted = dict(issues)
        out: dict[str, tuple[bool, Any]] = {}
        with self._lock:
            db = self._conn()
            if db is None or not wanted:
                return out
            keys = list(wanted)
            try:
                for i in range(0, len(keys), _BATCH):
                    part = keys[i:i + _BATCH]
                    rows = db.execute(
                        f"SELECT issue, updated, value FROM issue_property WHERE site = ? AND property = ? "
                        f"AND issue IN ({', '.join('?' * len(part))})", [site, prop, *part]).fetchall()
                    for issue, updated, value in rows:
                        if wanted.get(issue) != updated:
                            continue
                        if value == _ABSENT:
                            out[issue] = (False, None)
                        elif decode is None:
                            out[issue] = (True, json.loads(value))
                        elif (kept := decode(json.loads(value))) is not None:
                            out[issue] = (True, kept)
            except (sqlite3.Error, ValueError) as exc:
                self._off(exc)
                return {}
        return out

    def store(self, site: str, prop: str, key: str, updated: str, present: bool, value: Any = None) -> None:
        """Keep ``value`` (or its absence) as the property of ``key`` at ``updated``."""
        with self._lock:
            db = self._conn()
            if db is None:
                return
            try:
                db.execute("INSERT OR REPLACE INTO issue_property VALUES (?, ?, ?, ?, ?)",
                           (site, key, prop, updated, json.dumps(value) if present else _ABSENT))
            except (sqlite3.Error, TypeError, ValueError) as exc:
                self._off(exc)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
