"""Shared plumbing of the end-to-end benchmarks: a sandbox in its own process, measured children.

The sandbox runs as ``python -m pmo_jira sandbox serve`` in a separate process, so serving does not
share the GIL with the code measured. Every measurement runs in a fresh child process, so its peak
RSS (``ru_maxrss`` from ``os.wait4``) belongs to that measurement alone. A child counts the HTTP
requests it sends itself (the server's request log lives in the other process) by wrapping
``requests.adapters.HTTPAdapter.send``, which sees every request on the wire, retries included.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters

# The sandbox's constants, written out rather than imported: every measured child imports this
# module, and loading the sandbox there would add to the process wall time being measured.
REFERENCE_NOW = datetime(2026, 1, 15, 9, 0, tzinfo=timezone.utc)
SANDBOX_EMAIL = "pmo-bot@example.com"
SANDBOX_TOKEN = "sandbox-token"

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MAPPING = ROOT / "mappings" / "sandbox.yaml"
WRITE_METHODS = ("PUT", "POST", "DELETE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> str:
    """One line naming where the figures were measured."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores{(' (' + model + ')') if model else ''}, Python "
            f"{sys.version.split()[0]}, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")


# --- the sandbox in its own process ----------------------------------------------------------------


@dataclass
class Sandbox:
    """A running ``pmo-jira sandbox serve`` process and how to talk to it."""

    flavour: str
    issues: int
    url: str
    startup_s: float

    @property
    def auth_headers(self) -> dict[str, str]:
        if self.flavour == "cloud":
            raw = base64.b64encode(f"{SANDBOX_EMAIL}:{SANDBOX_TOKEN}".encode()).decode()
            return {"Authorization": "Basic " + raw}
        return {"Authorization": f"Bearer {SANDBOX_TOKEN}"}

    @property
    def api(self) -> str:
        return self.url + ("/rest/api/3" if self.flavour == "cloud" else "/rest/api/2")

    def env(self, workdir: Path, *, pin_now: bool = True) -> dict[str, str]:
        """Environment for a ``pmo-jira`` run against this sandbox; config, history and lock in workdir.

        ``pin_now`` fixes the run's clock at the sandbox's reference time (reproducible findings);
        otherwise the run uses the real clock, as the sandbox does when started with ``now="current"``.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("PMO_JIRA_")}
        if pin_now:
            env["PMO_JIRA_NOW"] = REFERENCE_NOW.isoformat()
        env.update({
            "PMO_JIRA_URL": self.url, "PMO_JIRA_TOKEN": SANDBOX_TOKEN, "PMO_JIRA_FLAVOUR": self.flavour,
            "PMO_JIRA_MAPPING": str(MAPPING),
            "PMO_JIRA_HISTORY": str(workdir / "history.sqlite"), "PMO_JIRA_LOCK": str(workdir / "run.lock"),
            "XDG_CONFIG_HOME": str(workdir / "config"), "XDG_DATA_HOME": str(workdir / "data"),
            # One state cache per sandbox: a later one may be served on a port an earlier one used,
            # and its issues (same keys, same times) must not take the earlier one's kept histories.
            "PMO_JIRA_STATE_CACHE": str(workdir / f"state-{self.flavour}-{self.issues}-{urlsplit(self.url).port}.sqlite"),
        })
        if self.flavour == "cloud":
            env["PMO_JIRA_EMAIL"] = SANDBOX_EMAIL
        return env


@contextmanager
def sandbox(flavour: str, issues: int, *, seed: int = 1, now: str = "reference",
            timeout: float = 600.0) -> Iterator[Sandbox]:
    """Start ``pmo-jira sandbox serve`` on a free port; yield once it answers /serverInfo; stop it.

    ``now``: "reference" starts the site clock at ``REFERENCE_NOW``, "current" at the real time.
    """
    from pmo_jira.sandbox import generator, server  # the parent only: check the constants above

    if (REFERENCE_NOW, SANDBOX_EMAIL, SANDBOX_TOKEN) != (generator.REFERENCE_NOW, server.SANDBOX_EMAIL,
                                                         server.SANDBOX_TOKEN):
        raise RuntimeError("bench/common.py's sandbox constants differ from pmo_jira.sandbox's; update them")
    port = free_port()
    start = REFERENCE_NOW if now == "reference" else datetime.now(timezone.utc).replace(microsecond=0)
    cmd = [PYTHON, "-m", "pmo_jira", "sandbox", "serve", "--flavour", flavour, "--issues", str(issues),
           "--seed", str(seed), "--port", str(port), "--now", start.isoformat()]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        box = Sandbox(flavour, issues, url, 0.0)
        try:
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"sandbox exited with {proc.returncode}: {log.read().decode()[-2000:]}")
                try:
                    if requests.get(url + "/rest/api/2/serverInfo", headers=box.auth_headers, timeout=5).ok:
                        break
                except requests.ConnectionError:
                    pass
                if time.perf_counter() - started > timeout:
                    raise RuntimeError(f"sandbox did not answer within {timeout:.0f}s")
                time.sleep(0.1)
            box.startup_s = time.perf_counter() - started
            yield box
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --- counting requests on the client side -------------------------------------------------------


ISSUE_SEARCH = re.compile(r"/rest/api/(2|3|latest)/search(/jql)?$")


def is_search(path: str) -> bool:
    """Issue search (not /project/search): a POST there is a read (long JQL), not a write."""
    return ISSUE_SEARCH.search(path) is not None


@dataclass
class RequestCounter:
    """Every request sent through ``requests`` in this process: (method, path, status)."""

    calls: list[tuple[str, str, int]] = field(default_factory=list)
    capture: bool = False
    searches_sent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.calls)

    @property
    def writes(self) -> int:
        return sum(1 for m, p, _ in self.calls if m in WRITE_METHODS and not is_search(p))

    @property
    def searches(self) -> int:
        return sum(1 for _, p, _ in self.calls if is_search(p))

    def summary(self) -> dict[str, Any]:
        by_method = Counter(m for m, _, _ in self.calls)
        by_status = Counter(str(s) for _, _, s in self.calls)
        by_endpoint = Counter(f"{m} {endpoint(p)}" for m, p, _ in self.calls)
        return {"requests": self.total, "reads": self.total - self.writes, "writes": self.writes,
                "search_requests": self.searches, "by_method": dict(by_method),
                "by_status": dict(by_status), "by_endpoint": dict(by_endpoint.most_common()),
                **({"searches_sent": self.searches_sent} if self.capture else {})}


def endpoint(path: str) -> str:
    """The path with issue/project keys and ids replaced, so requests group by endpoint."""
    path = re.sub(r"/(issue|project)/(?!search\b)[^/]+", r"/\1/{key}", path)
    return re.sub(r"/(comment|properties)/[^/]+", r"/\1/{id}", path)


@contextmanager
def counting_requests(*, capture: bool = False) -> Iterator[RequestCounter]:
    """Wrap ``HTTPAdapter.send`` for the duration: counts what goes on the wire, whoever sends it.

    ``capture`` also keeps every issue-search request (method, full URL, body) so it can be replayed.
    """
    counter = RequestCounter(capture=capture)
    original = requests.adapters.HTTPAdapter.send

    def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        resp = original(self, request, *args, **kwargs)
        path = urlsplit(request.url).path
        counter.calls.append((request.method, path, resp.status_code))
        if capture and is_search(path):
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            counter.searches_sent.append({"method": request.method, "url": request.url, "body": body})
        return resp

    requests.adapters.HTTPAdapter.send = send  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        requests.adapters.HTTPAdapter.send = original  # type: ignore[method-assign]


# --- measured children ---------------------------------------------------------------------------


def measure(fn: Callable[[], dict[str, Any]], *, trace: bool, capture: bool = False) -> dict[str, Any]:
    """Run ``fn`` once: wall time, requests, and (with ``trace``) the tracemalloc peak.

    tracemalloc slows Python down several times, so a traced run's wall time is not reported.
    """
    import resource

    if trace:
        tracemalloc.start()
    with counting_requests(capture=capture) as counter:
        started = time.perf_counter()
        out = fn()
        wall = time.perf_counter() - started
    stats = {**out, **counter.summary(), "wall_s": wall,
             "self_maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    if trace:
        stats["tracemalloc_peak_kib"] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    return stats


AUDIT_ARGS = ["audit", "--format", "json", "-o", os.devnull, "--no-history", "--fail-on", "never"]


def run_cli(args: list[str]) -> dict[str, Any]:
    """The real ``pmo-jira`` command line, in this process (so its requests can be counted),
    leaving what its run made for the process's end, as the program does."""
    import click

    from pmo_jira.cli.ending import ends_with_command
    from pmo_jira.cli.main import cli

    ends_with_command()
    try:
        cli.main(args=args, prog_name="pmo-jira", standalone_mode=False)
        code = 0
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return {"exit_code": code}


