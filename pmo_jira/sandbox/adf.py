"""Atlassian Document Format checked the way Jira Cloud checks a v3 comment body.

Cloud refuses a document that breaks ADF's schema (no ``version: 1``, a node type it does not
know, a node where its parent does not allow it, an empty text node, a mark on something that
is not text, a mark it does not know, the same mark twice, ``code`` combined with anything but
``link``, missing required attributes) with 400 and the same answer whatever the fault:
``{"errorMessages": [], "errors": {"comment": "Comment body is not valid!"}}``. :func:`problem`
says what is wrong (for the sandbox's tests and logs); the server answers Jira's words.
"""

from __future__ import annotations

from typing import Any

_INLINE = frozenset({"text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date", "placeholder",
                     "mediaInline"})
_BLOCK = frozenset({"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule", "panel",
                    "table", "mediaSingle", "mediaGroup", "expand", "taskList", "decisionList", "blockCard",
                    "embedCard"})
_LIST_ITEM = frozenset({"paragraph", "bulletList", "orderedList", "codeBlock", "mediaSingle", "taskList"})
_CELL = _BLOCK - {"table", "expand"} | {"nestedExpand"}
CHILDREN: dict[str, frozenset[str]] = {
    "doc": _BLOCK,
    "paragraph": _INLINE, "heading": _INLINE, "taskItem": _INLINE, "decisionItem": _INLINE,
    "bulletList": frozenset({"listItem"}), "orderedList": frozenset({"listItem"}), "listItem": _LIST_ITEM,
    "codeBlock": frozenset({"text"}),
    "blockquote": frozenset({"paragraph", "bulletList", "orderedList", "codeBlock", "mediaGroup", "mediaSingle"}),
    "panel": frozenset({"paragraph", "heading", "bulletList", "orderedList", "blockCard", "codeBlock", "mediaGroup",
                        "mediaSingle", "rule", "taskList", "decisionList"}),
    "table": frozenset({"tableRow"}), "tableRow": frozenset({"tableHeader", "tableCell"}),
    "tableHeader": _CELL, "tableCell": _CELL,
    "mediaSingle": frozenset({"media"}), "mediaGroup": frozenset({"media"}),
    "expand": _BLOCK - {"expand"} | {"nestedExpand"}, "nestedExpand": _CELL - {"nestedExpand"},
    "taskList": frozenset({"taskItem", "taskList"}), "decisionList": frozenset({"decisionItem"}),
}
"""What each node with content may contain; every other known node is a leaf."""
_LEAVES = frozenset({"text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date", "placeholder", "media",
                     "mediaInline", "rule", "blockCard", "embedCard"})
_NOT_EMPTY = frozenset({"bulletList", "orderedList", "listItem", "blockquote", "panel", "table", "tableRow",
                        "tableHeader", "tableCell", "mediaSingle", "mediaGroup", "taskList", "decisionList", "expand",
                        "nestedExpand"})
_REQUIRED_ATTRS: dict[str, tuple[str, ...]] = {
    "heading": ("level",), "mention": ("id",), "emoji": ("shortName",), "panel": ("panelType",),
    "status": ("text", "color"), "date": ("timestamp",), "media": ("id", "type"), "taskItem": ("localId", "state"),
    "decisionItem": ("localId", "state"), "placeholder": ("text",),
}
_MARKS = frozenset({"em", "strong", "code", "strike", "underline", "link", "subsup", "textColor", "backgroundColor"})
_BLOCK_MARKS = {"paragraph": frozenset({"alignment", "indentation"}), "heading": frozenset({"alignment", "indentation"}),
                "codeBlock": frozenset({"breakout"}), "expand": frozenset({"breakout"})}
_PANEL_TYPES = frozenset({"info", "note", "warning", "success", "error", "custom"})


