"""The mapping file format, as pydantic models.

A mapping tells pmo-jira how one Jira site (or one group of projects) expresses PMO concepts:
which projects and issue types are in scope, which Jira fields carry owner / dates / estimates,
how epics and projects map to PMO phases, which standards apply, which findings are waived and
what the write-back may do. Every model forbids unknown keys, so a typo is an error with a
suggestion rather than a silently ignored setting. ``pmo_jira.mapping.loader`` turns the
validation errors into one-line ``FILE:LINE: key.path: problem (fix)`` messages.
"""

from __future__ import annotations

import hashlib
import re
import typing
from collections.abc import Callable, Iterable
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainValidator,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

from pmo_jira.findings import Severity, Waiver
from pmo_jira.mapping.jql import jql_problem
from pmo_jira.model import PHASES
from pmo_jira.suggest import closest

KNOWN_FIELDS: dict[str, str] = {
    "owner": "the accountable person for an epic (e.g. assignee or a user-picker field)",
    "start": "planned start date",
    "target_end": "planned (baseline) end date",
    "story_points": "estimate of a child issue",
    "phase": "an explicit PMO phase field, used by `phases.epic` field rules",
    "risk_impact": "impact of a Risk issue (e.g. Low/Medium/High/Critical)",
    "risk_likelihood": "likelihood of a Risk issue",
    "risk_mitigation": "mitigation plan text of a Risk issue",
    "risk_owner": "owner of a Risk issue (falls back to its assignee when unbound)",
    "objective": "objective / charter / business-case text or link of an epic",
    "epic_link": "Data Center only: the Epic Link field that ties children to their epic",
    "sponsor": "the sponsor of an epic (a user-picker field), distinct from its owner",
    "baseline_start": "baseline start date, where the site keeps one (Advanced Roadmaps / Plans)",
    "baseline_end": "baseline end date, where the site keeps one (Advanced Roadmaps / Plans)",
    "gate_approval": "the execution-gate approval of an epic (an approver, a date or an option)",
    "sponsor_acceptance": "the sponsor's acceptance of an epic's deliverables at closing",
    "blocked_by": "work on other Jira sites blocking an epic (browse URLs or SITE:KEY, a text or URL field)",
}
"""Logical field names pmo-jira's built-in standards read. Other names are allowed (for plugins)."""

STATUS_CATEGORY_KEYS: tuple[str, ...] = ("new", "indeterminate", "done")
EPIC_MODES: tuple[str, ...] = ("least_advanced_open", "most_advanced", "majority")
SEVERITIES: tuple[str, ...] = tuple(s.value for s in Severity)

_LABEL_PREFIX = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")
_PROJECT_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


# --- error helpers ------------------------------------------------------------------------------


def problem(text: str, hint: str | None = None) -> PydanticCustomError:
    """A validation error whose text and fix the loader renders verbatim."""
    return PydanticCustomError("pmo", "{problem}", {"problem": text, "hint": hint or ""})


def choice_hint(value: Any, choices: Iterable[str]) -> str:
    choices = list(choices)
    guess = closest(str(value), choices) if isinstance(value, str) else None
    listed = "choose from " + ", ".join(choices)
    return f"did you mean '{guess}'? {listed}" if guess else listed


