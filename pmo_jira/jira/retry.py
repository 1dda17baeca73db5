"""The one retry layer between pmo-jira and Jira, plus shared pacing state.

Why one layer: stacked retries multiply (3 library retries x 3 of ours = 9 attempts) and each
layer has its own idea of ``Retry-After``. The core client speaks ``requests`` directly, so no
library retries run under it. If the ``jira`` package is ever used, construct it with
``JIRA(..., max_retries=0)``; for ``atlassian-python-api`` pass ``retry_with_header=False`` and
leave ``backoff_and_retry=False``, so that only this module retries.

Rules (see docs on Jira rate limiting):
- 429 and 503 are retried. ``Retry-After`` (seconds or an HTTP-date), ``X-RateLimit-Reset``
  (ISO-8601) and ``RateLimit-Reset`` (seconds) are honoured as a *minimum* wait; ``Retry-After: 0``
  (Jira Data Center sends it on 429) counts as 1 s. Without a header we back off exponentially
  with jitter from an injectable RNG.
- Connection errors and timeouts are retried only for idempotent requests (GET, PUT, DELETE and
  search POSTs). A comment-create POST may have reached Jira before the connection broke, and a
  blind retry would post the comment twice, so it is never retried on a transport error: the
  caller re-reads the issue's comments and decides. A 429 is retried for every method because
  Jira refused the request before doing anything; a 503 on a non-idempotent request only when it
  carries ``Retry-After`` (the server asked for it).
- The two kinds are counted apart: transport errors get at most ``max_transport_attempts``
  failures (a site that is down fails fast), while 429/503 answers are bounded by time only
  (a busy site that answers is not down), so ``429, 429, drop`` is one transport failure.
- Time is the bound: one request may spend ``max_wait`` seconds in all, counting the waits
  *and* the attempts that failed (a timed-out attempt costs its whole timeout). When the next
  wait would go past it (a server asking for more than the budget ends it at once) we stop and
  raise with the true time spent, as the clock measured it.
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import requests
import tenacity

from pmo_jira import interrupt


def _parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(float(value), 1.0)  # 0 means "now" on DC, which only earns another 429
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _seconds_until(when, now, floor=1.0)


def _parse_reset(value: str | None, now: datetime) -> float | None:
    """Seconds until an ISO-8601 ``X-RateLimit-Reset`` instant (e.g. ``2026-06-05T06:00Z``)."""
    if value is None or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return _seconds_until(when, now, floor=0.0)


def _seconds_until(when: datetime, now: datetime, *, floor: float) -> float:
    """Seconds from ``now`` to ``when`` (read as UTC when it names no zone), at least ``floor``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - now).total_seconds(), floor)


def _parse_delta_or_reset(value: str | None, now: datetime) -> float | None:
    """``RateLimit-Reset``: delta-seconds (the IETF draft), or an ISO-8601 instant like ``X-...``."""
    if value is not None and value.strip().isdecimal():
        return float(value.strip())
    return _parse_reset(value, now)


def server_delay(headers: Mapping[str, str], now: datetime) -> float | None:
    """The minimum wait the server asked for, or None when it did not say."""
    delays = [d for d in (_parse_retry_after(headers.get("Retry-After"), now),
                          _parse_reset(headers.get("X-RateLimit-Reset"), now),
                          _parse_delta_or_reset(headers.get("RateLimit-Reset"), now)) if d is not None]
    return max(delays) if delays else None


class WaitBudgetExhausted(Exception):
    """Raised inside the retry loop; the client turns it into a ``JiraApiError``.

    ``spent`` is the true time the request took, first attempt to giving up (waits plus the
    attempts themselves, a timeout's full length included), not only the waits between them."""

    def __init__(self, last: requests.Response | BaseException, spent: float, budget: float,
                 attempts: int, *, capped: bool = False, asked: float | None = None):
        self.last, self.spent, self.budget, self.attempts = last, spent, budget, attempts
        tries = f"{attempts} attempt{'' if attempts == 1 else 's'}"
        if capped:
            text = f"gave up after {tries} and {spent:.1f}s"
        elif asked is not None and asked > budget:
            text = (f"Jira asked to wait {asked:.0f}s, more than the retry budget of {budget:g}s; "
                    f"gave up after {tries} and {spent:.1f}s")
        else:
            text = f"retry wait budget of {budget:g}s exhausted after {tries} and {spent:.1f}s"
        super().__init__(text)


