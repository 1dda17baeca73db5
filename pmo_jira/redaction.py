"""The one redaction every text leaving pmo-jira goes through: error lines, logs, summaries,
history, reports and ``doctor``.

It masks the tokens pmo-jira handed out (registered when read, with their HTTP Basic and URL
forms), and anything shaped like a credential: ``Authorization``/``Proxy-Authorization`` and
``Cookie``/``Set-Cookie`` header values (a proxy or Jira echoing the request back in an error
page), ``Basic``/``Bearer`` values, ``user:password@`` in URLs, ``token=...``-style pairs and
Atlassian API tokens. It has no dependencies, so the error types can use it at birth.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import quote

MASK = "***"

_SECRETS: set[str] = set()
_KEY = r"[\"']?\s*[=:]\s*[\"']?"  # `key: v`, `key=v`, `"key": "v"`


def _any_of(*words: str) -> Callable[[str], bool]:
    """Whether a text holds one of ``words``, scanning it once a first letter: the regex engine
    looks for a literal prefix (``pa`` of "password|pat") faster than ``in`` for a short word,
    but for an alternation of first letters several times slower; ``in`` finds a single
    character by memchr and a long word skipping ahead by its length."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(word)

    def scan(group: list[str]) -> Callable[[str], object]:
        if len(group) == 1 and (len(group[0]) == 1 or len(group[0]) >= 10):
            return lambda text: group[0] in text
        return re.compile("|".join(map(re.escape, group))).search

    scans = [scan(group) for group in groups.values()]
    return lambda text: any(found(text) for found in scans)


# Each pattern with a check for the words one of which it cannot match without (looked for in the
# text, or with `folded` in the text lowered as IGNORECASE compares): a report of megabytes holds
# none of them, and looking for words is a hundred times faster than running the patterns over it.
_PATTERNS: tuple[tuple[re.Pattern[str], str, Callable[[str], bool], bool], ...] = (
    # whole header values, whatever the scheme: `Authorization: Token abc`, `Cookie: a=1; b=2`
    (re.compile(rf"(?i)\b((?:proxy-)?authorization|set-cookie|cookie){_KEY}(?!\*\*\*)[^\r\n\"'<>]+"),
     rf"\1: {MASK}", _any_of("authorization", "cookie"), True),
    (re.compile(r"\b(Basic|Bearer)\s+(?:(?=[A-Za-z0-9+/=._~-]*\d)[A-Za-z0-9+/=._~-]{6,}|[A-Za-z0-9+/=._~-]{20,})"),
     rf"\1 {MASK}", _any_of("Basic", "Bearer"), False),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@\"']+:[^/\s@\"']+@"), rf"\1{MASK}@", _any_of("@"), False),
    # key=value / key: value, when the value looks like a credential (has a digit, or is long),
    # so prose such as "token: secrets are not read ..." stays readable
    (re.compile(r"(?i)\b(api[_-]?token|token|password|passwd|secret|pat|jsessionid)"
                r"(\s*[=:]\s*[\"']?)(?!\*\*\*)(?:(?=[^\s\"'&,;]*\d)[^\s\"'&,;]{4,}|[^\s\"'&,;]{20,})"),
     rf"\1\2{MASK}", _any_of("token", "password", "passwd", "secret", "pat", "jsessionid"), True),
    (re.compile(r"\bATATT[A-Za-z0-9_=-]{16,}"), MASK, _any_of("ATATT"), False),  # Atlassian Cloud API tokens
)


_ALSO_I_AND_S = str.maketrans({"\u0131": "i", "\u017f": "s"})  # dotless i, long s: IGNORECASE matches them to i, s


def register_secret(value: str, *, user: str | None = None) -> None:
    """Mask this value from now on, also as it travels: URL-quoted and, with ``user``, as the
    base64 of an HTTP Basic ``user:value`` header."""
    if not value or len(value) < 4:
        return
    _SECRETS.update({value, quote(value, safe="")})
    if user:
        _SECRETS.add(base64.b64encode(f"{user}:{value}".encode()).decode())


def redact(text: str) -> str:
    """``text`` with registered secrets and anything shaped like a credential masked."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, MASK)
    folded: str | None = None
    for pattern, repl, holds_a_word, ignore_case in _PATTERNS:
        if ignore_case:
            if folded is None:
                folded = text.lower()
                if not folded.isascii():
                    folded = folded.translate(_ALSO_I_AND_S)
            haystack = folded
        else:
            haystack = text
        if holds_a_word(haystack):
            text = pattern.sub(repl, text)
            folded = None
    return text


# A cut right after a newline splits no match when the last character before the newline's run of
# whitespace is none of these: every pattern crosses whitespace only after a word character (a key
# word), a quote or ``=``/``:``, and every replacement ends in ``*`` or ``@``.
_JOINS_ACROSS_SPACE = re.compile(r"[\w\"'=:]")
_PIECE = 1 << 16  # characters redacted at a time when a report is written out in pieces


def _safe_cut(text: str) -> int:
    """The end of the last line of ``text`` after which no redaction can reach into what follows
    (0: none)."""
    end = len(text)
    while (nl := text.rfind("\n", 0, end)) >= 0:
        last = nl - 1
        while last >= 0 and text[last].isspace():
            last -= 1
        if last < 0:
            return 0
        if not _JOINS_ACROSS_SPACE.match(text[last]):
            return nl + 1
        end = last + 1
    return 0


def redact_pieces(pieces: Iterable[str]) -> Iterator[str]:
    """``redact("".join(pieces))``, given back in pieces, so a report of megabytes is masked and
    written without ever being one string: text is cut only at a line end no pattern (and no
    registered secret) can match across, so the pieces mask exactly as the whole would."""
    if any(any(c.isspace() for c in secret) for secret in _SECRETS):  # could straddle any line end
        yield redact("".join(pieces))
        return
    held: list[str] = []
    size, due = 0, _PIECE
    for piece in pieces:
        held.append(piece)
        size += len(piece)
        if size < due:
            continue
        text = "".join(held)
        cut = _safe_cut(text)
        rest = text[cut:]
        if cut:
            yield redact(text[:cut])
        held, size = [rest], len(rest)
        due = size + _PIECE if cut else 2 * size  # no safe line end yet: look again at twice the text
    if held:
        yield redact("".join(held))
