"""CSV: one row per finding with stable columns, readable back with the csv module."""

from __future__ import annotations

import csv
import io

from pmo_jira.formats import formats
from pmo_jira.formats.csv_format import COLUMNS

from reports_fixtures import NOW, rich_result


def rows() -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(formats["csv"].render(rich_result(), now=NOW), newline=""))
    return list(reader.fieldnames or []), list(reader)


def test_round_trips_one_row_per_finding_with_the_documented_columns():
    header, data = rows()
    assert tuple(header) == COLUMNS
    r = rich_result()
    assert sorted(row["fingerprint"] for row in data) == sorted(f.fingerprint for f in r.findings)
    by_fp = {f.fingerprint: f for f in r.findings}
    for row in data:
        f = by_fp[row["fingerprint"]]
        assert (row["item"], row["code"], row["severity"], row["outcome"], row["fix"]) == (
            f.item_key, f.code, f.severity.value, f.outcome.value, f.fix)
        if not f.message.startswith("="):
            assert row["message"] == f.message  # multi-line text survives quoting


def test_waiver_and_unmapped_phase_columns():
    _, data = rows()
    waived = next(r for r in data if r["outcome"] == "waived")
    assert (waived["waiver_owner"], waived["waiver_expires"], waived["open"]) == ("ann", "2026-06-30", "false")
    assert all(r["waiver_owner"] == "" for r in data if r["outcome"] != "waived")


def test_text_from_jira_cannot_run_as_a_spreadsheet_formula():
    _, data = rows()
    row = next(r for r in data if r["subject"] == "DIG-7")
    assert row["message"] == "'=HYPERLINK(\"http://evil\") child DIG-7 not estimated"
