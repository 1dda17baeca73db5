"""Tables that fit the terminal: the width to use, colour or not, and aligned columns that give
way (text cut with an ellipsis, then the least important columns left out and named) when the
width is short. Every plain-text table of pmo-jira is laid out here."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any

MIN_WIDTH = 40
_ELLIPSIS = "…"
_MIN_CUT = 12  # a text column is never cut below this many characters (or its header)


def terminal_width(stream: IO[Any] | None = None, env: Mapping[str, str] | None = None) -> int | None:
    """The width to fit: ``COLUMNS`` when set to a number, else the terminal's when ``stream`` is
    one; None (no limit) for a file or pipe, so ``| grep`` and saved reports keep whole lines."""
    env = os.environ if env is None else env
    raw = env.get("COLUMNS", "").strip()
    if raw.isdecimal() and int(raw) > 0:
        return max(int(raw), MIN_WIDTH)
    try:
        if stream is not None and stream.isatty():
            return max(os.get_terminal_size(stream.fileno()).columns, MIN_WIDTH)
    except (OSError, ValueError, AttributeError):
        pass
    return None


def use_color(stream: IO[Any] | None, env: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, and never with ``NO_COLOR`` set (https://no-color.org)."""
    env = os.environ if env is None else env
    try:
        tty = stream is not None and stream.isatty()
    except (ValueError, AttributeError):
        tty = False
    return tty and not env.get("NO_COLOR") and env.get("TERM") != "dumb"


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, an ellipsis marking what was cut."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + _ELLIPSIS


def styled(text: str, code: str | None) -> str:
    """``text`` in an ANSI style (e.g. "1;31"), or as it is when ``code`` is None."""
    return f"\x1b[{code}m{text}\x1b[0m" if code else text


def fit_table(header: Sequence[str], rows: Sequence[Sequence[str]], width: int | None, *,
              numeric: frozenset[int] | set[int] = frozenset(), shrink: Sequence[int] = (),
              wrap: Sequence[int] = (), drop: Sequence[int] = (),
              style: Callable[[int, str], str | None] | None = None, sep: str = "  ",
              rule: bool = True) -> list[str]:
    """The table as aligned lines of at most ``width`` characters (None: no limit).

    Too wide, it gives way in this order: the ``shrink`` and ``wrap`` columns (free text) narrow,
    widest first, down to ``_MIN_CUT`` (a ``shrink`` cell is cut with an ellipsis, a ``wrap`` cell
    goes on over more lines); then the ``drop`` columns are left out, first listed first, and a
    last line names them. ``numeric`` columns are right-aligned; ``style(column, cell)`` colours a
    cell after the layout, so escape codes never count as width. ``rule``: a line of dashes
    under the header.
    """
    header = [str(h) for h in header]
    rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    shown = list(range(len(header)))
    narrowing = [*shrink, *wrap]

    def total() -> int:
        return sum(widths[i] for i in shown) + len(sep) * (len(shown) - 1)

    if width is not None:
        floor = {i: min(widths[i], max(_MIN_CUT, len(header[i]) if len(header[i]) <= _MIN_CUT else _MIN_CUT))
                 for i in narrowing}
        while total() > width:  # the widest text column gives way first, down to the next widest
            narrowable = [i for i in narrowing if i in shown and widths[i] > floor[i]]
            if not narrowable:
                break
            widest = max(narrowable, key=lambda i: widths[i])
            next_widest = max((widths[i] for i in narrowable if i != widest), default=0)
            target = max(widths[widest] - (total() - width), next_widest, floor[widest])
            widths[widest] = min(target, widths[widest] - 1)
        for i in drop:
            if total() <= width:
                break
            if i in shown and len(shown) > 1:
                shown.remove(i)
        while total() > width and len(shown) > 1:  # still too wide: the rightmost go too
            shown.pop()

    def lines_of(cells: Sequence[str], *, head: bool = False) -> list[str]:
        parts = {i: (textwrap.wrap(cells[i], widths[i], break_on_hyphens=False) or [""]) if i in wrap and not head
                 else [cut(cells[i], widths[i])] for i in shown}
        out = []
        for n in range(max(len(p) for p in parts.values())):
            row = []
            for i in shown:
                text = parts[i][n] if n < len(parts[i]) else ""
                padded = text.rjust(widths[i]) if i in numeric else text.ljust(widths[i])
                row.append(styled(padded, style(i, cells[i])) if style and not head and n == 0 else padded)
            out.append(sep.join(row).rstrip())
        return out

    lines = [*lines_of(header, head=True), *(lines_of(["-" * w for w in widths], head=True) if rule else [])]
    for r in rows:
        lines += lines_of(r)
    left_out = [header[i] for i in range(len(header)) if i not in shown]
    if left_out:
        note = f"(not shown at {width} columns: {', '.join(left_out)})"
        lines += textwrap.wrap(note, width, subsequent_indent=" ", break_on_hyphens=False) if width else [note]
    return lines
