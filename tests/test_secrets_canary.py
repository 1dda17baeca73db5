"""A canary token never leaves pmo-jira: not in error lines, logs (text, JSON, -vv), summary JSON,
history, reports or doctor, even when the server echoes the request's headers back.

The echo server stands in for a Jira (or a proxy in front of it) whose error pages quote the
request: it answers every request with the status under test and a body holding every header
it received, Authorization and Cookie included, as JSON error messages and as text.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cli_fixtures import MAPPING


class Echo(BaseHTTPRequestHandler):
    status = 500
    content_type = "application/json"

    def _answer(self) -> None:
        echoed = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        if self.content_type == "application/json":
            body = json.dumps({"errorMessages": [f"Bad request. You sent:\n{echoed}"],
                               "errors": {"headers": echoed}}).encode()
        else:
            body = f"Request rejected\n{echoed}\n".encode()
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Set-Cookie", "JSESSIONID=" + self.headers.get("Authorization", "")[-12:])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args) -> None:  # the test reads pmo-jira's output, not the server's
        pass


@pytest.fixture(params=[(400, "application/json"), (401, "application/json"), (403, "text/plain"),
                        (500, "application/json"), (500, "text/plain")],
                ids=["400", "401", "403-text", "500", "500-text"])
def echo(request):
    status, ctype = request.param
    handler = type("EchoHandler", (Echo,), {"status": status, "content_type": ctype})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", ctype
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("flavour", ["cloud", "dc"])
def test_canary_token_appears_in_no_output(pmo, no_sleep, echo, flavour, tmp_path: Path):
    url, ctype = echo
    token = "CANARY" + secrets.token_hex(12)
    email = "bot@example.com"
    forms = {token, base64.b64encode(f"{email}:{token}".encode()).decode()}
    env = {"PMO_JIRA_URL": url, "PMO_JIRA_TOKEN": token, "PMO_JIRA_FLAVOUR": flavour,
           "PMO_JIRA_MAPPING": str(MAPPING), "PMO_JIRA_SUMMARY_JSON": str(tmp_path / "summary.json")}
    if flavour == "cloud":
        env["PMO_JIRA_EMAIL"] = email
    outputs: list[str] = []
    runs = [["audit", "-vv"], ["audit", "-vv", "--log-format", "json"], ["sync", "--apply", "-vv"],
            ["sync", "--log-format", "json"], ["doctor"], ["doctor", "--json"],
            ["report", "portfolio", "--format", "html", "-o", str(tmp_path / "portfolio.html")],
            ["history", "list"]]
    for args in runs:
        result = pmo.run(args, env=env)
        assert "Traceback" not in result.output, (args, result.output)
        outputs += [result.stdout, result.stderr]
        if "--log-format" in args:
            lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
            assert lines and all(json.loads(ln) for ln in lines)  # every line, the error too
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "summary.json" for p in files)
    outputs += [p.read_bytes().decode("utf-8", "replace") for p in files]
    leaked = [(form, text[max(0, text.find(form) - 80):text.find(form) + 20])
              for text in outputs for form in forms if form in text]
    assert leaked == []
    if ctype == "application/json":  # Jira's error messages are shown: the echo came back, masked
        assert any("Authorization: ***" in text for text in outputs)
