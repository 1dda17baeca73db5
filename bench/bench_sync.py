"""Sync cost: from clean, unchanged, and after people edited 1% of the portfolio.

One sandbox (``pmo-jira sandbox serve``, its own process, site clock = the current time) with N
issues. Each run is the real command line, ``pmo-jira sync --apply --max-writes 1000000``, run
in-process in a fresh child so its requests can be counted on the wire (writes = PUT/POST/DELETE
other than an issue-search POST). In order:

1. sync from clean -- labels, one comment and the state property on every issue with findings;
2. sync again, nothing changed -- must write nothing, read no more than an audit does, and send
   at most ceil(N/100) + 20 requests on Cloud, ceil(N/1000) + projects + 20 on Data Center (N =
   issues read; Data Center's sync state comes from the state cache the first sync filled);
3. ``pmo-jira audit`` -- the read cost the unchanged sync is compared with;
4. a person edits ``--change-pct`` % of N issues, all epics, through the REST API with plain
   ``requests`` (the owner is toggled: cleared where set, set where missing, so PMO-GOV-001 opens
   or closes on each) -- these edits are not counted in the sync's figures;
5. sync again -- only the changed epics should be written.

    python bench/bench_sync.py [--issues 10000] [--flavour cloud|dc] [--change-pct 1]
        [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests
from common import (
    AUDIT_ARGS,
    Sandbox,
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
SYNC_ARGS = ["sync", "--apply", "--max-writes", "1000000"]
PREIMPORT = ["pmo_jira.cli.main", "pmo_jira.run", "pmo_jira.writeback"]


def run_cli(name: str, args: list[str], env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """One command in a fresh child; its request counts plus the run summary it wrote."""
    summary = workdir / f"{name}.summary.json"
    result = child(SCRIPT, "cli", {"args": args, "preimport": PREIMPORT},
                   env={**env, "PMO_JIRA_SUMMARY_JSON": str(summary)})
    stats = {**result.stats, "maxrss_kib": result.maxrss_kib, "name": name}
    if summary.exists():
        stats["summary"] = json.loads(summary.read_text())
    print(f"[{name}] {stats['wall_s']:.1f}s, {stats['requests']:,} requests, {stats['writes']:,} writes, "
          f"exit {stats['exit_code']}", file=sys.stderr, flush=True)
    return stats


def edit_epics(sb: Sandbox, count: int) -> dict[str, Any]:
    """A person toggles the owner of ``count`` epics spread over the portfolio, via REST."""
    session = requests.Session()
    session.headers.update(sb.auth_headers)
    cloud = sb.flavour == "cloud"
    search = f"{sb.api}/search/jql" if cloud else f"{sb.api}/search"
    projects = session.get(f"{sb.api}/project", timeout=60).json()
    keys = ", ".join(f'"{p["key"]}"' for p in projects)
    query = {"jql": f"project in ({keys}) AND issuetype = Epic ORDER BY key ASC", "fields": "assignee",
             "maxResults": 100}
    epics: list[dict] = []
    token, start = None, 0
    while True:
        params = {**query, **({"nextPageToken": token} if cloud and token else {}),
                  **({} if cloud else {"startAt": start})}
        resp = session.get(search, params=params, timeout=60)
        resp.raise_for_status()
        page = resp.json()
        epics += page["issues"]
        start += len(page["issues"])
        token = page.get("nextPageToken")
        if not page["issues"] or (cloud and (page.get("isLast") or not token)) or (not cloud and start >= page["total"]):
            break
    people = [e["fields"]["assignee"] for e in epics if e["fields"].get("assignee")]
    person = people[0]
    ref = {"accountId": person["accountId"]} if cloud else {"name": person["name"]}
    step = max(len(epics) // max(count, 1), 1)
    chosen = epics[::step][:count]
    cleared = 0
    for epic in chosen:
        value = None if epic["fields"].get("assignee") else ref
        cleared += value is None
        resp = session.put(f"{sb.api}/issue/{epic['key']}", json={"fields": {"assignee": value}}, timeout=60)
        resp.raise_for_status()
    return {"epics": len(epics), "edited": len(chosen), "owner_cleared": cleared, "owner_set": len(chosen) - cleared}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10000)
    parser.add_argument("--flavour", choices=["cloud", "dc"], default="cloud")
    parser.add_argument("--change-pct", type=float, default=1.0, help="Share of N edited as epics, in %%.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="Also write every figure to this file.")
    args = parser.parse_args()
    stop_on_sigterm()
    compile_bytecode()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="pmo-bench-sync-") as tmp, \
            sandbox(args.flavour, args.issues, seed=args.seed, now="current") as sb:
        workdir = Path(tmp)
        env = sb.env(workdir, pin_now=False)
        print(f"[sandbox] {args.flavour}, {args.issues:,} issues, up in {sb.startup_s:.1f}s", file=sys.stderr)
        projects = len(requests.get(sb.api + "/project", headers=sb.auth_headers, timeout=60).json())
        runs.append(run_cli("sync from clean", SYNC_ARGS, env, workdir))
        runs.append(run_cli("sync unchanged", SYNC_ARGS, env, workdir))
        audit = run_cli("audit (reads only)", AUDIT_ARGS, env, workdir)
        edits = edit_epics(sb, round(args.issues * args.change_pct / 100))
        print(f"[edit] {edits}", file=sys.stderr, flush=True)
        runs.append(run_cli(f"sync after {args.change_pct:g}% edited", SYNC_ARGS, env, workdir))
    rows = [[r["name"], f"{r['requests']:,}", f"{r['reads']:,}", f"{r['writes']:,}",
             f"{r.get('summary', {}).get('writes_planned', '-'):,}", f"{r['wall_s']:.1f}", mib(r["maxrss_kib"]),
             r["exit_code"]] for r in [*runs, audit]]
    print(f"pmo-jira sync benchmark -- {args.flavour}, {args.issues:,} sandbox issues -- {machine()}")
    print(table(["run", "requests", "reads", "writes", "issues written", "wall s", "RSS MiB", "exit"], rows))
    print(f"edited by a person (not counted above): {edits['edited']} epics "
          f"({edits['owner_cleared']} owners cleared, {edits['owner_set']} set) of {edits['epics']:,}")
    unchanged = runs[1]
    n = unchanged.get("summary", {}).get("issues_read", 0)
    cap, rule = ((math.ceil(n / 100) + 20, "ceil(N/100) + 20") if args.flavour == "cloud"
                 else (math.ceil(n / 1000) + projects + 20, f"ceil(N/1000) + projects ({projects}) + 20"))
    checks = [(f"unchanged re-sync requests <= {rule} = {cap:,} (N={n:,})", f"{unchanged['requests']:,}",
               0 < n and unchanged["requests"] <= cap),
              ("unchanged re-sync writes nothing", f"{unchanged['writes']} writes", unchanged["writes"] == 0),
              ("unchanged re-sync reads no more than the audit",
               f"{unchanged['requests']:,} vs audit {audit['requests']:,}", unchanged["requests"] <= audit["requests"])]
    ok = True
    for name, got, passed in checks:
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {got}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "edits": edits, "runs": runs, "audit": audit},
                                        indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    if not child_entry({"cli": cli_kind}):
        sys.exit(main())
