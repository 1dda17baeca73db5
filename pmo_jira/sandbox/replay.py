"""A generated site as it was on an earlier day, from its own change history, for replaying runs.

``as_of(store, moment)`` copies the site without the issues created after ``moment`` and with
every change logged after it undone (status, resolution, assignee, dates, estimate, ...), its
clock set to ``moment``. Auditing such copies for the first working day of past months, with
the run's clock pinned to the same day, builds the run history a real portfolio would have (the
demo's six-month trend does this).
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone
from typing import Any

from pmo_jira.sandbox.store import ChangeItem, IssueRec, Store


def _old_value(store: Store, item: ChangeItem) -> tuple[str, Any] | None:
    """(attribute, store value before the change), or None for a field the copy does not rewind."""
    fdef = store.field_by_id.get(item.field_id)
    if fdef is None or fdef.attr in ("resolution", "labels"):
        return None
    stype = fdef.schema["type"]
    if item.from_id is None and item.from_string is None:
        return fdef.attr, None
    if fdef.attr == "status":
        return "status", item.from_string
    if stype == "user":
        user = store.user(item.from_id)
        return fdef.attr, user.account_id if user else None
    if stype == "date":
        return fdef.attr, date.fromisoformat((item.from_id or item.from_string or "")[:10])
    if stype == "number":
        return fdef.attr, float(item.from_string or 0)
    return fdef.attr, item.from_string


def as_of(store: Store, moment: datetime) -> Store:
    """A new store holding ``store`` as it was at ``moment`` (the original is not changed)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    past = Store(store.flavour, now=moment)
    past.categories = dict(store.categories)
    past.projects = copy.deepcopy(store.projects)
    past.users = dict(store.users)
    kept = {rec.key for rec in store.issues if rec.created <= moment}
    for rec in store.issues:
        if rec.key not in kept:
            continue
        old: IssueRec = copy.copy(rec)
        old.links = [link for link in rec.links if link.other in kept] if rec.links else None
        if old.parent is not None and old.parent not in kept:
            old.parent = None
        old.properties = None
        changed = rec.created
        for entry in sorted(store.history(rec), key=lambda e: e.created, reverse=True):
            if entry.created <= moment:
                if any(i.field_id == "status" for i in entry.items):
                    changed = max(changed, entry.created)
                continue
            for item in entry.items:
                undone = _old_value(store, item)
                if undone is not None:
                    setattr(old, *undone)
        old.history = [e for e in store.history(rec) if e.created <= moment]
        old.status_changed = min(max(changed, rec.created), moment)
        old.updated = min(rec.updated, moment)
        old.resolved = old.status_changed if old.status_category == "done" else None
        past.add_issue(old)
    past.version = 0
    return past
