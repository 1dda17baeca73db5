"""run_audit end to end on hand-built snapshots: isolation of crashes, order, fingerprints, sites."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from pmo_jira.findings import Outcome, Severity
from pmo_jira.model import Flavour, Site
from pmo_jira.run.audit import SitePrep, run_audit
from pmo_jira.standards.base import Check, Standard
from pmo_jira.standards.registry import Registry, builtin_standards

from standards_fixtures import (
    ALL_FIELDS,
    NOW,
    SITE,
    TODAY,
    audit,
    child,
    day,
    epic,
    mapping,
    only,
    project,
    snapshot,
)


class Explodes(Standard):
    """Crash on WEB-2.

    Why: to prove one broken standard cannot take the audit down.

    ```yaml
    standards:
      - code: TEST-ERR-001
    ```
    """

    code = "TEST-ERR-001"
    title = "Explodes"
    default_severity = Severity.LOW

    def evaluate(self, item, ctx, options):
        if item.key == "WEB-2":
            raise KeyError("story_points")
        yield Check.fail("boom-free failure", "do nothing")


def test_a_crashing_standard_becomes_an_error_finding_and_the_run_goes_on():
    registry = Registry([*builtin_standards(), Explodes])
    m = mapping([{"code": "TEST-ERR-001"}, {"code": "PMO-GOV-001"}])
    issues = [epic("WEB-1"), epic("WEB-2", owner=None), epic("WEB-3")]
    result = run_audit([snapshot(issues)], m, today=TODAY, now=NOW, registry=registry)
    got = [(f.item_key, f.code, f.outcome) for f in result.findings]
    assert got == [("WEB-1", "TEST-ERR-001", Outcome.FAIL),
                   ("WEB-2", "PMO-GOV-001", Outcome.FAIL),
                   ("WEB-2", "TEST-ERR-001", Outcome.ERROR),
                   ("WEB-3", "TEST-ERR-001", Outcome.FAIL)]
    error = result.findings[2]
    assert error.message == "standard crashed: KeyError: 'story_points'"
    assert error.counts and error.fix


def test_unmapped_items_are_listed_but_get_no_checks():
    stray = replace(epic("WEB-1", owner=None), fields={"owner": None})  # no phase field, no status rule
    result = audit([stray, epic("WEB-2", owner=None)], only("PMO-GOV-001"))
    assert [f.item_key for f in result.findings] == ["WEB-2"]
    assert [i.key for i in result.unmapped] == ["WEB-1"]
    assert {i.key for i in result.items} == {"WEB-1", "WEB-2", "WEB"}


def test_findings_carry_item_context():
    (f,) = audit([epic("WEB-1", owner=None)], only("PMO-GOV-001")).findings
    assert (f.site, f.project_key, f.item_key, f.item_kind, f.item_summary, f.phase, f.url) == (
        "acme", "WEB", "WEB-1", "epic", "Epic WEB-1", "execution", "https://acme.example.net/browse/WEB-1")
    assert f.title == "Accountable owner set"


def test_order_is_deterministic_and_natural_whatever_the_input_order():
    other = Site("beta", "https://beta.example.net", Flavour.DC)
    issues = [epic(k, owner=None, target_end=None) for k in ("WEB-10", "WEB-9", "APP-2", "WEB-100")]
    m = mapping([{"code": "PMO-GOV-001"}, {"code": "PMO-PLN-001"}])
    shuffled = issues[:]
    random.Random(4).shuffle(shuffled)
    a = run_audit([snapshot(issues, site=other), snapshot(issues)], m, today=TODAY, now=NOW)
    b = run_audit([snapshot(shuffled), snapshot(shuffled, site=other)], m, today=TODAY, now=NOW)
    assert a.findings == b.findings
    keys = [(f.site, f.item_key, f.code) for f in a.findings if f.site == "acme"]
    assert keys == [("acme", "APP-2", "PMO-GOV-001"), ("acme", "APP-2", "PMO-PLN-001"),
                    ("acme", "WEB-9", "PMO-GOV-001"), ("acme", "WEB-9", "PMO-PLN-001"),
                    ("acme", "WEB-10", "PMO-GOV-001"), ("acme", "WEB-10", "PMO-PLN-001"),
                    ("acme", "WEB-100", "PMO-GOV-001"), ("acme", "WEB-100", "PMO-PLN-001")]
    assert a.sites == ("beta", "acme") and a.issues_read == 8


def test_fingerprint_survives_changing_figures_but_differs_per_subject():
    issues = [epic(target_end=day(-3)), child("WEB-2", "WEB-1", due=day(5)), child("WEB-3", "WEB-1", due=day(9))]
    m = mapping([{"code": "PMO-EXE-002"}, {"code": "PMO-PLN-003"}])
    first = run_audit([snapshot(issues)], m, today=TODAY, now=NOW).findings
    later = run_audit([snapshot(issues)], m, today=TODAY + timedelta(days=4), now=NOW + timedelta(days=4)).findings
    overdue_now, overdue_later = (next(f for f in fs if f.code == "PMO-EXE-002") for fs in (first, later))
    assert overdue_now.message != overdue_later.message
    assert overdue_now.fingerprint == overdue_later.fingerprint
    children = [f for f in first if f.code == "PMO-PLN-003"]
    assert [f.subject for f in children] == ["WEB-2", "WEB-3"]
    assert children[0].fingerprint != children[1].fingerprint


def test_not_applicable_is_per_site():
    other = Site("beta", "https://beta.example.net", Flavour.DC)
    m = only("PMO-PLN-002")
    snaps = [snapshot([epic()], fields=ALL_FIELDS - {"story_points"}, site=other), snapshot([epic()])]
    (f,) = run_audit(snaps, m, today=TODAY, now=NOW).findings
    assert f.site == "beta" and f.outcome is Outcome.NOT_APPLICABLE and "on site beta" in f.message


def test_project_level_findings():
    result = audit([epic("WEB-1"), epic("OPS-1")], only("PMO-GOV-002"),
                   projects=[project("WEB"), project("OPS", lead=None)])
    (f,) = result.findings
    assert (f.item_key, f.item_kind, f.project_key, f.phase) == ("OPS", "project", "OPS", "execution")


def test_result_metadata():
    m = only("PMO-GOV-001")
    result = audit([epic()], m)
    assert (result.mapping_name, result.mapping_hash, result.started, result.sites) == (
        "test", m.content_hash, NOW, (SITE.name,))
    assert result.findings == () and result.worst() is None


def test_issues_prepared_as_they_were_read_give_the_same_audit_and_others_are_ignored():
    m = mapping()
    snap = snapshot([epic("WEB-1", "Execution"), child("WEB-2", "WEB-1", points=None), epic("WEB-3", "Planning"),
                     child("WEB-4", "WEB-3"), epic("WEB-5", "Closing", status="Done")])
    plain = run_audit([snap], m, today=TODAY, now=NOW)
    assert plain.findings and any(i.kind == "epic" for i in plain.items)
    read = SitePrep(m)
    read.add(snap.issues[:2])
    read.add(snap.issues[2:])
    prepared = {SITE.name: read}
    assert run_audit([snap], m, today=TODAY, now=NOW, prepared=prepared) == plain
    assert prepared == {}  # taken: its indexes go with the site's context
    short = SitePrep(m)  # of issues short of an epic
    short.add(snap.issues[:4])
    assert run_audit([snap], m, today=TODAY, now=NOW, prepared={SITE.name: short}) == plain
    assert run_audit([snap], mapping(), today=TODAY, now=NOW, prepared={SITE.name: read}) == plain  # another mapping


def test_the_audit_leaves_the_garbage_collector_as_it_was():
    import gc

    snap = snapshot([epic("WEB-1", "Execution")])
    assert gc.isenabled()
    run_audit([snap], mapping(), today=TODAY, now=NOW)
    assert gc.isenabled()
    gc.disable()
    try:
        run_audit([snap], mapping(), today=TODAY, now=NOW)
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()
