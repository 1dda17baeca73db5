"""The ``portfolio:`` section of a mapping file, which this plugin declares and reads.

pmo-jira validates it like its own sections (unknown keys, file:line errors) through the
``pmo_jira_mapping_sections`` hook; ``mapping.portfolio`` is the validated ``Portfolio``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import PlainValidator, field_validator, model_validator

from pmo_jira.mapping import (
    ConsistencyIssue,
    MappingSection,
    ProjectKey,
    Strict,
    Text,
    choice,
    choice_hint,
    describe,
    problem,
)

RAG_DIMENSIONS: tuple[str, ...] = ("schedule", "scope", "risk", "compliance", "freshness")
RAG_COLOURS: tuple[str, ...] = ("green", "amber", "red")


def _measure(value: Any) -> Any:
    """A threshold is a plain, finite, non-negative number (never true/false, text or .nan)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise problem(f"expected a number, got {describe(value)}", "e.g. amber: 7")
    if not math.isfinite(value):
        raise problem(f"{value} is not a usable threshold", "write a number, e.g. amber: 7")
    if value < 0:
        raise problem(f"a threshold cannot be negative ({value:g}): every measure is 0 or more",
                      "use 0 to flag any amount")
    return float(value)


Measure = Annotated[float, PlainValidator(_measure)]


class Threshold(Strict):
    """A dimension is amber when its measure is >= ``amber`` and red when it is >= ``red``."""

    amber: Measure
    red: Measure

    @model_validator(mode="after")
    def _ordered(self) -> Threshold:
        if self.red < self.amber:
            raise problem(f"red ({self.red:g}) is below amber ({self.amber:g})",
                          "a worse measure is a higher number: red must be above amber")
        if self.red == self.amber:
            raise problem(f"amber and red are both {self.red:g}, so nothing can ever be amber",
                          "a worse measure is a higher number: red must be above amber")
        return self


DEFAULT_DEFINITIONS: dict[str, str] = {
    "schedule": "Days the latest open epic is past its target end (0 when none is late).",
    "scope": "Percent growth of the project's open child issues since the previous run.",
    "risk": "Open high or critical risks without an owner or a mitigation, plus epics without a risk register.",
    "compliance": "Percent of classified items with an open finding of medium severity or worse. Medium gaps make "
                  "it amber at most; red needs high or critical gaps (on an epic, a critical one).",
    "freshness": "Days since the least recently updated open epic was last updated.",
    "green": "On track; no unmanaged risk.",
    "amber": "A live risk or issue, being managed within the project manager's authority.",
    "red": "A decision or intervention is needed above the project manager's level.",
}


class Rag(Strict):
    """RAG thresholds per roll-up dimension; a project's overall RAG is its worst dimension.

    Each dimension is a number where higher is worse (see ``definitions`` for what is measured):

    - ``schedule``: days late — amber from 7, red from 30 (PMO practice: green within a week,
      amber up to a month, red beyond).
    - ``scope``: percent growth of open children between runs — amber from 10, red from 20.
    - ``risk``: count of unmanaged risks — amber from 1, red from 3.
    - ``compliance``: percent of items with an open medium+ finding — amber from 10, red from 25;
      medium gaps alone make it amber at most, red needs high or critical ones (see ``rag``).
    - ``freshness``: days since the stalest open epic was updated — amber from 14, red from 30.
    - ``definitions``: text shown in the report for each dimension and for green / amber / red;
      keys given replace the defaults, the others keep them.
    """

    schedule: Threshold = Threshold(amber=7, red=30)
    scope: Threshold = Threshold(amber=10, red=20)
    risk: Threshold = Threshold(amber=1, red=3)
    compliance: Threshold = Threshold(amber=10, red=25)
    freshness: Threshold = Threshold(amber=14, red=30)
    definitions: dict[str, Text] = DEFAULT_DEFINITIONS

    @field_validator("definitions", mode="before")
    @classmethod
    def _merge_definitions(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        allowed = RAG_DIMENSIONS + RAG_COLOURS
        for key in value:
            if key not in allowed:
                raise problem(f"'{key}' is not a RAG dimension or colour", choice_hint(key, allowed))
        return {**DEFAULT_DEFINITIONS, **value}


class Portfolio(MappingSection):
    """How the portfolio roll-up groups projects and colours them.

    - ``group_by``: ``category`` groups projects by their Jira project category (projects without
      one form the group "(no category)"); ``mapping`` uses ``groups`` below.
    - ``groups``: group name -> project keys; required when ``group_by: mapping``.
    - ``rag``: thresholds and written definitions, see ``Rag``.
    """

    group_by: Literal["category", "mapping"] = "category"
    groups: dict[Text, list[ProjectKey]] = {}
    rag: Rag = Rag()

    @field_validator("group_by", mode="before")
    @classmethod
    def _group_by(cls, value: Any) -> Any:
        return choice("a way to group projects", ("category", "mapping"))(value)

    def issues(self) -> Iterable[ConsistencyIssue]:
        if self.group_by != "mapping":
            return
        if not self.groups:
            yield (("group_by",), "'group_by: mapping' needs groups",
                   "add groups: {Digital: [WEB, APP]}, or use group_by: category")
        owner: dict[str, str] = {}
        for group, keys in self.groups.items():
            for key in keys:
                if key in owner and owner[key] != group:
                    yield (("groups", group), f"project {key} is in groups '{owner[key]}' and '{group}'",
                           "a project belongs to one group")
                owner.setdefault(key, group)
