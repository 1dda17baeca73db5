"""Cost of a full read through JiraClient against the in-process sandbox.

Prints, per flavour and site size: issues read, search requests (expected ceil(N / page size)),
total requests, wall time and the peak memory traced while paging. The pages are consumed and
dropped as they arrive, so the peak should stay flat as N grows; the sandbox's data is built
before tracing starts, but its per-request work runs in this process and is included.

    /work/venv/bin/python bench/bench_client_paging.py [--sizes 2000,10000] [--page-size 100]
"""

from __future__ import annotations

import argparse
import math
import time
import tracemalloc

from pmo_jira.jira.client import JiraClient
from pmo_jira.sandbox.server import SandboxServer

FIELDS = ["summary", "status", "issuetype", "assignee", "labels", "updated", "created", "parent"]


def measure(flavour: str, size: int, page_size: int) -> dict:
    with SandboxServer(flavour=flavour, issues=size, seed=1) as sb:
        client = JiraClient(sb.url, sb.credentials, page_size=page_size)
        keys = [p["key"] for p in client.projects()]
        before = client.requests_made
        sb.log.clear()
        tracemalloc.start()
        started = time.perf_counter()
        read = 0
        for page in client.search_pages(f"project in ({', '.join(keys)})", FIELDS):
            read += len(page)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {"flavour": flavour, "issues": read, "search_requests": sb.log.count(path=r"/search"),
                "expected": math.ceil(read / page_size), "requests": client.requests_made - before,
                "seconds": elapsed, "peak_kib": peak / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    print(f"{'flavour':7} {'issues':>7} {'search req':>10} {'ceil(N/p)':>9} {'all req':>7} {'seconds':>8} {'peak KiB':>9}")
    for flavour in ("cloud", "dc"):
        for size in (int(s) for s in args.sizes.split(",")):
            r = measure(flavour, size, args.page_size)
            print(f"{r['flavour']:7} {r['issues']:>7} {r['search_requests']:>10} {r['expected']:>9} "
                  f"{r['requests']:>7} {r['seconds']:>8.2f} {r['peak_kib']:>9.0f}")


if __name__ == "__main__":
    main()
