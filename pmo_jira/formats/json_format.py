"""The machine-readable report: versioned JSON, described by ``schema/audit-result.schema.json``.

Consumers key on ``schema`` and ``version``; a change that is not backward compatible bumps
``version`` (docs/audit-json.md lists what each version holds). Adding optional keys does not.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, ClassVar

from pmo_jira import __version__
from pmo_jira.findings import AuditResult, Finding, Waiver
from pmo_jira.formats.base import duration_seconds, iso, sorted_findings, sorted_items, summarize
from pmo_jira.model import ClassifiedItem

SCHEMA_ID = "pmo-jira/audit-result"
SCHEMA_VERSION = 1


_string = json.encoder.encode_basestring  # the C escaper json.dumps uses with ensure_ascii=False


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return float.__repr__(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    if isinstance(key, str):
        return _string(key)
    if isinstance(key, (bool, int, float)) or key is None:
        return _string(_scalar(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def indented(value: Any, level: int = 0) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)`` for plain data (dicts, lists, tuples,
    strings, numbers, booleans, None) at nesting ``level``, with the C escaper for every string."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = "\n" + "  " * (level + 1)
        return ("{" + inner + ("," + inner).join(f"{_key(k)}: {indented(v, level + 1)}" for k, v in value.items())
                + "\n" + "  " * level + "}")
    if isinstance(value, (list, tuple)):
        return _indented_list(value, level)
    return _scalar(value)


def _indented_list(values: Iterable[Any], level: int) -> str:
    return "".join(_list_pieces(values, level))


def _list_pieces(values: Iterable[Any], level: int) -> Iterator[str]:
    """``indented(list(values), level)`` one element at a time."""
    inner = "\n" + "  " * (level + 1)
    first = True
    for value in values:
        yield ("[" if first else ",") + inner + indented(value, level + 1)
        first = False
    yield "[]" if first else "\n" + "  " * level + "]"


def load_schema() -> dict[str, Any]:
    """The JSON Schema of this format, shipped inside the package."""
    text = resources.files("pmo_jira.formats").joinpath("schema/audit-result.schema.json").read_text(
        encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def result_to_dict(result: AuditResult, *, now: datetime) -> dict[str, Any]:
    """The report as plain data (what ``render`` serialises), for callers that embed it."""
    return {
        **_head(result, now=now),
        "findings": [_finding(f) for f in sorted_findings(result)],
        "items": [_item(i) for i in sorted_items(result)],
    }


def _head(result: AuditResult, *, now: datetime) -> dict[str, Any]:
    """Everything of the report before the findings and items."""
    s = summarize(result)
    return {
        "schema": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        "generated": iso(now),
        "tool": {"name": "pmo-jira", "version": __version__},
        "run": {
            "started": iso(result.started),
            "finished": iso(result.finished),
            "duration_seconds": duration_seconds(result),
            "mapping": {"name": result.mapping_name, "hash": result.mapping_hash},
            "sites": sorted(result.sites),
            "site_errors": dict(sorted(result.site_errors.items())),
            "issues_read": result.issues_read,
            "requests": result.requests,
        },
        "summary": {
            "findings": s.findings,
            "open": s.open,
            "worst": s.worst.value if s.worst else None,
            "by_severity": {sev.value: n for sev, n in s.open_by_severity.items()},
            "by_outcome": {o.value: n for o, n in s.by_outcome.items()},
            "items": s.items,
            "unmapped": s.unmapped,
            "items_by_phase": s.items_by_phase,
        },
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "fingerprint": f.fingerprint,
        "site": f.site,
        "project": f.project_key,
        "item": f.item_key,
        "kind": f.item_kind,
        "item_summary": f.item_summary,
        "phase": f.phase,
        "code": f.code,
        "title": f.title,
        "severity": f.severity.value,
        "outcome": f.outcome.value,
        "open": f.counts,
        "message": f.message,
        "fix": f.fix,
        "subject": f.subject,
        "url": f.url,
        "waiver": _waiver(f.waiver) if f.waiver else None,
        "note": f.note,
    }


def _waiver(w: Waiver) -> dict[str, Any]:
    return {"standard": w.standard, "owner": w.owner, "reason": w.reason,
            "expires": w.expires.isoformat(), "item": w.item, "jql": w.jql}


def _item(i: ClassifiedItem) -> dict[str, Any]:
    return {"site": i.site, "key": i.key, "kind": i.kind, "project": i.project_key,
            "summary": i.summary, "phase": i.phase, "rule": i.rule, "url": i.url}


@dataclass(frozen=True)
class JsonFormat:
    name: ClassVar[str] = "json"
    extension: str = "json"

    def render(self, result: AuditResult, *, now: datetime) -> str:
        """``json.dumps(result_to_dict(...), indent=2, ensure_ascii=False)`` byte for byte."""
        return "".join(self.render_pieces(result, now=now))

    def render_pieces(self, result: AuditResult, *, now: datetime) -> Iterator[str]:
        """``render`` one finding (and item) at a time, for writing out as it is made: the whole
        report as one text, let alone as a tree of dicts, was the peak of a large audit's memory."""
        head = indented(_head(result, now=now))
        yield head[:-2] + ',\n  "findings": '
        yield from _list_pieces((_finding(f) for f in sorted_findings(result)), 1)
        yield ',\n  "items": '
        yield from _list_pieces((_item(i) for i in sorted_items(result)), 1)
        yield "\n}\n"


FORMAT = JsonFormat()
"""The built-in ``json`` format (``pmo_jira.formats`` finds it here)."""
