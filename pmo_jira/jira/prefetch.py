"""Read the next page while the caller works on this one.

A search's pages are produced by a generator that sends one HTTP request per page. Run in the
caller's thread, the wall time of a read is the server's time plus the caller's (parsing,
checking); here the generator runs in a background thread that fetches at most one page ahead,
so the two overlap and a read costs about the larger of them.

The worker never runs away: it asks for the next page only once the caller has taken the
previous one. When the caller stops early (an error of its own, Ctrl-C, a ``break``), the worker
is told to stop; it finishes the request in flight (bounded by the client's timeout), closes the
page generator and ends. It is a daemon thread, so an interrupted process never waits for it.
An error raised while fetching reaches the caller at the page where it happened.

While any read is prefetching, the interpreter switches threads every 0.5 ms instead of every
5 ms: the caller parses a page holding the interpreter lock, and the worker, told to fetch the
next page, sends that request only once it gets the lock, which left the server idle for up to
5 ms on every page.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_POLL = 0.1  # how often a waiting worker looks whether the caller has gone
_SWITCH = 0.0005  # the interpreter's thread switch interval while pages are prefetched (seconds)
_active = 0  # reads prefetching now; the first sets the switch interval, the last restores it
_restore = 0.0
_active_lock = threading.Lock()


def _switch_faster(on: bool) -> None:
    global _active, _restore
    with _active_lock:
        if on:
            _active += 1
            if _active == 1:
                _restore = sys.getswitchinterval()
                sys.setswitchinterval(min(_restore, _SWITCH))
        else:
            _active -= 1
            if _active == 0:
                sys.setswitchinterval(_restore)


def prefetched(pages: Iterator[T], *, name: str = "pmo-jira-prefetch") -> Iterator[T]:
    """``pages``, produced in a background thread one page ahead of the caller."""
    handoff: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    wanted = threading.Semaphore(1)  # one page may be fetched before the caller asks for it
    stop = threading.Event()

    def hand(kind: str, value: object) -> None:
        while not stop.is_set():
            try:
                handoff.put((kind, value), timeout=_POLL)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            while True:
                while not wanted.acquire(timeout=_POLL):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                try:
                    page = next(pages)
                except StopIteration:
                    hand("end", None)
                    return
                hand("page", page)
        except BaseException as exc:  # handed to the caller, raised there
            hand("error", exc)
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    _switch_faster(True)
    try:
        while True:
            kind, value = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            wanted.release()  # the caller has this page: fetch the next while it works
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        _switch_faster(False)
