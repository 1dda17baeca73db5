"""Standard classes by code, and the merge of their defaults with a mapping's ``standards:``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from pmo_jira.errors import ConfigError, PluginError
from pmo_jira.findings import Severity
from pmo_jira.mapping.schema import format_path, plain_error
from pmo_jira.model import PHASES
from pmo_jira.standards.base import APPLIES_TO, Standard, StandardOptions
from pmo_jira.suggest import did_you_mean

_CODE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")


class Registry:
    """Standard classes keyed by their stable code. Built-ins and plugins register the same way."""

    def __init__(self, standards: Iterable[type[Standard]] = ()):
        self._by_code: dict[str, type[Standard]] = {}
        for cls in standards:
            self.register(cls)

    def register(self, cls: type[Standard]) -> type[Standard]:
        """Add a standard class; rejects duplicate codes and classes that break the contract."""
        name = getattr(cls, "__qualname__", repr(cls))
        if not (isinstance(cls, type) and issubclass(cls, Standard)):
            raise PluginError(f"{name} is not a subclass of pmo_jira.standards.Standard")
        code = getattr(cls, "code", None)
        problems = []
        if not isinstance(code, str) or not _CODE.match(code):
            problems.append(f"code {code!r} is not like 'ACME-GOV-001'")
        if not getattr(cls, "title", None):
            problems.append("no title")
        if not isinstance(getattr(cls, "default_severity", None), Severity):
            problems.append("default_severity is not a Severity")
        if not cls.default_phases or not set(cls.default_phases) <= set(PHASES):
            problems.append(f"default_phases must be a non-empty subset of {list(PHASES)}")
        if cls.applies_to not in APPLIES_TO:
            problems.append(f"applies_to must be one of {list(APPLIES_TO)}")
        if not (isinstance(cls.Options, type) and issubclass(cls.Options, StandardOptions)):
            problems.append("Options must subclass StandardOptions")
        if not cls.summary() or not cls.example_yaml():
            problems.append("its docstring needs a summary line and a ```yaml example")
        if problems:
            raise PluginError(f"standard {name}: " + "; ".join(problems))
        if code in self._by_code and self._by_code[code] is not cls:
            other = self._by_code[code]
            raise PluginError(f"duplicate standard code {code}: {other.__module__}.{other.__qualname__} "
                              f"and {cls.__module__}.{cls.__qualname__}")
        self._by_code[code] = cls
        return cls

    def get(self, code: str) -> type[Standard]:
        try:
            return self._by_code[code]
        except KeyError:
            raise ConfigError(f"unknown standard {code!r}", hint=self.suggest(code)) from None

    def suggest(self, code: str) -> str | None:
        return did_you_mean(code, self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[type[Standard]]:
        return iter(sorted(self._by_code.values(), key=lambda c: c.code))

    def __len__(self) -> int:
        return len(self._by_code)


def builtin_standards() -> list[type[Standard]]:
    """The built-in catalogue; what the built-in plugin's ``pmo_jira_standards`` hook returns."""
    from pmo_jira.standards.builtin import (
        change_control,
        closing,
        execution,
        gates,
        governance,
        initiation,
        planning,
        raid,
        risk,
    )

    return [
        governance.AccountableOwner, governance.ProjectLead, governance.SponsorSet,
        initiation.CharterPresent,
        planning.DatesSet, planning.ChildrenEstimated, planning.ChildrenInsideDates,
        raid.AssumptionsAndDecisionsLogged,
        change_control.BaselineSet, change_control.ScheduleChangeControlled, change_control.ScopeChangeControlled,
        gates.ExecutionGateApproved,
        execution.StatusFresh, execution.NotOverdue, execution.BlockedTooLong,
        risk.RiskRegister, risk.HighRisksManaged, raid.RisksScored, raid.HighRisksReviewed,
        raid.IssueLogKept, raid.DependenciesHealthy,
        closing.ClosingGate, gates.SponsorAcceptance, gates.LessonsLearned,
    ]


def builtin_registry() -> Registry:
    return Registry(builtin_standards())


