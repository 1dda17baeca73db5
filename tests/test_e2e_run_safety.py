"""Run-time safety against a served sandbox: retries that do not give up a busy site, a circuit
breaker for a site whose writes hang."""

from __future__ import annotations

import json

from pmo_jira.sandbox.faults import Faults

from cli_fixtures import no_sleep  # noqa: F401 - fixture
from sandbox_fixtures import sandbox  # noqa: F401 - fixture


def test_429_429_and_a_dropped_connection_do_not_end_a_site(pmo, sandbox, no_sleep):  # noqa: F811
    sb = sandbox("cloud", issues=60)
    clean = json.loads(pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb).stdout)
    # request 3 is the first issue search (after the fields and the projects): it answers 429,
    # its retry 429 again, the next one drops the connection, the fourth try gets the page
    sb.faults = Faults(only_paths=r"/search/jql$").at("3,4", "429").at(5, "drop")
    result = pmo.run(["audit", "--format", "json", "--fail-on", "never", "--no-history"], sb=sb)
    assert result.exit_code == 0, result.stderr
    assert sb.log.count(status=429) == 2 and sb.log.count(status=0) == 1
    faulty = json.loads(result.stdout)
    assert faulty["run"]["site_errors"] == {}
    assert faulty["findings"] == clean["findings"]
