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

Wall time is the child process's, from start to exit (interpreter start and imports included,
for the floor as for the audit), the median of ``--repeat`` runs (floor and audit alternate, so
load from elsewhere hits both alike); peak RSS comes from ``wait4`` of that child; the
tracemalloc peak from one more traced run (``--no-trace`` skips it). Goals, each a PASS or FAIL
line (any FAIL: exit 1), checked at the sizes measured:

* requests: Cloud <= ceil(N/100) + 20; Data Center <= ceil(N/1000) + projects + 20 (N = issues read;
  the state cache warm from the first run, as a nightly job has it; the first run's count is shown);
* Cloud audit wall <= 1.15 x the floor at 100,000 issues, <= 1.5 x at 1,000;
* peak RSS < 200 MiB at 100,000 issues, < 500 MiB at 300,000; RSS per issue (above the smallest
  size's) flat within 10% from 10,000 on, when two such sizes are measured;
* ``pmo-jira --version`` under 0.25 s (the fastest of ``--version-runs`` fresh processes).

    python bench/bench_audit.py [--sizes 1000,10000,100000] [--flavour cloud|dc|both]
        [--naive-max 10000] [--repeat 3] [--no-trace] [--json results.json] [--version-runs 10]
        [--floor-imports click,pydantic.main]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
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
    compile_bytecode,
    machine,
    mib,
    sandbox,
    stop_on_sigterm,
    table,
)

SCRIPT = Path(__file__).resolve()
PAGE_SIZE = 100
PAGING_KEYS = ("nextPageToken", "startAt", "maxResults")
MIB_KIB = 1024
# Goals (checked by ``targets``; a miss prints FAIL and the run exits 1).
WALL_GOALS = ((100_000, 1.15), (1_000, 1.5))  # sandbox size -> audit/floor process wall at most
RSS_GOALS_MIB = ((100_000, 200), (300_000, 500))  # sandbox size -> peak RSS below
FLAT_FROM = 10_000  # RSS per issue flat (max/min <= FLAT_RATIO) over the sizes from here on
FLAT_RATIO = 1.10
VERSION_GOAL_S = 0.25


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
    out["wall_s"] = statistics.median(r.process_wall_s for r in runs)  # process start to exit
    out["walls"] = [round(r.process_wall_s, 3) for r in runs]
    out["inner_wall_s"] = statistics.median(r.stats["wall_s"] for r in runs)  # around the call only
    out["maxrss_kib"] = max(r.maxrss_kib for r in runs)
    out["process_wall_s"] = statistics.median(r.process_wall_s for r in runs)
    return out


def measure_size(flavour: str, size: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Floor and audit alternate ``--repeat`` times, so a busy machine slows both alike."""
    with sandbox(flavour, size, seed=args.seed) as sb:
        print(f"[{flavour} {size:,}] sandbox up in {sb.startup_s:.1f}s", file=sys.stderr, flush=True)
        summary = workdir / f"audit-{flavour}-{size}.json"
        env = {**sb.env(workdir), "PMO_JIRA_SUMMARY_JSON": str(summary)}
        audit_params = {"args": AUDIT_ARGS}  # imports included: process start is part of the wall time
        # capture the audit's searches; this run also warms the server's search cache
        warm = child(SCRIPT, "cli", {**audit_params, "capture_searches": True}, env=env)
        if warm.stats["exit_code"] != 0:
            raise RuntimeError(f"audit exited {warm.stats['exit_code']}")
        searches = warm.stats["searches_sent"]
        params = {"searches": searches, "headers": sb.auth_headers, "flavour": flavour, "api": sb.api}
        projects = len(requests.get(sb.api + "/project", headers=sb.auth_headers, timeout=60).json())
        row: dict[str, Any] = {"flavour": flavour, "size": size, "sandbox_startup_s": sb.startup_s, "projects": projects,
                               "first_search": {"method": searches[0]["method"], **_captured(searches[0])[2]}}
        floors, audits, importing = [], [], []
        for n in range(args.repeat):
            floors.append(child(SCRIPT, "floor", params, env=env))
            audits.append(child(SCRIPT, "cli", audit_params, env=env))
            if args.floor_imports:  # the floor importing what the audit loads: the imports' share alone
                importing.append(child(SCRIPT, "floor", {**params, "preimport": args.floor_imports}, env=env))
            print(f"[{flavour} {size:,}] run {n + 1}: floor {floors[-1].process_wall_s:.2f}s, "
                  f"audit {audits[-1].process_wall_s:.2f}s", file=sys.stderr, flush=True)
        row["floor"], row["audit"] = combine(floors), combine(audits)
        if importing:
            row["floor_importing"] = {"modules": args.floor_imports, **combine(importing)}
        row["audit"]["issues"] = json.loads(summary.read_text())["issues_read"]
        row["audit"]["first_run_requests"] = warm.stats["requests"]  # an empty state cache: every history read
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
        if "floor_importing" in r:
            m = r["floor_importing"]
            lines.append(f"floor importing {', '.join(m['modules'])} first, {r['flavour']} {r['size']:,}: "
                         f"{m['wall_s']:.2f}s, {m['wall_s'] / r['floor']['wall_s']:.2f}x the floor")
    for r in rows:
        split = ", ".join(f"{n:,} {e}" for e, n in r["audit"]["by_endpoint"].items())
        lines.append(f"audit requests, {r['flavour']} {r['size']:,}: {split}; the first run, with an empty "
                     f"state cache: {r['audit']['first_run_requests']:,}")
    return "\n".join(lines)


def targets(rows: list[dict[str, Any]], version: dict[str, float] | None) -> tuple[str, bool]:
    """Every goal the measured sizes reach: PASS or FAIL lines, and whether all passed."""
    checks: list[tuple[str, str, bool]] = []
    for r in rows:
        fl, size, n, a, f = r["flavour"], r["size"], r["audit"]["issues"], r["audit"], r["floor"]
        where = f"{fl} {size:,} (N={n:,})"
        if fl == "cloud":
            cap, rule = math.ceil(n / PAGE_SIZE) + 20, "ceil(N/100) + 20"
        else:
            cap, rule = math.ceil(n / 1000) + r["projects"] + 20, f"ceil(N/1000) + projects ({r['projects']}) + 20"
        checks.append((f"{where}: audit requests <= {rule} = {cap:,}", f"{a['requests']:,}", a["requests"] <= cap))
        ratio = a["wall_s"] / f["wall_s"]
        for goal_size, goal in WALL_GOALS:
            if fl == "cloud" and size == goal_size:
                checks.append((f"{where}: audit wall <= {goal} x floor (process start included)",
                               f"{a['wall_s']:.2f}s vs {f['wall_s']:.2f}s ({ratio:.2f}x)", ratio <= goal))
        for goal_size, goal_mib in RSS_GOALS_MIB:
            if size == goal_size:
                checks.append((f"{where}: audit peak RSS < {goal_mib} MiB", f"{mib(a['maxrss_kib'])} MiB",
                               a["maxrss_kib"] < goal_mib * MIB_KIB))
    for fl in sorted({r["flavour"] for r in rows}):
        mine = sorted((r for r in rows if r["flavour"] == fl), key=lambda r: r["size"])
        base, big = mine[0], [r for r in mine if r["size"] >= FLAT_FROM and r is not mine[0]]
        if len(big) >= 2:  # RSS per issue above the smallest run (interpreter, imports, one page)
            per = {r["size"]: (r["audit"]["maxrss_kib"] - base["audit"]["maxrss_kib"])
                   / (r["audit"]["issues"] - base["audit"]["issues"]) for r in big}
            spread = max(per.values()) / min(per.values())
            got = ", ".join(f"{s:,}: {v:.2f} KiB" for s, v in per.items()) + f" ({spread:.2f}x)"
            checks.append((f"{fl}: RSS per issue flat from {FLAT_FROM:,} on (max/min <= {FLAT_RATIO})", got,
                           spread <= FLAT_RATIO))
    if version is not None:
        checks.append((f"`pmo-jira --version` < {VERSION_GOAL_S} s (fastest of {version['runs']})",
                       f"{version['min_s']:.3f}s (median {version['median_s']:.3f}s, CPU {version['cpu_s']:.3f}s)",
                       version["min_s"] < VERSION_GOAL_S))
    lines = [f"{'PASS' if ok else 'FAIL'}  {name}: {got}" for name, got, ok in checks]
    return "\n".join(lines), all(ok for _, _, ok in checks)


def version_time(runs: int) -> dict[str, float]:
    """Wall and CPU time of the installed ``pmo-jira --version``, a fresh process each run."""
    exe = Path(sys.executable).with_name("pmo-jira")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pmo_jira"]
    walls, cpus = [], []
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen([*cmd, "--version"], stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - started)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError("pmo-jira --version failed")
    return {"runs": runs, "min_s": min(walls), "median_s": statistics.median(walls),
            "cpu_s": statistics.median(cpus)}


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
    parser.add_argument("--floor-imports", type=lambda v: [m for m in v.split(",") if m], default=[],
                        metavar="MODULES", help="Also time the floor importing these modules first "
                        "(comma-separated, e.g. click,pydantic.main): what those imports alone add.")
    parser.add_argument("--version-runs", type=int, default=10,
                        help="Fresh `pmo-jira --version` processes timed (0 skips the check).")
    args = parser.parse_args()
    stop_on_sigterm()
    compile_bytecode()
    flavours = ["cloud", "dc"] if args.flavour == "both" else [args.flavour]
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pmo-bench-audit-") as tmp:
        for flavour in flavours:
            for size in sizes:
                rows.append(measure_size(flavour, size, args, Path(tmp)))
    extrapolate_naive(rows)
    version = version_time(args.version_runs) if args.version_runs > 0 else None
    print(f"pmo-jira audit benchmark -- {machine()}")
    print(report(rows))
    print()
    text, ok = targets(rows, version)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows, "version": version}, indent=2,
                                        default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    if not child_entry(KINDS):
        sys.exit(main())