@dataclass(frozen=True)
class ActiveStandard:
    """A standard as one mapping runs it: its effective phases, severity and validated options."""

    standard: Standard
    severity: Severity
    phases: tuple[str, ...]
    options: BaseModel

    @property
    def code(self) -> str:
        return self.standard.code

    @property
    def title(self) -> str:
        return self.standard.title

    @property
    def applies_to(self) -> str:
        return self.standard.applies_to


class _Where:
    """Builds ConfigErrors that point into the mapping file: file, line (when known), key path."""

    def __init__(self, mapping: Any):
        src = getattr(mapping, "source_file", None)
        self.file = str(src) if src else None
        self._line_of = getattr(mapping, "line_of", None)

    def error(self, path: tuple[str | int, ...], message: str, hint: str | None = None) -> ConfigError:
        line = self._line_of(*path) if self._line_of else None
        return ConfigError(message, file=self.file, line=line, key=format_path(path), hint=hint)


_TYPE_ERRORS = ("_type", "_parsing", "_from_float")
"""Pydantic's errors for a value of the wrong type, told as "expected X, got Y"."""


def _options_error(err: ValidationError, cls: type[Standard], path: tuple[str | int, ...],
                   where: _Where) -> ConfigError:
    first = err.errors()[0]
    loc = tuple(first["loc"])
    option = ".".join(str(p) for p in loc)
    if first["type"] == "extra_forbidden":
        known = list(cls.Options.model_fields)
        return where.error((*path, *loc), f"{cls.code} has no option '{option}'",
                           did_you_mean(option, known) or f"its options: {', '.join(known) or 'none'}")
    plain = plain_error(first["type"], first.get("input"), {}) if first["type"].endswith(_TYPE_ERRORS) else None
    if plain is None:
        return where.error((*path, *loc), f"{cls.code} option '{option}': {first['msg']}")
    return where.error((*path, *loc), f"{cls.code} option '{option}': {plain[0]}", plain[1])


def configure(mapping: Any, registry: Registry | None = None) -> list[ActiveStandard]:
    """Merge each standard's defaults with the mapping's ``standards:`` entries and check waivers.

    A mapping that lists no standards runs every registered standard with its defaults. Every
    error names the mapping file, the entry's key path and, where it can, the likely fix. (Phase
    and severity names and duplicate entries are already checked by the mapping schema.)
    """
    registry = registry or builtin_registry()
    where = _Where(mapping)
    entries = list(getattr(mapping, "standards", None) or [])
    active: list[ActiveStandard] = []
    if not entries:
        active = [ActiveStandard(cls(), cls.default_severity, tuple(cls.default_phases), cls.Options())
                  for cls in registry]
    for i, entry in enumerate(entries):
        if entry.code not in registry:
            raise where.error(("standards", i, "code"), f"unknown standard '{entry.code}'",
                              registry.suggest(entry.code) or "see `pmo-jira standards list`")
        cls = registry.get(entry.code)
        phases = tuple(entry.phases) if entry.phases else tuple(cls.default_phases)
        severity = entry.severity or cls.default_severity
        try:
            options = cls.Options.model_validate(dict(entry.options or {}))
        except ValidationError as e:
            raise _options_error(e, cls, ("standards", i, "options"), where) from None
        active.append(ActiveStandard(cls(), severity, phases, options))
    for j, waiver in enumerate(getattr(mapping, "waivers", None) or []):
        if waiver.standard not in registry:
            raise where.error(("waivers", j, "standard"), f"waiver names unknown standard '{waiver.standard}'",
                              registry.suggest(waiver.standard))
    return active


def plugin_registry() -> Registry:
    """The built-ins plus every standard the installed plugins return from ``pmo_jira_standards``.

    The built-ins are registered first and directly, so they are there even when the package's
    entry-point metadata is stale; the built-in plugin returning the same classes again is harmless.
    """
    from pmo_jira.plugin_manager import collect

    registry = builtin_registry()
    for cls in collect("pmo_jira_standards", what="standard", name_of=_code_of,
                       check=lambda code, cls: Registry().register(cls)).values():
        registry.register(cls)
    return registry


def _code_of(cls: Any) -> str:
    return str(getattr(cls, "code", None) or f"{getattr(cls, '__module__', '?')}.{getattr(cls, '__qualname__', cls)}")
