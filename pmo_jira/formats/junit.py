"""JUnit XML, so CI servers show the audit like a test run and fail the build on findings.

Layout (valid against the common Jenkins ``junit-10.xsd``):
- one ``testsuite`` per standard code, one ``testcase`` per finding: ``failure`` for FAIL,
  ``error`` for ERROR (the standard could not be evaluated: CI tools keep the two apart),
  ``skipped`` for WAIVED and NOT_APPLICABLE;
- a first suite, ``pmo-jira``, carrying the run's properties and one passing testcase per
  classified item with no findings, so a clean run still reports what it checked.
``classname`` is ``<site>.<project>``, which CI tools show as package and class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING, ClassVar

from pmo_jira import __version__
from pmo_jira.findings import AuditResult, Finding, Outcome
from pmo_jira.formats.base import (
    duration_seconds,
    iso,
    items_without_findings,
    one_line,
    sorted_findings,
)

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

# Characters XML 1.0 cannot carry at all, even escaped; Jira text may contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def _testcase_name(key: str, summary: str, subject: str = "") -> str:
    name = f"{key} {one_line(summary)}".strip()
    return f"{name} [{one_line(subject)}]" if subject else name


@dataclass(frozen=True)
class JunitFormat:
    name: ClassVar[str] = "junit"
    extension: str = "xml"

    def render(self, result: AuditResult, *, now: datetime) -> str:
        import xml.etree.ElementTree as ET  # loaded by the runs that write JUnit only

        suites: list[ET.Element] = [self._items_suite(result, now)]
        findings = sorted(sorted_findings(result), key=lambda f: f.code)  # stable: keeps item order
        for code, group in groupby(findings, key=lambda f: f.code):
            suites.append(self._code_suite(code, list(group), result))
        root = ET.Element("testsuites", {
            "name": _clean(f"pmo-jira audit: {result.mapping_name}"),
            "tests": str(sum(int(s.get("tests", "0")) for s in suites)),
            "failures": str(sum(int(s.get("failures", "0")) for s in suites)),
            "errors": str(sum(int(s.get("errors", "0")) for s in suites)),
            "time": f"{duration_seconds(result):.3f}",
        })
        root.extend(suites)
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    def _items_suite(self, result: AuditResult, now: datetime) -> ET.Element:
        import xml.etree.ElementTree as ET

        clean = items_without_findings(result)
        suite = _suite("pmo-jira", result, tests=len(clean))
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("pmo-jira.version", __version__),
            ("mapping.name", result.mapping_name),
            ("mapping.hash", result.mapping_hash),
            ("sites", ",".join(sorted(result.sites))),
            ("generated", iso(now)),
            *((f"site_error.{site}", one_line(msg)) for site, msg in sorted(result.site_errors.items())),
        ):
            ET.SubElement(props, "property", {"name": _clean(name), "value": _clean(value)})
        for item in clean:
            ET.SubElement(suite, "testcase", {
                "name": _clean(_testcase_name(item.key, item.summary)),
                "classname": _clean(f"{item.site}.{item.project_key}"),
                "time": "0",
            })
        return suite

    def _code_suite(self, code: str, findings: list[Finding], result: AuditResult) -> ET.Element:
        failures = sum(f.outcome is Outcome.FAIL for f in findings)
        errors = sum(f.outcome is Outcome.ERROR for f in findings)
        import xml.etree.ElementTree as ET

        skipped = len(findings) - failures - errors
        suite = _suite(f"{code} {one_line(findings[0].title)}", result, tests=len(findings),
                       failures=failures, errors=errors, skipped=skipped)
        for f in findings:
            case = ET.SubElement(suite, "testcase", {
                "name": _clean(_testcase_name(f.item_key, f.item_summary, f.subject)),
                "classname": _clean(f"{f.site}.{f.project_key}"),
                "time": "0",
            })
            if f.outcome in (Outcome.FAIL, Outcome.ERROR):
                tag = "failure" if f.outcome is Outcome.FAIL else "error"
                el = ET.SubElement(case, tag, {"message": _clean(one_line(f.message)),
                                               "type": f.severity.value})
                el.text = _clean(_details(f))
            else:
                ET.SubElement(case, "skipped", {"message": _clean(_skip_message(f))})
        return suite


def _suite(name: str, result: AuditResult, *, tests: int, failures: int = 0, errors: int = 0,
           skipped: int = 0) -> ET.Element:
    import xml.etree.ElementTree as ET

    return ET.Element("testsuite", {
        "name": _clean(name), "tests": str(tests), "failures": str(failures),
        "errors": str(errors), "skipped": str(skipped), "time": "0",
        "timestamp": iso(result.started), "package": "pmo-jira",
    })


def _details(f: Finding) -> str:
    lines = [f"{f.code} {f.title} ({f.severity.value}, phase {f.phase or 'unmapped'})", f.message]
    if f.fix:
        lines.append(f"Fix: {f.fix}")
    if f.url:
        lines.append(f.url)
    if f.note:
        lines.append(f"Note: {f.note}")
    return "\n".join(lines)


def _skip_message(f: Finding) -> str:
    if f.outcome is Outcome.WAIVED and f.waiver is not None:
        w = f.waiver
        return one_line(f"waived by {w.owner} until {w.expires.isoformat()}: {w.reason}")
    return one_line(f"{f.outcome.value.replace('_', ' ')}: {f.message}")


FORMAT = JunitFormat()
"""The built-in ``junit`` format (``pmo_jira.formats`` finds it here)."""
