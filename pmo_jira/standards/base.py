"""What a standard is: a coded, documented check of one epic or project.

A standard never builds ``Finding`` objects itself. It yields ``Check`` results; the engine adds
site, phase, severity, waivers and fingerprints, so every standard gets them right for free.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from pmo_jira.findings import Severity
from pmo_jira.model import PHASES, Issue, Project, ReadPlan

if TYPE_CHECKING:
    from pmo_jira.standards.context import AuditContext

APPLIES_TO: tuple[str, ...] = ("epic", "project")

PASS = "pass"
FAIL = "fail"
NOT_APPLICABLE = "not_applicable"
ERROR = "error"  # set by the engine when a standard raises


@dataclass(frozen=True, slots=True)
class Check:
    """The verdict of a standard on one item (or on one ``subject`` inside it, e.g. a child)."""

    status: str  # PASS | FAIL | NOT_APPLICABLE (| ERROR, engine only)
    message: str = ""
    fix: str = ""
    subject: str = ""

    @classmethod
    def passed(cls, subject: str = "") -> Check:
        if not subject and cls is Check:
            return _PASSED  # most checks pass: one shared (immutable) verdict, not one per item
        return cls(PASS, subject=subject)

    @classmethod
    def fail(cls, message: str, fix: str, subject: str = "") -> Check:
        if not fix:
            raise ValueError("a failing check must say how to fix it")
        return cls(FAIL, message, fix, subject)

    @classmethod
    def not_applicable(cls, why: str, subject: str = "") -> Check:
        return cls(NOT_APPLICABLE, f"not applicable: {why}", "", subject)


_PASSED = Check(PASS)


def keys_preview(keys: list[str], limit: int = 5) -> str:
    """'A-1, A-2, A-3 (+4 more)': enough to act on, short enough for a comment."""
    shown = ", ".join(keys[:limit])
    return shown + (f" (+{len(keys) - limit} more)" if len(keys) > limit else "")


class StandardOptions(BaseModel):
    """Base of every standard's ``Options``: unknown keys are errors, every option has a default,
    and values keep their YAML type (strict): ``max_days: true`` or ``"14"`` is an error, never 1 or 14."""

    # defer_build: an Options model is built when a mapping first configures its standard, so
    # shared bases and standards a mapping leaves out cost nothing at start-up
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)


_YAML_BLOCK = re.compile(r"```ya?ml\n(.*?)```", re.DOTALL)


class Standard:
    """Base class of all standards (built-in and plugin).

    Subclasses set the class attributes below, define ``Options`` (a ``StandardOptions``) when they
    take options, and implement ``evaluate``. The class docstring is user documentation: a
    one-line summary, a ``Why:`` paragraph, and a fenced ``yaml`` block holding a ``standards:``
    entry of a mapping (a test loads it, so it cannot drift from the code).
    """

    code: ClassVar[str]
    title: ClassVar[str]
    default_severity: ClassVar[Severity]
    default_phases: ClassVar[tuple[str, ...]] = PHASES
    applies_to: ClassVar[str] = "epic"
    needs_fields: ClassVar[tuple[str, ...]] = ()
    """Logical fields without which the standard cannot judge: missing on a site -> not applicable."""
    optional_fields: ClassVar[tuple[str, ...]] = ()
    """Logical fields read when the site has them (the standard falls back otherwise)."""
    history_fields: ClassVar[tuple[str, ...]] = ()
    """Fields whose change history (the epic's changelog) the standard reads: logical names, or Jira
    names such as ``status``. Non-empty makes the run read epics' changelogs, in bulk."""
    reads_comments: ClassVar[bool] = False
    """Whether the standard reads comments (they then come inline with the search, at no extra request)."""

    Options: ClassVar[type[StandardOptions]] = StandardOptions

    def evaluate(self, item: Issue | Project, ctx: AuditContext, options: Any) -> Iterable[Check]:
        raise NotImplementedError

    def reads(self, options: Any) -> ReadPlan:
        """What the source must read for this standard with these options.

        The default follows the class attributes; standards whose options name fields, issue types
        (change requests, approvals, RAID records) or comments extend it.
        """
        return ReadPlan(fields=frozenset((*self.needs_fields, *self.optional_fields)),
                        history=frozenset(self.history_fields), comments=self.reads_comments)

    # --- documentation, parsed from the docstring ---------------------------------------------

    @classmethod
    def _doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls._doc().split("\n", 1)[0].strip()

    @classmethod
    def why(cls) -> str:
        """The ``Why:`` paragraph(s), up to the example or the end."""
        doc = _YAML_BLOCK.sub("", cls._doc())
        m = re.search(r"^Why:\s*(.*?)(?=^Example:|\Z)", doc, re.DOTALL | re.MULTILINE)
        return " ".join(m.group(1).split()) if m else ""

    @classmethod
    def example_yaml(cls) -> str:
        m = _YAML_BLOCK.search(cls._doc())
        return m.group(1) if m else ""

    @classmethod
    def option_defaults(cls) -> dict[str, Any]:
        return {name: f.get_default(call_default_factory=True) for name, f in cls.Options.model_fields.items()}

    @classmethod
    def option_docs(cls) -> dict[str, str]:
        return {name: f.description or "" for name, f in cls.Options.model_fields.items()}
