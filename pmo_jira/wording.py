"""How counts read: the one way pmo-jira writes a number with the noun it counts."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun agreeing with it: "1 epic", "2 epics", "1 person" / "3 people"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
