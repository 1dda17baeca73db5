"""The per-site deployment without containers: one PostgreSQL history, two site runners at once.

Starts a throw-away PostgreSQL server (initdb + pg_ctl from PostgreSQL's binaries; as the
``postgres`` account when run as root), two sandbox sites (Cloud and Data Center), creates the
schema with ``pmo-jira history migrate``, then runs ``pmo-jira sync --apply --site cloud`` and
``--site dc`` as two processes at the same time, each with its own lock file as on two machines.
Finally it reads the portfolio's open findings from the shared history (the latest run of each
site) and checks they equal what an audit reading Jira finds, then renders the portfolio report
from the history (``report portfolio --from-history``, as the portfolio job after the site jobs
does) and checks it equals the report read from Jira, in JSON and CSV. Exit 0 when all agree.

    python scripts/topology.py            # prints what it did; exit 1 on a mismatch

The tests run it (tests/test_topology_script.py), so CI does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pmo_jira.history import HistoryStore  # noqa: E402
from pmo_jira.sandbox.generator import REFERENCE_NOW  # noqa: E402
from pmo_jira.sandbox.server import SandboxServer  # noqa: E402

from pg_fixtures import start_server, stop_server  # noqa: E402

SITES = ("cloud", "dc")


def pmo_jira(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pmo_jira", *args], env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen, what: str, ok: tuple[int, ...] = (0,)) -> str:
    out, err = proc.communicate(timeout=600)
    if proc.returncode not in ok:
        raise SystemExit(f"{what} failed (exit {proc.returncode}):\n{err[-3000:]}")
    return out


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="pmo-jira-topology-"))
    pg_folder = Path(tempfile.mkdtemp(prefix="pmo-jira-topology-pg-"))
    server, as_user, pg_ctl = start_server(pg_folder)
    # search_lag=0: the report is a later process; on a real site Cloud's index has caught up by
    # the time it reads, while the sandbox's lag counts writes and would never catch up.
    sandboxes = {name: SandboxServer(name, issues=150, seed=11, search_lag=0).start() for name in SITES}
    try:
        database = server.create_database()
        url = server.url(database)
        config = work / "pmo-jira.toml"
        config.write_text(f'mapping = "{ROOT / "mappings" / "sandbox.yaml"}"\nhistory = "{url}"\n' + "".join(
            f'[sites.{name}]\nurl = "{sb.url}"\nflavour = "{name}"\nemail = "pmo-bot@example.com"\n'
            for name, sb in sandboxes.items()))
        base = {**{k: v for k, v in os.environ.items() if not k.startswith("PMO_JIRA_")}, **server.env(),
                "PMO_JIRA_CONFIG": str(config), "PMO_JIRA_NOW": REFERENCE_NOW.isoformat(),
                "HOME": str(work), "XDG_DATA_HOME": str(work / "data"),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
                **{f"PMO_JIRA_TOKEN_{n.upper()}": sb.credentials.token for n, sb in sandboxes.items()}}
        print(finish(pmo_jira(["history", "migrate"], base, work), "history migrate").strip())
        runners = {name: pmo_jira(["sync", "--apply", "--site", name, "-q"],
                                  {**base, "PMO_JIRA_LOCK": str(work / f"machine-{name}" / "pmo-jira.lock")}, work)
                   for name in SITES}  # both at once, as on two machines
        for name, proc in runners.items():
            finish(proc, f"sync --site {name}")
            print(f"runner {name}: synced into {url}")
        audit = json.loads(finish(pmo_jira(["audit", "--format", "json", "--no-history", "--fail-on", "never", "-q"],
                                           base, work), "audit"))
        from_jira = {(f["site"], f["fingerprint"]) for f in audit["findings"] if f["outcome"] in ("fail", "error")}
        os.environ.update(server.env())
        with HistoryStore(url) as store:
            latest = store.latest_full_runs()
            from_history = {(ref.site, fp) for run in {r.id: r for r in latest.values()}.values()
                            for fp, ref in store.open_findings(run.id).items() if ref.site in SITES}
        print(f"history: latest run of each site {', '.join(f'{s}={r.id}' for s, r in latest.items())}; "
              f"{len(from_history)} open findings; read from Jira: {len(from_jira)}")
        if sorted(latest) != sorted(SITES) or from_history != from_jira:
            print("MISMATCH between the shared history and Jira")
            return 1
        print("the open findings of every site in the shared history equal those read from Jira")
        rendered = {}
        for fmt, extra in (("json", []), ("csv", ["--level", "epics"])):
            # the portfolio job reads the history only (no Jira token); then the same report from Jira
            no_jira = {k: v for k, v in base.items() if not k.startswith("PMO_JIRA_TOKEN_")}
            rendered[fmt] = finish(pmo_jira(["report", "portfolio", "--from-history", "--format", fmt, *extra, "-q"],
                                            no_jira, work), "report portfolio --from-history")
            read = finish(pmo_jira(["report", "portfolio", "--no-history", "--format", fmt, *extra, "-q"], base, work),
                          "report portfolio")
            if rendered[fmt] != read or not read.strip():
                print(f"MISMATCH between the portfolio report from the history and from Jira ({fmt})")
                return 1
        doc = json.loads(rendered["json"])
        print(f"the portfolio report from the shared history ({len(doc['run']['sites'])} sites, "
              f"{sum(len(p['projects']) for p in doc['portfolios'])} projects) equals the one read from Jira "
              "(json, csv)")
        return 0
    finally:
        for sb in sandboxes.values():
            sb.stop()
        stop_server(pg_folder, as_user, pg_ctl)


if __name__ == "__main__":
    sys.exit(main())