@dataclass
class ChildResult:
    stats: dict[str, Any]
    process_wall_s: float
    maxrss_kib: int


def child(script: Path, kind: str, params: dict[str, Any], *, env: dict[str, str] | None = None,
          trace: bool = False, cwd: Path | None = None) -> ChildResult:
    """Run ``script --child KIND`` in a fresh process; its stats plus its peak RSS from ``wait4``."""
    with tempfile.TemporaryDirectory(prefix="pmo-bench-") as tmp:
        stats_file, params_file = Path(tmp) / "stats.json", Path(tmp) / "params.json"
        params_file.write_text(json.dumps(params))  # a file: captured searches outgrow argv limits
        cmd = [PYTHON, str(script), "--child", kind, "--params", str(params_file), "--stats", str(stats_file)]
        if trace:
            cmd.append("--trace")
        with open(Path(tmp) / "out", "wb") as out, open(Path(tmp) / "err", "wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd or tmp)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 or not stats_file.exists():
            tail = (Path(tmp) / "err").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"child {kind} failed with exit {proc.returncode}:\n{tail}")
        stats = json.loads(stats_file.read_text())
    return ChildResult(stats, wall, usage.ru_maxrss)


def child_entry(kinds: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> bool:
    """Handle ``--child KIND --params FILE --stats FILE [--trace]``; False when not a child run.

    A child ends as ``pmo-jira`` does once its stats are written: without the interpreter's
    teardown, leaving what it made for the OS to free (``pmo_jira.cli.ending``)."""
    if "--child" not in sys.argv:
        return False
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True, choices=sorted(kinds))
    parser.add_argument("--params", required=True)
    parser.add_argument("--stats", required=True)
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    params = json.loads(Path(args.params).read_text())
    for module in params.get("preimport", ()):  # import time is not what is measured
        importlib.import_module(module)
    stats = measure(lambda: kinds[args.child](params), trace=args.trace,
                    capture=bool(params.get("capture_searches")))
    Path(args.stats).write_text(json.dumps(stats))
    from pmo_jira.cli.ending import exit_now

    exit_now(0)


def cli_kind(params: dict[str, Any]) -> dict[str, Any]:
    return run_cli(list(params["args"]))


def compile_bytecode() -> None:
    """Compile pmo-jira and its plugins to bytecode, as installing a wheel does: with
    ``PYTHONDONTWRITEBYTECODE`` set (some CI and container images) an editable install would
    otherwise compile every module from source in every measured process, which no user pays."""
    import compileall

    for folder in ("pmo_jira", "plugins"):
        if not compileall.compile_dir(ROOT / folder, quiet=1):
            raise RuntimeError(f"cannot compile {ROOT / folder} to bytecode")


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so the sandbox process is stopped on the way out."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# --- output --------------------------------------------------------------------------------------


def mib(kib: float | None) -> str:
    return "-" if kib is None else f"{kib / 1024:,.0f}"


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
