"""The portfolio's CSV (one file per level) and Markdown (readable raw), and a failed site in a
two-site portfolio rolling up without a pandas warning."""

from __future__ import annotations

import csv
import dataclasses
import io
import re

import pytest
from test_e2e_multisite import write_config

from pmo_jira.formats.markdown import md_text
from pmo_jira.model import Flavour, Site
from pmo_jira_portfolio.confluence import storage_body
from pmo_jira_portfolio.report import PortfolioReport
from pmo_jira_portfolio.rollup import build_rollup

from cli_fixtures import run_subprocess
from portfolio_fixtures import portfolio_context, portfolio_snapshot
from sandbox_fixtures import module_site
from standards_fixtures import project, snapshot

HOSTILE = '=HYPERLINK("http://evil") a|b [x](javascript:y) <b>bold</b> @alice *now* (Q4) - ok'
cloud = module_site("cloud", issues=120, seed=5)


@pytest.fixture(scope="module")
def ctx():
    snap = portfolio_snapshot()
    issues = tuple(dataclasses.replace(i, summary=HOSTILE) if i.key == "WEB-1" else i for i in snap.issues)
    return portfolio_context(snapshots=[dataclasses.replace(snap, issues=issues)])


def _read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_each_csv_file_holds_one_level_with_its_own_columns(ctx):
    files = PortfolioReport().render(ctx, "csv")
    portfolios, projects, epics = (_read(files[f"{n}.csv"]) for n in ("portfolios", "projects", "epics"))
    assert [r["portfolio"] for r in portfolios] == ["Digital", "Operations", "Uncategorised"]
    assert "key" not in portfolios[0] and "site" not in portfolios[0]  # no empty columns of other levels
    assert [(r["site"], r["project"], r["owner"]) for r in projects][0] == ("acme", "WEB", "Ann Lee")
    assert [r["key"] for r in epics] == ["WEB-1", "WEB-2", "WEB-3", "OPS-1", "LAB-1"]
    assert {r["rag_overall"] for r in epics} <= {"green", "amber", "red", "none"}
    assert all(r["why"] for r in epics)
    findings = _read(files["findings.csv"])
    assert len(findings) == len([f for f in ctx.result.findings if f.counts or f.outcome.value == "waived"])
    assert {"severity", "code", "message", "fix", "owner", "since", "url"} <= set(findings[0])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", findings[0]["since"])


def test_csv_defuses_formulas_in_every_file(ctx):
    files = PortfolioReport().render(ctx, "csv")
    web1 = next(r for r in _read(files["epics.csv"]) if r["key"] == "WEB-1")
    assert web1["summary"].startswith("'=HYPERLINK")
    for row in _read(files["findings.csv"]):
        if row["item"] == "WEB-1":
            assert row["item_summary"].startswith("'=HYPERLINK")
    for text in files.values():
        for row in csv.reader(io.StringIO(text)):
            assert not any(cell[:1] in ("=", "+", "@") for cell in row)


def test_one_level_is_one_file(ctx):
    one = PortfolioReport().render(dataclasses.replace(ctx, options={"level": "epics"}), "csv")
    assert list(one) == ["epics.csv"] and len(_read(one["epics.csv"])) == 5


def test_csv_folder_and_one_level_from_the_cli(pmo, cloud, tmp_path):
    out = tmp_path / "csv"
    result = pmo.run(["report", "portfolio", "--format", "csv", "--output", str(out), "--no-history"], sb=cloud)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "definitions.csv", "epics.csv", "findings.csv", "portfolios.csv", "projects.csv"]
    assert [ln for ln in result.stderr.splitlines() if ln.startswith("wrote ")] == [
        f"wrote {out / n}" for n in ("portfolios.csv", "projects.csv", "epics.csv", "findings.csv", "definitions.csv")]
    epics = pmo.run(["report", "portfolio", "--format", "csv", "--level", "epics", "--no-history"], sb=cloud)
    assert epics.exit_code == 0, epics.stderr
    assert epics.stdout.splitlines()[0].startswith("portfolio,site,project,key,summary,owner,")
    assert epics.stdout.splitlines() == (out / "epics.csv").read_text(encoding="utf-8").splitlines()
    assert {r["open"] for r in _read(epics.stdout)} <= {"true", "false"}
    same = pmo.run(["report", "portfolio", "--format", "csv", "--option", "level=epics", "--no-history"], sb=cloud)
    assert same.stdout == epics.stdout


# --- markdown --------------------------------------------------------------------------------


def test_markdown_reads_as_plain_text(ctx):
    out = PortfolioReport().render(ctx, "markdown")
    assert "\\(" not in out and "\\)" not in out and "\\-" not in out and "\\." not in out
    assert re.search(r"run 2026-11-25T12:00:00Z - sites acme - 3 projects, 5 epics - open findings: 6 "
                     r"\(1 critical, 3 high, 2 medium\)", out)
    assert "| WEB | WEB-2 | Epic WEB-2 | planning | Planning | 2026-12-25 | - | - |" in out


