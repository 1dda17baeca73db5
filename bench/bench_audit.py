"""Audit cost against the floor (plain paging) and a naive script, side by side on one served site.

For each size N a sandbox is served once, in its own process (``pmo-jira sandbox serve``), and
these are measured on it, each in a fresh child process:

* floor -- plain ``requests`` downloading the very pages the audit reads, decoding each page's
  JSON and dropping it. The audit's search requests are captured on the wire in a first audit run.
  Cloud: the first of them (same JQL, fields, properties, page size 100), then following
  ``nextPageToken``. Data Center: every captured request replayed as sent (``startAt`` pages, and
  past the 10,000-issue result window the key windows the client switches to).
* audit -- the real command line, ``pmo-jira audit --format json -o /dev/null --no-history
  --fail-on never``, run in-process in the child so its requests can be counted on the wire.
* naive -- what a script written today tends to do: one paged search for the keys, then
  ``GET /issue/{key}`` (default fields) per issue. Slow, so only up to ``--naive-max`` issues;
  larger sizes are extrapolated from the largest measured per-issue rate (marked ``~``).

Wall time is the child's own time around the measured call (imports excluded), the median of
``--repeat`` runs (floor and audit alternate, so load from elsewhere hits both alike); peak RSS
comes from ``wait4`` of that child; the tracemalloc peak from one more traced run (``--no-trace`` skips it). Acceptance targets at the largest size: requests <=
ceil(N/100) + 20, audit wall <= 3 x floor wall, peak memory < 1 GiB.

    /work/venv/bin/python bench/bench_audit.py [--sizes 1000,10000,100000] [--flavour cloud|dc|both]
        [--naive-max 10000] [--repeat 3] [--no-trace] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from common import (
    AUDIT_ARGS,
    ChildResult,
    child,
    child_entry,
    cli_kind,
    machine,
    mib,
    sandbox,
    stop_on_sigterm,
    table,
)

SCRIPT = Path(__file__).resolve()
PAGE_SIZE = 100
PAGING_KEYS = ("nextPageToken", "startAt", "maxResults")
AUDIT_PREIMPORT = ["pmo_jira.cli.main", "pmo_jira.cli.audit", "pmo_jira.run.sites", "pmo_jira.engine"]
GIB_KIB = 1024 * 1024


# --- what the children run -----------------------------------------------------------------------


def _pages(session: requests.Session, method: str, url: str, query: dict[str, Any], *, cloud: bool):
    """Page through one search as the Jira docs describe; yields each decoded page."""
    token, start = None, 0
    while True:
        paging: dict[str, Any] = {"maxResults": PAGE_SIZE}
        if cloud and token:
            paging["nextPageToken"] = token
        if not cloud:
            paging["startAt"] = start
        if method == "POST":
            resp = session.post(url, json={**query, **paging}, timeout=60)
        else:
            resp = session.get(url, params={**query, **paging}, timeout=60)
        resp.raise_for_status()
        page = resp.json()
        issues = page["issues"]
        yield page
        if cloud:
            token = page.get("nextPageToken")
            if page.get("isLast") or not token or not issues:
                return
        else:
            start += len(issues)
            if not issues or start >= page.get("total", 0):
                return


def _captured(search: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(method, url without query, parameters without paging) of one captured search request."""
    parts = urlsplit(search["url"])
    url = f"{parts.scheme}://{parts.netloc}{parts.path}"
    if search["method"] == "POST":
        query = json.loads(search["body"])
    else:
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return search["method"], url, {k: v for k, v in query.items() if k not in PAGING_KEYS}


def _replay(session: requests.Session, searches: list[dict[str, Any]]):
    """Each captured search request again, exactly as sent; yields each decoded page."""
    for search in searches:
        body = search["body"]
        headers = {"Content-Type": "application/json"} if body else {}
        resp = session.request(search["method"], search["url"], data=body, headers=headers, timeout=60)
        resp.raise_for_status()
        yield resp.json()


def floor_kind(params: dict[str, Any]) -> dict[str, Any]:
    session = requests.Session()
    session.headers.update(params["headers"])
    searches = params["searches"]
    if params["flavour"] == "cloud":
        method, url, query = _captured(searches[0])
        pages = _pages(session, method, url, query, cloud=True)
    else:
        pages = _replay(session, searches)
    read = 0
    for page in pages:
        read += len(page["issues"])
    return {"issues": read}


