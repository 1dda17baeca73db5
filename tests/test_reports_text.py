"""The terminal table and the Markdown report: what a person reads."""

from __future__ import annotations

import re

from pmo_jira.formats import formats, get_renderer
from pmo_jira.formats.markdown import md_escape

from reports_fixtures import NOW, result, rich_result

ANSI = re.compile("\x1b\\[")


def test_table_has_no_escape_codes_unless_colour_is_asked_for():
    plain = formats["table"].render(rich_result(), now=NOW)
    assert not ANSI.search(plain)  # even the escape sequence inside a Jira message is dropped
    coloured = get_renderer("table", color=True).render(rich_result(), now=NOW)
    assert "\x1b[1;35mCRITICAL\x1b[0m" in coloured
    assert ANSI.sub("", coloured).replace("[0m", "").count("\n") == plain.count("\n")


def test_table_wraps_to_the_terminal_width():
    out = get_renderer("table", width=60).render(rich_result(), now=NOW)
    assert max(len(line) for line in out.splitlines()) <= 60
    wide = get_renderer("table", width=200).render(rich_result(), now=NOW)
    assert len(wide.splitlines()) < len(out.splitlines())


def test_table_groups_by_item_marks_waived_and_na_and_lists_unmapped():
    out = formats["table"].render(rich_result(), now=NOW)
    lines = out.splitlines()
    assert lines[1].startswith("6 open (1 critical, 3 high, 1 low, 1 info; 1 of them a check that could not")
    assert lines.index("cloud / DIG") < lines.index("dc / OPS")
    dig1 = lines.index("  DIG-1 [epic · execution] Payroll | migration")
    labels = [line.split()[0] for line in lines[dig1 + 1:] if line.startswith("    ") and
              not line.startswith("     ")][:4]
    assert labels == ["CRITICAL", "HIGH", "WAIVED", "LOW"]
    assert "             waived by ann until 2026-06-30: Risks kept in the | steering deck" in lines
    assert any(line.startswith("    N/A      PMO-EXE-001") for line in lines)
    assert lines[-2:] == ["  cloud / DIG-11 (epic) Epic in status 'Parked'",
                          "  dc / OPS-5 (epic) Unmapped DC epic"]


def test_table_reports_sites_that_failed_and_a_clean_run():
    out = formats["table"].render(result([], [], site_errors={"dc": "GET /rest/api/2/myself -> 401"}),
                                  now=NOW)
    assert "  site dc could not be audited: GET /rest/api/2/myself -> 401" in out.splitlines()
    assert "No findings." in out


def _cells(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line)) - 1


def test_markdown_tables_stay_intact_with_pipes_and_markup_in_jira_text():
    out = formats["markdown"].render(rich_result(), now=NOW)
    table = [line for line in out.splitlines() if line.startswith("| Severity | Outcome")]
    start = out.splitlines().index(table[0])
    rows = out.splitlines()[start:start + 10]
    assert all(_cells(r) == 7 for r in rows)
    assert "Payroll \\| migration" in out
    assert "<script>" not in out and "\\<script\\>" in out


def test_markdown_summary_counts_per_severity_and_outcome():
    out = formats["markdown"].render(rich_result(), now=NOW).splitlines()
    assert "| high | 2 | 0 | 0 | 1 |" in out
    assert "| **total** | **5** | **1** | **1** | **1** |" in out


def test_md_escape_makes_text_literal():
    assert md_escape("a|b [x](javascript:y) *z*\nnext") == "a\\|b \\[x\\]\\(javascript:y\\) \\*z\\* next"
