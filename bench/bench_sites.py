"""Wall time of one audit over 4 sites read at once (sites_at_once = 4) against one at a time.

Four sandbox sites, each answering every request after a fixed delay (``--latency``, as a
remote Jira does), audited in-process by the run layer with the sites read in series and then
concurrently, alternating ``--repeat`` times; medians reported side by side.

    python bench/bench_sites.py                      # 4 x 2,000 issues, 30 ms per request
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pmo_jira.run.command import run_now
from pmo_jira.run.sites import audit_sites
from pmo_jira.sandbox.faults import Faults
from pmo_jira.sandbox.generator import REFERENCE_NOW
from pmo_jira.sandbox.server import SandboxServer
from pmo_jira.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    names = ["s1", "s2", "s3", "s4"]
    servers = [SandboxServer("cloud", issues=args.issues, seed=i + 1,
                             faults=Faults(rate_slow=1.0, slow_seconds=args.latency)).start()
               for i in range(len(names))]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "pmo-jira.toml"
            config.write_text(f'mapping = "{ROOT / "mappings" / "sandbox.yaml"}"\n' + "".join(
                f'[sites.{n}]\nurl = "{sb.url}"\nflavour = "cloud"\nemail = "pmo-bot@example.com"\n'
                f'token_env = "TOKEN"\n' for n, sb in zip(names, servers)))
            env = {"HOME": tmp, "TOKEN": servers[0].credentials.token}
            os.environ["TOKEN"] = servers[0].credentials.token  # the clients read tokens from here
            now = run_now({"PMO_JIRA_NOW": REFERENCE_NOW.isoformat()})
            walls: dict[int, list[float]] = {1: [], 4: []}
            for _ in range(args.repeat):
                for at_once in (1, 4):
                    settings = load_settings(config, env={**env, "PMO_JIRA_SITES_AT_ONCE": str(at_once)})
                    t0 = time.perf_counter()
                    audited = audit_sites(settings, now=now)
                    walls[at_once].append(time.perf_counter() - t0)
                    assert not audited.result.site_errors, audited.result.site_errors
        series, together = statistics.median(walls[1]), statistics.median(walls[4])
        print(f"4 sites x {args.issues:,} issues, {args.latency * 1000:.0f} ms per request, median of {args.repeat}: "
              f"in series {series:.2f} s, at once {together:.2f} s ({series / together:.1f}x faster)")
    finally:
        for sb in servers:
            sb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
