"""scripts/topology.py runs: two site runners at once into one PostgreSQL history, which then
agrees with Jira, and so does the portfolio report rendered from it (skips like the other
PostgreSQL tests where the server's binaries are missing)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from pg_fixtures import _missing, postgres_bin

ROOT = Path(__file__).resolve().parents[1]


def test_two_site_runners_share_one_postgresql_history():
    if postgres_bin() is None:
        _missing("initdb/pg_ctl not found (install the postgresql package)")
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "topology.py")], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Created history postgresql://pmo@127.0.0.1:")
    assert {ln.split(":")[0] for ln in lines[1:3]} == {"runner cloud", "runner dc"}
    assert lines[-2] == "the open findings of every site in the shared history equal those read from Jira"
    assert re.fullmatch(r"the portfolio report from the shared history \(2 sites, [1-9]\d* projects\) equals "
                        r"the one read from Jira \(json, csv\)", lines[-1]), lines[-1]
