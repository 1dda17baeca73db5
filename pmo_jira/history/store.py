"""The run history: record runs, and compare them over time.

From the events a run leaves (``schema.py``): new / resolved / persisting findings against the
previous audit of each site with the same mapping, items that moved phase, time to fix and a
compliance trend.

Only *open* findings (outcome fail or error) take part in new / resolved / persisting: a finding
that gets waived counts as resolved, one whose waiver expires as new. A finding on a site a run
could not audit is neither resolved nor persisting but ``unchecked``, so a Jira outage never
looks like a clean-up; when the site is back, its findings are compared with its last audit.

Only full, finished runs are compared. A run of some sites (``--site``, one job per site) is a
full run of those sites and leaves the others as they were. A run narrowed by ``--project`` or
``--jql``, or stopped by a signal, is recorded with its totals and marked so (``narrowed``,
``interrupted``), but leaves no events: it is never compared, nor compared against.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from pmo_jira.errors import NotInHistory, PmoError
from pmo_jira.findings import AuditResult, Finding, Severity
from pmo_jira.history import events as ev
from pmo_jira.history import migrate
from pmo_jira.history.database import HistoryTarget, advisory_lock_id, database_errors, make_engine, parse_target
from pmo_jira.history.models import Delta, FindingRef, Fix, PerSite, PhaseMove, RunRecord, TimeToFix, TrendPoint, sorted_refs, stored_time
from pmo_jira.history.schema import FINDING_ATTRS, ITEM_ATTRS, finding_events, item_events, run_counts, run_facts, runs, site_facts
from pmo_jira.private_files import create_private
from pmo_jira.settings import load_settings

_SEVERITIES = tuple(s.value for s in reversed(Severity))  # critical first
_WRITTEN = (runs, run_counts, run_facts, site_facts, finding_events, item_events)  # by record_run and prune
_GRANT = (" (grant the account SELECT, INSERT and DELETE on the history's tables and USAGE on their "
          "sequences, see docs/history.md)")
_MAX_ID = 2**63  # SQLite's and PostgreSQL's integers stop below this; a larger number names no run
_COMPARED = sa.and_(runs.c.narrowed.is_(None), runs.c.interrupted.is_(None))  # see RunRecord.compared


def _machine_clock() -> datetime:
    return datetime.now(timezone.utc)


def history_target(target: str | Path | None = None) -> HistoryTarget:
    """The history at ``target`` (a path, ``sqlite:///path`` or ``postgresql://user@host/db``);
    None: the configured one (``history`` in the config file, ``PMO_JIRA_HISTORY``, else
    ``$XDG_DATA_HOME/pmo-jira/history.sqlite``)."""
    return parse_target(str(load_settings().history if target is None else target))


def existing_history(target: str | Path | None = None) -> HistoryStore | None:
    """The store at ``target``, or None when no run was ever recorded there: reading creates nothing."""
    where = history_target(target)
    if where.path is not None and not where.path.exists():
        return None
    store = HistoryStore(where, create=False)
    if store.empty:
        store.close()
        return None
    return store


class HistoryStore:
    """The run history at ``target`` (see ``history_target``), created on first use.

    An older schema is migrated on open for a SQLite file (one machine, one transaction); a
    shared PostgreSQL history is migrated only by ``pmo-jira history migrate`` (``migrate=True``),
    so runners of two pmo-jira versions never race to change it.
    """

    def __init__(self, target: str | Path | HistoryTarget | None = None, *, timeout: float = 10.0,
                 create: bool = True, migrate: bool | None = None):
        self.target = target if isinstance(target, HistoryTarget) else history_target(target)
        self.path: Path | None = self.target.path
        self.migrated_from: str | None = None  # the revision found, when this open migrated
        self.created = False  # this open created the schema in an empty database
        if self.path is not None and create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise PmoError(f"history database {self.path}: cannot create its folder: "
                               f"{exc.strerror or exc}") from None
            try:
                create_private(self.path)  # it holds site data: owner-only, like its -wal/-shm files
            except OSError as exc:
                raise PmoError(f"history database {self.path}: cannot create it: "
                               f"{exc.strerror or exc}") from None
        self._engine = make_engine(self.target, timeout=timeout)
        try:
            with self._guard():
                self.empty = self._open(create, self.target.path is not None if migrate is None else migrate)
        except BaseException:
            self._engine.dispose()
            raise

    def __str__(self) -> str:
        return str(self.target)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_postgres(self) -> bool:
        return self.target.is_postgres

    def _guard(self):  # type: ignore[no-untyped-def]
        return database_errors(self.target)

    def _open(self, create: bool, auto_migrate: bool) -> bool:
        """Check (and if allowed bring up to date) the schema; True when the database is empty."""
        with self._engine.connect() as conn:
            state = migrate.schema_state(conn, str(self))
            conn.rollback()
        if state.current:
            return False
        if state.revision is None and not create:
            return True
        if state.revision is not None and not auto_migrate:
            raise PmoError(f"history database {self} is at schema revision {state.revision}, this "
                           f"pmo-jira needs {state.head}: run `pmo-jira history migrate`")
        with self.transaction() as conn:
            if self.is_postgres:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(migrate.MIGRATION_LOCK)))
            state = migrate.schema_state(conn, str(self))  # another runner may have done it meanwhile
            if not state.current:
                migrate.upgrade(conn, state)
                self.migrated_from, self.created = state.revision, state.revision is None
        return False

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction (SQLAlchemy Core connection); on SQLite it takes the write lock up
        front, so writers queue. Public so that plugins keep their own tables with the same discipline.
        """
        with self._guard(), self._engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                yield conn

    def check_writable(self) -> None:
        """PmoError unless runs can be recorded here, found before a run reads Jira (and before a
        sync writes to it) rather than after: a database account allowed to read only, a
        read-only file. Each table a recording or pruning writes is written nothing, which the
        database checks the account's rights for all the same; then it is rolled back."""
        with self._guard(), self._engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin() as transaction:
                try:
                    for table in _WRITTEN:
                        conn.execute(table.insert().from_select(list(table.c.keys()),
                                                                sa.select(table).where(sa.false())))
                        conn.execute(table.delete().where(sa.false()))
                    # a run's id comes from a sequence the statements above never touch
                    allowed = not self.is_postgres or conn.execute(sa.select(sa.func.has_sequence_privilege(
                        sa.func.pg_get_serial_sequence("runs", "id"), "USAGE"))).scalar()
                except sa.exc.ProgrammingError as exc:  # PostgreSQL: the account lacks a right
                    raise PmoError(f"history database {self} cannot record runs: "
                                   f"{' '.join(str(exc.orig).split())}{_GRANT}") from None
                if allowed is False:  # None: runs.id has no sequence of its own to check
                    raise PmoError(f"history database {self} cannot record runs: permission denied "
                                   f"for the sequence of runs.id{_GRANT}")
                transaction.rollback()

    def clock_skew(self) -> timedelta:
        """How far this machine's clock is behind the shared database server's (negative: ahead);
        zero for a SQLite file. Each runner dates its runs by its own clock and the history
        orders them so: a runner whose clock is off files its runs out of order."""
        if not self.is_postgres:
            return timedelta(0)
        before = _machine_clock()
        server = self.query(sa.select(sa.func.clock_timestamp()))[0][0]
        after = _machine_clock()
        return server - (before + (after - before) / 2)

    def query(self, statement: sa.Executable | str, params: dict[str, Any] | None = None) -> list[Row]:
        """A read (a Core statement, or SQL text with ``:name`` parameters); a failure is one line."""
        if isinstance(statement, str):
            statement = sa.text(statement)
        with self._guard(), self._engine.connect() as conn:
            return list(conn.execute(statement, params or {}).all())

    # --- writing ----------------------------------------------------------------------------------

    def record_run(self, result: AuditResult, *, kind: Literal["audit", "sync"] = "audit",
                   writes_planned: int = 0, writes_applied: int = 0, errors: int = 0,
                   facts: dict[str, Any] | None = None, narrowed: str | None = None,
                   interrupted: str | None = None) -> int:
        """Store one run and return its id. The run's time is ``result.started``. ``facts``:
        plugin name -> JSON-able figures kept with the run (read back with ``run_facts``), or a
        ``PerSite`` of them, kept for the newest run of each site only (``latest_site_facts``).

        Only what changed on each audited site since its previous audit is written. A run that
        started before runs already recorded (a late upload) slots in by its start time: the next
        audit of each of its sites is re-based onto it. A run ``narrowed`` (how: ``--project
        DIG``) or ``interrupted`` (by which signal) is kept with its totals only: it leaves no
        events, so no other run is ever compared with it.
        """
        if kind not in ("audit", "sync"):
            raise ValueError(f"kind must be 'audit' or 'sync', not {kind!r}")
        findings = _one_per_fingerprint(result.findings)
        after_i = {(i.site, i.key): (i.kind, i.project_key, i.phase) for i in result.items}  # one per item
        checked = (set(result.sites) - set(result.site_errors)) | {f.site for f in findings.values()} \
            | {i.site for i in result.items}
        after_f = {(f.site, fp): (f.code, f.project_key, f.item_key, f.severity.value, f.outcome.value, f.phase)
                   for fp, f in findings.items()}
        started = stored_time(result.started)
        with self.transaction() as conn:
            self._lock_mapping(conn, result.mapping_name)
            run_id = int(conn.execute(runs.insert().values(
                started=started, finished=stored_time(result.finished), kind=kind,
                mapping_name=result.mapping_name, mapping_hash=result.mapping_hash,
                sites=json.dumps(sorted(result.sites)),
                site_errors=json.dumps(dict(sorted(result.site_errors.items()))),
                issues_read=result.issues_read, requests=result.requests, findings_total=len(findings),
                findings_open=sum(f.counts for f in findings.values()), items_checked=len(after_i),
                unmapped=sum(phase is None for _, _, phase in after_i.values()), writes_planned=writes_planned,
                writes_applied=writes_applied, errors=errors, narrowed=narrowed,
                interrupted=interrupted)).inserted_primary_key[0])
            counts: dict[str, int] = {}
            for f in findings.values():
                if f.counts:
                    counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
            if counts:
                conn.execute(run_counts.insert(), [{"run_id": run_id, "severity": s, "open": n}
                                                   for s, n in counts.items()])
            per_run = {name: data for name, data in (facts or {}).items() if not isinstance(data, PerSite)}
            if per_run:
                conn.execute(run_facts.insert(), [
                    {"run_id": run_id, "name": name, "data": _json(data)} for name, data in sorted(per_run.items())])
            if narrowed is not None or interrupted is not None:
                return run_id  # kept for the record: no events, and no per-site facts a roll-up would take
            for name, data in sorted((facts or {}).items()):
                if isinstance(data, PerSite):
                    self._keep_site_facts(conn, run_id, result.mapping_name, started, name,
                                          {site: d for site, d in data.items() if site in checked})
            order = (started, run_id)
            before_f = self._state(conn, finding_events, result.mapping_name, order, inclusive=False)
            before_i = self._state(conn, item_events, result.mapping_name, order, inclusive=False)
            new_f = ev.changes(ev.only_sites(before_f, checked), after_f, findings=True)
            new_i = ev.changes(ev.only_sites(before_i, checked), after_i, findings=False)
            _insert_events(conn, run_id, new_f, new_i)
            for later in self._later_runs(conn, result.mapping_name, order):
                sites = later.checked_sites & checked
                if sites:
                    self._rebase(conn, later.id, sites, before_f, before_i, after_f, after_i)
                    checked -= sites
                if not checked:
                    break
        return run_id

    @staticmethod
    def _keep_site_facts(conn: Connection, run_id: int, mapping: str, started: str, name: str,
                         data: dict[str, Any]) -> None:
        """Keep ``name``'s figures of each site for this run, unless a run of the mapping that
        started later already kept some, and drop those of the earlier runs."""
        sf = site_facts.c
        for site, figures in sorted(data.items()):
            kept = conn.execute(sa.select(sf.run_id, runs.c.started).join(runs, runs.c.id == sf.run_id).where(
                runs.c.mapping_name == mapping, sf.site == site, sf.name == name)).all()
            if any((t, rid) > (started, run_id) for rid, t in kept):
                continue  # a late upload: the site's newer figures stay
            if kept:
                conn.execute(sa.delete(site_facts).where(sf.site == site, sf.name == name,
                                                         sf.run_id.in_([rid for rid, _ in kept])))
            conn.execute(site_facts.insert().values(run_id=run_id, site=site, name=name,
                                                    data=_compressed(_json_pieces(figures))))

    def prune(self, before: datetime, *, dry_run: bool = False) -> int:
        """Delete the runs that started before ``before``; return how many (were) deleted.

        What the kept runs say does not change, except that the first kept audit of each site
        has no previous one any more (as if the history started there): its open findings are
        new and their time to fix counts from it.
        """
        cutoff = stored_time(before)
        with self.transaction() as conn:
            doomed = conn.execute(sa.select(runs.c.id, runs.c.mapping_name).where(runs.c.started < cutoff)).all()
            if dry_run or not doomed:
                return len(doomed)
            for mapping in sorted({m for _, m in doomed}):
                self._lock_mapping(conn, mapping)
                last = conn.execute(sa.select(runs.c.started, runs.c.id).where(
                    runs.c.mapping_name == mapping, runs.c.started < cutoff)
                    .order_by(runs.c.started.desc(), runs.c.id.desc()).limit(1)).one()
                order = (last[0], last[1])
                base_f = self._state(conn, finding_events, mapping, order, inclusive=True)
                base_i = self._state(conn, item_events, mapping, order, inclusive=True)
                pending = {k[0] for k in base_f} | {k[0] for k in base_i}
                for later in self._later_runs(conn, mapping, order):
                    sites = later.checked_sites & pending
                    if sites:
                        self._rebase(conn, later.id, sites, base_f, base_i, {}, {})
                        pending -= sites
                    if not pending:
                        break
            conn.execute(sa.delete(runs).where(runs.c.started < cutoff))
        return len(doomed)

    def _rebase(self, conn: Connection, run_id: int, sites: set[str], old_f: ev.State, old_i: ev.State,
                new_f: ev.State, new_i: ev.State) -> None:
        """Re-write ``run_id``'s events on ``sites``: they were relative to ``old_*``, now to ``new_*``."""
        for table, old, new, findings in ((finding_events, old_f, new_f, True),
                                          (item_events, old_i, new_i, False)):
            attrs = FINDING_ATTRS if findings else ITEM_ATTRS
            key = table.c.fingerprint if findings else table.c.key
            where = sa.and_(table.c.run_id == run_id, table.c.site.in_(sorted(sites)))
            rows = conn.execute(sa.select(table.c.site, key, *(table.c[a] for a in attrs)).where(where)).all()
            state = ev.apply(ev.only_sites(old, sites), (((r[0], r[1]), tuple(r[2:])) for r in rows),
                             findings=findings)
            conn.execute(sa.delete(table).where(where))
            changed = ev.changes(ev.only_sites(new, sites), state, findings=findings)
            _insert_events(conn, run_id, changed if findings else [], [] if findings else changed)

    def _lock_mapping(self, conn: Connection, mapping: str) -> None:
        """Writers of one mapping queue (PostgreSQL; SQLite's write lock already serialises all)."""
        if self.is_postgres:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(advisory_lock_id("history " + mapping))))

    # --- reading ----------------------------------------------------------------------------------

    def runs(self, limit: int | None = 20, *, mapping: str | None = None,
             compared: bool = False) -> list[RunRecord]:
        """The most recent runs, newest first; ``compared``: only full, finished runs."""
        stmt = sa.select(runs).order_by(runs.c.started.desc(), runs.c.id.desc())
        if mapping:
            stmt = stmt.where(runs.c.mapping_name == mapping)
        if compared:
            stmt = stmt.where(_COMPARED)
        if limit is not None and limit < _MAX_ID:  # more than a database integer holds: no limit
            stmt = stmt.limit(limit)
        return [_record(r) for r in self.query(stmt)]

    def runs_between(self, since: datetime, until: datetime, *, mapping: str) -> list[RunRecord]:
        """Full, finished runs of ``mapping`` that started in [since, until), oldest first."""
        rows = self.query(sa.select(runs).where(
            runs.c.mapping_name == mapping, runs.c.started >= stored_time(since), runs.c.started < stored_time(until),
            _COMPARED)
            .order_by(runs.c.started, runs.c.id))
        return [_record(r) for r in rows]

    def last_run_before(self, moment: datetime, *, mapping: str) -> RunRecord | None:
        """The latest full, finished run of ``mapping`` that started before ``moment``."""
        rows = self.query(sa.select(runs).where(runs.c.mapping_name == mapping, runs.c.started < stored_time(moment),
                                                _COMPARED)
                          .order_by(runs.c.started.desc(), runs.c.id.desc()).limit(1))
        return _record(rows[0]) if rows else None

    def run_facts(self, run_id: int, name: str) -> dict[str, Any] | None:
        """The figures plugin ``name`` kept with a run (None: it kept none)."""
        rows = self.query(sa.select(run_facts.c.data).where(run_facts.c.run_id == run_id, run_facts.c.name == name))
        return json.loads(rows[0][0]) if rows else None

    def run(self, run_id: int) -> RunRecord:
        rows = self.query(sa.select(runs).where(runs.c.id == run_id)) if 0 < run_id < _MAX_ID else []
        if not rows:
            raise PmoError(f"history database {self} has no run {run_id}")
        return _record(rows[0])

    def previous(self, run: RunRecord) -> RunRecord | None:
        """The full, finished run of the same mapping just before ``run``."""
        t = stored_time(run.started)
        rows = self.query(sa.select(runs).where(
            runs.c.mapping_name == run.mapping_name, _COMPARED,
            sa.or_(runs.c.started < t, sa.and_(runs.c.started == t, runs.c.id < run.id)))
            .order_by(runs.c.started.desc(), runs.c.id.desc()).limit(1))
        return _record(rows[0]) if rows else None

    def compare(self, run_id: int | None = None) -> Delta:
        """``run_id`` (default: the latest run) against the previous audit of each of its sites."""
        if run_id is None:
            latest = self.runs(1)
            if not latest:
                raise PmoError(f"history database {self} has no runs yet")
            run = latest[0]
        else:
            run = self.run(run_id)
        return self.deltas([run])[0]

    def deltas(self, selected: Sequence[RunRecord]) -> list[Delta]:
        """``compare`` for several runs at once (one pass over each mapping's events), in order."""
        out: dict[int, Delta] = {}
        for mapping in sorted({r.mapping_name for r in selected}):
            wanted = {r.id for r in selected if r.mapping_name == mapping}
            for run, previous, found, found_events, classified, item_changes in self._replay(mapping, wanted):
                out[run.id] = _delta(run, previous, found, found_events, classified, item_changes)
        return [out[r.id] for r in selected]

    def time_to_fix(self, *, mapping: str | None = None) -> TimeToFix:
        """Resolved findings and how long each stayed open, over the whole history.

        A finding that re-appears after being resolved starts a new episode; findings on a site a
        run could not audit stay open through that run.
        """
        fixes: list[Fix] = []
        still_open = 0
        for name in [mapping] if mapping else self._mapping_names():
            open_since: dict[ev.Key, tuple[datetime, FindingRef]] = {}
            for run, _, _, changes, _, _ in self._replay(name, set()):
                for key, event, attrs in changes:
                    if event == "opened":
                        open_since[key] = (run.started, _ref(key, attrs))
                    elif event in ("resolved", "waived") and key in open_since:
                        since, ref = open_since.pop(key)
                        fixes.append(Fix(ref.fingerprint, ref.code, ref.site, ref.item_key, since, run.started))
            still_open += len(open_since)
        fixes.sort(key=lambda f: (f.resolved, f.site, f.item_key, f.code, f.fingerprint))
        return TimeToFix(tuple(fixes), still_open)

    def compliance_trend(self, limit: int = 20, *, mapping: str | None = None) -> list[TrendPoint]:
        """Open findings per severity and items checked, for the last ``limit`` full, finished
        runs, oldest first (a narrowed run's counts would read as a sudden improvement)."""
        recent = list(reversed(self.runs(limit, mapping=mapping, compared=True)))
        if not recent:
            return []
        counts: dict[int, dict[str, int]] = {r.id: dict.fromkeys(_SEVERITIES, 0) for r in recent}
        for run_id, severity, n in self.query(sa.select(run_counts).where(run_counts.c.run_id.in_(list(counts)))):
            counts[run_id][severity] = n
        return [TrendPoint(r.id, r.started, r.kind, r.mapping_name, counts[r.id], r.items_checked)
                for r in recent]

    def open_findings(self, run_id: int) -> dict[str, FindingRef]:
        """The open (fail or error) findings of a run on the sites it audited, by fingerprint."""
        run = self.run(run_id)
        found = self._state_at(finding_events, run)
        return {k[1]: _ref(k, a) for k, a in sorted(found.items())
                if k[0] in run.checked_sites and ev.is_open(a)}

    def item_phases(self, run_id: int) -> dict[tuple[str, str], tuple[str, str | None]]:
        """(site, key) -> (kind, phase) of every item a run classified."""
        run = self.run(run_id)
        return {k: (a[0], a[2]) for k, a in sorted(self._state_at(item_events, run).items())
                if k[0] in run.checked_sites}

    def latest_site_facts(self, name: str, *, mapping: str) -> dict[str, tuple[RunRecord, Any]]:
        """site -> (the run, the figures) plugin ``name`` kept per site (``PerSite``) for runs of ``mapping``."""
        sf = site_facts.c
        rows = self.query(sa.select(runs, sf.site, sf.data).join(site_facts, sf.run_id == runs.c.id)
                          .where(runs.c.mapping_name == mapping, sf.name == name, _COMPARED).order_by(sf.site))
        return {row._mapping["site"]: (_record(row), json.loads(zlib.decompress(row._mapping["data"])))
                for row in rows}

    def kept_per_site(self, name: str, *, mapping: str, sites: Sequence[str], version: int, what: str,
                      absent: str = "recorded by an older pmo-jira", instead: str = "") -> dict[str, tuple[RunRecord, Any]]:
        """site -> (its newest full run, the figures plugin ``name`` kept with it, of ``version``) for
        each of ``sites``, what a report rendered from the history alone starts from. A site without
        them is a ``NotInHistory`` line naming what to run; ``what`` names the figures for people,
        ``absent`` why a run may lack them, ``instead`` what else to do (e.g. ", or leave out ...")."""
        latest = self.latest_full_runs(mapping)
        kept = self.latest_site_facts(name, mapping=mapping)
        out: dict[str, tuple[RunRecord, Any]] = {}
        for site in sites:
            run = latest.get(site)
            if run is None:
                if any(site in r.sites for r in self.runs(None, mapping=mapping)):
                    raise NotInHistory(f"site {site}: the run history has no full run of it with mapping {mapping!r} "
                                       f"(every run it is in failed to read it): run `pmo-jira audit --site {site}` first")
                raise NotInHistory(f"site {site} has never been recorded in the run history with mapping {mapping!r}: "
                                   f"run `pmo-jira audit --site {site}` (or `sync --site {site}`) first")
            figures = kept.get(site)
            if figures is None or figures[0].id != run.id:
                raise NotInHistory(f"site {site}: its newest full run (run {run.id}) kept no {what} ({absent}): "
                                   f"run `pmo-jira audit --site {site}` first{instead}")
            if figures[1].get("format") != version:
                raise NotInHistory(f"site {site}: run {run.id} kept {what} of format {figures[1].get('format')}, "
                                   f"this pmo-jira reads {version}: upgrade pmo-jira")
            out[site] = figures
        return out

    def known_findings(self, run_id: int) -> dict[str, FindingRef]:
        """The open findings the history knew when a run ended, by fingerprint: every site as its
        own latest audit up to that run left it. The baseline to compare a later run with: per-site
        jobs (``--site``) record into one history, and a run of site A (or one where site B was
        down) leaves B's findings as B's last audit found them; a baseline of A's alone would make
        all of B's look new."""
        found = self._state_at(finding_events, self.run(run_id))
        return {k[1]: _ref(k, a) for k, a in sorted(found.items()) if ev.is_open(a)}

    def known_phases(self, run_id: int) -> dict[tuple[str, str], tuple[str, str | None]]:
        """(site, key) -> (kind, phase) of every item the history knew when a run ended (as
        ``known_findings``)."""
        return {k: (a[0], a[2]) for k, a in sorted(self._state_at(item_events, self.run(run_id)).items())}

    def latest_full_runs(self, mapping: str | None = None) -> dict[str, RunRecord]:
        """site -> the newest full, finished run that audited it (with ``mapping``, if given)."""
        latest: dict[str, RunRecord] = {}
        for run in self.runs(None, mapping=mapping):
            for site in run.checked_sites:
                latest.setdefault(site, run)
        return dict(sorted(latest.items()))

    # --- helpers ----------------------------------------------------------------------------------

    def _mapping_names(self) -> list[str]:
        return [r[0] for r in self.query(sa.select(runs.c.mapping_name).distinct().order_by(runs.c.mapping_name))]

    def _state_at(self, table: sa.Table, run: RunRecord) -> ev.State:
        with self._guard(), self._engine.connect() as conn:
            return self._state(conn, table, run.mapping_name, (stored_time(run.started), run.id), inclusive=True)

    @staticmethod
    def _state(conn: Connection, table: sa.Table, mapping: str, order: tuple[str, int], *,
               inclusive: bool) -> ev.State:
        """The state of every site of ``mapping`` just before (or after) the run at ``order``."""
        findings = table is finding_events
        key = table.c.fingerprint if findings else table.c.key
        attrs = FINDING_ATTRS if findings else ITEM_ATTRS
        t, run_id = order
        until = runs.c.id <= run_id if inclusive else runs.c.id < run_id
        rows = conn.execute(
            sa.select(table.c.site, key, *(table.c[a] for a in attrs))
            .join(runs, runs.c.id == table.c.run_id)
            .where(runs.c.mapping_name == mapping, sa.or_(runs.c.started < t, sa.and_(runs.c.started == t, until)))
            .order_by(runs.c.started, runs.c.id))
        # The site, code, project, severity, ... of tens of thousands of rows are a few hundred
        # distinct texts: each is held once, not once a row (the state of 100,000 items is large).
        common: dict[Any, Any] = {}
        share = common.setdefault
        return ev.apply({}, (((share(r[0], r[0]), r[1]), tuple([share(v, v) for v in r[2:]])) for r in rows),
                        findings=findings)

    @staticmethod
    def _later_runs(conn: Connection, mapping: str, order: tuple[str, int]) -> Iterator[RunRecord]:
        t, run_id = order
        for row in conn.execute(sa.select(runs).where(
                runs.c.mapping_name == mapping,
                sa.or_(runs.c.started > t, sa.and_(runs.c.started == t, runs.c.id > run_id)))
                .order_by(runs.c.started, runs.c.id)).all():
            yield _record(row)

    def _replay(self, mapping: str, wanted: set[int]) -> Iterator[tuple[
            RunRecord, RunRecord | None, ev.State, list[ev.Event], ev.State, list[ev.Event]]]:
        """Every run of ``mapping`` in order with the state before it and its events.

        Yields only the runs in ``wanted`` (all, when empty); the states are live: read them
        before asking for the next run.
        """
        with self._guard(), self._engine.connect() as conn:
            ordered = [_record(r) for r in conn.execute(
                sa.select(runs).where(runs.c.mapping_name == mapping).order_by(runs.c.started, runs.c.id))]
            by_run_f = _events_by_run(conn, finding_events, mapping, FINDING_ATTRS)
            by_run_i = _events_by_run(conn, item_events, mapping, ITEM_ATTRS)
        found: ev.State = {}
        classified: ev.State = {}
        previous: RunRecord | None = None
        remaining = set(wanted)
        for run in ordered:
            f_changes, i_changes = by_run_f.get(run.id, []), by_run_i.get(run.id, [])
            if not wanted or run.id in remaining:
                yield run, previous, found, f_changes, classified, i_changes
                remaining.discard(run.id)
                if wanted and not remaining:
                    return
            ev.apply(found, ((k, a) for k, _, a in f_changes), findings=True)
            ev.apply(classified, ((k, a) for k, _, a in i_changes), findings=False)
            if run.compared:
                previous = run


