"""Log lines on stderr (text or JSON), verbosity, redaction, and the one-line run summary."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timezone

import pytest

from pmo_jira.logs import (
    RunSummary,
    emit_summary,
    redact,
    register_secret,
    setup_logging,
    write_summary_json,
)

log = logging.getLogger("pmo_jira.sync")


@pytest.fixture
def stream() -> io.StringIO:
    return io.StringIO()


def test_text_lines_carry_time_level_and_site(stream):
    setup_logging(0, "text", stream)
    log.info("read %d issues", 12, extra={"site": "dc-prod"})
    log.debug("hidden at default verbosity")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith("INFO   [dc-prod] read 12 issues")
    assert datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%SZ")


def test_a_warning_is_set_apart_from_its_message(stream):
    setup_logging(0, "text", stream)
    log.warning("site jira: no project is in scope")
    assert stream.getvalue().rstrip().endswith("Z WARNING site jira: no project is in scope")


def test_json_lines_parse_and_keep_extras(stream):
    setup_logging(0, "json", stream)
    log.warning("site down", extra={"site": "cloud", "status": 503})
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("crashed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert {k: first[k] for k in ("level", "logger", "msg", "site", "status")} == {
        "level": "warning", "logger": "pmo_jira.sync", "msg": "site down", "site": "cloud", "status": 503}
    assert second["level"] == "error" and "ValueError: boom" in second["exc"]


@pytest.mark.parametrize("verbosity, shown", [
    (2, ["debug", "info", "warning", "error", "lib-debug", "summary"]),
    (1, ["debug", "info", "warning", "error", "summary"]),
    (0, ["info", "warning", "error", "summary"]),
    (-1, ["warning", "error", "summary"]),
    (-2, ["error"]),
])
def test_verbosity(stream, verbosity, shown):
    setup_logging(verbosity, "json", stream)
    log.debug("debug")
    log.info("info")
    log.warning("warning")
    log.error("error")
    logging.getLogger("urllib3.connectionpool").debug("lib-debug")
    emit_summary(RunSummary(command="sync"))
    msgs = [json.loads(line)["msg"] for line in stream.getvalue().splitlines()]
    assert [("summary" if m.startswith("sync:") else m) for m in msgs] == shown


def test_setting_up_twice_does_not_duplicate_lines(stream):
    setup_logging(0, "text", io.StringIO())
    setup_logging(0, "text", stream)
    log.info("once")
    assert stream.getvalue().count("once") == 1


@pytest.mark.parametrize("text, leaked", [
    ("headers={'Authorization': 'Basic cGVyc29uQGV4YW1wbGUuY29tOnNlY3JldA=='}", "cGVyc29u"),
    ("Authorization: Bearer NjE2NDYxMzMyNTUxOlTg", "NjE2NDYx"),
    ("https://x.example.com/rest?token=abc123def&x=1", "abc123def"),
    ("api_token = ATATT3xFfGF0T2hZUzZEbW5hR3pQdFhp", "ATATT3x"),
    ("password: hunter22", "hunter22"),
    ("found ATATT3xFfGF0T2hZUzZEbW5hR3pQdFhp in text", "ATATT3x"),
])
def test_redaction_masks_credential_shapes(stream, text, leaked):
    setup_logging(0, "text", stream)
    log.info("request: %s", text)
    assert leaked not in stream.getvalue() and "***" in stream.getvalue()
    assert leaked not in redact(text)


@pytest.mark.parametrize("prose", [
    "sites.a.token: secrets are not read from the config file",
    "Cloud expects Basic authentication with an email and an API token",
])
def test_redaction_leaves_prose_alone(prose):
    assert redact(prose) == prose


def test_registered_secrets_are_masked_in_messages_and_tracebacks(stream):
    register_secret("tok-9f8e7d6c")
    setup_logging(0, "json", stream)
    try:
        raise RuntimeError("server said tok-9f8e7d6c is wrong")
    except RuntimeError:
        log.exception("failed with tok-9f8e7d6c")
    assert "tok-9f8e7d6c" not in stream.getvalue()


def _summary() -> RunSummary:
    return RunSummary(command="sync", sites=["cloud", "dc"], issues_read=1204,
                      findings_by_severity={"medium": 5, "critical": 1, "high": 3},
                      writes_planned=40, writes_applied=38, errors=1, duration_s=12.34, exit_code=2,
                      site_errors={"dc": "GET /rest/api/2/serverInfo: cannot reach jira: connection refused"},
                      started_at=datetime(2026, 11, 25, 2, 15, tzinfo=timezone.utc))


def test_summary_line_is_one_readable_line():
    assert _summary().line() == ("sync: 2 sites (1 failed: dc), 1,204 issues read, findings: 1 critical, "
                                 "3 high, 5 medium, issues written: 38/40, 1 error, 12.3s, exit 2")
    assert RunSummary(command="audit", sites=["x"]).line() == (
        "audit: 1 site, 0 issues read, findings: none, issues written: 0/0, 0 errors, 0.0s, exit 0")


def test_summary_json_file_for_monitoring(tmp_path, stream):
    setup_logging(0, "json", stream)
    target = tmp_path / "state" / "last-run.json"
    emit_summary(_summary(), target)
    data = json.loads(target.read_text())
    assert data["version"] == 1 and data["exit_code"] == 2 and data["findings_total"] == 9
    assert data["sites"] == ["cloud", "dc"] and data["site_errors"]["dc"].endswith("connection refused")
    assert data["started_at"] == "2026-11-25T02:15:00+00:00"
    (line,) = stream.getvalue().splitlines()
    logged = json.loads(line)
    assert logged["msg"] == _summary().line() and logged["summary"] == data
    write_summary_json(target, RunSummary(command="audit"))  # replaced whole, never half-written
    assert json.loads(target.read_text())["command"] == "audit"
    assert [p.name for p in target.parent.iterdir()] == ["last-run.json"]


@pytest.mark.parametrize("text, leaked", [
    ("PASSWORD=hunter22", "hunter22"),
    ("pa\u017fsword: hunter22", "hunter22"),  # a long s: case-insensitive matching reads it as an s
    ("Authorı\u017eation: Token abc", None),  # not the word: left alone
    ("AUTHORIZATION: Token abc123", "abc123"),
    ("authorızation: Token abc123", "abc123"),  # a dotless i counts as an i
])
def test_redaction_reads_every_spelling_the_patterns_match(text, leaked):
    masked = redact(("line of a large report\n" * 2000) + text)
    if leaked is None:
        assert masked.endswith(text)
    else:
        assert leaked not in masked and masked.endswith("***")


_WORDS = ["Authorization", "authorization", "Set-Cookie", "cookie", "Basic", "Bearer", "token", "TOKEN",
          "password", "pa\u017fsword", "api_token", "jsessionid", "secret", ":", "=", ": ", " = ", '"', "'",
          " ", "  ", "\t", "\n", "\n", "\n    ", "\r\n", "abc123def", "hunter22", "NjE2NDYxMzMyNTUxOlTg",
          "ATATT3xFfGF0T2hZUzZEbW5hR3pQdFhp", "https://", "user:pw@", "x.example.com/", "tok-9f8e7d6c", "x", ",",
          "{", "}", "[", "],", "***", "@", "é", "line of text", "0"]


def test_redacting_in_pieces_masks_exactly_as_the_whole_text(monkeypatch):
    """A report written out in pieces is masked byte for byte as if it were redacted whole,
    whatever falls on either side of a cut (keys, separators and values across line ends)."""
    import random

    from pmo_jira import redaction

    register_secret("tok-9f8e7d6c")
    monkeypatch.setattr(redaction, "_PIECE", 24)  # many cuts in short texts
    rng = random.Random(15)
    for _ in range(3000):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 60))]
        pieces, at = [], 0
        while at < len(words):
            step = rng.randint(1, 6)
            pieces.append("".join(words[at:at + step]))
            at += step
        whole = "".join(pieces)
        assert "".join(redaction.redact_pieces(pieces)) == redact(whole), whole


def test_looking_for_words_first_masks_what_every_pattern_run_over_the_text_masks(monkeypatch):
    """The cheap look for the words a pattern needs never skips a pattern that would match."""
    import random

    from pmo_jira import redaction

    monkeypatch.setattr(redaction, "_SECRETS", set())
    rng = random.Random(7)
    words = _WORDS + ["PASSWD", "Passwd", "PAT", "Pat", "pat", "Secret", "JSESSIONID", "API-TOKEN", "COOKIE",
                      "Proxy-Authorization", "authorızation", "abc123", "ftp://", "u:p@", "x" * 20]
    for _ in range(5000):
        text = "".join(rng.choice(words) for _ in range(rng.randint(1, 8)))
        every = text
        for pattern, repl, _holds_a_word, _ignore_case in redaction._PATTERNS:
            every = pattern.sub(repl, every)
        assert redact(text) == every, text


def test_redacting_in_pieces_cuts_a_long_report_into_pieces(monkeypatch):
    from pmo_jira import redaction

    monkeypatch.setattr(redaction, "_PIECE", 100)
    lines = [f'    "message": "token: abc{n}def, see https://u:p@x.example.com/",\n' for n in range(200)]
    out = list(redaction.redact_pieces(lines))
    assert len(out) > 10 and "".join(out) == redact("".join(lines)) and "abc1def" not in "".join(out)
