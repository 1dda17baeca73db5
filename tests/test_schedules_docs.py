"""The copy-paste schedules in docs/schedules/ parse, and use only pmo-jira options that exist."""

from __future__ import annotations

import configparser
import importlib
import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from pmo_jira.cli.main import COMMANDS

SCHEDULES = Path(__file__).resolve().parents[1] / "docs" / "schedules"
SHELL_OPERATORS = {"&&", "||", ";", "|", "&", ">", ">>", "2>&1", "<"}


def _crontab_commands() -> list[str]:
    commands = []
    for line in (SCHEDULES / "crontab").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"not five time fields and a command: {line!r}"
        for field in fields[:5]:
            assert re.fullmatch(r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*", field), field
        assert "%" not in fields[5], "cron turns % into a newline"
        commands.append(fields[5])
    return commands


def _systemd(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((SCHEDULES / name).read_text())
    return parser


def _yaml(name: str) -> list:
    return [doc for doc in yaml.safe_load_all((SCHEDULES / name).read_text()) if doc]


def _github() -> dict:
    (workflow,) = _yaml("github-actions.yml")
    return workflow


def _gitlab_job() -> dict:
    (config,) = _yaml("gitlab-ci.yml")
    return config["pmo-jira-sync"]


def _cronjob() -> dict:
    return next(doc for doc in _yaml("kubernetes-cronjob.yaml") if doc["kind"] == "CronJob")


def _shell_lines() -> list[tuple[str, str]]:
    """(file, shell command) for every place a schedule runs commands."""
    found = [("crontab", c) for c in _crontab_commands()]
    found.append(("pmo-jira.service", _systemd("pmo-jira.service")["Service"]["ExecStart"]))
    for step in _github()["jobs"]["sync"]["steps"]:
        found += [("github-actions.yml", line) for line in str(step.get("run", "")).splitlines() if line.strip()]
    job = _gitlab_job()
    found += [("gitlab-ci.yml", line) for line in job.get("before_script", []) + job["script"]]
    for container in _cronjob()["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]:
        found.append(("kubernetes-cronjob.yaml", shlex.join(container.get("command", []) + container.get("args", []))))
    return found


def _invocations() -> list[tuple[str, list[str]]]:
    """Every ``pmo-jira ...`` invocation: (file, argv after the program name)."""
    out = []
    for file, line in _shell_lines():
        tokens = shlex.split(line)
        for i, token in enumerate(tokens):
            if Path(token).name == "pmo-jira":
                argv = []
                for arg in tokens[i + 1:]:
                    if arg in SHELL_OPERATORS or arg.startswith((">", "2>")):
                        break
                    argv.append(arg)
                out.append((file, argv))
    return out


INVOCATIONS = _invocations()


def test_every_schedule_runs_pmo_jira():
    files = {file for file, _ in INVOCATIONS}
    assert files == {"crontab", "pmo-jira.service", "github-actions.yml", "gitlab-ci.yml", "kubernetes-cronjob.yaml"}
    for file in files:
        assert ["sync", "--apply"] == [a for a in next(argv for f, argv in INVOCATIONS
                                                       if f == file and argv[0] == "sync")][:2]


def _load_command(name: str) -> click.Command | None:
    module, attr = COMMANDS[name].split(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


@pytest.mark.parametrize("file, argv", INVOCATIONS, ids=[f"{f}:{' '.join(a[:2])}" for f, a in INVOCATIONS])
def test_invocation_uses_only_existing_options(file, argv):
    assert argv and argv[0] in COMMANDS, f"{file}: unknown command pmo-jira {argv[:1]}"
    command = _load_command(argv[0])
    if command is None:
        pytest.skip(f"pmo-jira {argv[0]} is not implemented yet")
    _check_argv(file, command, argv)


@pytest.mark.parametrize("argv", [["doctor", "--bogus"], ["doctor", "--format", "xml"], ["doctor", "--config"]])
def test_the_option_check_catches_mistakes(argv):
    with pytest.raises(AssertionError):
        _check_argv("example", _load_command("doctor"), argv)


def _check_argv(file: str, command: click.Command, argv: list[str]) -> None:
    args = argv[1:]
    while isinstance(command, click.Group) and args and not args[0].startswith("-"):
        command = command.commands.get(args[0])
        assert command is not None, f"{file}: unknown sub-command in {argv}"
        args = args[1:]
    options = {opt: p for p in command.params if isinstance(p, click.Option) for opt in p.opts + p.secondary_opts}
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            continue
        name, has_value = arg.split("=", 1)[0], "=" in arg
        if re.fullmatch(r"-[vq]+", name):
            name = name[:2]
        assert name in options, f"{file}: pmo-jira {argv[0]} has no option {name}"
        param = options[name]
        if not (param.is_flag or param.count) and not has_value:
            assert i < len(args), f"{file}: {name} needs a value"
            value = args[i]
            i += 1
            if isinstance(param.type, click.Choice):
                assert value in param.type.choices, f"{file}: {name} {value}"


def test_crontab_line():
    (command,) = _crontab_commands()
    assert "pmo-jira sync --apply" in command and "--config /etc/pmo-jira/pmo-jira.toml" in command


def test_systemd_service_and_timer():
    service = _systemd("pmo-jira.service")
    assert service["Service"]["Type"] == "oneshot"
    assert "pmo-jira sync --apply" in service["Service"]["ExecStart"]
    assert service["Service"]["ExecStart"].startswith("/")  # systemd wants an absolute path
    assert "EnvironmentFile" in service["Service"]  # tokens from a file, not the unit
    timer = _systemd("pmo-jira.timer")
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d", timer["Timer"]["OnCalendar"])
    assert timer["Timer"]["Unit"] == "pmo-jira.service" and timer["Install"]["WantedBy"] == "timers.target"


def test_github_actions_workflow():
    workflow = _github()
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    (schedule,) = on["schedule"]
    assert len(schedule["cron"].split()) == 5
    env = workflow["jobs"]["sync"]["env"]
    tokens = {k: v for k, v in env.items() if k.startswith("PMO_JIRA_TOKEN")}
    assert tokens and all(re.fullmatch(r"\$\{\{ secrets\.[A-Z0-9_]+ \}\}", v) for v in tokens.values())
    assert workflow["concurrency"]["cancel-in-progress"] is False
    runs = [s.get("run", "") for s in workflow["jobs"]["sync"]["steps"]]
    assert any(r.startswith("pmo-jira sync --apply") for r in runs)


def test_gitlab_ci_schedule_job():
    job = _gitlab_job()
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in job["rules"]
    assert any(line.startswith("pmo-jira sync --apply") for line in job["script"])
    assert job["resource_group"] and ".pmo-jira/" in job["cache"]["paths"]
    assert not any(k.startswith("PMO_JIRA_TOKEN") for k in job.get("variables", {}))  # tokens: CI/CD variables


def test_kubernetes_cronjob():
    cronjob = _cronjob()
    assert cronjob["apiVersion"] == "batch/v1"
    spec = cronjob["spec"]
    assert len(spec["schedule"].split()) == 5 and spec["concurrencyPolicy"] == "Forbid"
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    secret_env = [e for e in container["env"] if "valueFrom" in e]
    assert secret_env and all(e["name"].startswith("PMO_JIRA_TOKEN_") and "secretKeyRef" in e["valueFrom"]
                              for e in secret_env)
    env = {e["name"]: e.get("value") for e in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert Path(env["PMO_JIRA_HISTORY"]).parent == Path(mounts["history"])
    assert "persistentVolumeClaim" in volumes["history"]
    claim = volumes["history"]["persistentVolumeClaim"]["claimName"]
    assert any(d["kind"] == "PersistentVolumeClaim" and d["metadata"]["name"] == claim
               for d in _yaml("kubernetes-cronjob.yaml"))
    assert Path(env["PMO_JIRA_CONFIG"]).parent == Path(mounts["config"])
