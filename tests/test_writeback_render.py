"""The owned comment and labels as Jira will show them."""

from __future__ import annotations

import json
from datetime import date

from pmo_jira.jira.richtext import adf_to_text, to_adf, to_wiki, wiki_to_text
from pmo_jira.model import Text
from pmo_jira.writeback.render import JIRA_TEXT_LIMIT, MARKER, SAFE_COMMENT_CHARS, code_label, comment_size, is_marked, render_comment

from writeback_fixtures import finding

TODAY = date(2026, 11, 25)
HOSTILE = "[~admin] {noformat} h1. x *bold* !img.png! [^file.txt] {code}"


def runs(doc):
    for block in doc.blocks:
        items = getattr(block, "items", None) or (block.content,)
        for item in items:
            yield from item


def test_comment_layout_heading_marker_findings_fix():
    doc = render_comment([finding("ABC-1"), finding("ABC-1", "PMO-EXE-001", message="Stale for 20 days.",
                                                    fix="Move the status.")], [], today=TODAY)
    text = adf_to_text(to_adf(doc))
    lines = text.splitlines()
    assert lines[0] == "PMO standards: 2 open findings"
    assert MARKER in text and is_marked(text)
    assert "PMO-GOV-001 Accountable owner set (high): No owner is set. Fix: Assign an accountable owner." in text
    assert "PMO-EXE-001 Status fresh (high): Stale for 20 days. Fix: Move the status." in text
    assert "Checked 2026-11-25" in text
    assert "*PMO-GOV-001* Accountable owner set" in to_wiki(doc) and " *Fix:* " in to_wiki(doc)  # real bold


def test_fixed_since_last_check_and_all_met_note():
    doc = render_comment([], [("PMO-EXE-001", "Status fresh", 1), ("PMO-PLN-003", "Children inside dates", 3)],
                         today=TODAY)
    text = adf_to_text(to_adf(doc))
    assert text.splitlines()[0] == "PMO standards: all met"
    assert "All PMO standards met as of 2026-11-25." in text
    assert "Fixed since last check:" in text
    assert "PMO-EXE-001 Status fresh" in text and "PMO-PLN-003 Children inside dates (3 items)" in text


def test_hostile_jira_text_is_literal_in_wiki_and_adf():
    f = finding("ABC-1", message=f"Child ABC-7 '{HOSTILE}' ends after the epic.", fix=HOSTILE)
    doc = render_comment([f], [("PMO-EXE-001", HOSTILE, 1)], today=TODAY)
    wiki = to_wiki(doc)
    assert "[~admin]" not in wiki and "\\[\\~admin\\]" in wiki
    assert "{noformat}" not in wiki and "{code}" not in wiki and "!img.png!" not in wiki
    assert not any(line.lstrip().startswith("h1.") for line in wiki.splitlines())
    assert HOSTILE in wiki_to_text(wiki)  # and people still read the text as typed
    assert is_marked(wiki_to_text(wiki))
    adf = to_adf(doc)
    assert "mention" not in json.dumps(adf)
    assert all(isinstance(r, Text) for r in runs(doc))


def test_many_findings_are_truncated_under_the_limit():
    long = "x" * 1500
    findings = [finding("ABC-1", "PMO-PLN-003", subject=f"ABC-{n}", message=f"ABC-{n} ends after the epic {long}")
                for n in range(100, 400)]
    doc = render_comment(findings, [("PMO-EXE-001", "Status fresh", 1)], today=TODAY)
    assert SAFE_COMMENT_CHARS - 2_000 < comment_size(doc) <= SAFE_COMMENT_CHARS < JIRA_TEXT_LIMIT
    assert len(to_wiki(doc)) < JIRA_TEXT_LIMIT and len(json.dumps(to_adf(doc))) < JIRA_TEXT_LIMIT
    text = adf_to_text(to_adf(doc))
    shown = text.count("ends after the epic")
    assert 0 < shown < 300 and f"... and {300 - shown} more findings (see the PMO report)" in text
    assert text.splitlines()[0] == "PMO standards: 300 open findings"
    assert is_marked(text)


def test_one_huge_message_is_cut_not_sent():
    doc = render_comment([finding("ABC-1", message="y" * 100_000)], [], today=TODAY)
    assert comment_size(doc) < 3_000


def test_code_labels_are_lowercase_without_repeated_prefix_word():
    assert code_label("pmo-", "PMO-GOV-001") == "pmo-gov-001"
    assert code_label("pmo-", "ACME-SEC-001") == "pmo-acme-sec-001"
    assert code_label("pmo_", "PMO-GOV-001") == "pmo_gov-001"
    assert code_label("pmo-", "PMO GOV 001") == "pmo-pmo-gov-001"  # spaces never reach a label
    assert len(code_label("pmo-", "X" * 400)) == 255
