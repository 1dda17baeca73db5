"""What the resource and strategy views read from Jira, per site: gathered from a run's snapshots,
or loaded from the run history.

Every recorded run keeps this per site (``PerSite`` run facts under ``office-sites``, newest run
of each site only), so ``pmo-jira report monthly --from-history`` builds the same views without
reading Jira again. A run gathers it once; the views are computed from it whether it was just
gathered or loaded, so both paths compute exactly the same figures.

Per site: every user an issue names as assignee or owner (account -> display name, as first
seen); every epic (key, project, summary, URL, phase, open, owner's account, target end, and for
the open ones the objectives served and the score); every open work item of the child types
(key, project, epic, assignee's account, estimate, start, end, status category); every risk's
created and resolved times.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pmo_jira.history import PerSite, RunRecord
from pmo_jira.model import ClassifiedItem, Snapshot, User

if TYPE_CHECKING:
    import pandas as pd

NAME = "office-sites"  # the name the inputs are kept under in the history (per site)
FORMAT = 1  # of the kept inputs; another one is refused with a line saying so

EPIC_COLUMNS = ("key", "project", "summary", "url", "phase", "open", "owner", "target_end", "objectives", "score")
WORK_COLUMNS = ("key", "project", "epic", "account", "estimate", "start", "end", "status_category")


@dataclass(frozen=True)
class OfficeInput:
    """The views' whole input: per site (in the order read) the plain figures described above."""

    parts: Mapping[str, Mapping[str, Any]]

    @property
    def sites(self) -> tuple[str, ...]:
        return tuple(self.parts)

    def users(self) -> dict[tuple[str, str], str]:
        """(site, account) -> display name."""
        return {(site, account): name for site, part in self.parts.items() for account, name in part["users"].items()}

    def epics(self) -> pd.DataFrame:
        """One row per epic: ``site`` and ``EPIC_COLUMNS``, target end as a date."""
        import pandas as pd  # the views' frames; the figures a run keeps are gathered without it

        rows = [(site, *row) for site, part in self.parts.items() for row in part["epics"]]
        df = pd.DataFrame(rows, columns=["site", *EPIC_COLUMNS])
        df["target_end"] = [day(v) for v in df["target_end"]]
        df["objectives"] = [tuple(v) for v in df["objectives"]]
        return df

    def work(self) -> pd.DataFrame:
        """One row per open work item: ``site`` and ``WORK_COLUMNS``, start and end as dates."""
        import pandas as pd

        rows = [(site, *row) for site, part in self.parts.items() for row in part["work"]]
        df = pd.DataFrame(rows, columns=["site", *WORK_COLUMNS])
        for col in ("start", "end"):
            df[col] = pd.Series([day(v) for v in df[col]], index=df.index, dtype=object)
        return df

    def risks(self) -> Iterable[tuple[datetime, datetime | None]]:
        """(created, resolved) of every risk issue."""
        for part in self.parts.values():
            for created, resolved in part["risks"]:
                yield datetime.fromisoformat(created), datetime.fromisoformat(resolved) if resolved else None


def day(value: Any) -> date | None:
    """An ISO date kept as text; None for none (pandas reads a missing one as NaN)."""
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _site_part(snap: Snapshot, phases: Mapping[tuple[str, str], str | None], mapping: Any) -> dict[str, Any]:
    from pmo_jira_office.config import resources_of, strategy_of
    from pmo_jira_office.scoring import objectives_of, score_of

    estimate_field = resources_of(mapping).estimate
    strategy = strategy_of(mapping)
    site = snap.site.name
    kinds: dict[str, str | None] = {}

    def kind_of(issue: Any) -> str | None:
        if issue.issue_type not in kinds:
            kinds[issue.issue_type] = mapping.issue_types.kind_of(issue.issue_type)
        return kinds[issue.issue_type]

    days: dict[Any, str | None] = {}  # a date's text made once: tens of thousands of issues share a few hundred

    def iso(value: Any) -> str | None:
        if not isinstance(value, date):  # a datetime is a date too
            return None
        text = days.get(value)
        if text is None:
            text = days[value] = _iso(value)
        return text

    by_key = {i.key: i for i in snap.issues}
    users: dict[str, str] = {}
    epics, work, risks = [], [], []  # rows as tuples, the smallest; kept as JSON arrays
    for issue in snap.issues:
        owner = issue.fields.get("owner")
        for user in (issue.assignee, owner):
            if isinstance(user, User):
                users.setdefault(user.account_id, user.display_name)
        kind = kind_of(issue)
        if kind == "epic":
            is_open = not issue.is_done
            epics.append((issue.key, issue.project_key, issue.summary, issue.url, phases.get((site, issue.key)) or "",
                          is_open, owner.account_id if isinstance(owner, User) else None,
                          iso(issue.fields.get("target_end") or issue.due),
                          list(objectives_of(issue, strategy.objectives)) if is_open else [],
                          score_of(issue, strategy.score) if is_open else None))
        elif kind == "child" and not issue.is_done and issue.hierarchy_level >= 0:
            epic = by_key.get(issue.parent_key or "")
            epic_ok = epic is not None and kind_of(epic) == "epic"
            end = issue.due or issue.fields.get("target_end") or (
                (epic.fields.get("target_end") or epic.due) if epic is not None and epic_ok else None)
            work.append((issue.key, issue.project_key, epic.key if epic is not None and epic_ok else "",
                         issue.assignee.account_id if issue.assignee is not None else None,
                         _number(issue.fields.get(estimate_field)), iso(issue.fields.get("start")), iso(end),
                         issue.status_category))
        elif kind == "risk":
            risks.append((issue.created.isoformat(), issue.resolved.isoformat() if issue.resolved else None))
    return {"format": FORMAT, "users": users, "epics": epics, "work": work, "risks": risks}


_last: list[tuple[tuple[Any, ...], OfficeInput]] = []  # the latest input and what it was gathered from


def gather(items: Sequence[ClassifiedItem], snapshots: Sequence[Snapshot], mapping: Any) -> OfficeInput:
    """The views' input from a run: ``items`` give the epics' phases. A run asks for it several
    times (its reports, the figures kept with it), so the latest one is kept and returned again
    for the same (immutable) arguments."""
    key = (items, *snapshots, mapping)
    if _last and len(_last[0][0]) == len(key) and all(a is b for a, b in zip(_last[0][0], key)):
        return _last[0][1]
    phases = {(i.site, i.key): i.phase for i in items if i.kind == "epic"}
    inp = OfficeInput({snap.site.name: _site_part(snap, phases, mapping) for snap in snapshots})
    _last[:] = [(key, inp)]
    return inp


def per_site(inp: OfficeInput, sites: Iterable[str]) -> PerSite:
    """The parts of ``sites`` (those the run read without error), for ``HistoryStore.record_run``."""
    wanted = set(sites)
    return PerSite({site: dict(part) for site, part in inp.parts.items() if site in wanted})


def load(store: Any, mapping_name: str, sites: Sequence[str]) -> tuple[OfficeInput, dict[str, RunRecord]]:
    """The input kept with the newest full run of each of ``sites`` and those runs; a site without
    one is a one-line error naming it and the command that records it."""
    kept = store.kept_per_site(NAME, mapping=mapping_name, sites=sites, version=FORMAT,
                               what="resource and strategy figures", instead=", or leave out --from-history")
    return OfficeInput({site: figures for site, (_, figures) in kept.items()}), \
        {site: run for site, (run, _) in kept.items()}


__all__ = ["FORMAT", "NAME", "OfficeInput", "day", "gather", "load", "per_site"]
