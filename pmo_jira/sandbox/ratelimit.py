"""Jira Cloud's rate limits, opt-in for the sandbox: the burst limit and the per-issue write limit.

Cloud runs them side by side (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/):

* **Burst**: a token bucket per endpoint and HTTP method. The bucket holds ten seconds of its
  steady rate (Atlassian's example: 100 tokens refilling at 10 a second). Every answer then
  carries ``X-RateLimit-Limit`` / ``X-RateLimit-Remaining`` (per second); an empty bucket answers
  429 with ``RateLimit-Reason: jira-burst-based``.
* **Per issue on write**: at most 20 writes in 2 seconds and 100 in 30 seconds to one issue
  (creates, edits, comments, properties, transitions, deletes). Past either, 429 with
  ``RateLimit-Reason: jira-per-issue-on-write``; a write that leaves less than 20% of a window's
  capacity carries ``X-RateLimit-NearLimit: true``.

A 429 also carries ``Retry-After`` (whole seconds, at least 1) and ``X-RateLimit-Reset`` (the
ISO-8601 instant the limit lifts). Refused requests do not use up capacity. Time is the real
clock (``time.monotonic``), since clients really wait.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

PER_ISSUE_WINDOWS = ((20, 2.0), (100, 30.0))
"""(writes, seconds) Cloud allows per issue."""
BURST_BUCKET_SECONDS = 10.0
NEAR_LIMIT = 0.2
_ISSUE_PATH = re.compile(r"/rest/api/[23]/issue/([^/]+)")
_SEGMENT_ID = re.compile(r"^(\d+|[A-Za-z][A-Za-z0-9_]*-\d+)$")


@dataclass
class Verdict:
    """Headers for the answer, and whether the request is refused (429)."""

    headers: dict[str, str]
    refused: bool = False


@dataclass
class RateLimits:
    """``burst_rate``: steady requests per second per endpoint and method (None: off);
    ``per_issue``: enforce Cloud's per-issue write windows. ``issue_id`` maps a key or id in a
    path to the issue it names (so ``DIG-1`` and ``10001`` share a window)."""

    burst_rate: float | None = None
    per_issue: bool = False
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict, init=False, repr=False)
    _writes: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.burst_rate is not None and not self.burst_rate > 0:
            raise ValueError(f"the burst rate must be above 0 requests a second, got {self.burst_rate}")

    @property
    def active(self) -> bool:
        return self.burst_rate is not None or self.per_issue

    def check(self, method: str, path: str, issue_id: Callable[[str], str | None]) -> Verdict:
        """Count one request (unless refused) and say what its answer carries."""
        with self._lock:
            now = self.clock()
            headers: dict[str, str] = {}
            issue = None
            if self.per_issue and method in ("POST", "PUT", "DELETE"):
                m = _ISSUE_PATH.match(path)
                issue = issue_id(m.group(1)) if m else None
            if issue is not None:
                stamps = self._writes.setdefault(issue, deque())
                while stamps and stamps[0] <= now - PER_ISSUE_WINDOWS[-1][1]:
                    stamps.popleft()
                for limit, window in PER_ISSUE_WINDOWS:
                    recent = [t for t in stamps if t > now - window]
                    if len(recent) >= limit:
                        wait = recent[-limit] + window - now
                        return Verdict(_refusal(wait, limit, "jira-per-issue-on-write"), True)
            if self.burst_rate is not None:
                key = (method, _endpoint(path))
                tokens, last = self._buckets.get(key, (self.burst_rate * BURST_BUCKET_SECONDS, now))
                tokens = min(self.burst_rate * BURST_BUCKET_SECONDS, tokens + (now - last) * self.burst_rate)
                if tokens < 1.0:
                    self._buckets[key] = (tokens, now)
                    wait = (1.0 - tokens) / self.burst_rate
                    return Verdict(_refusal(wait, self.burst_rate, "jira-burst-based"), True)
                tokens -= 1.0
                self._buckets[key] = (tokens, now)
                headers["X-RateLimit-Limit"] = _num(self.burst_rate)
                headers["X-RateLimit-Remaining"] = str(int(tokens))
            if issue is not None:
                stamps = self._writes[issue]
                stamps.append(now)
                if any(limit - sum(1 for t in stamps if t > now - window) < NEAR_LIMIT * limit
                       for limit, window in PER_ISSUE_WINDOWS):
                    headers["X-RateLimit-NearLimit"] = "true"
            return Verdict(headers)


def _refusal(wait: float, limit: float, reason: str) -> dict[str, str]:
    reset = datetime.now(timezone.utc) + timedelta(seconds=wait)
    return {"Retry-After": str(max(1, math.ceil(wait))), "X-RateLimit-Limit": _num(limit),
            "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "RateLimit-Reason": reason}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _endpoint(path: str) -> str:
    """The endpoint a path belongs to: ``/rest/api/3/issue/{id}/comment`` for any issue."""
    return "/".join("{id}" if _SEGMENT_ID.match(seg) else seg for seg in path.split("/"))
