"""`pmo-jira audit` end to end: the real CLI against the sandbox, in both flavours."""

from __future__ import annotations

import csv
import io
import json
import math
import socket
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import jsonschema
import pytest

from pmo_jira.findings import Severity
from pmo_jira.formats import builtin_formats
from pmo_jira.formats.csv_format import COLUMNS
from pmo_jira.formats.json_format import load_schema
from pmo_jira.sandbox.server import SandboxServer

from cli_fixtures import MAPPING
from sandbox_fixtures import module_site

SEED, ISSUES = 7, 300
SCOPE_TYPES = {"Epic", "Story", "Task", "Bug", "Risk",  # issue_types of mappings/sandbox.yaml
               "Change Request", "Decision", "Assumption"}  # and the records its governance standards follow


cloud = module_site("cloud", issues=ISSUES, seed=SEED)
dc = module_site("dc", issues=ISSUES, seed=SEED)


@pytest.fixture(params=["cloud", "dc"])
def site(request, cloud, dc):
    return cloud if request.param == "cloud" else dc


def audit_json(pmo, sb, *args: str) -> dict:
    result = pmo.run(["audit", "--format", "json", "--fail-on", "never", *args], sb=sb)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def open_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["open"]]


def in_scope(sb: SandboxServer) -> int:
    """Issues the mapping selects that the bot can see (VAULT is hidden from it)."""
    with sb.store.lock:
        return sum(1 for r in sb.store.issues
                   if sb.store.projects[r.project].browsable and r.type in SCOPE_TYPES)


def error_lines(stderr: str) -> list[str]:
    """Lines reporting a failure: ``Error: ...`` from the CLI, or an ERROR log record."""
    return [ln for ln in stderr.splitlines() if ln.startswith("Error: ") or " ERROR " in ln]


# --- findings --------------------------------------------------------------------------------------


def test_cloud_and_data_center_give_the_same_findings(pmo, cloud, dc):
    reports = {sb.flavour.value: audit_json(pmo, sb) for sb in (cloud, dc)}
    keyed = {name: {(f["code"], f["item"], f["subject"], f["outcome"], f["severity"], f["phase"])
                    for f in r["findings"]} for name, r in reports.items()}
    assert keyed["cloud"] == keyed["dc"]
    assert len({code for code, *_ in keyed["cloud"]}) >= 5  # the portfolio breaks many standards
    assert reports["cloud"]["summary"] == reports["dc"]["summary"]
    for finding in open_findings(reports["dc"]):
        # what a project manager needs to act: the issue, the standard, the phase and the fix
        assert finding["item"] and finding["url"].endswith("/browse/" + finding["item"])
        assert finding["code"].startswith("PMO-") and finding["title"]
        assert finding["phase"] in ("initiation", "planning", "execution", "closing")
        assert finding["fix"].strip() and finding["message"].strip()
        assert finding["site"] == "jira"


def test_exit_code_follows_fail_on(pmo, cloud):
    report = audit_json(pmo, cloud)
    assert pmo.run(["audit", "--fail-on", "never"], sb=cloud).exit_code == 0
    assert any(f["severity"] in ("high", "critical") for f in open_findings(report))
    assert pmo.run(["audit", "--fail-on", "high"], sb=cloud).exit_code == 1
    # a project whose worst open finding is below "high" passes a --fail-on high gate
    worst: dict[str, int] = {}
    for f in open_findings(report):
        worst[f["project"]] = max(worst.get(f["project"], 0), Severity(f["severity"]).rank)
    mild = next(p for p, rank in sorted(worst.items()) if rank < Severity.HIGH.rank)
    assert pmo.run(["audit", "--project", mild, "--fail-on", "high"], sb=cloud).exit_code == 0
    assert pmo.run(["audit", "--project", mild, "--fail-on", "low"], sb=cloud).exit_code == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bad_mapping(tmp: Path) -> Path:
    path = tmp / "bad.yaml"
    path.write_text(MAPPING.read_text().replace("standards:", "standardz:", 1))
    return path


