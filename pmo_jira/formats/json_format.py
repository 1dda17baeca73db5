"""The machine-readable report: versioned JSON, described by ``schema/audit-result.schema.json``.

Consumers key on ``schema`` and ``version``; a change that is not backward compatible bumps
``version`` (docs/audit-json.md lists what each version holds). Adding optional keys does not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, ClassVar, TypeVar

from pmo_jira import __version__
from pmo_jira.findings import AuditResult, Finding, Outcome, Severity, Waiver
from pmo_jira.formats.base import duration_seconds, iso, sorted_findings, sorted_items, summarize
from pmo_jira.model import ClassifiedItem

T = TypeVar("T")

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
        return "".join(_list_pieces((indented(v, level + 1) for v in value), level))
    return _scalar(value)


def _list_pieces(texts: Iterable[str], level: int) -> Iterator[str]:
    """A list at nesting ``level`` whose elements come as their texts (as ``indented`` gives them
    at ``level + 1``), one element a piece."""
    inner = "\n" + "  " * (level + 1)
    first = True
    for text in texts:
        yield ("[" if first else ",") + inner + text
        first = False
    yield "[]" if first else "\n" + "  " * level + "]"


def _value(value: Any) -> str:
    """A field of a finding or item of any type (a plugin's standard may give a value that is not
    a string), as ``indented`` writes it there."""
    return indented(value, 3)


_ENUMS = {member: _string(member.value) for member in (*Severity, *Outcome)}  # an enum's .value is slow to read


def _finding(f: Finding, j: Callable[[Any], str] = _string) -> str:
    """The finding as ``indented`` writes it in the report's list (a dict at level 2), in one
    f-string: a large audit's report holds tens of thousands, and walking a dict of each took most
    of the time the report took to write. ``j`` writes each field that should be a string."""
    return (f'{{\n      "fingerprint": {j(f.fingerprint)},\n      "site": {j(f.site)},'
            f'\n      "project": {j(f.project_key)},\n      "item": {j(f.item_key)},\n      "kind": {j(f.item_kind)},'
            f'\n      "item_summary": {j(f.item_summary)},\n      "phase": {"null" if f.phase is None else j(f.phase)},'
            f'\n      "code": {j(f.code)},\n      "title": {j(f.title)},'
            f'\n      "severity": {_ENUMS.get(f.severity) or j(f.severity.value)},'
            f'\n      "outcome": {_ENUMS.get(f.outcome) or j(f.outcome.value)},\n      "open": {"true" if f.counts else "false"},'
            f'\n      "message": {j(f.message)},\n      "fix": {j(f.fix)},\n      "subject": {j(f.subject)},'
            f'\n      "url": {j(f.url)},\n      "waiver": {"null" if f.waiver is None else _value(_waiver(f.waiver))},'
            f'\n      "note": {j(f.note)}\n    }}')


def _waiver(w: Waiver) -> dict[str, Any]:
    return {"standard": w.standard, "owner": w.owner, "reason": w.reason,
            "expires": w.expires.isoformat(), "item": w.item, "jql": w.jql}


def _item(i: ClassifiedItem, j: Callable[[Any], str] = _string) -> str:
    """The item as ``indented`` writes it in the report's list, as ``_finding`` a finding."""
    return (f'{{\n      "site": {j(i.site)},\n      "key": {j(i.key)},\n      "kind": {j(i.kind)},'
            f'\n      "project": {j(i.project_key)},\n      "summary": {j(i.summary)},'
            f'\n      "phase": {"null" if i.phase is None else j(i.phase)},\n      "rule": {j(i.rule)},'
            f'\n      "url": {j(i.url)}\n    }}')


def _written(write: Callable[[T, Callable[[Any], str]], str], value: T) -> str:
    """``write(value)`` (``_finding``, ``_item``) with the C string escaper for every field; a
    field that is not a string (a plugin's standard may give one) has it written as json.dumps
    would write it."""
    try:
        return write(value, _string)
    except TypeError:
        return write(value, _value)


def load_schema() -> dict[str, Any]:
    """The JSON Schema of this format, shipped inside the package."""
    text = resources.files("pmo_jira.formats").joinpath("schema/audit-result.schema.json").read_text(
        encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def result_to_dict(result: AuditResult, *, now: datetime) -> dict[str, Any]:
    """The report as plain data (what ``render`` writes, read back: the two cannot differ), for
    callers that embed it."""
    data: dict[str, Any] = json.loads(FORMAT.render(result, now=now))
    return data


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
        yield from _list_pieces((_written(_finding, f) for f in sorted_findings(result)), 1)
        yield ',\n  "items": '
        yield from _list_pieces((_written(_item, i) for i in sorted_items(result)), 1)
        yield "\n}\n"


FORMAT = JsonFormat()
"""The built-in ``json`` format (``pmo_jira.formats`` finds it here)."""
