"""`pmo-jira sandbox serve`: starts, tells how to connect, refuses bad options in one line, stops on Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner

from pmo_jira.cli.main import cli


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0"], "only listens on loopback"),
    (["--flavour", "server"], "'server' is not one of 'cloud', 'dc'"),
    (["--issues", "many"], "'many' is not a valid integer"),
    (["--fault-schedule", "3:500"], "unknown fault '500'"),
    (["--fault-429-rate", "0.7", "--fault-503-rate", "0.7"], "more than 1"),
    (["--deny", "NOPE"], "unknown permission"),
    (["--now", "yesterday"], "not an ISO date-time"),
    (["--now", "9999-12-31T23:59:59"], "outside the years 1900 to 9000"),
    (["--now", "0001-01-01"], "outside the years 1900 to 9000"),
])
def test_bad_options_give_one_line_and_exit_2(args, message):
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--issues", "30", *args])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]


def test_serve_prints_how_to_connect_and_stops_on_ctrl_c():
    proc = subprocess.Popen([sys.executable, "-m", "pmo_jira", "sandbox", "serve", "--flavour", "dc", "--issues", "40",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", first).group(1)
        banner = [proc.stdout.readline() for _ in range(5)]
        assert any("Bearer" in line for line in banner)
        response = requests.get(f"{url}/rest/api/2/serverInfo", headers={"Authorization": "Bearer sandbox-token"})
        assert response.json()["deploymentType"] == "Server"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err
    assert "Stopped." in out


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_the_printed_export_lines_point_an_audit_at_the_sandbox(flavour, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "pmo_jira", "sandbox", "serve", "--flavour", flavour,
                             "--issues", "40", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        lines = []
        while not lines or lines[-1].strip() != "pmo-jira audit":
            lines.append(proc.stdout.readline())
        exports = [line.strip() for line in lines if line.strip().startswith(("export ", "unset "))]
        names = {m for line in exports for m in re.findall(r"PMO_JIRA_[A-Z]+", line)}
        assert {"PMO_JIRA_URL", "PMO_JIRA_TOKEN", "PMO_JIRA_MAPPING", "PMO_JIRA_FLAVOUR"} <= names
        script = "\n".join([*exports, f"'{sys.executable}' -m pmo_jira audit --no-history --fail-on never "
                                      "--format json -o audit.json"])
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PMO_JIRA_EMAIL": "someone@elsewhere.example"}
        done = subprocess.run(["bash", "-ec", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
    assert done.returncode == 0, done.stderr
    assert '"findings"' in (tmp_path / "audit.json").read_text(encoding="utf-8")
