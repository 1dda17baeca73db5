"""RAID: risks scored on a probability x impact matrix and reviewed, issues owned and dated,
dependencies on other projects healthy, assumptions and decisions logged."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import date

from pydantic import Field, field_validator

from pmo_jira.findings import Severity
from pmo_jira.model import Issue, ReadPlan, User
from pmo_jira.standards.base import Check, Standard, StandardOptions
from pmo_jira.standards.builtin.risk import risk_owner
from pmo_jira.standards.context import AuditContext, issues_by_key
from pmo_jira.wording import counted

DEFAULT_PROBABILITY = {"Rare": 1, "Low": 1, "Unlikely": 2, "Medium": 2, "Possible": 3, "High": 3,
                       "Likely": 4, "Critical": 4, "Almost certain": 5}
DEFAULT_IMPACT = {"Negligible": 1, "Low": 1, "Minor": 2, "Medium": 2, "Moderate": 3, "High": 3,
                  "Major": 4, "Critical": 4, "Severe": 5}


class RiskMatrixOptions(StandardOptions):
    """The probability x impact matrix: a score per value of each mapped field, and the high band."""

    probability: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_PROBABILITY),
                                        description="risk_likelihood value -> score")
    impact: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_IMPACT), description="risk_impact value -> score")
    high_score: int = Field(default=9, ge=1, description="probability x impact from which a risk is high")

    @field_validator("probability", "impact")
    @classmethod
    def _scores(cls, value: dict[str, int]) -> dict[str, int]:
        if not value:
            raise ValueError("give at least one value -> score")
        bad = [k for k, v in value.items() if v < 1]
        if bad:
            raise ValueError(f"scores must be 1 or more ('{bad[0]}')")
        return value


@dataclasses.dataclass(frozen=True)
class Score:
    probability: int | None
    impact: int | None

    @property
    def value(self) -> int | None:
        return None if self.probability is None or self.impact is None else self.probability * self.impact


def _lookup(table: dict[str, int], value: object) -> int | None:
    if not isinstance(value, str):
        return None
    return _folded(table).get(value.strip().casefold())


_FOLDED: dict[int, tuple[dict[str, int], dict[str, int]]] = {}  # id(matrix) -> (matrix, folded)
_FOLDED_MAX = 64


def _folded(table: dict[str, int]) -> dict[str, int]:
    """The matrix's value -> score, by the value's case-folded name (the first of equal names wins):
    folded once per matrix (an option of a configured standard), not once per risk looked up."""
    found = _FOLDED.get(id(table))
    if found is None or found[0] is not table:
        if len(_FOLDED) >= _FOLDED_MAX:
            _FOLDED.clear()
        out: dict[str, int] = {}
        for name, score in table.items():
            out.setdefault(name.casefold(), score)
        found = _FOLDED[id(table)] = (table, out)
    return found[1]


def risk_score(risk: Issue, options: RiskMatrixOptions) -> Score:
    """The risk's probability and impact scores from the matrix (None where unset or unknown)."""
    return Score(_lookup(options.probability, risk.fields.get("risk_likelihood")),
                 _lookup(options.impact, risk.fields.get("risk_impact")))


def _no_risk_type(ctx: AuditContext) -> Check | None:
    return None if ctx.risk_types else Check.not_applicable(
        "the mapping names no risk issue type (set issue_types.risk)")


class RisksScored(Standard):
    """Open risks are scored: probability x impact, both values on the mapping's matrix.

    Why: a risk register ranks risks by exposure (probability x impact, PMBOK's probability and
    impact matrix); a risk without a likelihood, or with a value the matrix does not know, cannot
    be ranked, so it drops out of the heat map and of the high-risk reviews. The matrix (a score
    per value of each field, and the score from which a risk is high) is an option, so a 3x3,
    4x4 or 5x5 scale all work.

    Example:

    ```yaml
    standards:
      - code: PMO-RSK-003
        options:
          probability: {Low: 1, Medium: 2, High: 3}
          impact: {Low: 1, Medium: 2, High: 3, Critical: 4}
          high_score: 6
    ```
    """

    code = "PMO-RSK-003"
    title = "Risks scored on the matrix"
    default_severity = Severity.MEDIUM
    default_phases = ("planning", "execution")
    needs_fields = ("risk_impact", "risk_likelihood")
    Options = RiskMatrixOptions

    def evaluate(self, item: Issue, ctx: AuditContext, options: RiskMatrixOptions) -> Iterable[Check]:
        na = _no_risk_type(ctx)
        if na:
            yield na
            return
        flagged = False
        for risk in ctx.risks(item.key):
            if risk.is_done:
                continue
            score = risk_score(risk, options)
            gaps = []
            for name, part, value in (("likelihood", score.probability, risk.fields.get("risk_likelihood")),
                                      ("impact", score.impact, risk.fields.get("risk_impact"))):
                if part is None:
                    gaps.append(f"no {name}" if value in (None, "") else f"{name} '{value}' not on the matrix")
            if gaps:
                flagged = True
                yield Check.fail(
                    f"risk {risk.key} cannot be scored: {' and '.join(gaps)}",
                    f"On {risk.key}, set {ctx.field_label('risk_likelihood')} and {ctx.field_label('risk_impact')} "
                    f"to values of the matrix (likelihood: {', '.join(options.probability)}; "
                    f"impact: {', '.join(options.impact)}).",
                    subject=risk.key,
                )
        if not flagged:
            yield Check.passed()


