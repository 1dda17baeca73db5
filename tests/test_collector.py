"""The collector pause the audit, a report's writing and the recording of a run share."""

from __future__ import annotations

import gc

import pytest

from pmo_jira.collector import collector_paused


def test_the_collector_is_off_inside_and_back_on_after_even_on_failure():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), collector_paused():
        raise KeyError("boom")
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