def choice(kind: str, choices: tuple[str, ...], convert: Callable[[str], Any] = str,
            aliases: dict[str, str] | None = None) -> Callable[[Any], Any]:
    """Validator for a closed set of lowercase names, accepted case-insensitively.

    ``aliases`` maps words people write instead (e.g. a status category's display name) to the
    choice to suggest; they are not accepted, only suggested.
    """

    def validate(value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in choices:
            return convert(value.strip().lower())
        shown = f"'{value}'" if isinstance(value, str) else describe(value)
        alias = (aliases or {}).get(value.strip().lower()) if isinstance(value, str) else None
        hint = f"did you mean '{alias}'? choose from {', '.join(choices)}" if alias else choice_hint(value, choices)
        raise problem(f"{shown} is not {kind}", hint)

    return validate


def describe(value: Any) -> str:
    """How a YAML value reads to a person, for 'expected X, got Y' messages."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_EXPECTED = {
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping of keys",
    "model_type": "a mapping of keys",
    "model_attributes_type": "a mapping of keys",
    "string_type": "text",
    "path_type": "a file path",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
}


_BOUNDS = {"greater_than": ("gt", "greater than"), "greater_than_equal": ("ge", "at least"),
           "less_than": ("lt", "less than"), "less_than_equal": ("le", "at most")}


def plain_error(kind: str, value: Any, ctx: dict[str, Any]) -> tuple[str, str | None] | None:
    """A pydantic error type as words for people: ``(problem, fix)``, or None for types not covered."""
    if kind in _EXPECTED:
        hint = None
        if kind in ("list_type", "tuple_type") and isinstance(value, (str, int, float)):
            hint = f"write [{value}]"
        elif kind in ("string_type", "path_type") and isinstance(value, (bool, int, float)):
            hint = "quote it"
        elif kind.startswith(("int", "float")) and isinstance(value, bool):
            hint = "true and false are not numbers; write a number"
        elif kind.startswith("int") and isinstance(value, float):
            hint = "write it without a decimal point"
        elif kind.startswith(("int", "float")) and isinstance(value, str):
            hint = "write the number without quotes"
        elif kind.startswith("bool") and not isinstance(value, bool):
            hint = "write true or false"
        return f"expected {_EXPECTED[kind]}, got {describe(value)}", hint
    if kind == "string_too_short":
        return "must not be empty", None
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} items", None
    if kind in _BOUNDS:
        bound, words = _BOUNDS[kind]
        share = kind == "less_than_equal" and ctx.get(bound) == 1
        return (f"must be {words} {ctx.get(bound)}, got {describe(value)}",
                "a share is written between 0 and 1, e.g. 0.5 for half" if share else None)
    return None


_PHASE_WORDS = {"closure": "closing", "close": "closing", "closed": "closing", "initiating": "initiation",
                "initiate": "initiation", "plan": "planning", "executing": "execution", "delivery": "execution",
                "monitoring": "execution", "build": "execution"}
Phase = Annotated[str, BeforeValidator(choice("a PMO phase", PHASES, aliases=_PHASE_WORDS))]
SeverityName = Annotated[Severity, BeforeValidator(choice("a severity", SEVERITIES, Severity))]
StatusCategory = Annotated[str, BeforeValidator(choice(
    "a status category key", STATUS_CATEGORY_KEYS,
    aliases={"to do": "new", "todo": "new", "open": "new", "in progress": "indeterminate", "closed": "done"}))]
EpicMode = Annotated[str, BeforeValidator(choice("a way to derive a phase from epics", EPIC_MODES))]
Text = Annotated[str, Field(min_length=1)]


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise problem(f"{describe(value)} is not a valid date", "write YYYY-MM-DD, e.g. 2026-03-31")


Day = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar day written YYYY-MM-DD (YAML reads an unquoted one as a date already)."""


def _project_key(value: Any) -> Any:
    if isinstance(value, str) and not _PROJECT_KEY.match(value):
        raise problem(f"'{value}' is not a Jira project key",
                      "a key is letters, digits and underscores starting with a letter, e.g. PMO")
    return value.upper() if isinstance(value, str) else value


ProjectKey = Annotated[str, BeforeValidator(_project_key)]
Scalar = str | float | bool


def _jql(value: Any) -> Any:
    if isinstance(value, str):
        found = jql_problem(value)
        if found:
            raise problem(*found)
    return value


Jql = Annotated[str, AfterValidator(_jql)]
"""JQL a person wrote: balanced, without ORDER BY (see ``pmo_jira.mapping.jql``)."""
WholeNumber = StrictInt
"""A whole number, never a YAML ``true`` or ``1.0`` or ``"7"`` read as one."""


class Strict(BaseModel):
    """Base of every mapping model: unknown keys are errors, instances are immutable.

    An empty value (``waivers:`` with every entry commented out) means "use the default" for keys
    that have one, so admins can comment entries out without breaking the file.
    """

    # defer_build: built when first used; the nested models never are (Mapping's validator covers
    # them), which saves every run that time at start-up
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        if isinstance(data, dict):
            optional = {f.alias or n for n, f in cls.model_fields.items() if not f.is_required()}
            return {k: v for k, v in data.items() if not (v is None and k in optional)}
        return data


# --- scope and issue types ----------------------------------------------------------------------


class Scope(Strict):
    """Which projects the audit reads. Empty ``projects`` and ``categories`` mean every browsable project."""

    projects: list[ProjectKey] = []
    """Project keys to read (case-insensitive; stored upper-case)."""
    categories: list[Text] = []
    """Project category names (portfolios); a project must have one of them."""
    exclude_projects: list[ProjectKey] = []
    """Project keys never read, even when selected by ``projects`` or ``categories``."""
    jql: Jql = ""
    """Extra JQL, ANDed to the generated query in parentheses (e.g. ``labels != archived``)."""


class IssueTypes(Strict):
    """Which issue type names are epics, children and risks (compared case-insensitively)."""

    epic: list[Text] = ["Epic"]
    child: list[Text] = ["Story", "Task", "Bug"]
    risk: list[Text] = ["Risk"]

    def kind_of(self, issue_type: str) -> str | None:
        """'epic', 'child', 'risk' or None for an issue type name."""
        name = issue_type.casefold()
        for kind in ("epic", "child", "risk"):
            if any(name == t.casefold() for t in getattr(self, kind)):
                return kind
        return None


# --- fields -------------------------------------------------------------------------------------

_REF_KEYS = ("id", "name", "schema")


def _field_ref(value: Any, where: str) -> str | dict[str, str]:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict):
        unknown = [k for k in value if k not in _REF_KEYS]
        if unknown:
            raise problem(f"unknown key '{unknown[0]}' in field spec{where}", choice_hint(unknown[0], _REF_KEYS))
        if len(value) != 1:
            raise problem(f"a field spec{where} has exactly one of id, name, schema",
                          "write one spec per entry, or a list of specs tried in order")
        (key, ref), = value.items()
        if not isinstance(ref, str) or not ref.strip():
            raise problem(f"'{key}' in field spec{where} must be text, got {describe(ref)}",
                          'e.g. {schema: "com.atlassian.jpo:jpo-custom-field-baseline-end"}')
        return {key: ref}
    raise problem(f"expected a field id or name, {{id: ...}}, {{name: ...}} or {{schema: ...}}{where}, "
                  f"got {describe(value)}", 'e.g. owner: assignee  or  start: "Start date"')