class HighRisksReviewed(Standard):
    """Open high risks (by matrix score) were reviewed within the last N days.

    Why: a risk register is only an agenda while it moves; a high risk untouched for two months
    has either been managed silently or forgotten, and exposure changes as the work does. Any
    update by people counts as a review (a comment, a field change); pmo-jira's own write-back
    does not. The matrix options are those of PMO-RSK-003.

    Example:

    ```yaml
    standards:
      - code: PMO-RSK-004
        options: {max_days: 30, high_score: 9}
    ```
    """

    code = "PMO-RSK-004"
    title = "High risks reviewed"
    default_severity = Severity.HIGH
    default_phases = ("planning", "execution")
    needs_fields = ("risk_impact", "risk_likelihood")

    class Options(RiskMatrixOptions):
        max_days: int = Field(default=30, ge=1, description="days an open high risk may go without review")

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        na = _no_risk_type(ctx)
        if na:
            yield na
            return
        flagged = False
        for risk in ctx.risks(item.key):
            score = risk_score(risk, options).value
            if risk.is_done or score is None or score < options.high_score:
                continue
            reviewed = ctx.people_updated(risk)
            age = (ctx.now - reviewed).days
            if age <= options.max_days:
                continue
            flagged = True
            owner = risk_owner(ctx, risk)
            by = owner.display_name if owner else "its owner"
            yield Check.fail(
                f"high risk {risk.key} (score {score}) not reviewed for {counted(age, 'day')} "
                f"(last {reviewed.date().isoformat()}, limit {options.max_days})",
                f"Have {by} review {risk.key}: update its likelihood, impact and mitigation, or close it "
                f"if it passed.",
                subject=risk.key,
            )
        if not flagged:
            yield Check.passed()


def _records(ctx: AuditContext, epic: Issue, types: list[str], label: str | None) -> list[Issue]:
    """RAID records of the epic: linked issues of ``types`` and its children carrying ``label``."""
    found = {other.key: other for _, other in ctx.linked(epic, types)} if types else {}
    if label:
        for child in ctx.children(epic.key):
            if label in child.labels:
                found.setdefault(child.key, child)
    return sorted(found.values(), key=lambda i: i.key)


def _has_records(ctx: AuditContext, epic: Issue, types: list[str], label: str | None) -> bool:
    """Whether the epic has any RAID record of ``types`` or ``label`` (``_records``, not listed)."""
    if types and ctx.linked(epic, types):
        return True
    return bool(label) and any(label in child.labels for child in ctx.children(epic.key))


def _owner(issue: Issue) -> User | None:
    owner = issue.fields.get("owner")
    owner = owner if isinstance(owner, User) else issue.assignee
    return owner if owner is not None and owner.active else None


class IssueLogKept(Standard):
    """Open RAID issues of an epic have an owner and a due date, and are not overdue.

    Why: an issue (unlike a risk) has already happened; the issue log is only useful when each
    open issue has someone resolving it by a date. Issues are the epic's linked issues of the
    mapping's issue-log types, or its children carrying the issue-log label.

    Example:

    ```yaml
    standards:
      - code: PMO-ISS-001
        options:
          issue_types: [Issue]
          issue_label: raid-issue
    ```
    """

    code = "PMO-ISS-001"
    title = "Issue log owned and dated"
    default_severity = Severity.MEDIUM
    default_phases = ("planning", "execution", "closing")
    optional_fields = ("due", "assignee", "owner")

    class Options(StandardOptions):
        issue_types: list[str] = Field(default_factory=lambda: ["Issue"], description="issue types of the issue log")
        issue_label: str | None = Field(default="raid-issue", description="label marking a child as a logged issue")

    def reads(self, options: Options) -> ReadPlan:
        return dataclasses.replace(super().reads(options), issue_types=tuple(options.issue_types))

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        flagged = False
        for record in _records(ctx, item, options.issue_types, options.issue_label):
            if record.is_done:
                continue
            gaps, fixes = [], []
            if _owner(record) is None:
                gaps.append("has no owner")
                fixes.append("assign it to the person resolving it")
            if record.due is None:
                gaps.append("has no due date")
                fixes.append("set its Due date")
            elif record.due < ctx.today:
                gaps.append(f"is {counted((ctx.today - record.due).days, 'day')} past its due date {record.due.isoformat()}")
                fixes.append("resolve it or agree a new due date")
            if gaps:
                flagged = True
                yield Check.fail(f"logged issue {record.key} {' and '.join(gaps)}",
                                 f"On {record.key}, {' and '.join(fixes)}.", subject=record.key)
        if not flagged:
            yield Check.passed()


