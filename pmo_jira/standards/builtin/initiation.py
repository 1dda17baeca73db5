"""Initiation: the epic states why it exists before anyone plans it."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from pydantic import Field, field_validator

from pmo_jira.findings import Severity
from pmo_jira.model import Issue
from pmo_jira.standards.base import Check, Standard, StandardOptions
from pmo_jira.standards.context import AuditContext

# A heading line in any of the forms a description arrives in: wiki "h2. X", markdown "## X",
# an ADF heading flattened to its own line "X", emphasis "*X*", and a lead-in "X: text".
_HEADING = r"^\s*(?:h[1-6]\.\s*|#{{1,6}}\s*)?[*_]*\s*{name}\s*[*_]*\s*:?[*_]*\s*(?P<rest>.*?)\s*$"
_ANY_HEADING = re.compile(r"^\s*(?:h[1-6]\.|#{1,6})\s")


@functools.lru_cache(maxsize=64)
def _heading(name: str) -> re.Pattern[str]:
    return re.compile(_HEADING.format(name=re.escape(name)), re.IGNORECASE)


def section_status(description: str, name: str) -> str:
    """'present', 'empty' (heading with nothing under it) or 'missing'."""
    pattern = _heading(name)
    lines = description.splitlines()
    found = False
    for i, line in enumerate(lines):
        m = pattern.match(line)
        if not m:
            continue
        found = True
        if m.group("rest"):
            return "present"
        for nxt in lines[i + 1:]:
            if not nxt.strip():
                continue
            if _ANY_HEADING.match(nxt):
                break
            return "present"
    return "empty" if found else "missing"



def valid_regex(value: str | None) -> str | None:
    """An option's regular expression, refused at load time when it does not compile."""
    if value is not None:
        try:
            re.compile(value)
        except re.error as e:
            raise ValueError(f"not a valid regular expression: {e}") from None
    return value


def links_matching(pattern: str | None, text: str) -> bool:
    """Whether a URL in ``text`` matches ``pattern`` (a linked charter, lessons page ...)."""
    return bool(pattern) and any(re.search(pattern, url) for url in re.findall(r"https?://\S+", text))

class CharterPresent(Standard):
    """The epic states its objective (an objective field, a charter section or a charter link).

    Why: the charter is the Gate 1 artefact: it says what outcome the work buys and lets the
    sponsor judge strategic fit. Without a written objective, scope creeps and no one can say at
    closing whether the benefits were delivered. A heading with nothing under it (an unfilled
    template) does not count.

    Example:

    ```yaml
    standards:
      - code: PMO-INI-001
        options:
          sections: [Objective, Business case]
          document_url_pattern: "https://example.atlassian.net/wiki/spaces/PMO/"
    ```
    """

    code = "PMO-INI-001"
    title = "Objective / charter present"
    default_severity = Severity.MEDIUM
    default_phases = ("initiation", "planning", "execution")  # a closed epic needs no chasing
    needs_fields = ("description",)  # a Jira system field: the source reads it when asked
    optional_fields = ("objective",)  # a dedicated field, when the mapping binds one

    class Options(StandardOptions):
        sections: list[str] = Field(default_factory=lambda: ["Objective"], min_length=1,
                                    description="section headings the description must contain")
        document_url_pattern: str | None = Field(
            default=None, description="regex: a URL in the description matching it counts as the charter")

        @field_validator("document_url_pattern")
        @classmethod
        def _compiles(cls, v: str | None) -> str | None:
            return valid_regex(v)

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        objective = item.fields.get("objective")
        if isinstance(objective, str) and objective.strip():
            yield Check.passed()
            return
        text = item.description or ""
        if links_matching(options.document_url_pattern, text):
            yield Check.passed()
            return
        status = {name: section_status(text, name) for name in options.sections}
        missing = [n for n, s in status.items() if s == "missing"]
        empty = [n for n, s in status.items() if s == "empty"]
        if not missing and not empty:
            yield Check.passed()
            return
        parts = []
        if missing:
            parts.append("no " + ", ".join(f"'{n}'" for n in missing) + " section")
        if empty:
            parts.append("empty " + ", ".join(f"'{n}'" for n in empty) + " section")
        link = " or link the charter page" if options.document_url_pattern else ""
        heading = options.sections[0]
        yield Check.fail(
            "description has " + " and ".join(parts),
            f"Edit the description of {item.key}: add a heading per section "
            f"({', '.join(options.sections)}) with a few lines under it, e.g. '{heading}: ...'{link}.",
        )
