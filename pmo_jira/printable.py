"""Text from Jira made safe to show where people read it (the dry-run plan, comments, mappings).

A summary is whatever someone typed into Jira: a newline in it could forge a line of the plan a
reviewer approves, a NUL or a terminal escape code could hide one. Every character a terminal
would act on is shown as its escape instead (``\\n``, ``\\x1b``, ``\\u202e``).
"""

from __future__ import annotations

import re

INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064"
                       "\u2066-\u2069\ufeff]")
"""Control characters (NUL, BEL, the ESC of terminal escape codes; not tab or line breaks) and
the invisible characters that reorder or hide text (bidirectional overrides, zero-width)."""


def without_invisible(text: str) -> str:
    """``text`` without the characters of ``INVISIBLE``: what goes into a comment people read."""
    return INVISIBLE.sub("", text)


def visible(text: str) -> str:
    """``text`` with every non-printable character (controls, line breaks, invisible format
    characters such as bidirectional overrides) replaced by its Python escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
