"""Who is who across sites: Jira accounts -> the people the resource view counts.

An account is a Cloud accountId or a Data Center user key, always qualified by its site (the
same id on two sites is two accounts). The mapping's ``resources.people`` joins one person's
accounts and names them; every other account is a person of its own, shown by its Jira display
name (with the site when two such people share a name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from pmo_jira.model import User
from pmo_jira_office.config import Resources


@dataclass
class Person:
    id: str
    name: str
    sites: set[str] = field(default_factory=set)
    team: str | None = None
    per_week: float = 0.0
    holidays: tuple[date, ...] = ()


class Directory:
    """People of a run, built from the mapping and every account the run's issues mention."""

    def __init__(self, conf: Resources, users: Mapping[tuple[str, str], str]):
        """``users``: (site, account) -> display name of every account the run's issues name."""
        self.conf = conf
        self._by_account: dict[tuple[str, str], str] = {}
        self.people: dict[str, Person] = {}
        team_of = {m: t for t, team in conf.teams.items() for m in team.members}
        for p in conf.people:
            person = Person(p.name, p.name, team=p.team or team_of.get(p.name),
                            per_week=conf.capacity.default if p.capacity is None else p.capacity,
                            holidays=tuple(p.holidays))
            self.people[p.name] = person
            for site, account in p.accounts.items():
                self._by_account[(site, account)] = p.name
                person.team = person.team or team_of.get(account)
        names: dict[str, int] = {p.name: 1 for p in conf.people}  # an unmapped namesake gets its site
        for (site, account), display_name in users.items():
            if (site, account) not in self._by_account:
                names[display_name] = names.get(display_name, 0) + 1
        for (site, account), display_name in sorted(users.items()):
            pid = self._by_account.get((site, account))
            if pid is None:
                pid = f"{site}/{account}"
                self._by_account[(site, account)] = pid
                shown = display_name if names.get(display_name, 0) < 2 else f"{display_name} ({site})"
                self.people[pid] = Person(pid, shown, team=team_of.get(account),
                                          per_week=conf.capacity.default)
            self.people[pid].sites.add(site)

    def person(self, site: str, account: str | None) -> str | None:
        """The person id of an account on a site (None for no account)."""
        if account is None:
            return None
        return self._by_account.get((site, account))

    def person_of(self, site: str, user: User | None) -> str | None:
        """The person id of a user (None for no user)."""
        return self.person(site, user.account_id if user is not None else None)
