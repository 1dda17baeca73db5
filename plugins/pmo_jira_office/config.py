"""The plugin's mapping sections, ``resources:`` and ``strategy:``, as pydantic models.

Capacity is in the unit of the estimate the resource view sums (story points by default) per
person per *week*; a month's capacity is the weekly figure times the month's working days / 5,
less the person's and everyone's holidays. People are Jira accounts (Cloud accountId, Data
Center user key) unless the mapping names them here: one ``people`` entry joins a person's
accounts on several sites and may carry their capacity, team and holidays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from pmo_jira.mapping.schema import Day, MappingSection, Strict, Text, problem

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


PerWeek = Annotated[float, Field(ge=0)]


class Person(Strict):
    """One person: their accounts per site, and optionally their own capacity, team and holidays."""

    name: Text
    """How reports show the person (their Jira display name otherwise)."""
    accounts: dict[Text, Text] = {}
    """Site name -> account id (Cloud accountId, Data Center user key)."""
    capacity: PerWeek | None = None
    """Estimate units per week; default: ``capacity.default``."""
    team: Text | None = None
    holidays: list[Day] = []


class Team(Strict):
    """A team: its members (person names or account ids) and, optionally, its own weekly capacity."""

    members: list[Text] = []
    capacity: PerWeek | None = None
    """Estimate units per week for the whole team; default: the sum of its members'."""


class Capacity(Strict):
    default: PerWeek = 8.0
    """Estimate units per person per week."""
    working_days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["mon", "tue", "wed", "thu", "fri"]
    holidays: list[Day] = []
    """Days nobody works (public holidays), as dates."""

    @property
    def weekmask(self) -> str:
        return "".join("1" if d in self.working_days else "0" for d in WEEKDAYS)

    @field_validator("working_days")
    @classmethod
    def _some_days(cls, value: list[str]) -> list[str]:
        if not value:
            raise problem("working_days is empty", "list the days people work, e.g. [mon, tue, wed, thu, fri]")
        return value


class Resources(MappingSection):
    """The resource view: horizon, capacities, people and teams, thresholds."""

    estimate: Text = "story_points"
    """The logical field (under ``fields:``) whose sum is a person's load."""
    unit: Text = "points"
    unestimated: Annotated[float, Field(ge=0)] = 0.0
    """Load counted for an open issue without an estimate."""
    horizon_months: Annotated[int, Field(ge=1, le=24)] = 6
    capacity: Capacity = Capacity()
    people: list[Person] = []
    teams: dict[Text, Team] = {}
    max_epics: Annotated[int, Field(ge=1)] = 3
    """A person with open work in more epics than this at once is listed as spread too thin."""

    def issues(self) -> Iterable[tuple[tuple[str | int, ...], str, str]]:
        seen: dict[tuple[str, str], str] = {}
        names: set[str] = set()
        for i, person in enumerate(self.people):
            if person.name in names:
                yield ("people", i, "name"), f"person '{person.name}' is listed twice", "merge the two entries"
            names.add(person.name)
            for site, account in person.accounts.items():
                other = seen.setdefault((site, account), person.name)
                if other != person.name:
                    yield (("people", i, "accounts", site),
                           f"account {account} on site {site} belongs to '{other}' and '{person.name}'",
                           "an account is one person")
            if person.team is not None and person.team not in self.teams:
                yield (("people", i, "team"), f"person '{person.name}' is in team '{person.team}', which is not "
                       "under teams", f"add teams: {{{person.team}: {{}}}} or fix the name")

    def reads_fields(self) -> Iterable[str]:
        return ("assignee", "owner", "due", "start", "target_end", self.estimate)


class Objectives(Strict):
    """Where an epic's strategic objectives come from (exactly one source)."""

    source: Literal["parent", "field", "link"] = "link"
    """parent: the epic's parent issue (the level above epic); field: a logical field of the
    mapping; link: issue links of ``link_type``."""
    field: Text | None = None
    link_type: Text | None = None
    names: dict[Text, Text] = {}
    """Objective key or field value -> the name reports show."""

    @model_validator(mode="after")
    def _source_complete(self) -> Objectives:
        if self.source == "field" and not self.field:
            raise problem("objectives.source: field needs objectives.field",
                          "name the logical field (under fields:) that holds the objective")
        if self.source == "link" and not self.link_type:
            raise problem("objectives.source: link needs objectives.link_type", 'e.g. link_type: "Supports"')
        return self


WSJF_PARTS = ("business_value", "time_criticality", "risk_reduction", "job_size")


class Score(Strict):
    """The prioritisation score of an epic, from mapped fields.

    ``wsjf``: (business value + time criticality + risk reduction) / job size, each the logical
    field named under ``wsjf``. ``weighted``: the sum of weight x value over ``weights``
    (logical field -> weight). An epic missing a value is unscored and ranked last.
    """

    method: Literal["wsjf", "weighted"] = "wsjf"
    wsjf: dict[Literal["business_value", "time_criticality", "risk_reduction", "job_size"], Text] = {
        "business_value": "business_value", "time_criticality": "time_criticality",
        "risk_reduction": "risk_reduction", "job_size": "job_size"}
    weights: dict[Text, float] = {}

    @model_validator(mode="after")
    def _complete(self) -> Score:
        if self.method == "weighted" and not self.weights:
            raise problem("score.method: weighted needs weights", "e.g. weights: {business_value: 0.6, strategic_fit: 0.4}")
        if self.method == "wsjf":
            missing = [p for p in WSJF_PARTS if p not in self.wsjf]
            if missing:
                raise problem(f"score.wsjf lacks {', '.join(missing)}", "bind all four parts to logical fields")
        return self

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.wsjf[p] for p in WSJF_PARTS) if self.method == "wsjf" else tuple(self.weights)


class Alignment(Strict):
    """When the ranking and the work in execution disagree."""

    top: Annotated[float, Field(gt=0, le=1)] = 0.25
    """Share of ranked epics counted as top-ranked (and, the same share, as low-ranked)."""
    starved_below: Annotated[int, Field(ge=1)] = 2
    """A top-ranked epic in execution with fewer people than this on its open work is starved."""
    busy_from: Annotated[int, Field(ge=1)] = 3
    """A low-ranked epic in execution with this many people or more on its open work is busy."""


class Strategy(MappingSection):
    objectives: Objectives = Objectives(source="link", link_type="Supports")
    score: Score = Score()
    alignment: Alignment = Alignment()

    def reads_fields(self) -> Iterable[str]:
        return (*self.score.fields, *([self.objectives.field] if self.objectives.source == "field" else []))


def section(mapping: Any, name: str, model: type) -> Any:
    """The plugin's section of ``mapping``, defaults filled in (for mappings built without it)."""
    getter = getattr(mapping, "section", None)
    try:
        value = getter(name) if callable(getter) else None
    except KeyError:
        value = None
    if value is None:
        return model()
    return value if isinstance(value, model) else model.model_validate(value)


def capacity_configured(mapping: Any) -> bool:
    """Whether the mapping gives capacities (a default, or a person's own): PMO-RES-002 needs them."""
    conf = resources_of(mapping)
    return "capacity" in conf.model_fields_set or any(p.capacity is not None for p in conf.people)


def objectives_configured(mapping: Any) -> bool:
    """Whether the mapping says where objectives come from: PMO-STR-001 needs it."""
    return "objectives" in strategy_of(mapping).model_fields_set


def resources_of(mapping: Any) -> Resources:
    return section(mapping, "resources", Resources)


def strategy_of(mapping: Any) -> Strategy:
    return section(mapping, "strategy", Strategy)
