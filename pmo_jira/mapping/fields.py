"""Check a mapping's field specs against a live site's ``/field`` list.

A field the site lacks makes the standards that need it "not applicable" on every item, which is
easy to miss in a report; ``pmo-jira mappings check`` reports it up front, pointing at the line
of the mapping and at the site field the admin probably meant.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmo_jira.errors import ConfigError
from pmo_jira.mapping.schema import Mapping, format_path
from pmo_jira.suggest import closest

Resolver = Callable[[Any], "dict[str, Any] | None"]


@dataclass(frozen=True)
class FieldReport:
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)  # logical name -> the site's /field entry
    errors: list[ConfigError] = field(default_factory=list)


def _show(spec: str | dict[str, str]) -> str:
    if isinstance(spec, dict):
        (key, value), = spec.items()
        return f"{{{key}: {value}}}"
    return f"'{spec}'"


def _guess(spec: str | dict[str, str], site_fields: Sequence[dict[str, Any]]) -> str | None:
    """The site field closest to a spec that did not resolve."""
    if isinstance(spec, dict) and "schema" in spec:
        # Types share long prefixes ("com.atlassian.jira.plugin..."): compare the part after the
        # app key, strictly, so only real typos get a suggestion.
        types = {str((f.get("schema") or {}).get("custom")): f for f in site_fields
                 if (f.get("schema") or {}).get("custom")}
        tails = {t.rsplit(":", 1)[-1]: t for t in types}
        tail = closest(spec["schema"].rsplit(":", 1)[-1], tails, cutoff=0.9)
        if tail is None:
            return None
        found = tails[tail]
        return f"{{schema: {found}}} ('{types[found].get('name')}')"
    wanted = spec.get("id") or spec.get("name") if isinstance(spec, dict) else spec
    name = closest(str(wanted), (str(f.get("name", "")) for f in site_fields))
    if name is not None:
        return f"'{name}'"
    field_id = closest(str(wanted), (str(f.get("id", "")) for f in site_fields), cutoff=0.8)
    return f"'{field_id}'" if field_id else None


def field_report(mapping: Mapping, site_fields: Sequence[dict[str, Any]], resolve: Resolver) -> FieldReport:
    """Resolve every logical field; one error per field no spec of which the site has.

    ``resolve`` is ``JiraClient.resolve_field`` (or anything with its contract) and
    ``site_fields`` the site's ``/field`` list, used only for the did-you-mean hint.
    """
    report = FieldReport()
    for logical in mapping.fields:
        candidates = mapping.field_candidates(logical)
        found = next((f for f in (resolve(spec) for spec in candidates) if f is not None), None)
        if found is not None:
            report.resolved[logical] = found
            continue
        guesses = [g for g in (_guess(spec, site_fields) for spec in candidates) if g]
        hint = f"did you mean {guesses[0]}?" if guesses else "see the site's fields in Jira administration > Issues > Custom fields"
        shown = " or ".join(_show(spec) for spec in candidates)
        report.errors.append(ConfigError(
            f"no field on the site matches {shown}", file=mapping.source_file,
            line=mapping.line_of("fields", logical), key=format_path(("fields", logical)), hint=hint))
    return report