def _field_spec(value: Any) -> str | dict[str, str] | list[str | dict[str, str]]:
    if isinstance(value, list):
        if not value:
            raise problem("empty list of field specs", "give at least one field id, name or {schema: ...}")
        return [_field_ref(v, f" (entry {i + 1})") for i, v in enumerate(value)]
    return _field_ref(value, "")


FieldSpec = Annotated[str | dict[str, Any] | list[Any], PlainValidator(_field_spec)]
"""A field id (``customfield_10015``), a field name (``"Start date"``), ``{id: ...}``,
``{name: ...}``, ``{schema: <schema.custom type>}``, or a list of those tried in order."""


# --- phase rules --------------------------------------------------------------------------------


class EpicWhen(Strict):
    """The condition of an epic phase rule: exactly one of label, field (+ in / equals), status,
    status_category."""

    label: Text | list[Text] | None = None
    """A label (or list: any of them) the epic carries, e.g. ``pmo-phase-planning``."""
    field: str | None = None
    """A logical field from ``fields:``; with ``in`` (any of the values) or ``equals``."""
    in_: list[Scalar] | None = Field(None, alias="in")
    equals: Scalar | None = None
    status: list[Text] | None = None
    """Status names (case-insensitive), e.g. ``[In Progress, Blocked]``."""
    status_category: list[StatusCategory] | None = None
    """Status category keys: new (To Do), indeterminate (In Progress), done."""

    @model_validator(mode="after")
    def _one_kind(self) -> EpicWhen:
        kinds = [k for k in ("label", "field", "status", "status_category") if getattr(self, k) is not None]
        if len(kinds) != 1:
            found = f"got {', '.join(kinds)}" if kinds else "got none"
            raise problem(f"a rule condition has exactly one of label, field, status, status_category ({found})",
                          "split it into several rules; the first that matches wins")
        if self.field is not None and (self.in_ is None) == (self.equals is None):
            raise problem("a field condition needs exactly one of 'in' or 'equals'",
                          f"e.g. {{field: {self.field}, in: [Execution]}}")
        if self.field is None and (self.in_ is not None or self.equals is not None):
            raise problem("'in' and 'equals' only go with 'field'", "e.g. {field: phase, in: [Execution]}")
        return self

    @property
    def labels(self) -> list[str]:
        return [self.label] if isinstance(self.label, str) else list(self.label or [])


