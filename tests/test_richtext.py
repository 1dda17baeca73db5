"""Comment bodies: user text stays literal in wiki markup and ADF; reading back flattens both."""

from __future__ import annotations

import json
import re

import pytest

from pmo_jira.jira.richtext import adf_to_text, to_adf, to_wiki, wiki_to_text
from pmo_jira.model import BulletList, Doc, Heading, Paragraph, Text

HOSTILE = [
    "[~admin]", "[~accountid:5b10a2844c20165700ede21g]", "!http://evil.example/x.png!", "[^secret.pdf]",
    "{noformat}", "{code:java}x{code}", "h1. Shouting", "  h3. indented", "bq. quote", "* bullet", "# numbered",
    "- dash", "---- rule", "|| head || cell |", "*bold* _it_ -strike- +ins+ ^sup^ ~sub~ ??cite??",
    "{{mono}}", "&#91;~admin&#93; & &amp;", "[click|http://evil.example]", "back\\slash \\\\ break", "{color:red}x{color}", "(y) (!) :)",
]


def _unescaped(wiki: str, pattern: str) -> bool:
    """Whether ``pattern`` occurs with its first character not preceded by a backslash."""
    return re.search(r"(?<!\\)" + pattern, wiki) is not None


@pytest.mark.parametrize("text", HOSTILE)
def test_wiki_output_never_contains_live_markup(text):
    wiki = to_wiki(Doc((Paragraph((Text(text),)), Paragraph((Text("line\n" + text),)))))
    for pattern in (r"\[~", r"\[\^", r"!\S", r"\{", r"\|", r"\*", r"_", r"\[", r"\?\?", r"\^", r"\+", r"-"):
        assert not _unescaped(wiki.replace("\\\\", ""), pattern), (text, wiki)
    assert not re.search(r"(?m)^\s*(h[1-6]|bq)\.", wiki), wiki
    assert not re.search(r"(?m)^\s*[*#-]", wiki), wiki


@pytest.mark.parametrize("text", HOSTILE)
def test_wiki_escaping_reads_back_as_the_original_text(text):
    assert wiki_to_text(to_wiki(Doc((Paragraph((Text(text),)),)))) == text.strip()


def test_wiki_structure_is_ours():
    doc = Doc((Heading(2, (Text("Findings"),)),
               Paragraph((Text("see "), Text("PM-1", href="https://acme.atlassian.net/browse/PM-1"),
                          Text(" now", strong=True), Text("cf[10014]", code=True))),
               BulletList(((Text("one"),), (Text("two"), Text(" [~x]"))))))
    assert to_wiki(doc) == ("h2. Findings\n\n"
                            "see [PM-1|https://acme.atlassian.net/browse/PM-1]* now*{{cf\\[10014\\]}}\n\n"
                            "* one\n* two \\[\\~x\\]")


@pytest.mark.parametrize("text, wiki", [
    ("PMO-RSK-002 (critical) on 2026-01-15", "PMO-RSK-002 (critical) on 2026-01-15"),  # readable as is
    ("story_points", "story_points"),
    ("-gone- _em_ a - b", "\\-gone\\- \\_em\\_ a \\- b"),  # effects need a non-word char outside
    ("ok (y) (on) (/)", "ok \\(y) \\(on) \\(/)"),  # emoticons stay text
])
def test_wiki_escapes_only_what_could_be_markup(text, wiki):
    assert to_wiki(Doc((Paragraph((Text(text),)),))) == wiki
    assert wiki_to_text(wiki) == text


def test_unsafe_links_are_dropped():
    doc = Doc((Paragraph((Text("x", href="javascript:alert(1)"), Text("y", href="http://a|b"))),))
    assert to_wiki(doc) == "xy"
    assert "marks" not in json.dumps(to_adf(doc))


def test_adf_text_is_literal_and_never_empty():
    doc = Doc((Paragraph((Text(""), Text("[~admin] {code}\nh1. x\r\n\n!img!"), Text("", strong=True))),
               Heading(9, (Text("big", strong=True, code=True, href="https://a.example"),)),
               BulletList(((Text("item"),),))))
    adf = to_adf(doc)
    assert adf["type"] == "doc" and adf["version"] == 1
    para = adf["content"][0]["content"]
    assert [n["type"] for n in para] == ["text", "hardBreak", "text", "hardBreak", "hardBreak", "text"]
    assert para[0]["text"] == "[~admin] {code}" and para[2]["text"] == "h1. x"
    assert "mention" not in json.dumps(adf)

    def texts(node):
        if isinstance(node, dict):
            if node.get("type") == "text":
                yield node["text"]
            for child in node.get("content", []):
                yield from texts(child)

    assert all(texts(adf))
    heading = adf["content"][1]
    assert heading["attrs"] == {"level": 6}
    assert heading["content"][0]["marks"] == [{"type": "code"}, {"type": "link", "attrs": {"href": "https://a.example"}}]
    assert adf["content"][2]["content"][0]["content"][0]["content"][0]["text"] == "item"


def test_adf_round_trip_to_text():
    doc = Doc((Heading(1, (Text("Title"),)), Paragraph((Text("a\nb"),)), BulletList(((Text("c"),), (Text("d"),)))))
    assert adf_to_text(to_adf(doc)) == "Title\na\nb\nc\nd"


def test_adf_to_text_handles_mentions_cards_tables_and_junk():
    adf = {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "mention", "attrs": {"id": "abc", "text": "@Ann"}},
                                          {"type": "text", "text": " see "},
                                          {"type": "inlineCard", "attrs": {"url": "https://x.example"}}]},
        {"type": "table", "content": [{"type": "tableRow", "content": [
            {"type": "tableHeader", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "k"}]}]},
            {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "v"}]}]}]}]},
        {"type": "unknownFutureNode", "content": [{"type": "text", "text": "kept"}]}, "junk"]}
    text = adf_to_text(adf)
    assert text.startswith("@Ann see https://x.example") and "k" in text and "v" in text and "kept" in text
    assert adf_to_text(None) == "" and adf_to_text("plain") == "plain"


def test_wiki_to_text_strips_markup():
    wiki = ("h1. Plan\n{panel:title=Note}Keep *this* and _that_{panel}\n||a||b||\n|1|2|\n"
            "[Docs|https://x.example] [~jdoe] !diagram.png|thumbnail! {{code}} -gone- a-b &#123;")
    assert wiki_to_text(wiki) == "Plan\nKeep this and that\n a b\n 1 2\nDocs @jdoe  code gone a-b {"
    assert wiki_to_text(None) == "" and wiki_to_text("") == ""


def test_emoticons_and_invisible_characters_stay_plain_text_in_both_flavours():
    doc = Doc((Paragraph((Text("Great :) ;) :( :P :D R&) \\) \u202eevil\u200b\x1b[2J\x00 done"),)),))
    wiki = to_wiki(doc)
    # Data Center's renderer would draw :) and ;) as emoticon images; entities keep the characters
    for emoticon in (":)", ";)", ":(", ":P", ":D"):  # also after the entities of & and \\
        assert emoticon not in wiki
    for invisible in "\u202e\u200b\x1b\x00":  # right-to-left override, zero-width space, ESC, NUL
        assert invisible not in wiki
        assert invisible not in json.dumps(to_adf(doc), ensure_ascii=False)
    assert wiki_to_text(wiki) == adf_to_text(to_adf(doc)) == "Great :) ;) :( :P :D R&) \\) evil[2J done"