def _events_by_run(conn: Connection, table: sa.Table, mapping: str,
                   attrs: tuple[str, ...]) -> dict[int, list[ev.Event]]:
    key = table.c.fingerprint if table is finding_events else table.c.key
    out: dict[int, list[ev.Event]] = {}
    rows = conn.execute(sa.select(table.c.run_id, table.c.site, key, table.c.event, *(table.c[a] for a in attrs))
                        .join(runs, runs.c.id == table.c.run_id).where(runs.c.mapping_name == mapping))
    for r in rows:
        out.setdefault(r[0], []).append(((r[1], r[2]), r[3], tuple(r[4:])))
    return out


def _delta(run: RunRecord, previous: RunRecord | None, found: ev.State, changes: list[ev.Event],
           classified: ev.State, item_changes: list[ev.Event]) -> Delta:
    """The delta of ``run`` from the state before it (``found``/``classified``) and its events."""
    if not run.compared:  # kept for the record only: nothing new, resolved or persisting
        return Delta(run=run, previous=None, new=(), resolved=(), persisting=(), unchecked=(), phase_moves=())
    checked = run.checked_sites
    after = {k: a for k, _, a in changes}
    new = [_ref(k, a) for k, name, a in changes if name == "opened"]
    resolved = [_ref(k, found[k]) for k, name, a in changes if ev.is_open(found.get(k)) and not ev.is_open(a)]
    persisting = [_ref(k, after.get(k, a)) for k, a in found.items()
                  if k[0] in checked and ev.is_open(a) and ev.is_open(after.get(k, a))]
    unchecked = [_ref(k, a) for k, a in found.items() if k[0] in run.site_errors and ev.is_open(a)]
    moves = [PhaseMove(k[0], k[1], a[0], classified[k][2], a[2]) for k, name, a in item_changes
             if name == "changed" and classified[k][2] != a[2]]
    return Delta(run=run, previous=previous, new=sorted_refs(new),
                 resolved=sorted_refs(resolved), persisting=sorted_refs(persisting),
                 unchecked=sorted_refs(unchecked), phase_moves=tuple(sorted(moves, key=lambda m: (m.site, m.key))))


