"""Perform a write-back plan against Jira, one issue at a time per worker.

Per issue, in this order, so that a run killed at any point converges on the next run:

1. the owned comment: only a comment proven the bot's (``ownership``: author is the account
   ``/myself`` names, text carries the marker) is ever edited or deleted. The plan's comment id
   was proven when the sync read the issue's comments; otherwise the comments are read first.
   The owned comment is edited (gone: a new one is posted); with no id known, the oldest owned
   comment is adopted (a previous run may have posted it and died before saving the state); only
   then is one posted. Further owned comments (two runs posted at once) are then deleted;
2. labels (``update`` add/remove operations) and the state property, holding the comment id:
   one request on Cloud, the property right after the labels on Data Center, alone when no label
   changes; written after the comment, the state only ever describes writes that happened.

Errors on one issue (403, 404, 400 ...) are recorded and the run goes on. Jira refusing
``notifyUsers=false`` is reported once and handled per ``writeback.on_notify_refused``.
Pacing: each site's ``RateGate`` (the client's own when it has one) pauses new issues after a 429,
halves how many issues run at once, and keeps every issue under Cloud's per-issue write limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from pmo_jira.errors import JiraApiError, NotifyRefused, WriteBackError, WritesStopped
from pmo_jira.interrupt import Interrupted
from pmo_jira.jira.client import note_own_write
from pmo_jira.jira.retry import RateGate
from pmo_jira.model import Flavour
from pmo_jira.state import STATE_PROPERTY
from pmo_jira.writeback.ownership import MAX_DELETES_PER_RUN, check_comments
from pmo_jira.writeback.plan import CommentOp, IssuePlan, Plan

T = TypeVar("T")

PER_ISSUE_WRITE_LIMIT = 20
"""Jira Cloud allows 20 writes per issue in 2 s; one issue's plan must stay far below it."""


@dataclass(frozen=True)
class IssueError:
    site: str
    key: str
    step: str  # "comment" | "labels" | "state" | "issue"
    status: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.site}:{self.key}: {self.message}"


@dataclass
class ApplyReport:
    applied: int = 0
    failed: int = 0
    not_attempted: int = 0
    comments_created: int = 0
    comments_edited: int = 0
    comments_recreated: int = 0  # posted again because a person had deleted the owned comment
    comments_adopted: int = 0  # found by marker with no id in the state (an earlier run died)
    comments_deleted: int = 0  # duplicate owned comments (two runs posted at once) deleted
    labels_added: int = 0
    labels_removed: int = 0
    properties_written: int = 0
    errors: list[IssueError] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    sites_stopped: dict[str, str] = field(default_factory=dict)  # site -> why its writes were stopped
    seconds: float = 0.0

    @property
    def all_applied(self) -> bool:
        return self.failed == 0 and self.not_attempted == 0

    def to_json(self) -> dict[str, Any]:
        """The counters above plus ``all_applied``, ``errors`` ({site, key, step, status, message}),
        ``notices`` (strings) and ``sites_stopped`` (site -> why writing to it stopped)."""
        out = {k: v for k, v in vars(self).items() if k not in ("errors", "notices", "sites_stopped")}
        out["all_applied"] = self.all_applied
        out["errors"] = [vars(e) for e in self.errors]
        out["notices"] = list(self.notices)
        out["sites_stopped"] = dict(self.sites_stopped)
        return out


class _IssueFailed(Exception):
    def __init__(self, step: str, status: int | None, message: str):
        self.step, self.status, self.message = step, status, message
        super().__init__(message)


def _describe(exc: JiraApiError, step: str) -> str:
    detail = "; ".join(m for m in exc.error_messages if m) or exc.message
    if exc.status == 404:
        return ("issue not found (deleted, moved or no longer visible since the plan was made); "
                f"stopped at the {step}")
    if exc.status == 403:
        return f"permission denied writing the {step}: {detail}"
    if exc.status == 400:
        return f"Jira rejected the {step}: {detail}"
    if exc.status == 429:
        return f"Jira rate limit still in force after retrying; run sync again later ({detail})"
    return f"{step} failed: {exc}"


