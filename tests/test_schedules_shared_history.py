"""The per-site deployments (Kubernetes CronJobs, docker compose) parse, share one PostgreSQL
history whose password comes from a secret, give every site its own job, and run only options
that exist."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_schedules_docs import _check_argv, _load_command

SCHEDULES = Path(__file__).resolve().parents[1] / "docs" / "schedules"


def _docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((SCHEDULES / name).read_text()) if d]


def _kubernetes() -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in _docs("kubernetes-per-site.yaml")}


def _compose() -> dict:
    (doc,) = _docs("docker-compose.yml")
    return doc["services"]


def _container(cronjob: dict) -> dict:
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return container


def _site(argv: list[str]) -> str | None:
    return argv[argv.index("--site") + 1] if "--site" in argv else None


def _invocations() -> list[tuple[str, list[str]]]:
    out = [(f"kubernetes:{name}", _container(job)["command"]) for name, job in _kubernetes().items()]
    out += [(f"compose:{name}", service["command"]) for name, service in _compose().items()
            if service.get("command", [None])[0] == "pmo-jira"]
    return [(where, argv[1:]) for where, argv in out]


@pytest.mark.parametrize("where, argv", _invocations(), ids=[w for w, _ in _invocations()])
def test_every_command_uses_existing_options(where, argv):
    _check_argv(where, _load_command(argv[0]), argv)


def test_kubernetes_one_sync_job_per_site_sharing_the_history_secret():
    jobs = _kubernetes()
    assert all(j["apiVersion"] == "batch/v1" and j["kind"] == "CronJob" for j in jobs.values())
    syncs = {n: _container(j) for n, j in jobs.items() if _container(j)["command"][1] == "sync"}
    assert sorted(_site(c["command"]) for c in syncs.values()) == ["cloud", "dc"]
    for job in jobs.values():
        env = {e["name"]: e for e in _container(job)["env"]}
        assert env["PMO_JIRA_HISTORY_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "pmo-jira-history"
        assert len(job["spec"]["schedule"].split()) == 5 and job["spec"]["concurrencyPolicy"] == "Forbid"
    for c in syncs.values():
        tokens = [e["name"] for e in c["env"] if e["name"].startswith("PMO_JIRA_TOKEN_")]
        assert tokens == [f"PMO_JIRA_TOKEN_{_site(c['command']).upper()}"]  # a job sees its own site's token
        assert c["command"][:3] == ["pmo-jira", "sync", "--apply"]
    report = _container(jobs["pmo-jira-portfolio"])
    assert report["command"][1:4] == ["report", "portfolio", "--from-history"]
    assert not [e for e in report["env"] if e["name"].startswith("PMO_JIRA_TOKEN_")]  # reads no Jira
    at = {n: tuple(int(x) for x in j["spec"]["schedule"].split()[1::-1]) for n, j in jobs.items()}
    assert all(at["pmo-jira-portfolio"] > at[n] for n in syncs)  # the roll-up after the site jobs
    assert all(at["pmo-jira-history-migrate"] < at[n] for n in syncs)


def test_compose_postgres_two_runners_then_the_report():
    services = _compose()
    assert services["postgres"]["image"].startswith("postgres:")
    runners = {n: s for n, s in services.items() if s.get("command", [None, None])[1:2] == ["sync"]}
    assert sorted(_site(s["command"]) for s in runners.values()) == ["cloud", "dc"]
    for s in runners.values():
        assert s["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert s["environment"]["PMO_JIRA_HISTORY_PASSWORD"] == "${PMO_JIRA_HISTORY_PASSWORD}"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert set(services["report"]["depends_on"]) == set(runners)
    assert services["report"]["command"][1:4] == ["report", "portfolio", "--from-history"]
    assert not [v for v in services["report"]["environment"] if v.startswith("PMO_JIRA_TOKEN_")]
