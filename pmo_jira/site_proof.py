"""Prove a mapping against a live site before the first run depends on it.

A mapping can be valid YAML and still fail on a site: Jira refuses a whole search that names an
issue type the site lacks, a project outside the account's reach selects nothing, a status or a
select option spelled differently makes a phase rule never match, and a field the site lacks
turns the standards that read it into "not applicable" on every item. This asks the site:

* errors (a run fails or reads the wrong thing): fields, issue types, projects and categories
  in scope that the site lacks, categories named by project phase rules, and JQL (scope,
  waivers) the site refuses;
* warnings (a rule that can never match here): statuses and select options named by phase rules
  and by standards' options, projects named by project phase rules;
* the standards that will be "not applicable" on this site, and why.

Names not found come with the site's nearest names. Users only appear in a mapping's JQL,
where the site's own validation names an unknown one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmo_jira.errors import ConfigError
from pmo_jira.jira.source import SYSTEM_FIELDS
from pmo_jira.mapping.fields import FieldReport, field_report
from pmo_jira.mapping.schema import Mapping, format_path
from pmo_jira.standards.registry import ActiveStandard
from pmo_jira.suggest import did_you_mean

RISK_STANDARDS = "PMO-RSK-"
"""Standards judging an epic's risks: nothing to judge where the mapping has no risk issue type."""


@dataclass
class SiteProof:
    """What one site says about one mapping."""

    url: str
    errors: list[ConfigError] = field(default_factory=list)
    warnings: list[ConfigError] = field(default_factory=list)
    not_applicable: list[tuple[str, str]] = field(default_factory=list)  # (standard code, why)
    fields: FieldReport = field(default_factory=FieldReport)
    issue_types: int = 0
    queries: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def nearest(name: str, choices: Sequence[str], kind: str) -> str:
    """``did you mean 'X'?`` or the site's names (the first few) when none is close."""
    guess = did_you_mean(name, choices)
    if guess:
        return guess
    shown = ", ".join(f"'{c}'" for c in list(choices)[:12]) + (" ..." if len(choices) > 12 else "")
    return f"the site's {kind}: {shown}" if choices else f"the site has no {kind}"


_SINGULAR = {"issue types": "issue type", "projects": "project", "categories": "category", "statuses": "status"}


class _Prover:
    def __init__(self, mapping: Mapping, client: Any, proof: SiteProof):
        self.mapping, self.client, self.proof = mapping, client, proof

    def problem(self, path: tuple[str | int, ...], message: str, hint: str, *, error: bool) -> None:
        item = ConfigError(message, file=self.mapping.source_file, line=self.mapping.line_of(*path),
                           key=format_path(path), hint=hint)
        (self.proof.errors if error else self.proof.warnings).append(item)

    def check_names(self, named: Iterable[tuple[tuple[str | int, ...], str]], have: Sequence[str], kind: str,
                    *, error: bool) -> None:
        known = {h.casefold() for h in have}
        for path, name in named:
            if str(name).casefold() not in known:
                self.problem(path, f"{_SINGULAR.get(kind, kind)} '{name}' does not exist on {self.client.base_url}",
                             nearest(str(name), have, kind), error=error)

    def issue_types(self) -> None:
        have = [str(t.get("name")) for t in self.client.issue_types()]
        self.proof.issue_types = len(have)
        types = self.mapping.issue_types
        named = [(("issue_types", kind, i), name) for kind in ("epic", "child", "risk")
                 for i, name in enumerate(getattr(types, kind))]
        self.check_names(named, have, "issue types", error=True)

    def projects(self) -> None:
        visible = list(self.client.projects())
        keys = [str(p.get("key")) for p in visible]
        categories = sorted({str((p.get("projectCategory") or {}).get("name")) for p in visible
                             if p.get("projectCategory")})
        scope = self.mapping.scope
        self.check_names([(("scope", "projects", i), k) for i, k in enumerate(scope.projects)], keys,
                         "projects", error=True)
        self.check_names([(("scope", "categories", i), c) for i, c in enumerate(scope.categories)], categories,
                         "categories", error=True)
        self.check_names([(("scope", "exclude_projects", i), k) for i, k in enumerate(scope.exclude_projects)],
                         keys, "projects", error=False)
        for i, rule in enumerate(self.mapping.phases.project):
            when = rule.when
            self.check_names([(("phases", "project", i, "when", "projects"), k)
                              for k in (getattr(when, "projects", None) or {})], keys, "projects", error=False)
            self.check_names([(("phases", "project", i, "when", "category"), c)
                              for c in (getattr(when, "category", None) or {})], categories, "categories",
                             error=True)  # a rule on a category no project has classifies nothing

    def statuses(self) -> None:
        have = [str(s.get("name")) for s in self.client.statuses()]
        named = [(("phases", "epic", i, "when", "status"), s) for i, rule in enumerate(self.mapping.phases.epic)
                 for s in (rule.when.status or ())]
        for i, entry in enumerate(self.mapping.standards):
            for option, value in (entry.options or {}).items():
                if option.endswith("statuses") and isinstance(value, list):
                    named += [(("standards", i, "options", option), s) for s in value]
        self.check_names(named, have, "statuses", error=False)

    def queries(self) -> None:
        """Scope and waiver JQL must run; phase rules' option values must exist (asked as JQL too)."""
        asked: dict[str, tuple[tuple[str | int, ...], bool]] = {}
        if self.mapping.scope.jql.strip():
            asked[self.mapping.scope.jql.strip()] = (("scope", "jql"), True)
        for i, waiver in enumerate(self.mapping.waivers):
            if waiver.jql:
                asked.setdefault(waiver.jql, (("waivers", i, "jql"), True))
        for i, rule in enumerate(self.mapping.phases.epic):
            found = self.proof.fields.resolved.get(rule.when.field or "")
            schema = (found or {}).get("schema") or {}
            if found is None or "option" not in (schema.get("type"), schema.get("items")):
                continue
            values = rule.when.in_ if rule.when.in_ is not None else [rule.when.equals]
            number = str(found["id"]).rsplit("_", 1)[-1]
            jql = f"cf[{number}] in ({', '.join(_quote(v) for v in values)})"
            asked.setdefault(jql, (("phases", "epic", i, "when", "in" if rule.when.in_ is not None else "equals"),
                                   False))
        self.proof.queries = len(asked)
        for jql, problems in self.client.jql_errors(list(asked)).items():
            path, error = asked[jql]
            for message in problems:
                self.problem(path, f"{self.client.base_url} refuses this: {message}",
                             "fix the JQL or the value so the site accepts it", error=error)

    def not_applicable(self, active: Sequence[ActiveStandard]) -> None:
        have = set(self.proof.fields.resolved)
        site_types = {e.key for e in self.proof.errors if e.key and e.key.startswith("issue_types.risk")}
        risk_types = len(self.mapping.issue_types.risk) - len(site_types)
        for a in active:
            code = a.standard.code
            missing = [f for f in a.standard.needs_fields
                       if f not in have and not (f in SYSTEM_FIELDS and f not in self.mapping.fields)]
            if code.startswith(RISK_STANDARDS) and risk_types <= 0:
                self.proof.not_applicable.append((code, "the mapping names no risk issue type the site has"))
            elif missing:
                self.proof.not_applicable.append(
                    (code, f"no field on the site for {', '.join(repr(m) for m in missing)}"))


