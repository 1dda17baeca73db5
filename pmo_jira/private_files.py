"""Files pmo-jira creates that hold site data start readable by their owner only.

SQLite creates a database file (and its ``-wal``/``-shm`` files, which take the database's
permissions) with the process umask, usually world-readable. Creating the empty file first with
mode 0600 makes all three private; an existing file keeps the mode an admin gave it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (an empty file is a valid SQLite database)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole, so a reader never sees half of it: a temporary file in
    the same folder, then a rename over the old one. Raises ``OSError``; leaves no temporary file.

    Only a regular file is replaced. A symlink's target is, the link stays (an admin's link to
    where the monitor reads); a device, pipe or socket (``/dev/null``, ``/dev/stdout``, a FIFO
    a monitor reads) is written in place: renaming over ``/dev/null`` as root would turn it into
    a plain file. A new file is readable by its owner only; an existing one keeps its mode.
    """
    try:
        st: os.stat_result | None = path.stat()
    except FileNotFoundError:  # new, or a symlink to a file not made yet
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    real = Path(os.path.realpath(path))
    real.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}-", dir=real.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        if st is not None:
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
