"""What the plugin keeps with every recorded run: the KPIs of the monthly trend and the ranking.

Kept through the ``pmo_jira_run_facts`` hook under the name ``office``, one small JSON document
per run, so the monthly pack can show six months of KPIs and the rank changes since last month
without re-reading Jira. KPI definitions (also printed in the pack):

- compliance %: classified items (epics and projects) without an open finding of medium
  severity or worse, over all classified items;
- on-time %: epics with a target end that are open and not past it, or done by it, over all
  epics with a target end;
- slippage days: mean days past target end of the open epics that are late (0 when none);
- open high risks: open risk issues whose ``risk_impact`` is one of PMO-RSK-002's high values;
- over-allocated people: people whose load exceeds capacity in a month of the horizon.

With them, each epic's plan (target end, scope, approved change requests; see
``pmo_jira_office.baselines``), from which the pack shows the baselines moved in a month.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pmo_jira.findings import AuditResult, Severity
from pmo_jira.model import Snapshot, natural_key
from pmo_jira.standards.builtin.risk import HighRisksManaged

if TYPE_CHECKING:
    from pmo_jira_office.inputs import OfficeInput

NAME = "office"
KPI_KEYS = ("compliance_pct", "on_time_pct", "slippage_days", "open_high_risks", "people_over")


def _high_values(mapping: Any) -> set[str]:
    conf = mapping.standard(HighRisksManaged.code) if hasattr(mapping, "standard") else None
    options = HighRisksManaged.Options(**(conf.options if conf else {}))
    return {v.casefold() for v in options.high_values}


def kpis(result: AuditResult, snapshots: Sequence[Snapshot], mapping: Any, now: datetime,
         people_over: int | None = None) -> dict[str, float | int | None]:
    today = now.date()
    flagged = {(f.site, f.item_key) for f in result.open_findings() if f.severity >= Severity.MEDIUM}
    items = [(i.site, i.key) for i in result.items if i.phase is not None]
    high = _high_values(mapping)
    kinds: dict[str, str | None] = {}
    dated = on_time = risks = 0
    late_days: list[int] = []
    for snap in snapshots:
        for issue in snap.issues:
            if issue.issue_type not in kinds:
                kinds[issue.issue_type] = mapping.issue_types.kind_of(issue.issue_type)
            kind = kinds[issue.issue_type]
            if kind == "epic":
                target = issue.day("target_end")
                if target is None:
                    continue
                dated += 1
                if issue.is_done:
                    on_time += int(issue.resolved is None or issue.resolved.date() <= target)
                elif today <= target:
                    on_time += 1
                else:
                    late_days.append((today - target).days)
            elif kind == "risk" and not issue.is_done:
                impact = issue.fields.get("risk_impact")
                risks += int(isinstance(impact, str) and impact.casefold() in high)
    return {
        "compliance_pct": round(100.0 * sum(k not in flagged for k in items) / len(items), 1) if items else None,
        "on_time_pct": round(100.0 * on_time / dated, 1) if dated else None,
        "slippage_days": round(sum(late_days) / len(late_days), 1) if late_days else 0.0,
        "open_high_risks": risks,
        "people_over": people_over,
    }


def run_facts(result: AuditResult, snapshots: Sequence[Snapshot], mapping: Any, now: datetime,
              inp: OfficeInput) -> dict[str, Any]:
    """``inp``: what the views read from this run (``inputs.gather``), which holds the scores and the work."""
    from pmo_jira_office.baselines import FACTS_KEY, plans_facts, plans_of
    from pmo_jira_office.loads import people_over

    return {
        "kpi": kpis(result, snapshots, mapping, now, people_over=people_over(inp, mapping, now.date())),
        "ranks": [f"{site}\t{key}" for site, key in ranked(inp)],
        FACTS_KEY: plans_facts(plans_of(snapshots, mapping)),
    }


def ranked(inp: OfficeInput) -> list[tuple[str, str]]:
    """``rank_order`` of the epics a run read: the scores its input holds for the open ones."""
    scored = [((score is None, -(score or 0.0), site, natural_key(key)), (site, key))
              for site, part in inp.parts.items()
              for key, _, _, _, _, is_open, _, _, _, score in part["epics"] if is_open]
    return [ref for _, ref in sorted(scored)]


def ranks_of(facts: dict[str, Any] | None) -> dict[tuple[str, str], int] | None:
    if not facts or "ranks" not in facts:
        return None
    return {tuple(ref.split("\t", 1)): i for i, ref in enumerate(facts["ranks"], start=1)}  # type: ignore[misc]