def naive_kind(params: dict[str, Any]) -> dict[str, Any]:
    method, url, query = _captured(params["searches"][0])
    session = requests.Session()
    session.headers.update(params["headers"])
    keys = [raw["key"] for page in _pages(session, method, url, {"jql": query["jql"], "fields": "key"},
                                          cloud=params["flavour"] == "cloud") for raw in page["issues"]]
    for key in keys:
        resp = session.get(f"{params['api']}/issue/{key}", timeout=60)
        resp.raise_for_status()
        resp.json()
    return {"issues": len(keys)}


KINDS = {"floor": floor_kind, "naive": naive_kind, "cli": cli_kind}


# --- the run -------------------------------------------------------------------------------------


def combine(runs: list[ChildResult]) -> dict[str, Any]:
    """Median wall over the runs, the largest peak RSS; request counts from the first run."""
    out = dict(runs[0].stats)
    out["wall_s"] = statistics.median(r.stats["wall_s"] for r in runs)
    out["walls"] = [round(r.stats["wall_s"], 3) for r in runs]
    out["maxrss_kib"] = max(r.maxrss_kib for r in runs)
    out["process_wall_s"] = statistics.median(r.process_wall_s for r in runs)
    return out


def measure_size(flavour: str, size: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Floor and audit alternate ``--repeat`` times, so a busy machine slows both alike."""
    with sandbox(flavour, size, seed=args.seed) as sb:
        print(f"[{flavour} {size:,}] sandbox up in {sb.startup_s:.1f}s", file=sys.stderr, flush=True)
        summary = workdir / f"audit-{flavour}-{size}.json"
        env = {**sb.env(workdir), "PMO_JIRA_SUMMARY_JSON": str(summary)}
        audit_params = {"args": AUDIT_ARGS, "preimport": AUDIT_PREIMPORT}
        # capture the audit's searches; this run also warms the server's search cache
        warm = child(SCRIPT, "cli", {**audit_params, "capture_searches": True}, env=env)
        if warm.stats["exit_code"] != 0:
            raise RuntimeError(f"audit exited {warm.stats['exit_code']}")
        searches = warm.stats["searches_sent"]
        params = {"searches": searches, "headers": sb.auth_headers, "flavour": flavour, "api": sb.api}
        row: dict[str, Any] = {"flavour": flavour, "size": size, "sandbox_startup_s": sb.startup_s,
                               "first_search": {"method": searches[0]["method"], **_captured(searches[0])[2]}}
        floors, audits = [], []
        for n in range(args.repeat):
            floors.append(child(SCRIPT, "floor", params, env=env))
            audits.append(child(SCRIPT, "cli", audit_params, env=env))
            print(f"[{flavour} {size:,}] run {n + 1}: floor {floors[-1].stats['wall_s']:.2f}s, "
                  f"audit {audits[-1].stats['wall_s']:.2f}s", file=sys.stderr, flush=True)
        row["floor"], row["audit"] = combine(floors), combine(audits)
        row["audit"]["issues"] = json.loads(summary.read_text())["issues_read"]
        if not args.no_trace:
            for kind, p in (("floor", params), ("audit", audit_params)):
                traced = child(SCRIPT, "cli" if kind == "audit" else "floor", p, env=env, trace=True)
                row[kind]["tracemalloc_peak_kib"] = traced.stats["tracemalloc_peak_kib"]
        if size <= args.naive_max:
            row["naive"] = combine([child(SCRIPT, "naive", params, env=env)])
            print(f"[{flavour} {size:,}] naive {row['naive']['wall_s']:.2f}s", file=sys.stderr, flush=True)
    return row


def extrapolate_naive(rows: list[dict[str, Any]]) -> None:
    """Sizes above --naive-max get the largest measured per-issue cost times N (marked estimated)."""
    for flavour in {r["flavour"] for r in rows}:
        measured = [r for r in rows if r["flavour"] == flavour and "naive" in r]
        if not measured:
            continue
        base = max(measured, key=lambda r: r["size"])
        per_issue = base["naive"]["wall_s"] / max(base["naive"]["issues"], 1)
        per_request = base["naive"]["requests"] / max(base["naive"]["issues"], 1)
        for r in rows:
            if r["flavour"] == flavour and "naive" not in r:
                n = r["audit"]["issues"]
                r["naive"] = {"estimated": True, "wall_s": per_issue * n, "requests": round(per_request * n),
                              "issues": n, "from_size": base["size"]}


def report(rows: list[dict[str, Any]]) -> str:
    lines = []
    body = []
    for r in rows:
        for kind in ("floor", "audit", "naive"):
            m = r.get(kind)
            if m is None:
                continue
            est = m.get("estimated", False)
            body.append([r["flavour"], f"{r['size']:,}", f"{m['issues']:,}", kind + (" (est.)" if est else ""),
                         ("~" if est else "") + f"{m['requests']:,}",
                         "-" if est else f"{m['search_requests']:,}",
                         ("~" if est else "") + f"{m['wall_s']:.2f}",
                         "-" if est else mib(m.get("maxrss_kib")),
                         "-" if est else mib(m.get("tracemalloc_peak_kib"))])
    lines.append(table(["flavour", "sandbox", "read", "run", "requests", "searches", "wall s", "RSS MiB", "traced MiB"], body))
    lines.append("")
    ratios = []
    for r in rows:
        a, f, n = r["audit"], r["floor"], r.get("naive")
        ratios.append([r["flavour"], f"{r['size']:,}", f"{a['wall_s'] / f['wall_s']:.2f}x",
                       ("-" if n is None else ("~" if n.get("estimated") else "") + f"{n['wall_s'] / a['wall_s']:.1f}x"),
                       ("-" if n is None else ("~" if n.get("estimated") else "") + f"{n['requests'] / a['requests']:.0f}x")])
    lines.append(table(["flavour", "sandbox", "audit/floor wall", "naive/audit wall", "naive/audit requests"], ratios))
    lines.append("")
    for r in rows:
        split = ", ".join(f"{n:,} {e}" for e, n in r["audit"]["by_endpoint"].items())
        lines.append(f"audit requests, {r['flavour']} {r['size']:,}: {split}")
    return "\n".join(lines)


def targets(rows: list[dict[str, Any]]) -> tuple[str, bool]:
    lines, ok = [], True
    for flavour in sorted({r["flavour"] for r in rows}):
        r = max((r for r in rows if r["flavour"] == flavour), key=lambda r: r["size"])
        n, a, f = r["audit"]["issues"], r["audit"], r["floor"]
        peak = max(a["maxrss_kib"], a.get("tracemalloc_peak_kib", 0))
        checks = [
            (f"requests <= ceil(N/100) + 20 = {math.ceil(n / PAGE_SIZE) + 20:,}", f"{a['requests']:,}",
             a["requests"] <= math.ceil(n / PAGE_SIZE) + 20),
            ("wall <= 3 x floor", f"{a['wall_s']:.2f}s vs {f['wall_s']:.2f}s ({a['wall_s'] / f['wall_s']:.2f}x)",
             a["wall_s"] <= 3 * f["wall_s"]),
            ("peak memory < 1 GiB", f"RSS {mib(a['maxrss_kib'])} MiB, traced {mib(a.get('tracemalloc_peak_kib'))} MiB",
             peak < GIB_KIB),
        ]
        for name, got, passed in checks:
            ok &= passed
            lines.append(f"{'PASS' if passed else 'FAIL'}  {flavour} N={n:,}: {name}: {got}")
    return "\n".join(lines), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="Comma-separated issue counts.")
    parser.add_argument("--flavour", choices=["cloud", "dc", "both"], default="cloud")
    parser.add_argument("--naive-max", type=int, default=10000,
                        help="Largest size the naive script runs on; above it the figure is extrapolated.")
    parser.add_argument("--repeat", type=int, default=3,
                        help="Alternating floor/audit runs per size (median wall).")
    parser.add_argument("--no-trace", action="store_true", help="Skip the tracemalloc runs.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="Also write every figure to this file.")
    args = parser.parse_args()
    stop_on_sigterm()
    flavours = ["cloud", "dc"] if args.flavour == "both" else [args.flavour]
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pmo-bench-audit-") as tmp:
        for flavour in flavours:
            for size in sizes:
                rows.append(measure_size(flavour, size, args, Path(tmp)))
    extrapolate_naive(rows)
    print(f"pmo-jira audit benchmark -- {machine()}")
    print(report(rows))
    print()
    text, ok = targets(rows)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    if not child_entry(KINDS):
        sys.exit(main())