def problem(doc: Any) -> str | None:
    """What makes ``doc`` an invalid ADF comment body, or None when Cloud would take it."""
    if not isinstance(doc, dict) or doc.get("type") != "doc":
        return "the body is not an ADF document (type 'doc')"
    if doc.get("version") != 1:
        return "the document has no 'version': 1"
    if not isinstance(doc.get("content"), list):
        return "the document has no 'content' list"
    return _node(doc, "doc", "doc")


def _node(node: Any, parent: str, where: str) -> str | None:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        return f"{where}: not a node"
    kind = node["type"]
    if kind not in CHILDREN and kind not in _LEAVES:
        return f"{where}: unknown node type '{kind}'"
    if where != "doc" and kind not in CHILDREN[parent]:
        return f"{where}: '{kind}' is not allowed inside '{parent}'"
    attrs = node.get("attrs") or {}
    if not isinstance(attrs, dict):
        return f"{where}: 'attrs' is not an object"
    missing = [a for a in _REQUIRED_ATTRS.get(kind, ()) if attrs.get(a) in (None, "")]
    if missing:
        return f"{where}: '{kind}' lacks attribute '{missing[0]}'"
    if kind == "heading" and attrs["level"] not in range(1, 7):
        return f"{where}: heading level {attrs['level']!r} is not 1-6"
    if kind == "panel" and attrs["panelType"] not in _PANEL_TYPES:
        return f"{where}: unknown panelType {attrs['panelType']!r}"
    if kind == "text":
        text = node.get("text")
        if not isinstance(text, str) or not text:
            return f"{where}: a text node must have non-empty text"
    elif kind == "inlineCard" and not (attrs.get("url") or attrs.get("data")):
        return f"{where}: inlineCard needs 'url' or 'data'"
    marks = _marks(node, kind, parent, where)
    if marks:
        return marks
    content = node.get("content")
    if kind in _LEAVES:
        return f"{where}: '{kind}' cannot have content" if content not in (None, []) else None
    if content is None:
        content = []
    if not isinstance(content, list):
        return f"{where}: 'content' is not a list"
    if not content and kind in _NOT_EMPTY:
        return f"{where}: '{kind}' must not be empty"
    for n, child in enumerate(content):
        found = _node(child, kind, f"{where}.content[{n}]")
        if found:
            return found
    return None


def _marks(node: dict, kind: str, parent: str, where: str) -> str | None:
    marks = node.get("marks")
    if marks is None:
        return None
    if not isinstance(marks, list) or not all(isinstance(m, dict) and isinstance(m.get("type"), str) for m in marks):
        return f"{where}: 'marks' is not a list of marks"
    if not marks:
        return None
    if kind != "text":
        allowed = _BLOCK_MARKS.get(kind, frozenset())
        bad = next((m["type"] for m in marks if m["type"] not in allowed), None)
        return f"{where}: mark '{bad}' is not allowed on '{kind}'" if bad else None
    if parent == "codeBlock":
        return f"{where}: text in a codeBlock cannot have marks"
    types = [m["type"] for m in marks]
    unknown = next((t for t in types if t not in _MARKS), None)
    if unknown:
        return f"{where}: unknown mark '{unknown}'"
    if len(set(types)) != len(types):
        return f"{where}: a mark is applied twice"
    if "code" in types and set(types) - {"code", "link"}:
        return f"{where}: the code mark combines only with link"
    for m in marks:
        attrs = m.get("attrs") or {}
        if m["type"] == "link" and not (isinstance(attrs, dict) and isinstance(attrs.get("href"), str) and attrs["href"]):
            return f"{where}: a link mark needs 'href'"
        if m["type"] == "subsup" and (not isinstance(attrs, dict) or attrs.get("type") not in ("sub", "sup")):
            return f"{where}: subsup needs type 'sub' or 'sup'"
        if m["type"] in ("textColor", "backgroundColor") and not (isinstance(attrs, dict) and attrs.get("color")):
            return f"{where}: {m['type']} needs 'color'"
    return None
