"""Tables fit the terminal: at COLUMNS=80 nothing is wider, at 200 the room is used; colour only
on a terminal and never with NO_COLOR."""

from __future__ import annotations

import io
import re

import pytest

from pmo_jira.formats.fit import fit_table, terminal_width, use_color

from sandbox_fixtures import module_site

cloud = module_site("cloud", issues=200, seed=5)
_ESC = re.compile(r"\x1b\[[0-9;]*m")


def widest(text: str) -> int:
    return max(len(_ESC.sub("", line)) for line in text.splitlines())


@pytest.fixture(scope="module")
def history_db(tmp_path_factory, cloud):
    """Two recorded runs to list."""
    return tmp_path_factory.mktemp("history") / "h.sqlite"


@pytest.mark.parametrize("columns", [80, 200])
def test_every_table_fits_the_columns_it_is_given(pmo, cloud, columns, history_db):
    env = {"COLUMNS": str(columns), "PMO_JIRA_HISTORY": str(history_db)}
    audit = pmo.run(["audit", "--fail-on", "never"], sb=cloud, env=env)
    portfolio = pmo.run(["report", "portfolio"], sb=cloud, env=env)
    history = pmo.run(["history"], env=env)
    shown = pmo.run(["history", "show", "1"], env=env)
    standards = pmo.run(["standards", "list"], env=env)
    plugins = pmo.run(["plugins", "list"], env=env)
    for name, result in (("audit", audit), ("portfolio", portfolio), ("history", history), ("history show", shown),
                         ("standards", standards), ("plugins", plugins)):
        assert result.exit_code == 0, (name, result.output)
        assert widest(result.stdout) <= columns, (name, [ln for ln in result.stdout.splitlines() if len(ln) > columns])
    if columns == 200:  # the room is used: the widest tables are wider than 80 columns
        assert widest(portfolio.stdout) > 120 and widest(standards.stdout) > 80 and widest(audit.stdout) > 100
        portfolios = portfolio.stdout.split("\nPortfolios (")[1].split("\n\n")[0]
        assert "not shown at" not in portfolios and "Done % (estimate)" in portfolios  # the room is used
    else:
        lines = portfolio.stdout.splitlines()
        first = next(i for i, ln in enumerate(lines) if ln.startswith("(not shown at 80 columns: "))
        note = " ".join([lines[first], *(ln for ln in lines[first + 1:first + 4] if ln.startswith(" "))])
        assert "Resolved" in note
        projects = portfolio.stdout.split("\nProjects (")[1]
        header = projects.splitlines()[1]
        assert header.split()[:3] == ["Site", "Project", "Name"] or "Overall" in header
        assert "Overall" in header  # the verdict stays when other columns go
        assert "…" in standards.stdout or widest(standards.stdout) <= 80


def test_piped_without_columns_lines_are_whole(pmo, cloud, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    portfolio = pmo.run(["report", "portfolio", "--no-history"], sb=cloud)
    assert "not shown at" not in portfolio.stdout and widest(portfolio.stdout) > 200


def test_width_comes_from_columns_then_the_terminal():
    assert terminal_width(io.StringIO(), {"COLUMNS": "93"}) == 93
    assert terminal_width(io.StringIO(), {"COLUMNS": "10"}) == 40  # never narrower than a usable table
    assert terminal_width(io.StringIO(), {}) is None  # a pipe or a file: no limit
    assert terminal_width(io.StringIO(), {"COLUMNS": "wide"}) is None


def test_colour_only_on_a_terminal_and_never_with_no_color():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert use_color(Tty(), {"TERM": "xterm"}) and not use_color(io.StringIO(), {"TERM": "xterm"})
    assert not use_color(Tty(), {"NO_COLOR": "1", "TERM": "xterm"})
    assert not use_color(Tty(), {"TERM": "dumb"})


def test_a_narrow_table_cuts_text_then_drops_columns_and_says_which():
    rows = [["WEB-1", "A long summary that will not fit at all in a narrow table", "RED", "12"]]
    lines = fit_table(["Key", "Summary", "Overall", "Days late"], rows, 38, numeric={3}, shrink=(1,), drop=(3,),
                      style=lambda col, cell: "31" if cell == "RED" else None)
    assert all(len(_ESC.sub("", ln)) <= 38 for ln in lines)
    assert "…" in lines[2] and "\x1b[31mRED" in lines[2]
    assert lines[-1] == "(not shown at 38 columns: Days late)"
    assert fit_table(["Key", "Summary"], rows, None) == fit_table(["Key", "Summary"], rows, 1000)
