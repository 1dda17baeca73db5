"""Red / amber / green from a measure and the mapping's thresholds, and the worst-of rule.

Every dimension is a number where higher is worse (``pmo_jira_portfolio.config.Rag``). A dimension
that cannot be measured (no previous run for scope growth, nothing open) is ``none``: it is shown
grey and never decides the overall colour.
"""

from __future__ import annotations

from typing import Iterable

from pmo_jira_portfolio.config import RAG_DIMENSIONS, Threshold

GREEN, AMBER, RED, NONE = "green", "amber", "red", "none"
_ORDER = (NONE, GREEN, AMBER, RED)

__all__ = ["RAG_DIMENSIONS", "GREEN", "AMBER", "RED", "NONE", "rate", "worst", "thresholds_of"]


def rate(measure: float | None, threshold: Threshold) -> str:
    """Amber from ``threshold.amber``, red from ``threshold.red`` (both inclusive)."""
    if measure is None:
        return NONE
    if measure >= threshold.red:
        return RED
    if measure >= threshold.amber:
        return AMBER
    return GREEN


def worst(rags: Iterable[str]) -> str:
    """The overall colour: the worst measured dimension (``none`` when nothing was measured)."""
    return max(rags, key=_ORDER.index, default=NONE)


def thresholds_of(mapping) -> dict[str, Threshold]:
    """Dimension -> threshold, in the fixed dimension order."""
    rag = mapping.portfolio.rag
    return {d: getattr(rag, d) for d in RAG_DIMENSIONS}
