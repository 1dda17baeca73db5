"""Rich text to and from Jira: ADF (Cloud REST v3) and wiki markup (REST v2, Data Center).

pmo-jira writes text built from issue data that people typed (summaries, names, labels). That text
must never turn into markup: in wiki markup ``[~jdoe]`` notifies a user, ``!x!`` embeds an image,
``{code}`` swallows the rest of the comment. So ``to_wiki`` escapes every markup character, and
``to_adf`` only emits literal text nodes (ADF has no inline markup; mentions need explicit nodes).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from pmo_jira.model import BulletList, Doc, Heading, Paragraph, Text
from pmo_jira.printable import without_invisible

_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_NEWLINE = re.compile(r"\r\n|\r|\n")


def _safe_href(href: str | None) -> str | None:
    """Only plain web/mail links; anything else (javascript:, data:) is dropped."""
    if not href:
        return None
    href = href.strip()
    if urlsplit(href).scheme.lower() not in _SAFE_SCHEMES or any(c in href for c in " \n\r\t|[]"):
        return None
    return href


# --- ADF --------------------------------------------------------------------------------------


def _adf_inline(runs: Iterable[Text]) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for run in runs:
        marks: list[dict[str, Any]] = []
        if run.code:
            marks.append({"type": "code"})  # ADF allows code only together with link
        elif run.strong:
            marks.append({"type": "strong"})
        href = _safe_href(run.href)
        if href:
            marks.append({"type": "link", "attrs": {"href": href}})
        for i, part in enumerate(_NEWLINE.split(without_invisible(run.text))):
            if i:
                nodes.append({"type": "hardBreak"})
            if part:  # Jira rejects empty text nodes
                node: dict[str, Any] = {"type": "text", "text": part}
                if marks:
                    node["marks"] = [dict(m) for m in marks]
                nodes.append(node)
    return nodes


def to_adf(doc: Doc) -> dict[str, Any]:
    """An ADF document (``{"type": "doc", "version": 1, ...}``) for Cloud v3 bodies."""
    content: list[dict[str, Any]] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            content.append({"type": "paragraph", "content": _adf_inline(block.content)})
        elif isinstance(block, Heading):
            content.append({"type": "heading", "attrs": {"level": min(max(block.level, 1), 6)},
                            "content": _adf_inline(block.content)})
        elif isinstance(block, BulletList):
            items = [{"type": "listItem",
                      "content": [{"type": "paragraph", "content": _adf_inline(item)}]}
                     for item in block.items]
            if items:
                content.append({"type": "bulletList", "content": items})
        else:  # pragma: no cover - Block is a closed union
            raise TypeError(f"unknown block {block!r}")
    return {"type": "doc", "version": 1, "content": content}


_ADF_BLOCKS = frozenset({"paragraph", "heading", "codeBlock", "blockquote", "rule",
                         "tableRow", "panel", "mediaSingle", "mediaGroup", "expand", "nestedExpand",
                         "taskItem", "decisionItem"})


def adf_to_text(adf: Any) -> str:
    """Plain text of an ADF document: text, mentions and links kept, block breaks as newlines."""
    if adf is None:
        return ""
    if isinstance(adf, str):
        return adf.strip()
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        attrs = node.get("attrs") or {}
        if kind == "text":
            out.append(str(node.get("text", "")))
        elif kind == "hardBreak":
            out.append("\n")
        elif kind == "mention":
            out.append(str(attrs.get("text") or "@" + str(attrs.get("id", ""))))
        elif kind == "emoji":
            out.append(str(attrs.get("text") or attrs.get("shortName", "")))
        elif kind in ("inlineCard", "blockCard", "embedCard"):
            out.append(str(attrs.get("url", "")))
        elif kind in ("date", "status"):
            out.append(str(attrs.get("text") or attrs.get("timestamp", "")))
        elif kind in ("tableCell", "tableHeader"):
            walk(node.get("content", []))
            out.append(" ")
        else:
            walk(node.get("content", []))
        if kind in _ADF_BLOCKS:
            out.append("\n")

    walk(adf)
    return _tidy("".join(out))


# --- wiki markup ------------------------------------------------------------------------------

# Every character with a meaning somewhere in Jira wiki markup gets a backslash. A backslash
# itself cannot be escaped that way (``\\`` is a forced line break), so it becomes an entity.
# Left alone, so comments stay readable in raw form: a hyphen or underscore inside a word
# (``PMO-RSK-002``, ``2026-01-15``, ``story_points``: effects need a non-word character outside
# them), and parentheses unless they could close round an emoticon such as ``(y)`` or ``(on)``.
_WIKI_SPECIAL = re.compile(r"(?P<keep>(?<=[^\W_])[-_](?=[^\W_]))|\((?=[^\s()]{1,7}\))|[*_\-+^~?{}\[\]|!#\\&]")
_WIKI_ENTITIES = {"\\": "&#92;", "&": "&amp;"}
# Block markers that start with a letter cannot be backslash-escaped; an entity breaks them.
_WIKI_LINE_START = re.compile(r"^(\s*)(h)([1-6]\.)|^(\s*)(b)(q\.)", re.MULTILINE)


# Data Center's renderer turns :) :( :P :D ;) into emoticon images. A backslash keeps the
# parenthesis literal (also after an entity such as &amp; whose ';' would otherwise wink), an
# entity the colon before a letter.
_WIKI_EMOTICON = re.compile(r"(?<=[:;])(?=[()])|:(?=[PpDd])")


def _wiki_escape(text: str) -> str:
    text = _WIKI_SPECIAL.sub(
        lambda m: m.group() if m.group("keep") else _WIKI_ENTITIES.get(m.group(), "\\" + m.group()),
        _NEWLINE.sub("\n", without_invisible(text)))
    text = _WIKI_EMOTICON.sub(lambda m: "&#58;" if m.group() else "\\", text)
    return _WIKI_LINE_START.sub(
        lambda m: (m.group(1) or m.group(4) or "") + f"&#{ord(m.group(2) or m.group(5))};"
        + (m.group(3) or m.group(6)), text)


def _wiki_inline(runs: Iterable[Text]) -> str:
    parts: list[str] = []
    for run in runs:
        if not run.text:
            continue
        text = _wiki_escape(run.text)
        if run.code:
            text = "{{" + text + "}}"
        elif run.strong:
            text = "*" + text + "*"
        href = _safe_href(run.href)
        if href:
            text = f"[{text}|{href}]"
        parts.append(text)
    return "".join(parts)


def to_wiki(doc: Doc) -> str:
    """Wiki markup for REST v2 bodies; user text is escaped so it is always literal."""
    blocks: list[str] = []
    for block in doc.blocks:
        if isinstance(block, Paragraph):
            blocks.append(_wiki_inline(block.content))
        elif isinstance(block, Heading):
            level = min(max(block.level, 1), 6)
            blocks.append(f"h{level}. " + _wiki_inline(block.content).replace("\n", " "))
        elif isinstance(block, BulletList):
            lines = ["* " + _wiki_inline(item).replace("\n", " ") for item in block.items]
            if lines:
                blocks.append("\n".join(lines))
        else:  # pragma: no cover - Block is a closed union
            raise TypeError(f"unknown block {block!r}")
    return "\n\n".join(blocks)


_WIKI_TO_TEXT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<!\\)\{\{(.*?)\}\}"), r"\1"),
    (re.compile(r"(?<!\\)\{(?:noformat|code|quote|panel|color|section|column)(?::[^}]*)?\}"), ""),
    (re.compile(r"^\s*(?:h[1-6]|bq)\.\s*", re.MULTILINE), ""),
    (re.compile(r"^\s*[*#-]+\s+", re.MULTILINE), ""),
    (re.compile(r"^\s*-{4,}\s*$", re.MULTILINE), ""),
    (re.compile(r"(?<!\\)\[~(?:accountid:)?([^\]]+)\]"), r"@\1"),
    (re.compile(r"(?<!\\)\[\^([^\]]+)\]"), r"\1"),
    (re.compile(r"(?<!\\)\[([^\]|]+)\|[^\]]+\]"), r"\1"),
    (re.compile(r"(?<!\\)\[([^\]|]+)\]"), r"\1"),
    (re.compile(r"(?<!\\)![^!\s][^!\n]*!"), ""),
    (re.compile(r"(?<!\\)\|\|?"), " "),
    (re.compile(r"(?<![\\\w])([*_+^~])(\S(?:.*?\S)?)\1(?!\w)"), r"\2"),
    (re.compile(r"(?<![\\\w])-(\S(?:.*?\S)?)-(?!\w)"), r"\1"),
    (re.compile(r"\?\?(.+?)\?\?"), r"\1"),
    (re.compile(r"\\\\"), "\n"),
    (re.compile(r"\\(.)"), r"\1"),
]


def wiki_to_text(s: str | None) -> str:
    """Plain text of wiki markup: formatting, macros and link syntax stripped, text kept."""
    if not s:
        return ""
    text = _NEWLINE.sub("\n", s)
    for pattern, repl in _WIKI_TO_TEXT:
        text = pattern.sub(repl, text)
    return _tidy(html.unescape(text))


def _tidy(text: str) -> str:
    """Trailing spaces dropped and blank-line runs collapsed, so both flavours flatten alike."""
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
