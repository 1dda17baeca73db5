"""A report as a list of blocks (headings, text, tables, charts) that every format renders alike.

Views build blocks from their figures once; HTML, the workbook, Markdown, the terminal table,
JSON and Confluence storage format each render the same blocks, so every format tells the same
story. A chart carries its data as a table too: formats that cannot draw show the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pmo_jira_portfolio.columns import plain  # the office pages share the portfolio's cell rules


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | int | num | pct | signed | flag


@dataclass(frozen=True)
class Table:
    id: str  # stable, also the sheet name (short) and the JSON key
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""
    links: tuple[str | None, ...] = ()  # per row: the URL the link column links to
    classes: tuple[str, ...] = ()  # per row: a CSS class (e.g. "over")
    empty: str = "none"

    @property
    def link_column(self) -> int:
        """The column a row's link sits on: its issue key ("Epic") when it has one, else the first."""
        return next((j for j, c in enumerate(self.columns) if c.header == "Epic"), 0)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    kind: str  # bars | lines | heat
    labels: tuple[str, ...]  # x axis (months)
    series: tuple[tuple[str, tuple[float | None, ...]], ...]  # (name, values per label)
    unit: str = ""
    rows: tuple[str, ...] = ()  # heat: row labels; series then holds one row per label


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Text:
    text: str
    css: str = ""  # "meta", "warn"


@dataclass(frozen=True)
class Figures:
    """Headline figures shown as tiles: (label, value, css class)."""

    items: tuple[tuple[str, str, str], ...]


Block = Heading | Text | Table | Chart | Figures


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]


def text_of(value: Any, kind: str) -> str:
    value = plain(value)
    if value is None or value == "":
        return "-"
    if kind == "pct":
        return f"{value:.1f}%" if isinstance(value, float) else f"{value}%"
    if kind == "signed":
        return "new" if value == "new" else (f"+{value}" if isinstance(value, (int, float)) and value > 0 else
                                             ("0" if value == 0 else str(value)))
    if kind == "flag":
        return "yes" if value else "no"
    return str(value)


def table(id: str, title: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]], *,
          note: str = "", links: Sequence[str | None] = (), classes: Sequence[str] = (), empty: str = "none") -> Table:
    return Table(id, title, tuple(Column(h, k) for h, k in columns), tuple(tuple(plain(v) for v in r) for r in rows),
                 note, tuple(links), tuple(classes), empty)
