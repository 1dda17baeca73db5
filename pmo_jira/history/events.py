"""Events between two states of a site, and states rebuilt from events (pure functions).

A *state* maps ``(site, key)`` to the attributes the history keeps (``schema.FINDING_ATTRS`` or
``schema.ITEM_ATTRS``). ``changes(before, after)`` gives the events that turn one into the
other; ``apply(state, events)`` replays them. ``apply(before, changes(before, after)) == after``
for any two states, which is what lets the store keep events only and still answer every
question the full copies answered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

Key = tuple[str, str]  # (site, fingerprint) or (site, item key)
Attrs = tuple  # values in schema.*_ATTRS order
State = dict[Key, Attrs]
Event = tuple[Key, str, Attrs]  # key, event name, attributes after (the "gone" marker for removals)

OPEN = frozenset({"fail", "error"})
_OUTCOME = 4  # index of outcome in FINDING_ATTRS
_KIND = 0  # index of kind in ITEM_ATTRS


def is_open(attrs: Attrs | None) -> bool:
    return attrs is not None and attrs[_OUTCOME] in OPEN


def finding_event(before: Attrs | None, after: Attrs | None) -> str:
    """The name of a finding's change: opened, waived, resolved or changed."""
    if is_open(after) and not is_open(before):
        return "opened"
    if after is not None and after[_OUTCOME] == "waived" and (before is None or before[_OUTCOME] != "waived"):
        return "waived"
    if is_open(before) and not is_open(after):
        return "resolved"
    return "changed"


def item_event(before: Attrs | None, after: Attrs | None) -> str:
    return "added" if before is None else "removed" if after is None else "changed"


def changes(before: Mapping[Key, Attrs], after: Mapping[Key, Attrs], *, findings: bool) -> list[Event]:
    """Events from ``before`` to ``after``, in key order. A removal carries the last attributes
    with the marker field (finding outcome / item kind) set to None."""
    name = finding_event if findings else item_event
    marker = _OUTCOME if findings else _KIND
    out: list[Event] = []
    for key in sorted(set(before) | set(after)):
        was, now = before.get(key), after.get(key)
        if was == now:
            continue
        attrs = now if now is not None else _gone(was, marker)  # type: ignore[arg-type]
        out.append((key, name(was, now), attrs))
    return out


def apply(state: State, events: Iterable[tuple[Key, Attrs]], *, findings: bool) -> State:
    """``state`` with ``events`` replayed on it (in place, and returned)."""
    marker = _OUTCOME if findings else _KIND
    for key, attrs in events:
        if attrs[marker] is None:
            state.pop(key, None)
        else:
            state[key] = attrs
    return state


def only_sites(state: Mapping[Key, Attrs], sites: Iterable[str]) -> State:
    keep = frozenset(sites)
    return {k: v for k, v in state.items() if k[0] in keep}


def _gone(attrs: Attrs, marker: int) -> Attrs:
    return (*attrs[:marker], None, *attrs[marker + 1:]) if marker != _KIND else (None, attrs[1], None)