class EpicRule(Strict):
    when: EpicWhen
    phase: Phase


class ProjectWhen(Strict):
    """The condition of a project phase rule: exactly one of property, category, epics, projects."""

    property: Text | None = None
    """A project entity property whose value is the phase name (or ``{phase: name}``)."""
    category: dict[str, Phase] | None = None
    """Project category name -> phase, e.g. ``{Ideas: initiation}``."""
    epics: EpicMode | None = None
    """Derive from the project's classified epics: least_advanced_open, most_advanced or majority."""
    projects: dict[ProjectKey, Phase] | None = None
    """Project key -> phase, for explicit decisions."""

    @model_validator(mode="after")
    def _one_kind(self) -> ProjectWhen:
        kinds = [k for k in ("property", "category", "epics", "projects") if getattr(self, k) is not None]
        if len(kinds) != 1:
            found = f"got {', '.join(kinds)}" if kinds else "got none"
            raise problem(f"a rule condition has exactly one of property, category, epics, projects ({found})",
                          "split it into several rules; the first that matches wins")
        return self


class ProjectRule(Strict):
    when: ProjectWhen


class Phases(Strict):
    """Ordered phase rules; the first that matches decides, items no rule matches stay unmapped."""

    epic: list[EpicRule] = []
    project: list[ProjectRule] = []


# --- standards, waivers, write-back -------------------------------------------------------------


class StandardConfig(Strict):
    """One standard switched on for this mapping."""

    code: Text
    phases: list[Phase] | None = None
    """Phases the standard applies in; None keeps the standard's own default."""
    severity: SeverityName | None = None
    """Severity override; None keeps the standard's default."""
    options: dict[str, Any] = {}
    """Standard-specific options, validated by the standard's ``Options`` model."""


class WaiverConfig(Strict):
    """An accepted exception: one standard on one item (or on every item a JQL matches), until a date."""

    standard: Text
    item: Text | None = None
    jql: Annotated[Jql, Field(min_length=1)] | None = None
    owner: Text
    reason: Text
    expires: Day

    @model_validator(mode="after")
    def _item_or_jql(self) -> WaiverConfig:
        if (self.item is None) == (self.jql is None):
            raise problem("a waiver names exactly one of 'item' (an issue or project key) or 'jql'",
                          "e.g. item: WEB-12")
        return self

    def to_waiver(self) -> Waiver:
        return Waiver(standard=self.standard, owner=self.owner, reason=self.reason, expires=self.expires,
                      item=self.item, jql=self.jql)


