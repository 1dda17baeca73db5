"""What one search page costs the sandbox, on sites of different sizes.

Per flavour and size, a site is generated and the audit's scope search (every project, the
sandbox mapping's issue types, ``ORDER BY key``, the audit's fields) is read to the end through
the sandbox's router in this process (no HTTP, so only the sandbox's own work is timed):
Cloud by ``nextPageToken`` (100 a page), Data Center by ``startAt`` and, past its 10,000-issue
result window, in key windows as the client reads it (1,000 a page). Reported: the cost of a
full page (the whole read's time per issue served, times the page size: the first page evaluates
the query, the others are served from the cached result, key windows evaluate again) and the
median page. The goal: a page at the largest size costs at most 1.25 x a page at the smallest
(exit 1 and a FAIL line otherwise).
The sizes are measured alternately, ``--repeat`` times, and the medians compared; times are the
thread's CPU time, so other load on a shared machine shows less than in wall time.

    python bench/bench_sandbox.py [--sizes 1000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import statistics
import sys
import time
from typing import Any

from pmo_jira.jira.client import JiraClient
from pmo_jira.sandbox.generator import REFERENCE_NOW, generate
from pmo_jira.sandbox.server import Router, SandboxApp

GOAL = 1.25
FIELDS = ("summary,status,issuetype,labels,created,updated,statuscategorychangedate,resolutiondate,"
          "issuelinks,assignee,duedate,parent")
TYPES = "issuetype in (Epic, Story, Task, Bug, Risk)"


def _scope(app: SandboxApp) -> str:
    keys = ", ".join(f'"{k}"' for k, p in app.store.projects.items() if p.browsable)
    return f"project in ({keys}) AND {TYPES} ORDER BY key ASC"


def _call(router: Router, path: str, params: dict[str, str]) -> dict:
    status, body, _ = router.dispatch("GET", path, {k: [v] for k, v in params.items()}, b"")
    if status != 200:
        raise RuntimeError(f"{path} answered {status}: {body}")
    json.dumps(body, separators=(",", ":"))  # the server serialises every page it sends
    return body


def read_cloud(app: SandboxApp) -> tuple[list[float], int]:
    router, jql, token, times, served = Router(app, "http://sandbox"), _scope(app), None, [], 0
    while True:
        params = {"jql": jql, "fields": FIELDS, "maxResults": "100", "properties": "pmo-jira.state"}
        if token:
            params["nextPageToken"] = token
        started = time.thread_time()
        page = _call(router, "/rest/api/3/search/jql", params)
        times.append(time.thread_time() - started)
        served += len(page["issues"])
        token = page.get("nextPageToken")
        if page["isLast"]:
            return times, served


class _RouterSession:
    """Just enough of ``requests.Session`` for ``JiraClient`` to page through the router in-process."""

    def __init__(self, app: SandboxApp, times: list[float]):
        self.router, self.times, self.headers, self.auth = Router(app, "http://sandbox"), times, {}, None

    def request(self, method: str, url: str, params: dict | None = None, json: Any = None, **_: Any):
        import requests

        path = url.split("://", 1)[1].split("/", 1)[1]
        started = time.thread_time()
        status, body, _ = self.router.dispatch(method, "/" + path, {k: [str(v)] for k, v in (params or {}).items()},
                                               b"" if json is None else _dumps(json))
        raw = _dumps(body)
        self.times.append(time.thread_time() - started)
        resp = requests.Response()
        resp.status_code, resp._content = status, raw
        resp.headers["Content-Type"] = "application/json"
        return resp


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def read_dc(app: SandboxApp) -> tuple[list[float], int]:
    times: list[float] = []
    auth = base64.b64encode(b"x").decode()
    client = JiraClient("http://sandbox", _Credentials(auth), flavour="dc", page_size=1000,
                        session=_RouterSession(app, times))  # type: ignore[arg-type]
    served = sum(len(page) for page in client.search_pages(_scope(app), FIELDS.split(",")))
    return times, served


class _Credentials:
    email = None

    def __init__(self, token: str):
        self.token = token


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--flavour", choices=["cloud", "dc", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]
    flavours = ["cloud", "dc"] if args.flavour == "both" else [args.flavour]
    ok = True
    print(f"{'flavour':7} {'issues':>8} {'pages':>6} {'page ms':>8} {'median page ms':>14}")
    for flavour in flavours:
        apps = {n: SandboxApp(generate(flavour, n, seed=1, now=REFERENCE_NOW)) for n in sizes}
        gc.collect()
        gc.freeze()  # as `pmo-jira sandbox serve` does once its site is generated
        reader, size = (read_cloud, 100) if flavour == "cloud" else (read_dc, 1000)
        means: dict[int, list[float]] = {n: [] for n in sizes}
        medians: dict[int, list[float]] = {n: [] for n in sizes}
        pages: dict[int, int] = {}
        for _ in range(args.repeat):
            for n in sizes:  # alternate sizes so load from elsewhere hits each alike
                apps[n]._cache.clear()
                times, served = reader(apps[n])
                pages[n] = len(times)
                means[n].append(sum(times) / served * size)
                medians[n].append(statistics.median(times))
        for n in sizes:
            print(f"{flavour:7} {n:>8,} {pages[n]:>6,} {statistics.median(means[n]) * 1000:>8.2f} "
                  f"{statistics.median(medians[n]) * 1000:>14.2f}")
        small, large = min(sizes), max(sizes)
        ratio = statistics.median(means[large]) / statistics.median(means[small])
        passed = ratio <= GOAL
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {flavour}: a page at {large:,} <= {GOAL} x at {small:,}: "
              f"{ratio:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
