"""The monthly PMO pack over a year of run history: time and peak memory of `pmo-jira report monthly`.

One sandbox of N issues (default 100,000) in its own process, clock at the sandbox's reference
time. The history fixture: the site is read once (in a child process, through the real client),
then for the first working day of each of the ``--months`` months before, the portfolio as it was
that day is audited and the run recorded as a nightly run is (``record_run`` with every plugin's
``pmo_jira_run_facts``: the office KPIs, ranking and plans, the resource and strategy views'
input per site, the portfolio's RAG rows). Each run holds every issue read (N in every month),
the epics' target ends and statuses put back to what their changelogs say they were that day.
The fixture is built once (``--fixture DIR`` keeps and reuses it) and copied before each
measured run, since a report that reads Jira records its own run.

Measured, each the real command line in a fresh process (wall, CPU and peak RSS from ``wait4``),
alternating ``--repeat`` times, all for the month just ended (``--month previous``, what the
schedule on the first working day asks for): ``pmo-jira report monthly`` in HTML and in XLSX,
which for a month that has ended renders from the run history alone, and for comparison
``pmo-jira audit`` (the read of Jira) and the HTML pack that reads Jira first (``--from-jira``;
``--no-live`` leaves it out). Goal: each pack from the history under 30 s and 500 MiB.

    python bench/bench_monthly.py                                  # 100,000 issues, 12 months
    python bench/bench_monthly.py --issues 10000 --fixture /tmp/monthly-10k   # quick look, kept
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PYTHON, REFERENCE_NOW, machine, mib, sandbox, stop_on_sigterm, table  # noqa: E402

GOAL_WALL_S = 30.0
GOAL_RSS_MIB = 500
FIXTURE_VERSION = 3  # bump when the fixture's contents change


def first_working_days(now: datetime, months: int) -> list[datetime]:
    from pmo_jira.demo import first_working_days as days

    return days(now, months)


def rewound(snapshot: Any, moment: datetime, categories: dict[str, str]) -> Any:
    """The snapshot at ``moment``: the epics' target ends and statuses as their changelogs say they were.

    Every issue is kept, also those created later, so every run holds the whole portfolio.
    """
    issues = []
    for issue in snapshot.issues:
        if issue.changelog:
            fields, status, category = dict(issue.fields), issue.status, issue.status_category
            for change in reversed(issue.changelog):
                if change.created <= moment:
                    break
                for item in change.items:
                    if item.field == "target_end":
                        fields["target_end"] = date.fromisoformat(item.from_value[:10]) if item.from_value else None
                    elif item.field == "status" and item.from_string:
                        status = item.from_string
                        category = categories.get(status.casefold(), category)
            issue = replace(issue, fields=fields, status=status, status_category=category,
                            resolved=issue.resolved if category == "done" else None,
                            updated=min(issue.updated, moment))
        issues.append(issue)
    return replace(snapshot, issues=tuple(issues))


def build_history(env: dict[str, str], history: Path, months: int) -> list[tuple[str, float, int]]:
    """Record a run for the first working day of each of ``months`` months before the reference day."""
    from pmo_jira.history import HistoryStore
    from pmo_jira.run import Run, RunRequest
    from pmo_jira.run.audit import run_audit
    from pmo_jira.run.facts import collect_run_facts
    from pmo_jira.settings import load_settings
    from pmo_jira.standards.registry import plugin_registry

    settings = load_settings(env=env)
    registry = plugin_registry()
    started = time.perf_counter()
    with Run(settings, RunRequest("bench", record=False), now=REFERENCE_NOW, registry=registry) as run:
        audited = run.audit()
    snapshots, mapping = audited.snapshots, audited.primary_mapping
    log = [("read the site", time.perf_counter() - started, sum(len(s.issues) for s in snapshots))]
    categories = {i.status.casefold(): i.status_category for s in snapshots for i in s.issues}
    with HistoryStore(history) as store:
        for day in first_working_days(REFERENCE_NOW, months):
            t = time.perf_counter()
            snaps = [rewound(s, day, categories) for s in snapshots]
            result = run_audit(snaps, mapping, today=day.date(), now=day, registry=registry)
            store.record_run(result, kind="sync", facts=collect_run_facts(result, snaps, mapping, day))
            log.append((f"run of {day.date().isoformat()}", time.perf_counter() - t,
                        sum(len(s.issues) for s in snaps)))
    return log


def fixture(folder: Path, env: dict[str, str], issues: int, seed: int, months: int) -> Path:
    """The history file in ``folder``, built unless one for the same parameters is there."""
    key = {"version": FIXTURE_VERSION, "issues": issues, "seed": seed, "months": months,
           "reference": REFERENCE_NOW.isoformat()}
    history, stamp = folder / "history.sqlite", folder / "fixture.json"
    if history.exists() and stamp.exists() and json.loads(stamp.read_text()) == key:
        print(f"history fixture: reusing {history}")
        return history
    folder.mkdir(parents=True, exist_ok=True)
    history.unlink(missing_ok=True)
    stamp.unlink(missing_ok=True)
    started = time.perf_counter()
    # In its own process: what it holds would otherwise stay in this one while the commands run.
    subprocess.run([PYTHON, __file__, "--build", str(history), "--months", str(months)], env=env, check=True)
    stamp.write_text(json.dumps(key))
    print(f"history fixture: {months} runs in {time.perf_counter() - started:.0f}s, "
          f"{history.stat().st_size / 2**20:.0f} MiB", flush=True)
    return history


# A child's peak RSS (ru_maxrss) starts at its parent's size when forked, so the command is started
# by this small launcher, not by the bench process that holds the sandbox's imports.
LAUNCHER = """
import json, os, subprocess, sys, time
cmd, stderr = json.loads(sys.argv[1]), sys.argv[2]
with open(stderr, "wb") as err:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
print(json.dumps({"exit": os.waitstatus_to_exitcode(status), "wall_s": wall,
                  "cpu_s": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}))
