"""A hand-built audit result that exercises every outcome, severity and awkward character."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pmo_jira import __version__
from pmo_jira.findings import AuditResult, Finding, Outcome, Severity, Waiver
from pmo_jira.model import ClassifiedItem

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
BASE = "https://acme.atlassian.net/browse/"
GOLDEN = Path(__file__).parent / "golden"


def finding(code: str, item: str, *, severity: Severity = Severity.HIGH,
            outcome: Outcome = Outcome.FAIL, site: str = "cloud", project: str | None = None,
            kind: str = "epic", phase: str | None = "execution", subject: str = "",
            message: str | None = None, fix: str = "Set it in Jira.", title: str | None = None,
            summary: str = "An epic", waiver: Waiver | None = None, note: str = "") -> Finding:
    return Finding(
        code=code, title=title or f"Title of {code}", severity=severity, outcome=outcome, site=site,
        project_key=project or item.split("-")[0], item_key=item, item_kind=kind,
        item_summary=summary, phase=phase, message=message or f"{code} fails on {item}.", fix=fix,
        subject=subject, url=BASE + item, waiver=waiver, note=note,
    )


def item(key: str, phase: str | None, *, site: str = "cloud", kind: str = "epic",
         summary: str = "An epic") -> ClassifiedItem:
    return ClassifiedItem(site=site, key=key, kind=kind, project_key=key.split("-")[0],
                          summary=summary, phase=phase,
                          rule=f"status -> {phase}" if phase else "unmapped", url=BASE + key)


def result(findings, items, *, started: datetime = STARTED, mapping: str = "sandbox",
           mapping_hash: str = "3f2a9c1d0b7e4a55", sites=("cloud", "dc"), site_errors=None
           ) -> AuditResult:
    return AuditResult(findings=tuple(findings), items=tuple(items), started=started,
                       finished=started + timedelta(seconds=42.5), mapping_name=mapping,
                       mapping_hash=mapping_hash, sites=tuple(sites), issues_read=310, requests=17,
                       site_errors=dict(site_errors or {}))


WAIVER = Waiver(standard="PMO-RSK-001", owner="ann", reason="Risks kept in the | steering deck",
                expires=date(2026, 6, 30), item="DIG-1")


def rich_result() -> AuditResult:
    """Findings of every outcome and severity, an unmapped item, a waiver, hostile text."""
    findings = [
        finding("PMO-GOV-001", "DIG-1", severity=Severity.HIGH, summary="Payroll | migration",
                message="No accountable owner:\nthe epic is unassigned.",
                fix="Assign the epic to its accountable owner."),
        finding("PMO-EXE-002", "DIG-1", severity=Severity.CRITICAL, summary="Payroll | migration",
                message="Target end 2026-01-31 passed 30 days ago.", fix="Move the target end."),
        finding("PMO-RSK-001", "DIG-1", severity=Severity.MEDIUM, outcome=Outcome.WAIVED,
                summary="Payroll | migration", waiver=WAIVER, message="No linked risk."),
        finding("PMO-PLN-002", "DIG-1", severity=Severity.LOW, summary="Payroll | migration",
                subject="DIG-7", message="=HYPERLINK(\"http://evil\") child DIG-7 not estimated",
                fix="Estimate DIG-7."),
        finding("PMO-PLN-001", "DIG-4", severity=Severity.INFO, phase="planning",
                summary="<script>alert(1)</script> & *bold*",
                message="Start date missing \x1b[31m(red)\x1b[0m.", fix="Set the start date."),
        finding("PMO-EXE-001", "OPS-2", severity=Severity.MEDIUM, outcome=Outcome.NOT_APPLICABLE,
                site="dc", summary="Datacentre exit",
                message="The site has no 'updated' field for children."),
        finding("PMO-CLS-001", "OPS-2", severity=Severity.HIGH, outcome=Outcome.ERROR, site="dc",
                summary="Datacentre exit", phase="closing",
                message="Standard crashed: KeyError 'children'.",
                fix="Report this; the check could not run.",
                note="waiver by bob expired 2026-01-31: finding re-opened"),
        finding("PMO-GOV-001", "OPS", severity=Severity.HIGH, site="dc", kind="project",
                summary="Operations", phase="execution", message="Project has no lead."),
    ]
    items = [
        item("DIG-1", "execution", summary="Payroll | migration"),
        item("DIG-4", "planning", summary="<script>alert(1)</script> & *bold*"),
        item("DIG-9", "initiation", summary="Clean epic"),
        item("DIG-11", None, summary="Epic in status 'Parked'"),
        item("OPS-2", "closing", site="dc", summary="Datacentre exit"),
        item("OPS", "execution", site="dc", kind="project", summary="Operations"),
        item("OPS-5", None, site="dc", summary="Unmapped DC epic"),
    ]
    return result(findings, items)


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/<name>; PMO_JIRA_UPDATE_GOLDEN=1 rewrites the file instead.

    The tool version is stored as ``<version>`` so that a release does not churn the files.
    """
    path = GOLDEN / name
    text = text.replace(__version__, "<version>")
    if os.environ.get("PMO_JIRA_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8", newline="")
        return
    if not path.exists():
        pytest.fail(f"{path} missing: run PMO_JIRA_UPDATE_GOLDEN=1 pytest {Path(__file__).parent}")
    assert text == path.read_bytes().decode("utf-8"), (
        f"{name} differs from the golden file; if the change is intended, "
        "refresh with PMO_JIRA_UPDATE_GOLDEN=1 pytest tests/test_reports_*.py")
