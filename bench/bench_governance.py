"""The audit with the governance standards (history, change control, RAID) against the floor.

The governance standards read the epics' changelogs (Cloud: ``POST /changelog/bulkfetch``, 1,000
epics a request; Data Center: one search with ``expand=changelog``), change requests, approvals
and RAID records with the scope's search. This measures what that costs on one served site, each
run a fresh child process, floor and audits alternating ``--repeat`` times (median wall):

* floor -- plain ``requests`` paging through the audit's own search (as ``bench_audit.py``);
* hygiene -- ``pmo-jira audit`` with the sandbox mapping minus the governance standards;
* governance -- ``pmo-jira audit`` with the full sandbox mapping (every governance standard on).

Goals (PASS/FAIL lines; any FAIL exits 1), N = issues read:

* governance audit requests on Cloud <= ceil(N/100) + ceil(N/1000) + 20 (changelog in bulk);
* governance audit wall <= 2 x the floor (process start included).

    python bench/bench_governance.py [--size 100000] [--flavour cloud|dc] [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from bench_audit import combine, floor_kind
from common import AUDIT_ARGS, MAPPING, child, child_entry, cli_kind, machine, mib, sandbox, stop_on_sigterm, table

SCRIPT = Path(__file__).resolve()
GOVERNANCE = ("PMO-BSL-001", "PMO-CHG-001", "PMO-CHG-002", "PMO-GAT-001", "PMO-CLS-002", "PMO-CLS-003",
              "PMO-GOV-003", "PMO-RSK-003", "PMO-RSK-004", "PMO-ISS-001", "PMO-DEP-001", "PMO-PLN-004")
WALL_GOAL = 2.0  # governance audit wall at most this many times the floor's

KINDS = {"floor": floor_kind, "cli": cli_kind}


def hygiene_mapping(workdir: Path) -> Path:
    """The sandbox mapping without the governance standards (what an audit cost before them)."""
    data = yaml.safe_load(MAPPING.read_text())
    data["standards"] = [s for s in data["standards"] if s["code"] not in GOVERNANCE]
    path = workdir / "hygiene.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def measure(flavour: str, size: int, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with sandbox(flavour, size, seed=args.seed) as sb:
        print(f"[{flavour} {size:,}] sandbox up in {sb.startup_s:.1f}s", file=sys.stderr, flush=True)
        summary = workdir / "governance.json"
        env = {**sb.env(workdir), "PMO_JIRA_SUMMARY_JSON": str(summary)}
        hygiene_env = {**env, "PMO_JIRA_MAPPING": str(hygiene_mapping(workdir))}
        audit = {"args": AUDIT_ARGS}
        warm = child(SCRIPT, "cli", {**audit, "capture_searches": True}, env=env)  # also warms the server
        if warm.stats["exit_code"] != 0:
            raise RuntimeError(f"audit exited {warm.stats['exit_code']}")
        floor_params = {"searches": warm.stats["searches_sent"], "headers": sb.auth_headers, "flavour": flavour,
                        "api": sb.api}
        runs: dict[str, list] = {"floor": [], "hygiene": [], "governance": []}
        for n in range(args.repeat):
            runs["floor"].append(child(SCRIPT, "floor", floor_params, env=env))
            runs["hygiene"].append(child(SCRIPT, "cli", audit, env=hygiene_env))
            runs["governance"].append(child(SCRIPT, "cli", audit, env=env))
            print(f"[{flavour} {size:,}] run {n + 1}: " + ", ".join(
                f"{k} {v[-1].process_wall_s:.2f}s" for k, v in runs.items()), file=sys.stderr, flush=True)
        row: dict[str, Any] = {"flavour": flavour, "size": size, **{k: combine(v) for k, v in runs.items()}}
        row["issues"] = json.loads(summary.read_text())["issues_read"]
    return row


def report(row: dict[str, Any]) -> str:
    body = [[kind, f"{row[kind]['requests']:,}", f"{row[kind]['wall_s']:.2f}",
             f"{row[kind]['wall_s'] / row['floor']['wall_s']:.2f}x", mib(row[kind].get("maxrss_kib"))]
            for kind in ("floor", "hygiene", "governance")]
    split = ", ".join(f"{n:,} {e}" for e, n in row["governance"]["by_endpoint"].items())
    return "\n".join([f"{row['flavour']} sandbox {row['size']:,}, {row['issues']:,} issues read",
                      table(["run", "requests", "wall s", "vs floor", "RSS MiB"], body), "",
                      f"governance audit requests: {split}"])


def targets(row: dict[str, Any]) -> tuple[str, bool]:
    n, gov, floor = row["issues"], row["governance"], row["floor"]
    checks = []
    if row["flavour"] == "cloud":
        cap = math.ceil(n / 100) + math.ceil(n / 1000) + 20
        checks.append((f"cloud N={n:,}: governance audit requests <= ceil(N/100) + ceil(N/1000) + 20 = {cap:,}",
                       f"{gov['requests']:,}", gov["requests"] <= cap))
    ratio = gov["wall_s"] / floor["wall_s"]
    checks.append((f"{row['flavour']} N={n:,}: governance audit wall <= {WALL_GOAL} x floor (process start included)",
                   f"{gov['wall_s']:.2f}s vs {floor['wall_s']:.2f}s ({ratio:.2f}x)", ratio <= WALL_GOAL))
    return "\n".join(f"{'PASS' if ok else 'FAIL'}  {name}: {got}" for name, got, ok in checks), \
        all(ok for _, _, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="Issues on the sandbox site.")
    parser.add_argument("--flavour", choices=["cloud", "dc"], default="cloud")
    parser.add_argument("--repeat", type=int, default=3, help="Alternating floor/hygiene/governance runs.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="Also write every figure to this file.")
    args = parser.parse_args()
    stop_on_sigterm()
    with tempfile.TemporaryDirectory(prefix="pmo-bench-governance-") as tmp:
        row = measure(args.flavour, args.size, args, Path(tmp))
    print(f"pmo-jira governance audit benchmark -- {machine()}")
    print(report(row))
    print()
    text, ok = targets(row)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "row": row}, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    if not child_entry(KINDS):
        sys.exit(main())
