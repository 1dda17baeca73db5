"""All report formats: golden output, determinism, and the format registry."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from pmo_jira.errors import PluginError, PmoError
from pmo_jira.formats import builtin_formats, formats, get_renderer, register_format
from pmo_jira.formats.table import TableFormat

from reports_fixtures import NOW, check_golden, result, rich_result

BUILT_IN = list(builtin_formats())  # a new format's module is found, so these tests cover it too


def test_the_built_in_formats_are_found_default_first():
    assert BUILT_IN[0] == "table" and {"json", "csv", "junit", "markdown"} <= set(BUILT_IN)


@pytest.mark.parametrize("name", BUILT_IN)
def test_output_matches_golden_file(name):
    renderer = formats[name]
    check_golden(f"audit.{getattr(renderer, 'extension', 'txt')}", renderer.render(rich_result(), now=NOW))


@pytest.mark.parametrize("name", BUILT_IN)
def test_output_is_independent_of_input_order(name):
    r = rich_result()
    shuffled = list(r.findings), list(r.items)
    random.Random(4).shuffle(shuffled[0])
    random.Random(5).shuffle(shuffled[1])
    other = replace(r, findings=tuple(shuffled[0]), items=tuple(shuffled[1]),
                    sites=tuple(reversed(r.sites)))
    assert formats[name].render(other, now=NOW) == formats[name].render(r, now=NOW)


@pytest.mark.parametrize("name", BUILT_IN)
def test_an_empty_run_renders(name):
    out = formats[name].render(result([], [], sites=()), now=NOW)
    assert out.endswith("\n")


def test_plugins_register_formats_but_cannot_replace_one():
    class Count:
        def render(self, result, *, now):
            return f"{len(result.findings)}\n"

    available = dict(formats)
    register_format("count", Count(), available)
    assert get_renderer("count", available=available).render(rich_result(), now=NOW) == "8\n"
    assert "count" not in formats  # the built-in registry is never changed
    register_format("json", formats["json"], available)  # the same renderer again: no-op
    with pytest.raises(PluginError, match="already registered"):
        register_format("json", Count(), available)
    with pytest.raises(PluginError, match="lowercase"):
        register_format("Bad Name", Count(), available)
    with pytest.raises(PluginError, match="no render"):
        register_format("broken", object(), available)


def test_unknown_format_names_the_known_ones():
    with pytest.raises(PmoError, match=r"unknown report format 'yaml' \(known: csv, json, junit"):
        get_renderer("yaml")


def test_get_renderer_sets_up_the_table_for_the_terminal():
    r = get_renderer("table", color=True, width=72)
    assert r == TableFormat(color=True, width=72)
    assert get_renderer("json", color=True, width=72) is formats["json"]


def test_findings_the_sort_leaves_equal_but_for_the_fingerprint_keep_its_order():
    """Keys and subjects that read as the same number (DIG-7, DIG-07) sort together; their order
    is still the fingerprint's, whatever order the audit gave them in."""
    from pmo_jira.formats.base import finding_sort_key, sorted_findings

    from reports_fixtures import finding

    found = [finding("PMO-GOV-001", key, subject=subject)
             for key in ("DIG-7", "DIG-07", "DIG-007", "DIG-10", "DIG-2")
             for subject in ("", "DIG-3", "DIG-03")]
    for seed in range(5):
        random.Random(seed).shuffle(found)
        r = result(found, [])
        assert sorted_findings(r) == sorted(found, key=finding_sort_key)
