"""Which objectives an epic serves and its prioritisation score, read from its Jira fields: what
the strategy view ranks by and what a run keeps (see ``pmo_jira_office.strategy``).
"""

from __future__ import annotations

import math
from typing import Any

from pmo_jira.model import Issue, natural_key
from pmo_jira_office.config import WSJF_PARTS, Objectives, Score


def objectives_of(epic: Issue, conf: Objectives) -> tuple[str, ...]:
    """The objective keys (or field values) the epic serves, in a stable order."""
    if conf.source == "parent":
        return (epic.parent_key,) if epic.parent_key else ()
    if conf.source == "field":
        value = epic.fields.get(conf.field or "")
        values = value if isinstance(value, (tuple, list)) else (value,)
        return tuple(sorted({str(v).strip() for v in values if v is not None and str(v).strip()}))
    wanted = (conf.link_type or "").casefold()
    return tuple(sorted({link.other_key for link in epic.links if link.type_name.casefold() == wanted},
                        key=natural_key))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return None if math.isnan(value) else float(value)
    try:
        return float(str(value).strip())  # a select option such as "8"
    except ValueError:
        return None


def score_of(epic: Issue, conf: Score) -> float | None:
    values = {name: _number(epic.fields.get(name)) for name in conf.fields}
    if any(v is None for v in values.values()):
        return None
    if conf.method == "wsjf":
        bv, tc, rr, size = (values[conf.wsjf[p]] for p in WSJF_PARTS)
        return round((bv + tc + rr) / size, 2) if size else None
    return round(sum(weight * values[name] for name, weight in conf.weights.items()), 2)