def test_markdown_keeps_jira_text_inert_and_tables_whole(ctx):
    out = PortfolioReport().render(ctx, "markdown")
    row = next(ln for ln in out.splitlines() if ln.startswith("| WEB | WEB-1 |"))
    header = next(ln for ln in out.splitlines() if ln.startswith("| Project | Epic |"))
    unescaped_pipes = lambda line: len(re.findall(r"(?<!\\)\|", line))  # noqa: E731
    assert unescaped_pipes(row) == unescaped_pipes(header)  # the | in the summary did not add a cell
    assert "a\\|b \\[x](javascript:y) \\<b\\>bold\\</b\\> \\@alice \\*now\\* (Q4) - ok" in row


@pytest.mark.parametrize(("text", "literal"), [
    ("Plan (v2) - draft #3, 50% done.", "Plan (v2) - draft #3, 50% done."),
    ("snake_case_name and _emphasis_", "snake_case_name and \\_emphasis\\_"),
    ("# not a heading", "\\# not a heading"),
    ("- not a list", "\\- not a list"),
    ("1. not a list", "1\\. not a list"),
    ("> not a quote", "\\> not a quote"),
    ("a -> b <= c", "a -> b <= c"),
    ("`code` ~~gone~~ &amp; mail a@b.example", "\\`code\\` \\~\\~gone\\~\\~ \\&amp; mail a@b.example"),
    ("back\\slash \\(kept\\)", "back\\slash \\\\(kept\\\\)"),
    ("<https://x.example>", "\\<https://x.example\\>"),
])
def test_md_text_escapes_only_what_markdown_would_misrender(text, literal):
    assert md_text(text) == literal


def test_in_a_table_cell_a_leading_dash_is_just_a_dash():
    assert md_text("-", cell=True) == "-" and md_text("# 1", cell=True) == "# 1"


# --- two sites with the same keys ----------------------------------------------------------------


def _two_sites():
    beta = Site("beta", "https://beta.example.net", Flavour.DC)
    snap = portfolio_snapshot()
    moved = dataclasses.replace(snap, site=beta, issues=tuple(dataclasses.replace(i, site="beta") for i in snap.issues),
                                projects=tuple(dataclasses.replace(p, site="beta") for p in snap.projects))
    return portfolio_context(snapshots=[snap, moved])


def _epic_rows(lines):
    """(header, rows) of the Epics table of the terminal or Markdown text, cells split on their spacing."""
    start = next(i for i, line in enumerate(lines) if line.startswith(("Epics (", "### Epics")))
    table = [line for line in lines[start + 1:] if line.strip() and not set(line) <= set("-| ")]
    end = next((i for i, line in enumerate(table) if not line.startswith(("|", "Project", "WEB", "OPS", "LAB"))),
               len(table))
    return [[c for c in re.split(r"\s*\|\s*|\s{2,}", line.strip(" |"))] for line in table[:end]]


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_with_two_sites_every_epic_row_names_its_site(fmt):
    # WEB-1 exists on acme and on beta: without the site the two rows read as one epic listed twice
    header, *rows = _epic_rows(PortfolioReport().render(_two_sites(), fmt).splitlines())
    assert header[:3] == ["Project", "Epic", "Site"]
    assert sorted((r[1], r[2]) for r in rows if r[1] == "WEB-1") == [("WEB-1", "acme"), ("WEB-1", "beta")]


def test_with_two_sites_the_confluence_epic_table_names_the_site():
    body = storage_body(build_rollup(_two_sites()))
    epics = body[body.index("<h2>Epics</h2>"):]
    epics = epics[:epics.index("<h2>", 4)]
    assert "<th>Project</th><th>Epic</th><th>Site</th>" in epics
    assert epics.count("<td>acme</td>") == epics.count("<td>beta</td>") == 5


def test_with_one_site_the_epic_tables_leave_the_site_out():
    out = PortfolioReport().render(portfolio_context(), "table")
    header, *_ = _epic_rows(out.splitlines())
    assert header[:3] == ["Project", "Epic", "Summary"]


# --- a failed site in a two-site portfolio ----------------------------------------------------


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("fmt", ["html", "table", "markdown", "json", "xlsx", "csv"])
def test_a_failed_site_beside_one_without_epics_rolls_up_without_warnings(fmt):
    # the site that answered has projects but no epics in scope; the other could not be read
    ctx = portfolio_context(snapshots=[snapshot([], projects=[project("WEB"), project("OPS", category=None)])])
    ctx = dataclasses.replace(ctx, result=dataclasses.replace(ctx.result, site_errors={"dc-prod": "401"}))
    out = PortfolioReport().render(ctx, fmt)
    assert out


def test_the_same_from_the_cli_with_warnings_as_errors(cloud, tmp_path):
    # a real two-site run (the documented two-site config): one site refuses the token; warnings are errors
    write_config(tmp_path, cloud.url, cloud.url)
    proc = run_subprocess(["report", "portfolio", "--project", "NOPE", "--format", "html", "-o", str(tmp_path / "p.html")],
                          {"PYTHONWARNINGS": "error", "PMO_JIRA_HISTORY": str(tmp_path / "h.sqlite"),
                           "PMO_JIRA_TOKEN_CLOUD_PROD": cloud.credentials.token, "PMO_JIRA_TOKEN_DC_PROD": "wrong"},
                          tmp_path)
    _, stderr = proc.communicate(timeout=300)
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr
    assert "site dc-prod" in stderr and proc.returncode == 2