def _quote(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def prove_mapping(mapping: Mapping, client: Any, active: Sequence[ActiveStandard]) -> SiteProof:
    """Ask the site behind ``client`` (a :class:`pmo_jira.jira.client.JiraClient`) about ``mapping``;
    ``active`` is the mapping's configured standards (``standards.registry.configure``)."""
    proof = SiteProof(client.base_url)
    proof.fields = field_report(mapping, client.fields(), client.resolve_field)
    proof.errors.extend(proof.fields.errors)
    prover = _Prover(mapping, client, proof)
    prover.issue_types()
    prover.projects()
    prover.statuses()
    prover.queries()
    prover.not_applicable(active)
    return proof


def check_bound_fields(mapping: Mapping, client: Any) -> None:
    """Every field the mapping binds exists on the site, or the site's run stops (ConfigError).

    A field an admin renamed or deleted would turn every check reading it into "not applicable",
    and the next sync would tell the epics their findings are fixed and remove their labels. The
    error names the field, its mapping line and the site's nearest field name. No request: the
    run has read ``/field`` already.
    """
    problems = [ConfigError(error.message.replace("no field on the site matches", f"{client.base_url} has no field", 1)
                            + " (renamed or deleted?); the run stops so that the checks reading it cannot pass "
                            "by default", file=error.file, line=error.line, key=error.key, hint=error.hint)
                for error in field_report(mapping, client.fields(), client.resolve_field).errors]
    _raise_first(problems)


def check_site_jql(mapping: Mapping, client: Any) -> None:
    """The site accepts the mapping's JQL (scope, waivers), or the site's run stops (ConfigError).

    One ``/jql/parse`` on Cloud, a zero-result search per query on Data Center; nothing when the
    mapping has no JQL.
    """
    asked: dict[str, tuple[str | int, ...]] = {}
    if mapping.scope.jql.strip():
        asked[mapping.scope.jql.strip()] = ("scope", "jql")
    for i, waiver in enumerate(mapping.waivers):
        if waiver.jql:
            asked.setdefault(waiver.jql, ("waivers", i, "jql"))
    problems = [ConfigError(f"{client.base_url} refuses this JQL: {'; '.join(messages)}", file=mapping.source_file,
                            line=mapping.line_of(*asked[jql]), key=format_path(asked[jql]),
                            hint="fix the JQL so the site accepts it")
                for jql, messages in client.jql_errors(list(asked)).items() if messages]
    _raise_first(problems)


def _raise_first(problems: Sequence[ConfigError]) -> None:
    """The first problem as the site's one error line, saying how many more there are."""
    if problems:
        first = problems[0]
        more = f"; {len(problems) - 1} more: `pmo-jira mappings check --site` lists them all" if len(problems) > 1 else ""
        raise ConfigError(first.message, file=first.file, line=first.line, key=first.key, hint=f"{first.hint}{more}")
