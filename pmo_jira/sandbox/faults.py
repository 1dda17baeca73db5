"""Fault injection and the request log of the sandbox.

Faults come by rate (a seeded RNG, so a run is reproducible) or by schedule (request number ->
fault, e.g. "requests 3 and 4 answer 429"). Request numbers count every request the server
received, from 1, including faulted ones. Everything here is safe to change while the server runs.

``drop`` closes the connection before the request is applied; ``drop-after-apply`` applies it
(the write lands) and then closes the connection, so the answer is lost: the client cannot tell
whether its write happened.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

FAULT_KINDS = ("429", "503", "drop", "slow", "drop-after-apply")


class Fault(NamedTuple):
    kind: str  # one of FAULT_KINDS
    delay: float = 0.0  # seconds, for "slow"


@dataclass
class Faults:
    """What to break. Rates are probabilities per request; ``schedule`` wins over rates.

    ``only_paths``: a regex; when set, only matching request paths are faulted (numbering still
    counts every request); ``only_methods`` likewise limits faults to those HTTP methods.
    ``retry_after`` is sent on 429 (and on 503 when ``retry_after_on_503``).
    """

    rate_429: float = 0.0
    rate_503: float = 0.0
    rate_drop: float = 0.0
    rate_slow: float = 0.0
    rate_drop_after_apply: float = 0.0
    slow_seconds: float = 0.5
    retry_after: int = 1
    retry_after_on_503: bool = True
    schedule: dict[int, Fault] = field(default_factory=dict)
    only_paths: str | None = None
    only_methods: frozenset[str] | None = None
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _count: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("rate_429", "rate_503", "rate_drop", "rate_slow", "rate_drop_after_apply"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.rate_429 + self.rate_503 + self.rate_drop + self.rate_slow + self.rate_drop_after_apply > 1.0:
            raise ValueError("fault rates add up to more than 1")
        self._rng = random.Random(self.seed)

    def at(self, requests: str | int | list[int], kind: str, delay: float = 0.0) -> Faults:
        """Schedule ``kind`` for request numbers "3,4" / "5-7" / 3 / [3, 4]; returns self for chaining."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose one of {', '.join(FAULT_KINDS)}")
        with self._lock:
            for n in _numbers(requests):
                self.schedule[n] = Fault(kind, delay or (self.slow_seconds if kind == "slow" else 0.0))
        return self

    def clear(self) -> None:
        """No more faults (rates to zero, schedule emptied); the request counter keeps going."""
        with self._lock:
            self.rate_429 = self.rate_503 = self.rate_drop = self.rate_slow = self.rate_drop_after_apply = 0.0
            self.schedule.clear()

    def next(self, path: str, method: str = "GET") -> Fault | None:
        """Count one request and say which fault (if any) it gets."""
        with self._lock:
            self._count += 1
            n = self._count
            if self.only_paths and not re.search(self.only_paths, path):
                return None
            if self.only_methods and method.upper() not in self.only_methods:
                return None
            if n in self.schedule:
                return self.schedule[n]
            x = self._rng.random()
            for kind, rate in (("429", self.rate_429), ("503", self.rate_503), ("drop", self.rate_drop),
                               ("slow", self.rate_slow), ("drop-after-apply", self.rate_drop_after_apply)):
                if x < rate:
                    return Fault(kind, self.slow_seconds if kind == "slow" else 0.0)
                x -= rate
            return None


def parse_schedule(text: str) -> dict[int, Fault]:
    """``"3,4:429;7:drop;9-10:slow=0.2"`` -> {3: 429, 4: 429, 7: drop, 9: slow 0.2 s, 10: ...}."""
    out: dict[int, Fault] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        numbers, sep, kind = part.partition(":")
        if not sep:
            raise ValueError(f"fault schedule entry {part!r} needs 'requests:fault', e.g. '3,4:429'")
        kind, _, delay = kind.strip().partition("=")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r} in {part!r}; choose one of {', '.join(FAULT_KINDS)}")
        try:
            seconds = float(delay) if delay else (0.5 if kind == "slow" else 0.0)
        except ValueError:
            raise ValueError(f"bad delay {delay!r} in {part!r}") from None
        for n in _numbers(numbers):
            out[n] = Fault(kind, seconds)
    return out


def _numbers(spec: str | int | list[int]) -> list[int]:
    if isinstance(spec, int):
        return [spec]
    if isinstance(spec, list):
        return [int(n) for n in spec]
    out = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        lo, dash, hi = item.partition("-")
        try:
            out.extend(range(int(lo), int(hi) + 1) if dash else [int(lo)])
        except ValueError:
            raise ValueError(f"bad request number {item!r}; use e.g. '3,4' or '5-7'") from None
    return out


class Request(NamedTuple):
    method: str
    path: str
    query: str
    status: int  # 0 when the connection was dropped without an answer


class RequestLog:
    """Every request the server answered (or dropped), in order; thread-safe."""

    def __init__(self) -> None:
        self._items: list[Request] = []
        self._lock = threading.Lock()

    def append(self, entry: Request) -> None:
        with self._lock:
            self._items.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def count(self, method: str | None = None, path: str | None = None, status: int | None = None) -> int:
        """How many requests match; ``path`` is a regex searched in the path."""
        return len(self.matching(method, path, status))

    def matching(self, method: str | None = None, path: str | None = None, status: int | None = None) -> list[Request]:
        with self._lock:
            items = list(self._items)
        return [r for r in items if (method is None or r.method == method.upper())
                and (path is None or re.search(path, r.path)) and (status is None or r.status == status)]

    def __iter__(self) -> Iterator[Request]:
        with self._lock:
            return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> Request:
        with self._lock:
            return self._items[i]
