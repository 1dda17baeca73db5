"""The columns each level shows, shared by every format so that they all tell the same story."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pmo_jira_portfolio.rag import NONE, RAG_DIMENSIONS
from pmo_jira_portfolio.rollup import SEVERITIES, Rollup


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str = "text"  # text | int | pct | rag


_FINDINGS = tuple(Column(s[0].upper(), f"open_{s}", "int") for s in SEVERITIES)
_RAG = (*(Column(d.title(), f"rag_{d}", "rag") for d in RAG_DIMENSIONS), Column("Overall", "rag_overall", "rag"))
_PROGRESS = (Column("Done % (count)", "pct_done_count", "pct"), Column("Done % (estimate)", "pct_done_estimate", "pct"),
             Column("Days late", "days_late", "int"), Column("Open high risks", "open_high_risks", "int"))

LEVEL_COLUMNS: dict[str, tuple[Column, ...]] = {
    "portfolio": (Column("Portfolio", "portfolio"), Column("Projects", "projects", "int"),
                  Column("Epics", "epics", "int"), *_PROGRESS, *_FINDINGS,
                  Column("New", "new_findings", "int"), Column("Resolved", "resolved_findings", "int"), *_RAG),
    "project": (Column("Portfolio", "portfolio"), Column("Site", "site"), Column("Project", "project"),
                Column("Name", "name"), Column("Phase", "phase"), Column("Epics", "epics", "int"),
                *_PROGRESS, *_FINDINGS, Column("New", "new_findings", "int"),
                Column("Resolved", "resolved_findings", "int"), *_RAG),
    "epic": (Column("Project", "project"), Column("Epic", "key"), Column("Summary", "summary"),
             Column("Phase", "phase"), Column("Status", "status"), Column("Target end", "target_end"),
             *_PROGRESS, Column("Open findings", "findings_open", "int"), *_RAG),
}



def multi_site(rollup: Rollup) -> bool:
    """Whether the run read several sites, so the same project or epic key can stand for two rows."""
    return len(set(rollup.projects["site"])) > 1 or len(rollup.sites) > 1


def level_columns(rollup: Rollup, level: str) -> tuple[Column, ...]:
    """The level's columns for this run: an epic's site right after its key when keys can repeat
    across sites (projects always show theirs)."""
    cols = LEVEL_COLUMNS[level]
    if level == "epic" and multi_site(rollup):
        cols = (*cols[:2], Column("Site", "site"), *cols[2:])
    return cols


# Every figure of a row, for the machine formats (csv, json, xlsx), in a stable order.
MEASURE_FIELDS: tuple[str, ...] = tuple(f"m_{d}" for d in RAG_DIMENSIONS)
RAG_FIELDS: tuple[str, ...] = (*(f"rag_{d}" for d in RAG_DIMENSIONS), "rag_overall")
FIGURES: tuple[str, ...] = (
    "epics", "epics_open", "epics_overdue", "children", "children_done", "open_children",
    "children_estimated", "pct_done_count", "points", "points_done", "pct_done_estimate",
    "pct_estimated", "days_late", "days_since_update", "open_high_risks", "unmanaged_risks",
    "epics_without_risks", *(f"open_{s}" for s in SEVERITIES), "findings_open", "findings_waived",
)


def plain(value: Any) -> Any:
    """A cell as a plain Python value: NaN -> None, numpy scalars -> int / float / bool."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else round(value, 1)
    return value


def cell(value: Any, kind: str) -> str:
    """A cell as text: '-' for nothing, percentages with one decimal, colours in capitals."""
    value = plain(value)
    if kind == "rag":
        return "-" if value in (None, NONE) else str(value).upper()
    if value is None or value == "":
        return "-"
    if kind == "pct":
        return f"{value:.1f}%" if isinstance(value, float) else f"{value}%"
    return str(value)
