"""Run-time safety against a served sandbox: retries that do not give up a busy site, a circuit
breaker for a site whose writes hang."""

from __future__ import annotations

import json
import time

import pytest
from test_e2e_multisite import tokens, write_config

from pmo_jira.errors import ConfigError
from pmo_jira.jira.client import JiraClient
from pmo_jira.run import Run
from pmo_jira.sandbox.faults import Faults
from pmo_jira.settings import load_settings
from pmo_jira.state import STATE_PROPERTY

from cli_fixtures import owned_comments
from ops_fixtures import write_config as write_text_config


def test_429_429_and_a_dropped_connection_do_not_end_a_site(pmo, sandbox, no_sleep):
    sb = sandbox("cloud", issues=60)
    clean = json.loads(pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb).stdout)
    # the same run again, where the first issue search answers 429, its retry 429 again, the next
    # try loses its connection and the fourth gets the page (request numbers count from 1 per Faults)
    first = next(n for n, r in enumerate(sb.log, start=1) if r.path.endswith("/search/jql"))
    sb.faults = Faults(only_paths=r"/search/jql$").at(f"{first},{first + 1}", "429").at(first + 2, "drop")
    result = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb)
    assert result.exit_code == 0, result.stderr
    assert sb.log.count(status=429) == 2 and sb.log.count(status=0) == 1
    faulty = json.loads(result.stdout)
    assert faulty["run"]["site_errors"] == {}
    assert faulty["findings"] == clean["findings"]


# --- the write circuit breaker --------------------------------------------------------------------

SLOW_WRITES = r"/issue/[A-Z]+-\d+$|/properties/pmo-jira\.state$"  # label edits and the state: writes only


class Hanging:
    """Sites whose writes hang, from the moment a run starts writing: the sandbox holds each label
    edit and state write for 2 s while the client waits 0.3 s for an answer."""

    def __init__(self) -> None:
        self.sites: list = []
        self.on = True

    def end(self) -> None:
        """The sites answer again, and clients wait as long as usual."""
        self.on = False
        for sb in self.sites:
            sb.faults = Faults()


@pytest.fixture
def hanging(monkeypatch):
    hang = Hanging()
    original_init, original_apply = JiraClient.__init__, Run.apply

    def init(self, *args, **kwargs):
        if hang.on:
            kwargs.setdefault("timeout", 0.3)
            kwargs.setdefault("sleep", lambda seconds: None)  # retry waits in simulated time
        original_init(self, *args, **kwargs)

    def apply(self, plans, audited, **kwargs):
        for sb in hang.sites if hang.on else ():
            sb.faults = Faults(rate_slow=1.0, slow_seconds=2.0, only_paths=SLOW_WRITES)
        return original_apply(self, plans, audited, **kwargs)

    monkeypatch.setattr(JiraClient, "__init__", init)
    monkeypatch.setattr(Run, "apply", apply)
    return hang


def _stated(sb) -> set[str]:
    with sb.store.lock:
        return {r.key for r in sb.store.issues if STATE_PROPERTY in (r.properties or {})}


def test_a_site_whose_writes_hang_is_stopped_and_picked_up_by_the_next_run(pmo, sandbox, hanging):
    sb = sandbox("dc", issues=120)
    planned = json.loads(pmo.run(["sync", "--plan-json", "-", "--no-history"], sb=sb).stdout)["totals"]["issues_touched"]
    assert planned > 6
    hanging.sites.append(sb)
    summary = pmo.home / "summary.json"
    result = pmo.run(["sync", "--apply", "--summary-json", str(summary)], sb=sb)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    stopped = [ln for ln in result.stderr.splitlines() if ln.startswith("stopped writing to jira: ")]
    assert stopped == ["stopped writing to jira: 3 writes in a row got no answer within 0.3s "
                       "(writeback.max_write_timeouts = 3)"]
    report = json.loads(summary.read_text())
    assert report["exit_code"] == 2 and report["writes_applied"] == 0
    assert report["site_errors"] == {"jira": "writes stopped: " + stopped[0].split(": ", 1)[1]}
    assert report["errors"] <= 4  # the issues in flight when the breaker opened (--concurrency 4)
    hanging.end()
    time.sleep(2.5)  # the held writes land (a hung proxy passes them on late)
    assert len(_stated(sb)) <= 4  # the rest has no state: the next run plans it again

    assert pmo.run(["sync", "--apply"], sb=sb).exit_code == 0
    again = json.loads(pmo.run(["sync", "--plan-json", "-", "--no-history"], sb=sb).stdout)
    assert again["totals"]["issues_touched"] == 0
    with sb.store.lock:
        keys = [r.key for r in sb.store.issues]
    assert all(len(owned_comments(sb, k)) <= 1 for k in keys)


def test_the_other_sites_are_written_while_one_hangs(pmo, sandbox, hanging, tmp_path):
    cloud, dc = sandbox("cloud", issues=120), sandbox("dc", issues=120)
    write_config(tmp_path, cloud.url, dc.url)
    hanging.sites.append(cloud)
    result = pmo.run(["sync", "--apply", "--summary-json", str(tmp_path / "s.json")], env=tokens(cloud, dc))
    assert result.exit_code == 2, result.output
    report = json.loads((tmp_path / "s.json").read_text())
    assert list(report["site_errors"]) == ["cloud-prod"]
    assert report["site_errors"]["cloud-prod"].startswith("writes stopped: 3 writes in a row")
    hanging.end()
    dc_left = pmo.run(["sync", "--site", "dc-prod", "--plan-json", "-", "--no-history"], env=tokens(cloud, dc))
    assert json.loads(dc_left.stdout)["totals"]["issues_touched"] == 0  # dc was written in full


def test_max_write_timeouts_is_a_setting(clean_env, tmp_path):
    cfg = write_text_config(tmp_path, '[sites.a]\nurl = "https://a.example.com"\n')
    assert load_settings(cfg, env={}).writeback.max_write_timeouts == 3
    assert load_settings(cfg, env={"PMO_JIRA_MAX_WRITE_TIMEOUTS": "10"}).writeback.max_write_timeouts == 10
    with pytest.raises(ConfigError, match="PMO_JIRA_MAX_WRITE_TIMEOUTS|writeback.max_write_timeouts"):
        load_settings(cfg, env={"PMO_JIRA_MAX_WRITE_TIMEOUTS": "0"})