BAD_TOKEN = "wrong-token-5ecret-4711"
FAILURES = {
    # name: (env changes, extra args, words the one error line must contain)
    "bad credentials": (lambda sb, tmp: {"PMO_JIRA_TOKEN": BAD_TOKEN}, [], ["401", "authentication failed"]),
    "bad credentials, HTTP debug log": (lambda sb, tmp: {"PMO_JIRA_TOKEN": BAD_TOKEN}, ["-vv"],
                                        ["authentication failed", "401"]),
    "unreachable host": (lambda sb, tmp: {"PMO_JIRA_URL": f"http://127.0.0.1:{_closed_port()}"}, [],
                         ["cannot reach", "connection refused"]),
    "wrong url": (lambda sb, tmp: {"PMO_JIRA_URL": sb.url + "/wiki"}, [],
                  ["no Jira REST API", "/wiki", "404", "check the site URL"]),
    "hidden project": (lambda sb, tmp: {}, ["--project", "VAULT"],
                       ["VAULT", "not visible", "Browse Projects"]),
    "malformed mapping": (lambda sb, tmp: {"PMO_JIRA_MAPPING": str(_bad_mapping(tmp))}, [],
                          ["bad.yaml:", "standardz", "did you mean 'standards'"]),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_run_that_cannot_complete_exits_2_with_one_line(pmo, no_sleep, site, tmp_path, case):
    env, args, words = FAILURES[case]
    result = pmo.run(["audit", *args], sb=site, env=env(site, tmp_path))
    assert result.exit_code == 2, result.output
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]
    assert sum(words[0] in ln for ln in result.stderr.splitlines()) == 1  # said once, not echoed by logs
    assert "Traceback" not in result.output
    for secret in (BAD_TOKEN, site.credentials.token):
        assert secret not in result.output
    if case == "unreachable host":
        assert len(no_sleep) >= 1  # retried, in simulated time


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a disk that is always full)")
def test_a_report_that_cannot_be_written_says_so_and_what_was_read(pmo, cloud):
    result = pmo.run(["audit", "--format", "json", "-o", "/dev/full"], sb=cloud)
    assert result.exit_code == 2, result.output
    assert error_lines(result.stderr) == ["Error: cannot write /dev/full: No space left on device"]
    summary = result.stderr.strip().splitlines()[-1]
    # the read went through: the summary line counts it, not "0 issues read, findings: none"
    assert f"{in_scope(cloud):,} issues read" in summary and "findings: none" not in summary, summary
    assert summary.endswith("stopped early (the error is above)")