class _Run:
    def __init__(self, clients: Mapping[str, Any], *, notify: bool,
                 on_notify_refused: str, concurrency: int, clock: Callable[[], float],
                 sleep: Callable[[float], None]):
        self.clients = clients
        self.notify = notify
        self.on_notify_refused = on_notify_refused
        self.concurrency = max(1, concurrency)
        self.report = ApplyReport()
        self.lock = threading.Lock()
        self.slots = threading.Condition(self.lock)
        self.active: dict[str, int] = {}
        self.stop = threading.Event()
        self.fatal: WriteBackError | None = None
        self.stopped_sites: dict[str, str] = {}
        self.gates: dict[str, RateGate] = {}
        self.own_gate: dict[str, bool] = {}
        for site, client in clients.items():
            gate = getattr(client, "gate", None)
            self.own_gate[site] = not isinstance(gate, RateGate)
            self.gates[site] = gate if isinstance(gate, RateGate) else RateGate(
                concurrency=self.concurrency, clock=clock, sleep=sleep)

    # --- bookkeeping ----------------------------------------------------------------------------

    def count(self, **deltas: int) -> None:
        with self.lock:
            for name, n in deltas.items():
                setattr(self.report, name, getattr(self.report, name) + n)

    def fail(self, p: IssuePlan, step: str, status: int | None, message: str) -> None:
        with self.lock:
            self.report.failed += 1
            self.report.errors.append(IssueError(p.site, p.key, step, status, message))

    # --- one write, with notification fallback and pacing ---------------------------------------

    def write(self, p: IssuePlan, fn: Callable[[bool], T], *, notifies: bool = True) -> T:
        """Run one write; ``fn(notify)``. Handles Jira refusing ``notifyUsers=false``."""
        if self.own_gate[p.site]:
            self.gates[p.site].wait_turn(p.key)
        notify = self.notify or not notifies
        try:
            return fn(notify)
        except JiraApiError as exc:
            if notify or not isinstance(exc, NotifyRefused):
                raise
            self.notify_refused(p, exc)
            if self.own_gate[p.site]:
                self.gates[p.site].wait_turn(p.key)
            return fn(True)

    def notify_refused(self, p: IssuePlan, exc: JiraApiError) -> None:
        base = (f"Jira refused to write without notifications on {p.site}:{p.key} (notify: false needs "
                "the account to administer the project or Jira)")
        if self.on_notify_refused == "notify":
            with self.lock:
                first = not self.notify
                self.notify = True  # the rest of the run writes with notifications
                if first:
                    self.report.notices.append(
                        base + "; writing with notifications instead, as writeback.on_notify_refused "
                        "is 'notify'")
            return
        err = WriteBackError(base + "; stopped, as writeback.on_notify_refused is 'fail' (grant the "
                             "account project admin, or set on_notify_refused: notify)")
        with self.lock:
            if self.fatal is None:
                self.fatal = err
                self.report.notices.append(str(err))
        self.stop.set()
        raise err

    # --- the comment ----------------------------------------------------------------------------

    def find_owned(self, p: IssuePlan) -> str | None:
        """The oldest comment by the bot account that carries the marker, if any."""
        owned = check_comments(self.clients[p.site], p.key).owned
        return owned[0] if owned else None

    def edit(self, p: IssuePlan, comment_id: str) -> str:
        client = self.clients[p.site]
        try:
            self.write(p, lambda n: client.edit_comment(p.key, comment_id, p.comment_body, notify=n))
        except JiraApiError as exc:
            if exc.status == 403:
                raise _IssueFailed("comment", 403, (
                    f"Jira refused to edit comment {comment_id} (403): it is not this account's own "
                    "comment or the account may not edit comments; left untouched, nothing else "
                    "written for this issue")) from None
            raise
        self.count(comments_edited=1)
        return comment_id

    def post(self, p: IssuePlan) -> str:
        client = self.clients[p.site]
        try:
            raw = self.write(p, lambda _n: client.add_comment(p.key, p.comment_body), notifies=False)
            comment_id = str(raw["id"])
        except JiraApiError as exc:
            if exc.status is not None or isinstance(exc, WritesStopped):  # WritesStopped: never sent
                raise
            # The connection broke: the comment may have landed. Look before anyone posts again.
            found = self.find_owned(p)
            if found is None:
                raise
            comment_id = found
        self.count(comments_created=1)
        return comment_id

    def comment(self, p: IssuePlan) -> str | None:
        """Edit (or post) the owned comment; then delete duplicate owned comments."""
        if p.comments_verified:
            owned = tuple(c for c in (p.comment_id, *p.delete_comments) if c)
            known = frozenset(owned)
        else:  # never edit an id taken from the state without proving it is the bot's
            check = check_comments(self.clients[p.site], p.key)
            owned, known = check.owned, check.all_ids
        target = p.comment_id if p.comment_id in owned else None
        deleted = bool(p.comment_id) and p.comment_id not in known
        if p.comment_id and target is None and not deleted:
            with self.lock:
                self.report.notices.append(
                    f"{p.site}:{p.key}: the state names comment {p.comment_id}, which the pmo-jira "
                    "account did not write; left untouched")
        if target is None and owned:
            target = owned[0]
            self.count(comments_adopted=1)
        if target is not None and p.comment is not None:
            try:
                self.edit(p, target)
            except JiraApiError as exc:
                if exc.status != 404:
                    raise
                target, deleted = None, True  # deleted since it was read
        if target is None and p.comment is not None and p.comment is not CommentOp.CLEAR:
            if deleted:
                self.count(comments_recreated=1)
            target = self.post(p)
        for extra in [c for c in owned if c != target][:MAX_DELETES_PER_RUN]:
            self.write(p, partial(self._delete_comment, p, extra), notifies=False)
            self.count(comments_deleted=1)
        return target

    def _delete_comment(self, p: IssuePlan, comment_id: str, _notify: bool) -> None:
        self.clients[p.site].delete_comment(p.key, comment_id)

    # --- one issue --------------------------------------------------------------------------------

    def issue(self, p: IssuePlan) -> bool:
        """All writes of one issue; False when it failed (recorded in the report)."""
        client = self.clients[p.site]
        assert p.writes + 1 <= PER_ISSUE_WRITE_LIMIT  # + the comments read when adopting
        base_url = getattr(client, "base_url", None)
        if base_url and getattr(client, "flavour", None) is Flavour.CLOUD:  # Cloud's search lags behind writes
            note_own_write(base_url, p.issue_id)
        step = "comment"
        try:
            comment_id = p.comment_id
            if p.comment is not None or p.delete_comments:
                comment_id = self.comment(p)
            state = {} if p.new_state is None else {
                STATE_PROPERTY: p.new_state.with_comment_id(comment_id).to_json()}
            if p.add_labels or p.remove_labels:
                step = "labels"  # and the state with them: one request on Cloud
                self.write(p, lambda n: client.edit_labels(p.key, p.add_labels, p.remove_labels,
                                                           notify=n, properties=state))
                self.count(labels_added=len(p.add_labels), labels_removed=len(p.remove_labels),
                           properties_written=len(state))
            elif state:
                step = "state"
                self.write(p, lambda _n: client.set_property(p.key, STATE_PROPERTY, state[STATE_PROPERTY]),
                           notifies=False)
                self.count(properties_written=1)
        except _IssueFailed as exc:
            self.fail(p, exc.step, exc.status, exc.message)
            return False
        except WriteBackError as exc:  # notifications refused and on_notify_refused is "fail"
            self.fail(p, step, 403, str(exc))
            raise
        except Interrupted:
            self.fail(p, step, None, f"interrupted before the {step} was written; the next run finishes it")
            raise
        except JiraApiError as exc:
            self.fail(p, step, exc.status, _describe(exc, step))
            breaker = getattr(client, "breaker", None)
            if exc.status == 429 or isinstance(exc, WritesStopped) or (breaker is not None and breaker.open):
                with self.lock:
                    self.stopped_sites.setdefault(p.site, breaker.reason if breaker is not None and breaker.open
                                                  else str(exc))
            return False
        self.count(applied=1)
        return True

    def worker(self, p: IssuePlan) -> None:
        if p.site not in self.clients:
            self.fail(p, "issue", None, f"no Jira connection for site {p.site!r}")
            return
        gate = self.gates[p.site]
        with self.slots:
            while self.active.get(p.site, 0) >= max(1, min(self.concurrency, gate.concurrency)):
                self.slots.wait()
            self.active[p.site] = self.active.get(p.site, 0) + 1
        try:
            breaker = getattr(self.clients[p.site], "breaker", None)
            if self.stop.is_set() or p.site in self.stopped_sites or (breaker is not None and breaker.open):
                self.count(not_attempted=1)
                return
            try:
                gate.wait_turn(None)  # after a 429 the gate stays closed for the server's wait
            except Interrupted:
                self.count(not_attempted=1)
                raise
            if self.issue(p):
                gate.succeeded()  # a run of clean issues lets concurrency grow back
        finally:
            with self.slots:
                self.active[p.site] -= 1
                self.slots.notify_all()


