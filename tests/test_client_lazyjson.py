"""A large JSON answer's array is decoded one element at a time, exactly as a whole decode reads it."""

from __future__ import annotations

import json

import pytest

from pmo_jira.jira.lazyjson import array_elements

PAGE = {"nextPageToken": "abc", "issueChangeLogs": [
    {"issueId": "10001", "changeHistories": [{"id": "1", "items": [{"field": "status", "toString": "Done ]},{"}]}]},
    {"issueId": "10002", "changeHistories": []},
    {"issueId": "10003", "changeHistories": [{"id": "2", "author": {"displayName": "Zoë \"Z\" Ito"}}]},
], "isLast": False, "extra": {"nested": [1, 2.5, None, True]}}


@pytest.mark.parametrize("text", [
    json.dumps(PAGE),
    json.dumps(PAGE, indent=2),
    json.dumps(PAGE, separators=(",", ":"), ensure_ascii=False),
    json.dumps({k: PAGE[k] for k in reversed(list(PAGE))}, indent="\t"),
])
def test_elements_and_other_members_are_what_a_whole_decode_gives(text):
    rest: dict = {}
    elements = list(array_elements(text, "issueChangeLogs", rest))
    assert elements == PAGE["issueChangeLogs"]
    assert rest == {**PAGE, "issueChangeLogs": []}


def test_elements_come_one_at_a_time_before_the_rest_is_read():
    text = '{"issueChangeLogs": [{"issueId": "1"}, {"issueId": "2"}], "nextPageToken": "t"}'
    rest: dict = {}
    elements = array_elements(text, "issueChangeLogs", rest)
    assert next(elements) == {"issueId": "1"} and rest == {"issueChangeLogs": []}
    assert list(elements) == [{"issueId": "2"}] and rest["nextPageToken"] == "t"


@pytest.mark.parametrize("text, rest", [
    ("{}", {}),
    ('{"issueChangeLogs": []}', {"issueChangeLogs": []}),
    ('{"issueChangeLogs": null, "values": []}', {"issueChangeLogs": None, "values": []}),
])
def test_empty_and_missing_arrays(text, rest):
    got: dict = {}
    assert list(array_elements(text, "issueChangeLogs", got)) == [] and got == rest


@pytest.mark.parametrize("text", [
    "", "[]", '{"issueChangeLogs": [{"issueId": "1"} {"issueId": "2"}]}', '{"issueChangeLogs": [1,]}',
    '{"a": 1} trailing', '{"a" 1}', '{1: 2}', '{"issueChangeLogs": [{"issueId": "1"}',
])
def test_text_that_is_not_one_json_object_is_refused(text):
    with pytest.raises(ValueError):
        list(array_elements(text, "issueChangeLogs", {}))
