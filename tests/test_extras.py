"""`pip install -e .` without the `portfolio` extra: the demo still runs and says what it skipped."""

from __future__ import annotations

from click.testing import CliRunner

from pmo_jira.cli.main import cli

WITHOUT_PANDAS = "the portfolio report needs pandas: pip install 'pmo-jira[portfolio]'"


def test_the_demo_runs_without_the_portfolio_extra_and_names_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("pmo_jira_portfolio.installed", lambda module: module != "pandas")
    result = CliRunner().invoke(cli, ["demo", "--out", "out", "--issues", "30"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"skipped the portfolio report: {WITHOUT_PANDAS}" in result.stderr
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "audit.json" in written and "audit.md" in written
    assert not [name for name in written if name.startswith("portfolio")]


def test_the_report_without_the_extra_is_one_error_line(pmo, cloud_site, monkeypatch):
    monkeypatch.setattr("pmo_jira_portfolio.installed", lambda module: module != "pandas")
    result = pmo.run(["report", "portfolio", "--no-history"], sb=cloud_site)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == f"Error: {WITHOUT_PANDAS}"