def _label_prefix(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if len(value) > 40:
        raise problem(f"label prefix '{value}' is {len(value)} characters long", "keep it to 40 or fewer")
    if not _LABEL_PREFIX.match(value):
        raise problem(f"'{value}' is not a valid label prefix",
                      "use lowercase letters, digits and . _ : - only, no spaces, e.g. pmo-")
    return value


class Writeback(Strict):
    """What ``pmo-jira sync`` may write to Jira."""

    label_prefix: Annotated[str, BeforeValidator(_label_prefix)] = "pmo-"
    """Prefix of every label pmo-jira owns; ending it with '-' or ':' keeps labels readable."""
    comment: StrictBool = True
    """Keep one owned comment per item that summarises its open findings."""
    notify: StrictBool = False
    """Send Jira notifications for the edits (needs no admin right when true)."""
    on_notify_refused: Literal["fail", "notify"] = "fail"
    """When Jira refuses ``notify: false`` (the account lacks the right): stop, or write with notifications."""
    severities: list[SeverityName] = [Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    """Severities written back; lower ones stay in reports only."""
    max_writes: Annotated[WholeNumber, Field(gt=0)] = 1000
    """Blast-radius cap: a plan with more write operations is refused."""
    max_resolved_share: Annotated[StrictFloat, Field(gt=0, le=1)] = 0.5
    """Resolution guard: a site whose plan marks more than this share of its open findings fixed
    at once (with at least 10 open) is not written; 1 switches the guard off."""

    @field_validator("on_notify_refused", mode="before")
    @classmethod
    def _refused(cls, value: Any) -> Any:
        return choice("a valid on_notify_refused value", ("fail", "notify"))(value)


# --- sections plugins add -----------------------------------------------------------------------


class MappingSection(Strict):
    """Base of a top-level mapping section a plugin declares (``pmo_jira_mapping_sections``).

    It is as strict as the built-in sections (unknown keys are errors with a did-you-mean; an
    empty value means the defaults) and its errors get the same ``FILE:LINE: key: problem (fix)``.
    Override ``issues`` for problems that span several keys of the section.
    """

    def issues(self) -> Iterable[ConsistencyIssue]:
        """``(key path inside the section, problem, fix)`` per problem; none by default."""
        return ()

    def reads_fields(self) -> Iterable[str]:
        """Logical fields the plugin's reports read, which the source then fetches on every run
        (as it does the active standards' fields); none by default."""
        return ()


def mapping_sections() -> dict[str, type[BaseModel]]:
    """Section name -> model of every top-level section the installed plugins declare."""
    from pmo_jira.errors import PluginError
    from pmo_jira.plugin_manager import collect

    def is_model(name: str, model: Any) -> None:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise PluginError(f"mapping section '{name}' is not a pydantic model ({model!r})")

    return collect("pmo_jira_mapping_sections", what="mapping section", reserved=CORE_SECTIONS, check=is_model)


def _error_details(err: Any) -> InitErrorDetails:
    """A collected validation error in the form ``ValidationError.from_exception_data`` takes."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    error_type: Any = kind if kind in _KNOWN_ERROR_TYPES else PydanticCustomError(
        kind, "{problem}" if kind == "pmo" else str(err["msg"]), ctx or None)
    details: dict[str, Any] = {"type": error_type, "loc": tuple(err["loc"]), "input": err.get("input")}
    if ctx and kind in _KNOWN_ERROR_TYPES:
        details["ctx"] = ctx
    return details  # type: ignore[return-value]


_KNOWN_ERROR_TYPES = frozenset(typing.get_args(ErrorType))


# --- the mapping --------------------------------------------------------------------------------


def _version(value: Any) -> Any:
    if type(value) is int and value == 1:
        return 1
    raise problem(f"unsupported mapping version {value if isinstance(value, (int, float, str)) else describe(value)}",
                  "this pmo-jira reads version: 1")


class Mapping(Strict):
    """One mapping file. Load it with ``pmo_jira.mapping.load_mapping``."""

    version: Annotated[int, PlainValidator(_version)]
    name: Text
    description: str = ""
    scope: Scope = Scope()
    issue_types: IssueTypes = IssueTypes()
    fields: dict[Text, FieldSpec] = {}
    """Logical field -> Jira field spec; see ``KNOWN_FIELDS`` for the names standards read."""
    phases: Phases = Phases()
    standards: list[StandardConfig] = []
    waivers: list[WaiverConfig] = []
    writeback: Writeback = Writeback()

    _sections: dict[str, BaseModel] = PrivateAttr(default_factory=dict)
    _source_file: str | None = PrivateAttr(None)
    _content_hash: str | None = PrivateAttr(None)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _with_plugin_sections(cls, data: Any, handler: ModelWrapValidatorHandler[Mapping]) -> Mapping:
        """Validate the built-in keys, then each plugin's section with its own model; every
        error of both is reported, each at its path in the file."""
        if not isinstance(data, dict):
            return handler(data)
        declared = mapping_sections()
        errors: list[Any] = []
        mapping: Mapping | None = None
        try:
            mapping = handler({k: v for k, v in data.items() if k not in declared})
        except ValidationError as exc:
            errors.extend(exc.errors(include_url=False))
        sections: dict[str, BaseModel] = {}
        for name, model in declared.items():
            raw = data.get(name)
            try:
                section = model.model_validate({} if raw is None else raw)
                issues = section.issues() if isinstance(section, MappingSection) else ()
            except ValidationError as exc:
                errors.extend({**e, "loc": (name, *e["loc"])} for e in exc.errors(include_url=False))
                continue
            except Exception as exc:  # the plugin's model has a bug: its name, not "unexpected TypeError"
                from pmo_jira.errors import PluginError
                from pmo_jira.plugin_manager import failure

                raise PluginError(f"mapping section '{name}': the plugin's model {model.__module__}."
                                  f"{model.__qualname__} failed on it: {failure(exc)}") from exc
            for path, text, hint in issues:
                errors.append({"type": "pmo", "loc": (name, *path), "input": raw, "msg": text,
                               "ctx": {"problem": text, "hint": hint}})
            sections[name] = section
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, [_error_details(e) for e in errors])
        assert mapping is not None
        mapping._sections = sections
        return mapping

    @property
    def sections(self) -> dict[str, BaseModel]:
        """Every plugin section by name, validated (defaults filled in when the file has none)."""
        return dict(self._sections)

    def section(self, name: str) -> Any:
        """A plugin's section by name (its model, defaults filled in when the file has none)."""
        try:
            return self._sections[name]
        except KeyError:
            raise KeyError(f"no mapping section {name!r} (is the plugin that declares it installed?)") from None

    def __getattr__(self, name: str) -> Any:
        # ``mapping.portfolio`` reads like the built-in sections do
        sections = (self.__pydantic_private__ or {}).get("_sections") or {}
        if name in sections:
            return sections[name]
        return super().__getattr__(name)  # type: ignore[misc]

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Mapping:
        if (info.context or {}).get("defer_consistency"):
            return self
        issues = consistency_issues(self)
        if issues:
            path, text, hint = issues[0]
            raise problem(f"{format_path(path)}: {text}", hint)
        return self

    @property
    def source_file(self) -> str | None:
        """The file this mapping was loaded from (None when built in code)."""
        return self._source_file

    @property
    def content_hash(self) -> str:
        """First 12 hex digits of the sha256 of the file bytes (of the canonical JSON when built in code)."""
        if self._content_hash is None:
            return hashlib.sha256(self.model_dump_json(by_alias=True).encode()).hexdigest()[:12]
        return self._content_hash

    def line_of(self, *path: str | int) -> int | None:
        """The line of a key or list item in the source file, e.g. ``line_of("fields", "owner")``."""
        return nearest_line(self._lines, path)

    def standard(self, code: str) -> StandardConfig | None:
        """The configuration of a standard by code, or None when the mapping does not enable it."""
        return next((s for s in self.standards if s.code == code), None)

    def field_candidates(self, logical: str) -> list[str | dict[str, str]]:
        """The specs of a logical field in the order to try them (empty when unbound)."""
        spec = self.fields.get(logical)
        if spec is None:
            return []
        return list(spec) if isinstance(spec, list) else [spec]

    def waiver_objects(self) -> list[Waiver]:
        return [w.to_waiver() for w in self.waivers]


CORE_SECTIONS: tuple[str, ...] = tuple(Mapping.model_fields)
"""The top-level keys pmo-jira itself reads; a plugin cannot declare a section with one of these names."""

ConsistencyIssue = tuple[tuple[str | int, ...], str, str]
"""A consistency problem: (key path, problem, fix)."""


def consistency_issues(mapping: Mapping, known_codes: set[str] | frozenset[str] | None = None) -> list[ConsistencyIssue]:
    """Problems that span several keys: references between sections, duplicates, unknown codes."""
    out: list[ConsistencyIssue] = []
    for name in mapping.fields:
        if name not in KNOWN_FIELDS:
            guess = closest(name, KNOWN_FIELDS, cutoff=0.8)
            if guess:
                out.append((("fields", name), f"'{name}' looks like a typo of the logical field '{guess}'",
                            f"did you mean '{guess}'? rename it, standards read '{guess}'"))
    for i, rule in enumerate(mapping.phases.epic):
        field = rule.when.field
        if field is not None and field not in mapping.fields:
            out.append((("phases", "epic", i, "when", "field"), f"'{field}' is not a field of this mapping",
                        choice_hint(field, mapping.fields) if mapping.fields else "bind it under fields: first"))
    kinds: dict[str, str] = {}
    for kind in ("epic", "child", "risk"):
        for i, name in enumerate(getattr(mapping.issue_types, kind)):
            seen = kinds.get(name.casefold())
            if seen is not None:
                out.append((("issue_types", kind, i), f"issue type '{name}' is already listed under {seen}",
                            "an issue type is either an epic, a child or a risk"))
            kinds.setdefault(name.casefold(), kind)
    first: dict[str, int] = {}
    for i, std in enumerate(mapping.standards):
        if std.code in first:
            out.append((("standards", i, "code"), f"duplicate standard '{std.code}'",
                        f"already configured as standards[{first[std.code]}]; merge the two entries"))
        first.setdefault(std.code, i)
        if known_codes is not None and std.code not in known_codes:
            guess = closest(std.code, known_codes, cutoff=0.8)
            out.append((("standards", i, "code"), f"unknown standard '{std.code}'",
                        f"did you mean '{guess}'?" if guess else "see `pmo-jira standards list`"))
    out += _rule_issues(mapping)
    out += _scope_issues(mapping)
    for i, waiver in enumerate(mapping.waivers):
        # An empty standards: list enables every registered standard.
        enabled = list(first) if first else (list(known_codes) if known_codes is not None else None)
        if enabled is not None and waiver.standard not in enabled:
            hint = choice_hint(waiver.standard, enabled) if enabled else "enable the standard under standards: first"
            out.append((("waivers", i, "standard"), f"waiver for '{waiver.standard}', which this mapping does not enable", hint))
    return out


def expired_waivers(mapping: Mapping, today: date) -> list[ConsistencyIssue]:
    """Waivers whose last day is before ``today``: they waive nothing any more."""
    return [(("waivers", i, "expires"), f"the waiver expired on {w.expires.isoformat()}, so it waives nothing",
             "renew it with a later date, or delete it") for i, w in enumerate(mapping.waivers) if w.expires < today]


def waiver_issues(mapping: Mapping, today: date) -> list[ConsistencyIssue]:
    """What ``mappings check`` says about waivers on ``today``: expired ones, and live ones
    waiving the same standard on the same item or JQL twice. (A run reads a renewed waiver next
    to its expired predecessor fine: the live one wins.)"""
    out = expired_waivers(mapping, today)
    first: dict[tuple[str, str], int] = {}
    for i, waiver in enumerate(mapping.waivers):
        if waiver.expires < today:
            continue
        same = (waiver.standard, " ".join((waiver.item or waiver.jql or "").split()).casefold())
        if same in first:
            out.append((("waivers", i), f"duplicate waiver: waivers[{first[same]}] already waives "
                        f"{waiver.standard} on {waiver.item or 'the same JQL'}", "keep one of them"))
        first.setdefault(same, i)
    return out


_CODE_LABEL = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*-[0-9]{3}$")


def own_label(prefix: str, label: str) -> bool:
    """Whether ``label`` is one pmo-jira itself writes under the label prefix (its phase labels,
    the non-compliant label, a standard's code label)."""
    prefix, label = prefix.strip().lower(), label.strip().lower()
    if not prefix or not label.startswith(prefix):
        return False
    rest = label[len(prefix):]
    return rest.startswith("phase-") or rest == "noncompliant" or bool(_CODE_LABEL.match(rest))


def _when_values(when: EpicWhen | ProjectWhen) -> tuple[str, frozenset[str]]:
    """(kind of condition, the values any of which makes it match), for comparing rules."""
    if isinstance(when, EpicWhen):
        if when.label is not None:
            return "label", frozenset(when.labels)
        if when.status is not None:
            return "status", frozenset(s.casefold() for s in when.status)
        if when.status_category is not None:
            return "status_category", frozenset(when.status_category)
        wanted = [when.equals] if when.in_ is None else when.in_
        return f"field {when.field}", frozenset(str(v).casefold() for v in wanted)
    if when.property is not None:
        return f"property {when.property}", frozenset({"*"})
    if when.category is not None:
        return "category", frozenset(c.casefold() for c in when.category)
    if when.projects is not None:
        return "projects", frozenset(when.projects)
    return "epics", frozenset({"*"})


def _rule_issues(mapping: Mapping) -> list[ConsistencyIssue]:
    """Phase rules that can never decide: empty conditions, conditions an earlier rule already
    takes, rules after one that always matches, and rules reading pmo-jira's own labels."""
    out: list[ConsistencyIssue] = []
    prefix = mapping.writeback.label_prefix
    for kind in ("epic", "project"):
        rules: list[Any] = list(getattr(mapping.phases, kind))
        earlier: list[tuple[int, str, frozenset[str]]] = []
        for i, rule in enumerate(rules):
            path: tuple[str | int, ...] = ("phases", kind, i, "when")
            what, values = _when_values(rule.when)
            if not values:
                out.append((path, f"the {what} condition lists nothing, so the rule never matches",
                            "list at least one value, or delete the rule"))
                continue
            if kind == "epic" and what == "label":
                for label in sorted(values):
                    if own_label(prefix, label):
                        out.append((path + ("label",), f"'{label}' is a label pmo-jira writes itself (under "
                                    f"writeback.label_prefix '{prefix}'): the rule would read pmo-jira's last "
                                    "answer as its input", "read a label people set (e.g. 'phase:execution'), "
                                    "a status or a field"))
            covering = next((j for j, w, v in earlier if w == what and values <= v), None)
            if covering is None:
                covering = next((j for j, w, _ in earlier if w == "always"), None)
            if covering is not None:
                out.append((path, f"rule {i + 1} can never match: rule {covering + 1} above already takes "
                            "every item it would", "delete it, or move it above that rule"))
            elif what == "status_category" and values >= set(STATUS_CATEGORY_KEYS):
                earlier.append((i, "always", values))
                continue
            earlier.append((i, what, values))
    return out


def _scope_issues(mapping: Mapping) -> list[ConsistencyIssue]:
    out: list[ConsistencyIssue] = []
    scope = mapping.scope
    for i, key in enumerate(scope.exclude_projects):
        if key in scope.projects:
            out.append((("scope", "exclude_projects", i), f"project {key} is both in scope.projects and excluded",
                        "remove it from one of the two lists"))
    if not mapping.issue_types.epic:
        out.append((("issue_types", "epic"), "no epic issue type: no epic would be checked",
                    "name the site's epic issue type, e.g. [Epic]"))
    if not mapping.writeback.severities:
        out.append((("writeback", "severities"), "no severity is written back, so sync would remove every "
                    "label and comment it wrote", "list the severities to write, e.g. [medium, high, critical]"))
    return out


def nearest_line(lines: dict[tuple[str | int, ...], int], path: tuple[str | int, ...]) -> int | None:
    """The line of ``path``, or of its nearest enclosing key when it is not in the file itself."""
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def format_path(path: Iterable[str | int]) -> str:
    """('phases', 'epic', 3, 'phase') -> 'phases.epic[3].phase'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
