"""The portfolio report from the run history against the same report read from Jira.

One sandbox site in its own process; one `pmo-jira audit` records it (the per-site job, with
what the portfolio keeps of the run), then `pmo-jira report portfolio --format json` reading
Jira (`--no-history`) and `--from-history` alternate ``--repeat`` times, each a fresh child
process. Medians of the process wall time (interpreter start and imports included on both
sides), the command's CPU time (imports excluded; on a loaded machine the steadier figure), peak
RSS and requests, side by side. Exit 1 when the two reports differ.

    python bench/bench_portfolio_history.py                    # 10,000 issues, Cloud, 3 repeats
    python bench/bench_portfolio_history.py --issues 2000 --repeat 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import ROOT, child, child_entry, cli_kind, machine, mib, sandbox, stop_on_sigterm, table  # noqa: E402

RUNS = {
    "record (audit)": ["audit", "--format", "json", "-o", "{out}", "--fail-on", "never", "-q"],
    "from Jira": ["report", "portfolio", "--format", "json", "-o", "{out}", "--no-history", "-q"],
    "from history": ["report", "portfolio", "--from-history", "--format", "json", "-o", "{out}", "-q"],
}


def cli_cpu(params: dict[str, Any]) -> dict[str, Any]:
    """The command line in this child, with the CPU time it took."""
    started = time.process_time()
    out = cli_kind(params)
    return {**out, "cpu_s": time.process_time() - started}


def main() -> int:
    if child_entry({"cli": cli_cpu}):
        return 0
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--flavour", choices=("cloud", "dc"), default="cloud")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    measured: dict[str, list] = {name: [] for name in RUNS}
    with sandbox(args.flavour, args.issues) as box, tempfile.TemporaryDirectory(prefix="pmo-bench-") as tmp:
        work = Path(tmp)
        env = box.env(work)
        outputs = {name: work / f"{i}.json" for i, name in enumerate(RUNS)}

        def run(name: str) -> None:
            argv = [a.replace("{out}", str(outputs[name])) for a in RUNS[name]]
            done = child(Path(__file__), "cli", {"args": argv}, env=env, cwd=ROOT)
            if done.stats["exit_code"] != 0:
                raise SystemExit(f"{name}: pmo-jira exited {done.stats['exit_code']}")
            measured[name].append(done)

        run("record (audit)")
        same = True
        for _ in range(args.repeat):
            for name in ("from Jira", "from history"):
                run(name)
            same = same and outputs["from Jira"].read_bytes() == outputs["from history"].read_bytes()
    rows = []
    for name, done in measured.items():
        rows.append([name, len(done), f"{statistics.median(d.process_wall_s for d in done):.2f}",
                     f"{statistics.median(d.stats['cpu_s'] for d in done):.2f}",
                     mib(statistics.median(d.maxrss_kib for d in done)),
                     f"{statistics.median(d.stats['requests'] for d in done):,.0f}"])
    print(f"{args.flavour}, {args.issues:,} sandbox issues; median of the runs:")
    print(table(["run", "runs", "wall s", "CPU s", "RSS MiB", "requests"], rows))

    def ratio(key):  # from Jira / from history, medians
        return [statistics.median(key(d) for d in measured[n]) for n in ("from Jira", "from history")]

    (jira, history), (jira_cpu, history_cpu) = ratio(lambda d: d.process_wall_s), ratio(lambda d: d.stats["cpu_s"])
    print(f"from history: {history:.2f} s wall, {history_cpu:.2f} s CPU vs from Jira {jira:.2f} s, {jira_cpu:.2f} s "
          f"({jira / history:.1f}x, CPU {jira_cpu / history_cpu:.1f}x); reports identical: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
