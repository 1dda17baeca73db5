"""Did-you-mean: the one way pmo-jira suggests the name a person probably meant."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

CUTOFF = 0.6
"""How alike (0..1) a choice must be to be suggested; callers ask for a stricter one where a
false suggestion would mislead (a field name that looks like a typo of a known one)."""


def closest(word: str, choices: Iterable[str], *, cutoff: float = CUTOFF) -> str | None:
    """The choice closest to ``word``, compared case-insensitively; None when nothing is close."""
    lowered: dict[str, str] = {}
    for choice in choices:
        lowered.setdefault(str(choice).lower(), str(choice))
    close = difflib.get_close_matches(str(word).lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[close[0]] if close else None


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = CUTOFF) -> str | None:
    """``did you mean 'X'?`` for the closest choice, or None."""
    guess = closest(word, choices, cutoff=cutoff)
    return f"did you mean '{guess}'?" if guess else None
