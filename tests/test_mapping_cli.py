"""`pmo-jira mappings check`: one line per problem with file:line, exit 2; a summary and exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from pmo_jira.cli.main import cli

from cli_fixtures import PINNED_NOW
from client_fixtures import CLOUD_URL, payload

HERE = Path(__file__).parent
BAD = sorted((HERE / "mappings" / "bad").glob("*.yaml"))
GOOD = sorted((HERE / "mappings" / "good").glob("*.yaml")) + sorted((HERE.parent / "mappings").glob("*.yaml"))


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("PMO_JIRA_URL", "PMO_JIRA_EMAIL", "PMO_JIRA_TOKEN", "PMO_JIRA_FLAVOUR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PMO_JIRA_NOW", PINNED_NOW)  # waivers expire relative to the run's "now"


def check(*args: str):
    return CliRunner().invoke(cli, ["mappings", "check", *args])


def expected(path: Path) -> str:
    """The file's first line, ``# expect: :LINE: ...``, in whatever encoding the broken file is in."""
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else \
        raw.split(b"\n", 1)[0].decode("utf-8-sig")
    first = text.splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name}: first line must declare '# expect: :LINE: ...'"
    return first[len("# expect: "):]


def test_there_are_enough_broken_examples() -> None:
    assert len(BAD) >= 100


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_broken_mapping_reports_one_line_with_file_and_line(path: Path) -> None:
    result = check(str(path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert str(path) + expected(path) in lines[0]


@pytest.mark.parametrize("path", GOOD, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_valid_mapping_prints_summary(path: Path) -> None:
    result = check(str(path))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{path}: ok (")


def test_summary_counts_standards_rules_and_waivers() -> None:
    result = check(str(HERE / "mappings" / "good" / "every_key.yaml"))
    assert result.output.strip().endswith(": ok (2 standards, 11 phase rules, 2 waivers)")


def test_every_problem_gets_its_own_line_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nname: x\nwriteback:\n  notify: maybe\nscope:\n  projetcs: []\n"
                    "phases:\n  epic:\n    - {when: {status: [A]}, phase: exection}\n")
    result = check(str(path))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{path}:4", f"{path}:6", f"{path}:9"]
    assert "writeback.notify: expected true or false, got 'maybe'" in lines[0]


def test_missing_file_is_one_line() -> None:
    result = check("no/such/mapping.yaml")
    assert result.exit_code == 2
    assert result.output.strip() == "no/such/mapping.yaml: mapping file not found (check the path; presets live in mappings/)"


def test_unreachable_site_is_one_error_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMO_JIRA_TOKEN", "cloud-SECRET-token-123")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{CLOUD_URL}/rest/api/2/serverInfo", status=401, json={"errorMessages": ["Unauthorized"]})
        result = check(str(HERE / "mappings" / "good" / "minimal.yaml"), "--site-url", CLOUD_URL)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "401" in lines[0]
    assert "cloud-SECRET-token-123" not in result.output


def _fake_cloud_site(mock: responses.RequestsMock) -> None:
    mock.get(f"{CLOUD_URL}/rest/api/2/serverInfo", json=payload("cloud", "serverInfo"))
    mock.get(f"{CLOUD_URL}/rest/api/3/field", json=payload("cloud", "field"))


def test_connected_check_reports_fields_the_site_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMO_JIRA_EMAIL", "pmo-bot@acme.example")
    monkeypatch.setenv("PMO_JIRA_TOKEN", "cloud-SECRET-token-123")
    sandbox = HERE.parent / "mappings" / "sandbox.yaml"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _fake_cloud_site(mock)
        result = check(str(sandbox), "--site-url", CLOUD_URL)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    # The captured site has every sandbox field but "Risk Likelihood".
    assert len(lines) == 1
    assert lines[0].startswith(f"{sandbox}:29: fields.risk_likelihood: no field on the site matches 'Risk Likelihood'")
    assert "cloud-SECRET-token-123" not in result.output


def test_connected_check_passes_when_every_field_resolves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMO_JIRA_URL", CLOUD_URL)
    monkeypatch.setenv("PMO_JIRA_EMAIL", "pmo-bot@acme.example")
    monkeypatch.setenv("PMO_JIRA_TOKEN", "cloud-SECRET-token-123")
    path = tmp_path / "m.yaml"
    path.write_text('version: 1\nname: x\nfields:\n  owner: assignee\n  start: "start DATE"\n'
                    '  story_points: ["Story Points", {schema: "com.pyxis.greenhopper.jira:jsw-story-points"}]\n')
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        _fake_cloud_site(mock)
        result = check(str(path))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{path}: ok (0 standards, 0 phase rules, 0 waivers; all 3 fields found on {CLOUD_URL})"


def test_connected_check_without_token_is_one_line() -> None:
    result = check(str(HERE / "mappings" / "good" / "minimal.yaml"), "--site-url", CLOUD_URL)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["Error: PMO_JIRA_TOKEN is not set (Cloud: set PMO_JIRA_EMAIL and PMO_JIRA_TOKEN "
                                                  "(API token); Data Center: set PMO_JIRA_TOKEN (personal access token))"]


def test_a_mapping_that_never_ends_is_refused_after_the_limit(tmp_path):
    """A device or pipe has no size to check first (`/dev/zero` was read until memory ran out):
    the read stops one byte past the limit."""
    import contextlib
    import os
    import threading

    fifo = tmp_path / "endless.yaml"
    os.mkfifo(fifo)

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), open(fifo, "wb") as out:
            for _ in range(3 * 1024):  # 3 MiB of one long comment, then the end
                out.write(b"#" * 1024)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    result = check(str(fifo))
    writer.join(timeout=30)
    assert result.exit_code == 2
    assert result.output.strip() == (f"{fifo}:1: the file holds more than a mapping's limit of 2 MiB (is this the "
                                     "right file? a mapping is a few kilobytes of YAML)")


def test_a_mapping_piped_in_is_checked_as_a_file_is(tmp_path):
    """`cat mapping.yaml | pmo-jira mappings check /dev/stdin`: the file is read once (a second
    read waited for a pipe that had ended, or found nothing and called the mapping empty)."""
    import os
    import threading

    fifo = tmp_path / "piped.yaml"
    os.mkfifo(fifo)
    text = (HERE.parent / "mappings" / "sandbox.yaml").read_bytes()
    threading.Thread(target=lambda: fifo.write_bytes(text), daemon=True).start()
    results = []
    checking = threading.Thread(target=lambda: results.append(check(str(fifo))), daemon=True)
    checking.start()
    checking.join(timeout=30)
    if checking.is_alive():  # waiting to read the pipe a second time: let it go, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        checking.join(timeout=30)
        pytest.fail("the mapping was read twice from a pipe")
    (result,) = results
    assert result.exit_code == 0, result.output
    assert result.output.strip().startswith(f"{fifo}: ok (")
