"""A run lock, so two overlapping scheduled runs never write to Jira at the same time.

Built on the ``filelock`` library rather than hand-rolled: it is widely used and maintained,
works the same on Linux, macOS and Windows, and uses OS-level locks (``fcntl.flock`` /
``msvcrt.locking``) that the kernel releases when the holding process dies, so a crashed or
killed run never leaves a stale lock behind (the lock file itself may stay; it is not the lock).

Next to the lock file, ``<lock>.json`` records who holds it (pid, host, start time) so the second
run can say whom it is waiting for. That side file is informational only: the OS lock decides.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import filelock

from pmo_jira.errors import LockError
from pmo_jira.private_files import replace_file

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class RunLock:
    """Exclusive lock on ``path`` for the duration of a ``with`` block.

    ``wait=False``: raise ``LockError`` at once when another run holds the lock.
    ``wait=True``: queue behind it, at most ``timeout`` seconds (None: as long as it takes).
    """

    def __init__(self, path: str | os.PathLike[str], *, wait: bool = False, timeout: float | None = None,
                 clock: Callable[[], datetime] = _utcnow, poll_interval: float = 0.05):
        self.path = Path(path)
        self.info_path = self.path.with_name(self.path.name + ".json")
        self.wait, self.timeout, self.clock = wait, timeout, clock
        self._lock = filelock.FileLock(str(self.path), thread_local=False, poll_interval=poll_interval)

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LockError(f"cannot create the folder of the run lock {self.path.parent}: {exc.strerror}") from None
        try:
            try:
                self._lock.acquire(timeout=0)
            except filelock.Timeout:
                holder = self.holder()
                who = f"another pmo-jira run ({_describe(holder)})" if holder else "another pmo-jira run"
                if not self.wait:
                    raise LockError(f"{who} holds {self.path}; use --wait to queue behind it") from None
                log.info("waiting for the run lock %s held by %s", self.path, who)
                try:
                    self._lock.acquire(timeout=-1 if self.timeout is None else self.timeout)
                except filelock.Timeout:
                    raise LockError(f"{who} still holds {self.path} after waiting {self.timeout:g}s") from None
        except OSError as exc:
            raise LockError(f"cannot open the run lock {self.path}: {exc.strerror}") from None
        self._write_holder()

    def release(self) -> None:
        try:
            with contextlib.suppress(OSError):  # the note is informational (see _write_holder)
                self.info_path.unlink(missing_ok=True)
        finally:
            self._lock.release()

    @property
    def is_locked(self) -> bool:
        return self._lock.is_locked

    def holder(self) -> dict[str, Any] | None:
        """Who holds (or last held) the lock, as written by that run; None when unknown."""
        try:
            data = json.loads(self.info_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write_holder(self) -> None:
        """Say who holds the lock. Informational only, so a side file that cannot be written (a
        full disk, a read-only folder) is a warning: the lock itself is held."""
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": self.clock().isoformat()}
        try:
            replace_file(self.info_path, json.dumps(info))
        except OSError as exc:
            log.warning("cannot write %s (who holds the run lock): %s; a run waiting for it will "
                        "not know whom it waits for", self.info_path, exc.strerror or exc)

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _describe(holder: dict[str, Any]) -> str:
    started = holder.get("started")
    try:
        when = datetime.fromisoformat(str(started)).strftime("%Y-%m-%d %H:%M %Z").strip()
    except ValueError:
        when = str(started)
    return f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started {when}"
