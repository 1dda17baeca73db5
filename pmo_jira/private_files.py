"""Files pmo-jira creates that hold site data start readable by their owner only.

SQLite creates a database file (and its ``-wal``/``-shm`` files, which take the database's
permissions) with the process umask, usually world-readable. Creating the empty file first with
mode 0600 makes all three private; an existing file keeps the mode an admin gave it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (an empty file is a valid SQLite database)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