def _late(issue: Issue, today: date) -> date | None:
    end = issue.day("target_end") or issue.due
    return end if end is not None and end < today and not issue.is_done else None


@dataclasses.dataclass(frozen=True)
class Blocker:
    """Work an epic waits for: on its own site (an issue link) or on another site of the run."""

    issue: Issue
    site: str  # the blocker's site
    cross_site: bool


_REF_SPLIT = re.compile(r"[\s,;]+")
_BROWSE = re.compile(r"^(https?://.+?)/browse/([A-Z][A-Z0-9_]*-\d+)/?(?:[?#].*)?$", re.IGNORECASE)
_SITE_KEY = re.compile(r"^([^:/\s]+):([A-Z][A-Z0-9_]*-\d+)$", re.IGNORECASE)


def _sites(ctx: AuditContext) -> tuple[dict[str, dict[str, Issue]], dict[str, str]]:
    """Every site of the run: name -> key -> issue, and base URL (casefolded) -> name; built once per run."""
    memo = ctx.shared.get(_sites)
    if memo is None:
        issues = {s.site.name: issues_by_key(s, ctx.shared) for s in ctx.run_snapshots}
        urls = {s.site.url.rstrip("/").casefold(): s.site.name for s in ctx.run_snapshots if s.site.url}
        memo = ctx.shared[_sites] = (issues, urls)
    return memo