def apply_plan(plan: Plan, clients: Mapping[str, Any], *, notify: bool, on_notify_refused: str = "fail",
               concurrency: int = 4, clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep,
               on_issue: Callable[[int, int], None] | None = None) -> ApplyReport:
    """Write ``plan`` to Jira with ``clients`` (site name -> ``JiraClient``); see the module doc.

    Raises ``WriteBackError`` only when Jira refuses ``notify=False`` and ``on_notify_refused`` is
    "fail" (the report so far is on the exception's ``report``); every other per-issue failure is
    in the returned report. ``on_issue(done, total)`` hears as each issue's writes end (progress).
    """
    if on_notify_refused not in ("fail", "notify"):
        raise WriteBackError(f"on_notify_refused must be 'fail' or 'notify', not {on_notify_refused!r}")
    run = _Run(clients, notify=notify, on_notify_refused=on_notify_refused,
               concurrency=concurrency, clock=clock, sleep=sleep)
    started = clock()
    with ThreadPoolExecutor(max_workers=run.concurrency, thread_name_prefix="pmo-writeback") as pool:
        futures = [pool.submit(run.worker, p) for p in plan.issues]
        crash: BaseException | None = None
        for done, fut in enumerate(futures, 1):
            try:
                fut.result()
                if on_issue is not None:
                    on_issue(done, len(futures))
            except WriteBackError:
                pass  # recorded in run.fatal; the others stop before their next issue
            except BaseException as exc:  # an unexpected crash: stop the others, then re-raise
                run.stop.set()
                crash = crash or exc
    for site, why in run.stopped_sites.items():
        run.report.notices.append(f"stopped writing to {site}: {why}")
        breaker = getattr(clients.get(site), "breaker", None)
        if breaker is not None and breaker.open:  # the site failed, not only some issues
            run.report.sites_stopped[site] = f"writes stopped: {why}"
    run.report.seconds = clock() - started
    if isinstance(crash, Interrupted):
        crash.report = run.report
    if crash is not None:
        raise crash
    if run.fatal is not None:
        run.fatal.report = run.report  # type: ignore[attr-defined]
        raise run.fatal
    return run.report
