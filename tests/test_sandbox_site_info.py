"""What a site says about itself agrees with how it behaves: the Data Center release it claims and
that release's search window, its locale, and the time zone its timestamps are written in."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from pmo_jira.jira.payloads import parse_datetime
from pmo_jira.sandbox.server import SandboxServer

from sandbox_fixtures import api, session_for


def test_cloud_server_info_names_the_default_locale_and_zone():
    with SandboxServer("cloud", issues=20, seed=1, locale="de_DE", time_zone="Europe/Berlin") as sb:
        info = session_for(sb).get(api(sb, "serverInfo")).json()
    assert info["defaultLocale"] == {"locale": "de_DE"} and info["serverTimeZone"] == "Europe/Berlin"
    assert info["serverTime"].endswith(("+0100", "+0200"))


def test_dc_claims_a_release_whose_search_window_it_enforces():
    with SandboxServer("dc", issues=20, seed=1) as sb:
        s = session_for(sb)
        info = s.get(api(sb, "serverInfo")).json()
        assert info["versionNumbers"][:2] == [11, 3] and info["version"].startswith("11.3.")
        # maxResults above jira.search.views.default.max (1000) is lowered, and said so
        page = s.get(api(sb, "search"), params={"jql": "project = DIG", "maxResults": 5000}).json()
        assert page["maxResults"] == 1000
        # the search platform refuses a page reaching past its 10,000-result window (a 500, as on 11.x)
        deep = s.get(api(sb, "search"), params={"jql": "project = DIG", "startAt": 9950, "maxResults": 100})
        assert deep.status_code == 500
        assert deep.json()["errorMessages"] == [
            "Search limit exceeded. We couldn't complete your search because it requests 10,050 results which "
            "exceeded the search platform limit of 10,000. Try refining your query or contact your Jira "
            "administrator. Repeating the same search may not work."]
        assert s.get(api(sb, "search"), params={"jql": "project = DIG", "startAt": 9900,
                                                 "maxResults": 100}).status_code == 200


def test_bad_time_zone_or_locale_is_refused():
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        SandboxServer("dc", issues=5, time_zone="Mars/Olympus")
    with pytest.raises(ValueError, match="unknown locale"):
        SandboxServer("cloud", issues=5, locale="German")


@pytest.mark.parametrize("flavour, zone, offsets", [("dc", "Europe/Berlin", ("+0100", "+0200")),
                                                    ("dc", "America/New_York", ("-0500", "-0400")),
                                                    ("cloud", "Asia/Kolkata", ("+0530",))])
def test_timestamps_carry_the_site_offset_and_name_the_same_instant(flavour, zone, offsets):
    with SandboxServer(flavour, issues=20, seed=2) as utc, SandboxServer(flavour, issues=20, seed=2,
                                                                         time_zone=zone) as local:
        def read(sb):
            path = "search/jql" if flavour == "cloud" else "search"
            body = session_for(sb).get(api(sb, path), params={"jql": "project = DIG ORDER BY key",
                                                              "fields": "created,updated"}).json()
            return [(i["key"], i["fields"]["created"]) for i in body["issues"]]

        pairs = list(zip(read(utc), read(local), strict=True))
    assert pairs
    for (key_a, a), (key_b, b) in pairs:
        assert key_a == key_b and a.endswith("+0000") and b.endswith(offsets)
        assert parse_datetime(a) == parse_datetime(b)


def test_jql_dates_are_read_in_the_site_zone():
    with SandboxServer("dc", issues=40, seed=2, time_zone="America/New_York") as sb:
        rec = next(r for r in sb.store.issues if sb.store.projects[r.project].browsable)
        local = rec.created.astimezone(sb.store.time_zone)
        minute = local.strftime("%Y-%m-%d %H:%M")
        found = session_for(sb).get(api(sb, "search"), params={
            "jql": f'key = {rec.key} AND created >= "{minute}"'}).json()
        assert [i["key"] for i in found["issues"]] == [rec.key]
        later = (local.replace(second=0, microsecond=0)).strftime("%Y-%m-%d %H:%M")
        utc_minute = rec.created.strftime("%Y-%m-%d %H:%M")
        if utc_minute > later:  # the UTC wall clock is ahead of New York's: read as local it is later
            gone = session_for(sb).get(api(sb, "search"), params={
                "jql": f'key = {rec.key} AND created >= "{utc_minute}"'}).json()
            assert gone["issues"] == []


def test_findings_by_date_do_not_depend_on_the_site_zone(pmo):
    """An audit of the same site written in UTC, +0100 and -0500 finds the same things: ages,
    slippage and due dates are computed on instants, not on the offset they were written with."""
    reports = []
    for zone in (None, "Europe/Berlin", "America/New_York"):
        with SandboxServer("dc", issues=150, seed=9, time_zone=zone,
                           now=datetime.fromisoformat("2026-03-02T23:30:00+00:00")) as sb:
            result = pmo.run(["audit", "--format", "json", "--fail-on", "never"], sb=sb,
                             env={"PMO_JIRA_NOW": "2026-03-02T23:30:00+00:00"})
            assert result.exit_code == 0, result.stderr
            report = json.loads(result.stdout)
            reports.append(sorted((f["item"], f["fingerprint"], f["open"]) for f in report["findings"]))
    assert reports[0] and reports[0] == reports[1] == reports[2]