"""


def measured(args: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """``pmo-jira ARGS`` in a fresh process: exit, wall, CPU and peak RSS of that process."""
    cmd = [PYTHON, "-m", "pmo_jira", *args]
    out = subprocess.run([PYTHON, "-c", LAUNCHER, json.dumps(cmd), str(cwd / "stderr")], env=env, cwd=cwd,
                         check=True, capture_output=True, text=True)
    stats = json.loads(out.stdout)
    if stats["exit"] != 0:
        raise RuntimeError(f"pmo-jira {' '.join(args)} exited {stats['exit']}:\n"
                           f"{(cwd / 'stderr').read_text(errors='replace')[-3000:]}")
    return stats


MONTH = ["--month", "previous"]
RUNS = {
    "audit (the read)": ["audit", "--format", "json", "-o", os.devnull, "--no-history", "--fail-on", "never"],
    "report monthly --from-jira html": ["report", "monthly", "--from-jira", *MONTH, "--format", "html",
                                        "-o", "monthly-live.html"],
    "report monthly html (from the history)": ["report", "monthly", *MONTH, "--format", "html", "-o", "monthly.html"],
    "report monthly xlsx (from the history)": ["report", "monthly", *MONTH, "--format", "xlsx", "-o", "monthly.xlsx"],
}
GOALS = [name for name in RUNS if "from the history" in name]


def check_pack(workdir: Path, months: int) -> list[str]:
    """What is wrong with the pack from the history (empty: it shows the trend the fixture recorded)."""
    html = (workdir / "monthly.html").read_text(encoding="utf-8")
    wanted = [d.strftime("%Y-%m") for d in first_working_days(REFERENCE_NOW, min(months, 6))]
    problems = [f"no {m} in the trend" for m in wanted if m not in html]
    if "No run was recorded" in html or "No run history" in html:
        problems.append("the pack found no history")
    if "Baselines moved</" not in html:
        problems.append("no baselines-moved table")
    for wanted_text in ("Ranked portfolio", "Load against capacity"):
        if wanted_text not in html:
            problems.append(f"no {wanted_text!r}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=100_000, help="sandbox size (default 100,000)")
    parser.add_argument("--months", type=int, default=12, help="months of history (default 12)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="measured runs of each command (median)")
    parser.add_argument("--fixture", type=Path, help="keep the history fixture here and reuse it")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--no-live", action="store_true", help="leave out the pack that reads Jira")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)  # the fixture builder's process
    args = parser.parse_args()
    if args.build:
        for step, seconds, n in build_history(dict(os.environ), args.build, args.months):
            print(f"history fixture: {step}: {n:,} issues, {seconds:.1f}s", flush=True)
        return 0
    stop_on_sigterm()
    print(machine())
    with tempfile.TemporaryDirectory(prefix="pmo-bench-monthly-") as tmp, \
            sandbox("cloud", args.issues, seed=args.seed) as box:
        from pmo_jira.demo import demo_mapping

        work = Path(tmp)
        print(f"sandbox: {args.issues:,} issues, started in {box.startup_s:.1f}s")
        env = {**box.env(work), "PMO_JIRA_MAPPING": str(demo_mapping(work)), "PMO_JIRA_SITE": "bench"}
        history = fixture(args.fixture or work / "fixture", env, args.issues, args.seed, args.months)
        runs = {name: cli for name, cli in RUNS.items() if not (args.no_live and "--from-jira" in name)}
        figures: dict[str, list[dict[str, Any]]] = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, cli in runs.items():
                shutil.copyfile(history, work / "history.sqlite")
                # the packs from the history get a Jira nothing answers on: a silent read of Jira fails
                figures[name].append(measured(cli, {**env, "PMO_JIRA_URL": "http://127.0.0.1:9"} if name in GOALS
                                              else env, work))
                last = figures[name][-1]
                print(f"{name}: wall {last['wall_s']:.1f}s, CPU {last['cpu_s']:.1f}s, "
                      f"peak RSS {mib(last['maxrss_kib'])} MiB", flush=True)
        problems = check_pack(work, args.months)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in figures[name])

    print()
    print(table(["run", "wall s", "CPU s", "peak RSS MiB"],
                [[name, f"{median(name, 'wall_s'):.1f}", f"{median(name, 'cpu_s'):.1f}",
                  mib(max(r["maxrss_kib"] for r in figures[name]))] for name in runs]))
    print()
    failed = bool(problems)
    for p in problems:
        print(f"FAIL  the pack: {p}")
    read = median("audit (the read)", "wall_s")
    live = "".join(f", the pack reading Jira {median(n, 'wall_s'):.1f}s" for n in runs if "--from-jira" in n)
    for name in GOALS:
        wall, rss = median(name, "wall_s"), max(r["maxrss_kib"] for r in figures[name]) / 1024
        ok_wall, ok_rss = wall < GOAL_WALL_S, rss < GOAL_RSS_MIB
        failed |= not (ok_wall and ok_rss)
        print(f"{'PASS' if ok_wall else 'FAIL'}  {name}, {args.issues:,} issues, {args.months} months: wall < "
              f"{GOAL_WALL_S:.0f} s: {wall:.1f}s (the read of Jira alone {read:.1f}s{live})")
        print(f"{'PASS' if ok_rss else 'FAIL'}  {name}, {args.issues:,} issues, {args.months} months: peak RSS < "
              f"{GOAL_RSS_MIB} MiB: {rss:,.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps({"issues": args.issues, "months": args.months, "runs": figures,
                                         "problems": problems}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