@dataclass
class _Attempts:
    """What one request's attempts cost so far (the retry loop's own bookkeeping)."""

    transport_failures: int = 0
    busy_answers: int = 0  # 429 / 503
    in_attempts: float = 0.0  # seconds spent inside attempts that failed


@dataclass
class RetryPolicy:
    """How long and how often to retry. All time sources are injectable for tests."""

    max_wait: float = 300.0
    max_attempts: int | None = None  # optional cap on 429/503 answers; by default time alone bounds them
    # A refused or broken connection rarely heals within minutes, unlike a 429: a few quick tries,
    # so a site that is down fails in seconds and the run goes on with the others.
    max_transport_attempts: int = 3
    base_delay: float = 1.0
    max_backoff: float = 60.0
    sleep: Callable[[float], None] = interrupt.sleep
    rng: random.Random = field(default_factory=random.Random)
    utcnow: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    clock: Callable[[], float] = time.monotonic

    def backoff(self, attempt: int) -> float:
        """Exponential backoff (1, 2, 4 ... s) with a 0.7-1.3 jitter multiplier."""
        return min(self.max_backoff, self.base_delay * 2 ** (attempt - 1)) * self.rng.uniform(0.7, 1.3)

    def delay_for(self, outcome: requests.Response | BaseException, attempt: int) -> float:
        if isinstance(outcome, requests.Response):
            asked = server_delay(outcome.headers, self.utcnow())
            if asked is not None:
                return asked + self.rng.uniform(0.0, 0.1 * asked)  # a minimum, spread a little
        return self.backoff(attempt)

    def call(self, send: Callable[[], requests.Response], *, idempotent: bool,
             on_retry: Callable[[requests.Response | BaseException, float], None] | None = None,
             ) -> requests.Response:
        """Run ``send`` until it yields a final response, retrying per the module rules.

        Returns the last response (which may still be a 4xx/5xx for the caller to report);
        transport exceptions propagate when they are not retried. Raises ``WaitBudgetExhausted``
        when the time budget, the transport failures or the optional ``max_attempts`` run out.
        """
        spent = _Attempts()

        def timed() -> requests.Response:
            started = self.clock()
            try:
                resp = send()
            except (requests.ConnectionError, requests.Timeout):
                spent.transport_failures += 1
                spent.in_attempts += self.clock() - started
                raise
            if resp.status_code in (429, 503):
                spent.busy_answers += 1
                spent.in_attempts += self.clock() - started
            return resp

        def should_retry(rs: tenacity.RetryCallState) -> bool:
            outcome = rs.outcome
            if outcome.failed:
                exc = outcome.exception()
                return idempotent and isinstance(exc, (requests.ConnectionError, requests.Timeout))
            resp = outcome.result()
            if resp.status_code == 429:
                return True
            if resp.status_code == 503:
                return idempotent or "Retry-After" in resp.headers
            return False

        def last_of(rs: tenacity.RetryCallState) -> requests.Response | BaseException:
            return rs.outcome.exception() if rs.outcome.failed else rs.outcome.result()

        def wait(rs: tenacity.RetryCallState) -> float:
            return self.delay_for(last_of(rs), rs.attempt_number)

        def capped() -> bool:
            return spent.transport_failures >= self.max_transport_attempts or (
                self.max_attempts is not None and spent.busy_answers >= self.max_attempts)

        def stop(rs: tenacity.RetryCallState) -> bool:
            return capped() or rs.idle_for + spent.in_attempts + rs.upcoming_sleep > self.max_wait

        def give_up(rs: tenacity.RetryCallState) -> requests.Response:
            last = last_of(rs)
            asked = server_delay(last.headers, self.utcnow()) if isinstance(last, requests.Response) else None
            raise WaitBudgetExhausted(last, rs.idle_for + spent.in_attempts, self.max_wait, rs.attempt_number,
                                      capped=capped(), asked=asked)

        def before_sleep(rs: tenacity.RetryCallState) -> None:
            if on_retry is not None:
                on_retry(last_of(rs), rs.upcoming_sleep)

        retrying = tenacity.Retrying(retry=should_retry, wait=wait, stop=stop, sleep=self.sleep,
                                     before_sleep=before_sleep, retry_error_callback=give_up,
                                     reraise=True)
        return retrying(timed)


