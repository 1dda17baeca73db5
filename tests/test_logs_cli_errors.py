"""Shared command options and the error contract: one red `Error:` line and exit 2, never a traceback."""

from __future__ import annotations

import click
from click.testing import CliRunner

from pmo_jira.cli import printing
from pmo_jira.cli.options import CommonOptions, run_options
from pmo_jira.errors import JiraApiError
from pmo_jira.run import Run

from ops_fixtures import write_config


def _command(body):
    @click.command()
    @run_options(lock=True)
    def cmd(common: CommonOptions) -> None:
        body(common)

    return cmd


def test_pmo_error_is_one_line_exit_2():
    def body(common):
        raise JiraApiError("cannot reach jira.acme.internal: connection refused", method="GET",
                           url="/rest/api/2/serverInfo")

    result = CliRunner().invoke(_command(body), [])
    assert result.exit_code == 2
    assert result.output == ("Error: GET /rest/api/2/serverInfo: cannot reach jira.acme.internal: "
                             "connection refused\n")


def test_unexpected_exception_is_one_line_and_traceback_only_with_v():
    def body(common):
        raise KeyError("fields")

    quiet = CliRunner().invoke(_command(body), [])
    assert quiet.exit_code == 2
    assert quiet.output == "Error: unexpected KeyError: 'fields' (run with -v for the traceback)\n"
    verbose = CliRunner().invoke(_command(body), ["-v"])
    assert verbose.exit_code == 2 and "Traceback (most recent call last)" in verbose.output
    assert verbose.output.rstrip().splitlines()[-1] == "Error: unexpected KeyError: 'fields'"


def test_ctrl_c_is_one_line_and_never_the_findings_exit_code():
    def body(common):
        raise KeyboardInterrupt

    result = CliRunner().invoke(_command(body), [])
    assert result.exit_code == 2  # exit 1 would tell CI "findings at or above --fail-on"
    assert result.output.startswith("Error: interrupted") and result.output.count("\n") == 1


def test_output_closed_by_the_reader_ends_quietly_not_as_an_unexpected_error():
    def body(common):
        raise BrokenPipeError(32, "Broken pipe")  # `pmo-jira history show 3 | head -1`

    result = CliRunner().invoke(_command(body), [])
    assert result.exit_code == 141  # what a shell reports for `cat big | head -1`, never 1 ("findings")
    assert result.output == ""


def test_a_full_disk_behind_standard_output_is_one_line_naming_it(monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")  # `pmo-jira audit > /dev/full`

    monkeypatch.setattr(printing.click, "echo", full)
    result = CliRunner().invoke(_command(lambda common: printing.echo_out("report")), [])
    assert result.exit_code == 2
    assert result.output == "Error: cannot write to standard output: No space left on device\n"


def test_error_lines_never_carry_a_token():
    def body(common):
        raise RuntimeError("Authorization: Bearer abcdef123456 rejected")

    result = CliRunner().invoke(_command(body), [])
    assert "abcdef123456" not in result.output and result.exit_code == 2


def test_usage_errors_stay_clicks():
    result = CliRunner().invoke(_command(lambda c: None), ["--log-format", "xml"])
    assert result.exit_code == 2 and "Invalid value for '--log-format'" in result.output


def test_options_reach_the_command_and_settings(clean_env, tmp_path):
    cfg = write_config(tmp_path, '[sites.a]\nurl = "https://a.atlassian.net"\n', "ops.toml")
    seen = {}

    def body(common):
        settings = common.load()
        seen.update(common=common, settings=settings, lock=Run(settings, common.request("sync")).lock())

    args = ["--config", str(cfg), "--site", "a", "-vv", "-q", "--log-format", "json",
            "--summary-json", "out.json", "--wait", "--wait-timeout", "60"]
    result = CliRunner().invoke(_command(body), args)
    assert result.exit_code == 0, result.output
    common, settings, lock = seen["common"], seen["settings"], seen["lock"]
    assert (common.sites, common.verbosity, common.wait, common.wait_timeout) == (("a",), 1, True, 60.0)
    assert settings.log_format == "json" and settings.summary_json.name == "out.json"
    assert lock.path == settings.lock and lock.wait and lock.timeout == 60.0


def test_config_errors_through_the_options_are_one_line(clean_env):
    write_config(clean_env, '[sites.a]\nurl = "https://a.atlassian.net"\ntoken = "x"\n')

    def body(common):
        common.load()

    result = CliRunner().invoke(_command(body), [])
    assert result.exit_code == 2
    assert result.output.splitlines() == [(
        "Error: pmo-jira.toml:3: sites.a.token: secrets are not read from the config file "
        "(remove it, then set PMO_JIRA_TOKEN_A or run `pmo-jira login a`)")]
