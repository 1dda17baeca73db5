"""Pages are fetched one ahead of the caller, in a background thread that never outlives the read."""

from __future__ import annotations

import threading

import pytest

from pmo_jira.errors import JiraApiError
from pmo_jira.jira.client import JiraClient
from pmo_jira.jira.prefetch import prefetched
from pmo_jira.sandbox.server import SandboxServer

WAIT = 10  # seconds: only reached when the behaviour under test is broken


class Pages:
    """A page generator that records what was fetched, and from which thread."""

    def __init__(self, count: int, fail_at: int | None = None):
        self.count, self.fail_at = count, fail_at
        self.fetched: list[int] = []
        self.threads: set[str] = set()
        self.closed = threading.Event()
        self.fetched_event = {n: threading.Event() for n in range(count + 1)}

    def __iter__(self):
        try:
            for n in range(self.count):
                if n == self.fail_at:
                    raise JiraApiError("server error", method="GET", url="/rest/api/3/search/jql", status=500)
                self.fetched.append(n)
                self.threads.add(threading.current_thread().name)
                self.fetched_event[n].set()
                yield [f"P-{n}"]
        finally:
            self.closed.set()


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pmo-jira-prefetch"]


def _wait_no_prefetch_thread() -> None:
    for t in _prefetch_threads():
        t.join(WAIT)
    assert not _prefetch_threads()


def test_the_next_page_is_fetched_while_the_caller_works_and_no_further():
    source = Pages(5)
    pages = prefetched(iter(source))
    assert next(pages) == ["P-0"]
    assert source.fetched_event[1].wait(WAIT), "page 2 is fetched while the caller holds page 1"
    assert not source.fetched_event[2].wait(0.2), "but page 3 only once the caller takes page 2"
    assert source.fetched == [0, 1]
    assert list(pages) == [["P-1"], ["P-2"], ["P-3"], ["P-4"]]
    assert source.threads == {"pmo-jira-prefetch"}
    assert source.closed.wait(WAIT)
    _wait_no_prefetch_thread()


def test_an_error_reaches_the_caller_at_its_page():
    source = Pages(5, fail_at=2)
    got = []
    with pytest.raises(JiraApiError, match="server error"):
        for page in prefetched(iter(source)):
            got.append(page)
    assert got == [["P-0"], ["P-1"]]
    _wait_no_prefetch_thread()


@pytest.mark.parametrize("stop", [KeyboardInterrupt, ValueError])
def test_a_caller_that_stops_leaves_no_thread_behind(stop):
    source = Pages(1000)
    with pytest.raises(stop):
        for page in prefetched(iter(source)):
            if page == ["P-3"]:
                raise stop()
    assert source.closed.wait(WAIT), "the page generator is closed"
    _wait_no_prefetch_thread()
    assert len(source.fetched) <= 5, "at most one page was fetched past the one the caller stopped on"


def test_a_search_left_early_ends_its_reader_thread():
    with SandboxServer(flavour="cloud", issues=400, seed=3) as sb:
        client = JiraClient(sb.url, sb.credentials, page_size=10)
        reader = client.search_pages("project = DIG ORDER BY key ASC", ["summary"])
        first = next(reader)
        assert len(first) == 10
        reader.close()
        _wait_no_prefetch_thread()
        searches = sb.log.matching(path=r"/search/jql$")
        assert 1 <= len(searches) <= 2  # the page read and at most the one fetched ahead
        all_keys = [i["key"] for page in client.search_pages("project = DIG ORDER BY key ASC", ["summary"])
                    for i in page]
        assert all_keys[:10] == [i["key"] for i in first]
        assert len(all_keys) == len(set(all_keys)) == sum(1 for i in sb.store.issues if i.project == "DIG")


def test_reads_switch_threads_faster_only_while_they_prefetch_even_when_they_overlap():
    """The worker sends its next request as soon as it may (not up to 5 ms later, when the caller's
    parsing would hand over the interpreter), and the process gets its own setting back."""
    import sys

    before = sys.getswitchinterval()
    first, second = prefetched(iter(Pages(3))), prefetched(iter(Pages(3)))
    assert next(first) == ["P-0"] and next(second) == ["P-0"]
    assert sys.getswitchinterval() < before
    assert list(first) == [["P-1"], ["P-2"]]
    assert sys.getswitchinterval() < before, "the other read still prefetches"
    second.close()
    assert sys.getswitchinterval() == before
    _wait_no_prefetch_thread()