def test_a_site_that_is_not_jira_is_named_as_such(pmo, no_sleep, cloud):
    """A URL pointing at a web server that is not Jira (HTML pages) says so and suggests the fix."""

    class Html(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!DOCTYPE html><html><body>Welcome to our intranet</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = pmo.run(["audit"], sb=cloud, env={"PMO_JIRA_URL": f"http://127.0.0.1:{server.server_port}"})
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 2
    (line,) = error_lines(result.stderr)
    assert "not a Jira REST API" in line and "check the site URL" in line


# --- formats and options ---------------------------------------------------------------------------


def test_every_format_renders_through_the_cli(pmo, cloud, tmp_path):
    report = audit_json(pmo, cloud)
    findings = report["findings"]
    jsonschema.validate(report, load_schema())

    out = {}
    for fmt in builtin_formats():
        target = tmp_path / f"audit.{fmt}"
        result = pmo.run(["audit", "--format", fmt, "--output", str(target), "--fail-on", "never"], sb=cloud)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == ""  # --output: the report goes to the file only
        out[fmt] = target.read_text(encoding="utf-8")

    again = json.loads(out["json"])
    # Later runs take the epics' unchanged histories from the local cache: fewer requests, same report.
    assert again["run"].pop("requests") < report["run"].pop("requests")
    assert again == report  # the pinned clock makes runs comparable
    rows = list(csv.DictReader(io.StringIO(out["csv"], newline="")))
    assert tuple(rows[0]) == COLUMNS and len(rows) == len(findings)
    assert {(r["item"], r["code"]) for r in rows} == {(f["item"], f["code"]) for f in findings}
    suites = ET.fromstring(out["junit"])
    failures = suites.findall(".//failure")
    assert len(failures) == report["summary"]["by_outcome"]["fail"]
    first = open_findings(report)[0]
    for fmt in ("markdown", "table"):
        assert first["item"] in out[fmt] and first["code"] in out[fmt]
    assert "|" in out["markdown"]
    assert "\x1b[" not in out["table"]  # no colour codes in a file


def test_unknown_format_is_one_line(pmo, cloud):
    result = pmo.run(["audit", "--format", "pdf"], sb=cloud)
    assert result.exit_code == 2
    (line,) = error_lines(result.stderr)
    assert "pdf" in line and "json" in line


def test_explain_describes_a_standard_without_a_site(pmo):
    result = pmo.run(["audit", "--explain", "PMO-GOV-001"])  # no site configured at all
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PMO-GOV-001") and "owner" in result.stdout.lower()


def _search_requests(sb: SandboxServer) -> list:
    return sb.log.matching(path=r"^/rest/api/\d/search(/jql)?$")


def _search_params(request) -> dict[str, list[str]]:
    return parse_qs(request.query)


def test_project_and_jql_narrow_the_scope(pmo, dc):
    full = audit_json(pmo, dc)
    projects = sorted({f["project"] for f in open_findings(full)})
    chosen = projects[0]
    dc.log.clear()
    narrowed = audit_json(pmo, dc, "--project", chosen)
    assert narrowed["findings"] and {f["project"] for f in narrowed["findings"]} == {chosen}
    assert {(f["item"], f["code"]) for f in narrowed["findings"]} == {
        (f["item"], f["code"]) for f in full["findings"] if f["project"] == chosen}
    (jql,) = {_search_params(r)["jql"][0] for r in _search_requests(dc) if "expand" not in _search_params(r)}
    assert f'project in ("{chosen}")' in jql

    epics = sorted({f["item"] for f in open_findings(full) if f["kind"] == "epic"})
    by_jql = audit_json(pmo, dc, "--jql", f"key in ({', '.join(epics)})")
    assert {f["item"] for f in by_jql["findings"]} == set(epics)
    # each epic is still judged with all its children and risks: same verdicts as the full audit
    assert {(f["item"], f["code"], f["subject"], f["outcome"]) for f in by_jql["findings"]} == {
        (f["item"], f["code"], f["subject"], f["outcome"]) for f in full["findings"] if f["item"] in epics}


def test_reads_only_the_fields_the_standards_need(pmo, site):
    site.log.clear()
    audit_json(pmo, site)
    searches = _search_requests(site)
    assert searches
    with site.store.lock:
        by_name = {f.name: f.id for f in site.store.fields}
    mapped = {by_name[n] for n in ("Start date", "Target end", "PMO Phase", "Risk Impact", "Mitigation",
                                   "Sponsor", "Execution approved by", "Sponsor acceptance")}
    mapped.add(by_name["Story point estimate" if site.flavour.value == "cloud" else "Story Points"])
    allowed = {"summary", "status", "issuetype", "project", "labels", "created", "updated",
               "statuscategorychangedate", "resolutiondate", "issuelinks", "assignee", "description",
               "duedate", "parent", by_name.get("Epic Link", "parent"), by_name["Risk Likelihood"],
               "reporter"} | mapped
    for request in searches:
        params = _search_params(request)
        if params.get("expand") == ["changelog"]:  # Data Center's epic history: keys and changelogs only
            assert params["fields"] == ["key"]
            continue
        fields = set(params["fields"][0].split(","))
        assert not {"*all", "*navigable", "comment"} & fields
        assert mapped <= fields <= allowed, fields - allowed
        # the sync state comes inline on Cloud; Data Center's search has no `properties` parameter
        assert params.get("properties") == (["pmo-jira.state"] if site.flavour.value == "cloud" else None)


def test_request_count_grows_with_pages_not_issues(pmo, site):
    site.log.clear()
    audit_json(pmo, site)
    cloud = site.flavour.value == "cloud"
    page_size = 100 if cloud else 1000  # Data Center serves up to 1,000 a page
    pages = math.ceil(in_scope(site) / page_size)
    with site.store.lock:  # the change-control standards read the epics' history in bulk
        epics = sum(1 for r in site.store.issues if site.store.projects[r.project].browsable and r.type == "Epic")
    history = math.ceil(epics / (1000 if cloud else page_size))
    assert len(_search_requests(site)) == pages + (0 if cloud else history)
    assert len(site.log.matching(path=r"/changelog/bulkfetch$")) == (history if cloud else 0)
    assert len(site.log) <= pages + history + 20
    assert all(r.method == "GET" or r.path.endswith("/changelog/bulkfetch") for r in site.log)  # never writes


def test_data_center_read_in_key_windows_gives_the_same_findings(pmo, cloud, dc, monkeypatch):
    """A Data Center site larger than its result window is read in key windows; the audit reads
    every issue in scope once and finds what it finds on Cloud."""
    monkeypatch.setattr("pmo_jira.sandbox.server.DC_RESULT_WINDOW", 100)
    monkeypatch.setattr("pmo_jira.jira.client.DC_RESULT_WINDOW", 100)
    monkeypatch.setattr("pmo_jira.jira.client.DC_PAGE_SIZE", 30)  # pages end inside and at window ends
    reports = {sb.flavour.value: audit_json(pmo, sb) for sb in (cloud, dc)}
    assert reports["dc"]["run"]["issues_read"] == reports["cloud"]["run"]["issues_read"] == in_scope(dc)
    assert any("key+%3E" in r.query for r in dc.log.matching(path=r"/search$")), "read in key windows"
    keyed = {name: {(f["code"], f["item"], f["subject"], f["outcome"]) for f in r["findings"]}
             for name, r in reports.items()}
    assert keyed["cloud"] == keyed["dc"]
