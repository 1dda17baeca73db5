"""The orders people read findings and history in, whatever text a hostile site puts in keys and ids."""

from __future__ import annotations

from datetime import datetime, timezone

from pmo_jira.jira.payloads import parse_changes
from pmo_jira.model import Flavour, natural_key


def test_keys_sort_as_people_count():
    assert sorted(["WEB-11", "WEB-2", "DIG-4", "WEB-1"], key=natural_key) == ["DIG-4", "WEB-1", "WEB-2", "WEB-11"]


def test_digits_int_refuses_sort_as_text_not_a_crash():
    # "²" and "①" are digits to str.isdigit but not numbers to int(); Arabic-Indic digits are both
    texts = ["²", "x²", "WEB-\u0663", "WEB-2", "①"]
    assert sorted(texts, key=natural_key) == ["WEB-2", "WEB-\u0663", "x²", "²", "①"]


def test_changelog_entries_with_odd_ids_keep_their_order_by_time():
    at = "2026-01-0{}T10:00:00.000+0000"
    raw = [{"id": "²", "created": at.format(2), "items": []}, {"id": "7", "created": at.format(1), "items": []}]
    changes = parse_changes(raw, logical_by_id={}, logical_by_name={}, issue="WEB-1", flavour=Flavour.CLOUD)
    assert [c.id for c in changes] == ["7", "²"]
    assert changes[0].created == datetime(2026, 1, 1, 10, tzinfo=timezone.utc)
