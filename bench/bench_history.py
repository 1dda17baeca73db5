"""Run history storage: what a nightly run costs the history, event store against full copies.

For each size N, 30 simulated nights with 1% of the issues changing each night (the generator the
tests use, tests/history_fixtures.py) go into two SQLite histories side by side: the released
full-copy store (tests/released_history_v1.py) and the event store. Per night: rows added, bytes
the file grew and write time; at the end the monthly figures (time to fix, trend, last delta) of
both stores are compared. Exit 1 when the figures differ or the event store's rows per night are
not within 3x the changed findings (+10 for the run, its counts and phase moves).

    python bench/bench_history.py                       # N = 10,000 and 100,000
    python bench/bench_history.py --sizes 10000 --nights 30 --json history.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import astuple
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from released_history_v1 import HistoryStore as FullCopyStore  # noqa: E402

from pmo_jira.history import HistoryStore  # noqa: E402

from history_fixtures import nights  # noqa: E402

TABLES = {"full copy": ("runs", "findings", "items"),
          "events": ("runs", "run_counts", "finding_events", "item_events")}


def _rows(store, tables) -> int:
    return sum(store.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in tables)


def _size(path: Path) -> int:
    return path.stat().st_size


def _figures(store) -> dict:
    ttf = store.time_to_fix()
    last = store.compare()
    return {"fixes": [(f.fingerprint, f.days) for f in ttf.fixes], "still_open": ttf.still_open,
            "trend": [(t.open_by_severity, t.items_checked) for t in store.compliance_trend(31)],
            "last": [[astuple(r) for r in refs] for refs in (last.new, last.resolved, last.persisting)]}


def measure(issues: int, n_nights: int, churn: float, folder: Path) -> dict:
    stores = {"full copy": FullCopyStore(folder / f"full-{issues}.sqlite"),
              "events": HistoryStore(folder / f"events-{issues}.sqlite")}
    per_night: dict[str, list[tuple[int, int, float]]] = {k: [] for k in stores}
    changed: list[int] = []
    for result, n_changed in nights(issues=issues, nights=n_nights, churn=churn):
        changed.append(n_changed)
        for name, store in stores.items():
            rows = _rows(store, TABLES[name])
            t0 = time.perf_counter()
            store.record_run(result)
            wall = time.perf_counter() - t0
            per_night[name].append((_rows(store, TABLES[name]) - rows, 0, wall))
    same = _figures(stores["full copy"]) == _figures(stores["events"])
    for store in stores.values():  # fold the write-ahead log in, so file sizes compare
        store.query("PRAGMA wal_checkpoint(TRUNCATE)")
    out = {"issues": issues, "nights": n_nights, "churn": churn, "figures_match": same,
           "changed_findings_per_night": statistics.median(changed[1:])}
    for name, nightly in per_night.items():
        later = nightly[1:]
        out[name] = {"first_night_rows": nightly[0][0],
                     "rows_per_night": statistics.median(r for r, _, _ in later),

                     "write_s_per_night": round(statistics.median(w for _, _, w in later), 3),
                     "total_bytes": _size(stores[name].path),
                     "bytes_per_night": _size(stores[name].path) // n_nights}
    ratio_ok = all(r <= 3 * c + 10 for (r, _, _), c in zip(per_night["events"][1:], changed[1:]))
    out["rows_within_3x_change"] = ratio_ok
    for store in stores.values():
        store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            r = measure(n, args.nights, args.churn, Path(tmp))
            results.append(r)
            print(f"N={n:,} ({args.nights} nights, {args.churn:.0%} churn, median "
                  f"{r['changed_findings_per_night']:.0f} changed findings/night): figures match: {r['figures_match']}")
            for name in ("full copy", "events"):
                s = r[name]
                print(f"  {name:<9} first night {s['first_night_rows']:>9,} rows | per night {s['rows_per_night']:>9,.0f} rows"
                      f" {s['write_s_per_night']:>7.3f} s"
                      f" | after {args.nights} nights {s['total_bytes'] / 2**20:>7.1f} MiB"
                      f" ({s['bytes_per_night'] / 1024:,.0f} KiB/night)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0 if all(r["figures_match"] and r["rows_within_3x_change"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