def _insert_events(conn: Connection, run_id: int, found: Iterable[ev.Event], classified: Iterable[ev.Event]) -> None:
    rows = [{"run_id": run_id, "site": k[0], "fingerprint": k[1], "event": name, **dict(zip(FINDING_ATTRS, a))}
            for k, name, a in found]
    if rows:
        conn.execute(finding_events.insert(), rows)
    rows = [{"run_id": run_id, "site": k[0], "key": k[1], "event": name, **dict(zip(ITEM_ATTRS, a))}
            for k, name, a in classified]
    if rows:
        conn.execute(item_events.insert(), rows)


def _json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _json_pieces(data: Any, rows: int = 2000) -> Iterator[str]:
    """``_json(data)`` in pieces that join to exactly its text: a dict key by key, a long list
    ``rows`` elements at a time. A site's figures run to tens of megabytes of JSON at 100,000
    issues; encoded whole, they would be held twice over (the encoder's parts and their join)."""
    if isinstance(data, dict) and all(isinstance(k, str) for k in data):
        yield "{"
        for i, key in enumerate(sorted(data)):
            yield ("," if i else "") + _json(key) + ":"
            yield from _json_pieces(data[key], rows)
        yield "}"
    elif isinstance(data, (list, tuple)) and len(data) > rows:
        yield "["
        for i in range(0, len(data), rows):
            yield ("," if i else "") + _json(data[i:i + rows])[1:-1]
        yield "]"
    else:
        yield _json(data)