def cross_site_refs(value: object) -> list[str]:
    """The references in a ``blocked_by`` field: browse URLs, ``SITE:KEY`` or keys, as text or a list."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [ref for item in items if isinstance(item, str) for ref in _REF_SPLIT.split(item.strip()) if ref]


def resolve_ref(ctx: AuditContext, ref: str) -> tuple[str, str] | None:
    """(site, key) of a reference to an issue on a site of the run; None when no site of the run holds it."""
    issues, urls = _sites(ctx)
    m = _BROWSE.match(ref)
    if m:
        site = urls.get(m.group(1).rstrip("/").casefold())
        return (site, m.group(2).upper()) if site else None
    m = _SITE_KEY.match(ref)
    if m:
        site = next((name for name in issues if name.casefold() == m.group(1).casefold()), None)
        return (site, m.group(2).upper()) if site else None
    if re.fullmatch(r"[A-Z][A-Z0-9_]*-\d+", ref, re.IGNORECASE):
        return ctx.site, ref.upper()
    return None


def blockers(ctx: AuditContext, epic: Issue, link_types: list[str], cross_site_field: str | None) -> list[Blocker]:
    """Open work blocking ``epic``: its "is blocked by" links (of ``link_types``) on its site, and the
    references in its ``cross_site_field`` to issues on any site of the run. Each blocker once."""
    wanted = {t.casefold() for t in link_types}
    found: dict[tuple[str, str], Blocker] = {}
    for link in epic.links:
        if link.type_name.casefold() in wanted and link.direction == "inward":
            other = ctx.issues.get(link.other_key)
            if other is not None:
                found.setdefault((ctx.site, other.key), Blocker(other, ctx.site, False))
    issues, _ = _sites(ctx)
    for ref in cross_site_refs(epic.fields.get(cross_site_field) if cross_site_field else None):
        where = resolve_ref(ctx, ref)
        other = issues.get(where[0], {}).get(where[1]) if where else None
        if where and other is not None:
            found.setdefault(where, Blocker(other, where[0], where[0] != ctx.site))
    return [b for b in found.values() if not b.issue.is_done]


class DependenciesHealthy(Standard):
    """An epic is not blocked by late, unowned or abandoned work in another project or on another site.

    Why: cross-project dependencies are where portfolios slip unseen: each team's plan looks
    fine while the work it waits for is late, has nobody on it, or sits under an epic already in
    closing that will never deliver it. Follows the epic's "is blocked by" links (link types are
    an option) to issues of other projects read in the same run. Work on another Jira site is
    linked with a remote issue link, which Jira returns only one issue at a time; so a site names
    it in a field instead (``cross_site_field``, e.g. ``blocked_by``: the blocker's browse URL, or
    ``SITE:KEY``), read with the search at no extra request, and checked when both sites are in
    the run.

    Example:

    ```yaml
    standards:
      - code: PMO-DEP-001
        options: {link_types: [Blocks], other_projects_only: true, cross_site_field: blocked_by}
    ```
    """

    code = "PMO-DEP-001"
    title = "Dependencies on other projects healthy"
    default_severity = Severity.HIGH
    default_phases = ("planning", "execution")
    optional_fields = ("target_end", "due", "owner", "assignee")

    class Options(StandardOptions):
        link_types: list[str] = Field(default_factory=lambda: ["Blocks"], min_length=1,
                                      description="link type names whose inward side means 'is blocked by'")
        other_projects_only: bool = Field(default=True, description="check only blockers in other projects "
                                                                    "(work on another site always counts)")
        cross_site_field: str | None = Field(default=None, description="logical field listing blockers on other "
                                                                       "sites (browse URLs or SITE:KEY; null: none)")

    def reads(self, options: Options) -> ReadPlan:
        plan = super().reads(options)
        if options.cross_site_field:
            return dataclasses.replace(plan, fields=plan.fields | {options.cross_site_field})
        return plan

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        flagged = False
        for b in blockers(ctx, item, options.link_types, options.cross_site_field):
            blocker = b.issue
            if options.other_projects_only and not b.cross_site and blocker.project_key == item.project_key:
                continue
            problems = dependency_problems(ctx, b)
            if problems:
                flagged = True
                where = f"{blocker.project_key} on {b.site}" if b.cross_site else blocker.project_key
                subject = f"{b.site}:{blocker.key}" if b.cross_site else blocker.key
                yield Check.fail(
                    f"blocked by {blocker.key} ({where}), which {' and '.join(problems)}",
                    f"Agree with {blocker.project_key}'s lead a date and an owner for {blocker.key}, or re-plan "
                    f"{item.key} without it; record the dependency decision on both issues.",
                    subject=subject,
                )
        if not flagged:
            yield Check.passed()


def dependency_problems(ctx: AuditContext, blocker: Blocker | Issue) -> list[str]:
    """Why a blocking issue endangers the work it blocks: late, unowned, under an epic in closing."""
    b = blocker if isinstance(blocker, Blocker) else Blocker(blocker, ctx.site, False)
    issue = b.issue
    out = []
    late = _late(issue, ctx.today)
    if late:
        out.append(f"is {counted((ctx.today - late).days, 'day')} late ({late.isoformat()})")
    if _owner(issue) is None:
        out.append("has no owner")
    site_issues = _sites(ctx)[0].get(b.site, ctx.issues)
    parent = site_issues.get(issue.parent_key) if issue.parent_key else None
    holder = issue if issue.hierarchy_level >= 1 else parent
    if holder is not None and ctx.phase_rules(holder) == "closing":
        out.append(f"is open under {holder.key}, which is closing" if holder is not issue else "is in closing")
    return out


class AssumptionsAndDecisionsLogged(Standard):
    """From the planning gate on, an epic logs its assumptions and its decisions.

    Why: the A and D of RAID: a plan rests on assumptions that must be written down to be
    tested, and decisions taken without a record are re-opened at every meeting. Each is found
    as a linked issue of the mapping's types or a child carrying the label.

    Example:

    ```yaml
    standards:
      - code: PMO-PLN-004
        options:
          assumption_types: [Assumption]
          decision_types: [Decision]
          assumption_label: raid-assumption
          decision_label: raid-decision
    ```
    """

    code = "PMO-PLN-004"
    title = "Assumptions and decisions logged"
    default_severity = Severity.MEDIUM
    default_phases = ("planning", "execution")

    class Options(StandardOptions):
        assumption_types: list[str] = Field(default_factory=lambda: ["Assumption"], description="assumption issue types")
        decision_types: list[str] = Field(default_factory=lambda: ["Decision"], description="decision issue types")
        assumption_label: str | None = Field(default="raid-assumption", description="label marking an assumption")
        decision_label: str | None = Field(default="raid-decision", description="label marking a decision")

    def reads(self, options: Options) -> ReadPlan:
        return dataclasses.replace(super().reads(options),
                                   issue_types=(*options.assumption_types, *options.decision_types))

    def evaluate(self, item: Issue, ctx: AuditContext, options: Options) -> Iterable[Check]:
        missing = []
        for what, types, label in (("assumptions", options.assumption_types, options.assumption_label),
                                   ("decisions", options.decision_types, options.decision_label)):
            if not _has_records(ctx, item, types, label):
                how = " or ".join(filter(None, [f"a linked {types[0]} issue" if types else "",
                                                f"a child labelled '{label}'" if label else ""]))
                missing.append((what, how))
        if not missing:
            yield Check.passed()
            return
        yield Check.fail(
            f"no {' and no '.join(w for w, _ in missing)} logged",
            f"Record the {' and the '.join(w for w, _ in missing)} behind {item.key}'s plan: "
            + "; ".join(f"{w} as {how}" for w, how in missing) + ".",
        )