WRITE_TIMEOUTS = 3
"""Default of ``writeback.max_write_timeouts``: consecutive write timeouts that stop a site's writes."""


class WriteBreaker:
    """A site's circuit breaker for writes: after ``limit`` writes in a row got no answer within the
    timeout, the site takes no more writes this run.

    A site whose writes hang would otherwise cost every issue its three timed-out attempts (about
    98 s with the default 30 s timeout: 84 minutes for 206 epics); open, the breaker refuses the
    next write before it is sent, retries included, so the run ends within about one timeout and
    the issues not written are left for the next run. Any answer from Jira resets the count.
    Shared by the threads writing to one site.
    """

    def __init__(self, limit: int = WRITE_TIMEOUTS):
        self.limit = max(1, limit)
        self.consecutive = 0
        self.reason: str | None = None  # why it opened; None while closed
        self._lock = threading.Lock()

    @property
    def open(self) -> bool:
        return self.reason is not None

    def timed_out(self, seconds: float) -> None:
        with self._lock:
            self.consecutive += 1
            if self.reason is None and self.consecutive >= self.limit:
                self.reason = (f"{self.consecutive} writes in a row got no answer within {seconds:g}s "
                               f"(writeback.max_write_timeouts = {self.limit})")

    def answered(self) -> None:
        with self._lock:
            self.consecutive = 0


class RateGate:
    """Pacing state shared by every thread that talks to one Jira site.

    - After a 429 the gate closes for everyone until the server's wait is over (``throttled``),
      and the suggested concurrency halves; it grows back by one after each run of successes.
    - Cloud limits writes per issue (20 in 2 s); ``wait_turn(issue_key)`` keeps each issue under it.
    The clock and sleep are injectable so tests run in simulated time.
    """

    def __init__(self, *, concurrency: int = 4, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = interrupt.sleep, per_issue_writes: int = 20,
                 per_issue_window: float = 2.0, recover_after: int = 50):
        self.max_concurrency = max(1, concurrency)
        self.concurrency = self.max_concurrency
        self._clock, self._sleep = clock, sleep
        self._per_issue_writes, self._window = per_issue_writes, per_issue_window
        self._recover_after = recover_after
        self._closed_until = 0.0
        self._successes = 0
        self._writes: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def wait_turn(self, issue_key: str | None = None) -> float:
        """Reserve this request's slot, sleep until it comes; returns the seconds waited.

        The slot is computed once under the lock (never re-polled), so a simulated ``sleep``
        that does not move the clock cannot make it spin.
        """
        with self._lock:
            now = self._clock()
            start = max(now, self._closed_until)
            if issue_key is not None:
                stamps = self._writes.setdefault(issue_key, [])
                del stamps[:bisect.bisect_right(stamps, start - self._window)]
                if len(stamps) >= self._per_issue_writes:
                    start = max(start, stamps[-self._per_issue_writes] + self._window)
                bisect.insort(stamps, start)
                if len(self._writes) > 10_000:
                    self._forget_idle(now)
            delay = start - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._writes.items() if not v or v[-1] <= now - self._window]:
            del self._writes[key]

    def throttled(self, delay: float) -> None:
        """Jira said 429: close the gate for ``delay`` seconds and halve the concurrency."""
        with self._lock:
            self._closed_until = max(self._closed_until, self._clock() + delay)
            self.concurrency = max(1, self.concurrency // 2)
            self._successes = 0

    def succeeded(self) -> None:
        with self._lock:
            self._successes += 1
            if self._successes >= self._recover_after and self.concurrency < self.max_concurrency:
                self.concurrency += 1
                self._successes = 0