def _compressed(pieces: Iterable[str]) -> bytes:
    """JSON ``pieces`` deflated one at a time, never joined. At the fastest level: a third of the
    time of the default for a quarter more bytes (only the newest run of each site keeps these,
    so the history does not grow with them)."""
    deflate = zlib.compressobj(1)
    out = [deflate.compress(piece.encode()) for piece in pieces]
    return b"".join((*out, deflate.flush()))


def _ref(key: ev.Key, attrs: ev.Attrs) -> FindingRef:
    code, project_key, item_key, severity, outcome, phase = attrs
    return FindingRef(key[1], code, key[0], project_key, item_key, severity, outcome, phase)


def _one_per_fingerprint(findings: tuple[Finding, ...]) -> dict[str, Finding]:
    """Fingerprints are unique per run by design; if a standard repeats one, keep the worst."""
    out: dict[str, Finding] = {}
    for f in findings:
        fingerprint = f.fingerprint  # a hash worked out on each call
        kept = out.get(fingerprint)
        if kept is None or (f.counts, f.severity.rank) > (kept.counts, kept.severity.rank):
            out[fingerprint] = f
    return out


def _record(row: Row) -> RunRecord:
    m = row._mapping
    return RunRecord(
        id=m["id"], started=datetime.fromisoformat(m["started"]),
        finished=datetime.fromisoformat(m["finished"]), kind=m["kind"],
        mapping_name=m["mapping_name"], mapping_hash=m["mapping_hash"],
        sites=tuple(json.loads(m["sites"])), site_errors=json.loads(m["site_errors"]),
        issues_read=m["issues_read"], requests=m["requests"],
        findings_total=m["findings_total"], findings_open=m["findings_open"],
        items_checked=m["items_checked"], unmapped=m["unmapped"],
        writes_planned=m["writes_planned"], writes_applied=m["writes_applied"],
        errors=m["errors"], narrowed=m["narrowed"], interrupted=m["interrupted"],
    )
