"""The elements of one large array in a JSON answer, decoded one at a time.

A changelog bulk read answers with megabytes: decoded whole, its tree is several times its text
and was a cold audit's peak of memory. Here the answer's top-level object is walked by hand and
each element of the named array member is decoded on its own (by the standard library's decoder,
from the text), so what is held is the text and one element.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]  # matches the empty string too


def _expect(text: str, pos: int, chars: str) -> tuple[str, int]:
    """The structural character at ``pos`` (after blanks), one of ``chars``, and the position after it."""
    pos = _skip(text, pos)
    char = text[pos:pos + 1]
    if not char or char not in chars:
        raise ValueError(f"expected one of {chars!r} at character {pos}")
    return char, pos + 1


def array_elements(text: str, name: str, rest: dict[str, Any]) -> Iterator[Any]:
    """The elements of the array ``name`` of the JSON object ``text``, decoded one at a time.

    The object's other members go into ``rest`` as they are met, and ``name`` itself once it was
    an array (with the value ``[]``: its elements are only yielded); a member ``name`` that is not
    an array goes into ``rest`` as it is. Raises ``ValueError`` for text that is not one JSON
    object, possibly after some elements were yielded.
    """
    _, pos = _expect(text, 0, "{")
    if text[_skip(text, pos):_skip(text, pos) + 1] == "}":
        _, pos = _expect(text, pos, "}")
    else:
        while True:
            key, pos = _DECODER.raw_decode(text, _skip(text, pos))
            if not isinstance(key, str):
                raise ValueError(f"an object key is not a string at character {pos}")
            _, pos = _expect(text, pos, ":")
            pos = _skip(text, pos)
            if key == name and text[pos:pos + 1] == "[":
                rest[key] = []
                pos += 1
                if text[_skip(text, pos):_skip(text, pos) + 1] == "]":
                    _, pos = _expect(text, pos, "]")
                else:
                    while True:
                        element, pos = _DECODER.raw_decode(text, _skip(text, pos))
                        yield element
                        char, pos = _expect(text, pos, ",]")
                        if char == "]":
                            break
            else:
                rest[key], pos = _DECODER.raw_decode(text, pos)
            char, pos = _expect(text, pos, ",}")
            if char == "}":
                break
    if _skip(text, pos) != len(text):
        raise ValueError(f"extra data at character {_skip(text, pos)}")
