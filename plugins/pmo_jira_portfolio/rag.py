"""Red / amber / green from a measure and the mapping's thresholds, the worst-of rule, and why.

Every dimension is a number where higher is worse (``pmo_jira_portfolio.config.Rag``). A dimension
that cannot be measured (no previous run for scope growth, nothing open) is ``none``: it is shown
grey and never decides the overall colour.

Compliance is weighted by severity. Red means "a decision is needed above the project manager",
so only high and critical gaps can make it red: its colour is the worse of

- the share of items with an open medium-or-worse finding, rated against the thresholds but
  capped at amber (medium gaps are fixed within the project manager's authority), and
- the share of items with an open high or critical finding, rated against the same thresholds.

An epic is one item, so an epic with only medium gaps is amber and one with a high gap is red.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pmo_jira_portfolio.config import RAG_DIMENSIONS, Threshold

GREEN, AMBER, RED, NONE = "green", "amber", "red", "none"
_RANK = {NONE: 0, GREEN: 1, AMBER: 2, RED: 3}  # worse is higher

__all__ = ["RAG_DIMENSIONS", "GREEN", "AMBER", "RED", "NONE", "rate", "worst", "thresholds_of",
           "compliance_colour", "why"]

# How each dimension's measure reads in a sentence, given the measure.
_READING = {
    "schedule": lambda m: f"{_figure(m)} day{'' if m == 1 else 's'} late",
    "scope": lambda m: f"open work grew {_figure(m)} %",
    "risk": lambda m: f"{_figure(m)} unmanaged risk{'' if m == 1 else 's'} or missing risk register{'' if m == 1 else 's'}",
    "compliance": lambda m: f"{_figure(m)} % of items with gaps",
    "freshness": lambda m: f"{_figure(m)} day{'' if m == 1 else 's'} without an update",
}


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
    return max(rags, key=_RANK.__getitem__, default=NONE)


def compliance_colour(any_gap_pct: float | None, serious_pct: float | None, threshold: Threshold) -> str:
    """Medium-or-worse gaps make it amber at most; high-or-critical gaps may make it red."""
    broad = rate(any_gap_pct, threshold)
    return worst([AMBER if broad == RED else broad, rate(serious_pct, threshold)])


def thresholds_of(mapping) -> dict[str, Threshold]:
    """Dimension -> threshold, in the fixed dimension order."""
    rag = mapping.portfolio.rag
    return {d: getattr(rag, d) for d in RAG_DIMENSIONS}


def _figure(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _reading(dim: str, measures: Mapping[str, float | None], threshold: Threshold, colour: str, gap: str) -> str:
    measure = measures[f"m_{dim}"]
    if dim == "compliance":
        if gap:  # an epic: its worst open gap says more than a 0 / 100 % share
            return gap
        serious = measures["m_compliance_serious"] or 0.0
        if colour == RED:
            return f"{_figure(serious)} % of items with high or critical gaps (red from {threshold.red:g} %)"
        if serious >= threshold.amber:
            return f"{_figure(serious)} % of items with high or critical gaps (amber from {threshold.amber:g} %)"
        return f"{_figure(measure)} % of items with medium or worse gaps (amber from {threshold.amber:g} %)"
    edge = threshold.red if colour == RED else threshold.amber
    return f"{_READING[dim](measure)} ({colour} from {edge:g})"


def why(rag: Mapping[str, str], measures: Mapping[str, float | None], thresholds: Mapping[str, Threshold],
        gap: str = "") -> str:
    """One line saying which dimensions decided a row's overall colour, with their figures.

    ``rag``: colour per dimension and ``overall``; ``measures``: ``m_<dimension>`` and
    ``m_compliance_serious``; ``gap``: an epic's worst open gap in words, said for its compliance."""
    overall = rag.get("overall", NONE)
    if overall == NONE:
        return "Not rated: nothing open to measure."
    if overall == GREEN:
        return "Green: every measured dimension is below its amber threshold."
    deciding = [d for d in RAG_DIMENSIONS if rag.get(d) == overall]
    parts = [f"{d} - {_reading(d, measures, thresholds[d], overall, gap)}" for d in deciding]
    return f"{overall.title()}: " + "; ".join(parts) + "."
