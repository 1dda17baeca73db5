"""The cyclic garbage collector paused around work that makes many short-lived objects.

A large run holds millions of objects; each full collection rescans them all. Auditing, recording
and rendering a report make hundreds of thousands more, none in reference cycles, which set off
such collections though they find nothing: reference counting frees those objects, and the
collector takes any cycle among them once it runs again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The collector off for the block, then back as it was (on or off), failure or not."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
