"""`pip install -e .` without the `portfolio` extra: what needs it says so in one line."""

from __future__ import annotations

from click.testing import CliRunner

from pmo_jira.cli.main import cli

WITHOUT_PANDAS = "the portfolio report needs pandas: pip install 'pmo-jira[portfolio]'"


def test_the_demo_without_the_portfolio_extra_names_it_in_one_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("pmo_jira_portfolio.installed", lambda module: module != "pandas")
    result = CliRunner().invoke(cli, ["demo", "--out", "out", "--issues", "30"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == f"Error: {WITHOUT_PANDAS}"
    assert "Traceback" not in result.output


def test_the_report_without_the_extra_is_one_error_line(pmo, cloud_site, monkeypatch):
    monkeypatch.setattr("pmo_jira_portfolio.installed", lambda module: module != "pandas")
    result = pmo.run(["report", "portfolio", "--no-history"], sb=cloud_site)
    assert result.exit_code == 2
    *_, error, summary = result.stderr.strip().splitlines()  # the summary points up at the error
    assert error == f"Error: {WITHOUT_PANDAS}" and summary.endswith("stopped early (the error is above)")
