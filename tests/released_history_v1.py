"""The run history as first released (schema 1, one full copy of the findings per run), kept
verbatim as the reference: it writes the files migrations must upgrade, and the event store's
answers are compared with its answers on the same runs.

Run history in SQLite: what each audit or sync found, so runs can be compared over time.

One row per run, one row per finding (by fingerprint) and one per classified item. From that:
new / resolved / persisting findings against the previous run of the same mapping, items that
moved phase, time-to-fix and a compliance trend.

Only *open* findings (outcome fail or error) take part in new / resolved / persisting: a finding
that gets waived counts as resolved, one whose waiver expires as new. A finding on a site the
later run could not audit is neither resolved nor persisting but ``unchecked``, so a Jira outage
never looks like a clean-up.

The database runs in WAL mode, so reports and ``pmo-jira history`` can read while a run writes.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pmo_jira.errors import PmoError
from pmo_jira.findings import AuditResult, Finding, Outcome, Severity
from pmo_jira.settings import load_settings

SCHEMA_VERSION = 1
_OPEN = (Outcome.FAIL.value, Outcome.ERROR.value)
_SEVERITIES = tuple(s.value for s in reversed(Severity))  # critical first

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,            -- ISO 8601, UTC, microseconds: sorts as text
    finished TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('audit', 'sync')),
    mapping_name TEXT NOT NULL,
    mapping_hash TEXT NOT NULL,
    sites TEXT NOT NULL,              -- JSON list
    site_errors TEXT NOT NULL,        -- JSON object: site -> one-line error
    issues_read INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    findings_total INTEGER NOT NULL,
    findings_open INTEGER NOT NULL,
    items_checked INTEGER NOT NULL,
    unmapped INTEGER NOT NULL,
    writes_planned INTEGER NOT NULL,
    writes_applied INTEGER NOT NULL,
    errors INTEGER NOT NULL
);
CREATE INDEX runs_by_mapping ON runs (mapping_name, started, id);
CREATE TABLE findings (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    code TEXT NOT NULL,
    site TEXT NOT NULL,
    project_key TEXT NOT NULL,
    item_key TEXT NOT NULL,
    severity TEXT NOT NULL,
    outcome TEXT NOT NULL,
    phase TEXT,
    PRIMARY KEY (run_id, fingerprint)
) WITHOUT ROWID;
CREATE TABLE items (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    site TEXT NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    project_key TEXT NOT NULL,
    phase TEXT,                       -- NULL: no phase rule matched
    PRIMARY KEY (run_id, site, key)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class RunRecord:
    id: int
    started: datetime
    finished: datetime
    kind: str
    mapping_name: str
    mapping_hash: str
    sites: tuple[str, ...]
    site_errors: dict[str, str]
    issues_read: int
    requests: int
    findings_total: int
    findings_open: int
    items_checked: int
    unmapped: int
    writes_planned: int
    writes_applied: int
    errors: int

    @property
    def checked_sites(self) -> frozenset[str]:
        """Sites this run actually audited (listed and without a site error)."""
        return frozenset(self.sites) - set(self.site_errors)


@dataclass(frozen=True)
class FindingRef:
    """A finding as the history keeps it: enough to name it, not its wording."""

    fingerprint: str
    code: str
    site: str
    project_key: str
    item_key: str
    severity: str
    outcome: str
    phase: str | None


@dataclass(frozen=True)
class PhaseMove:
    site: str
    key: str
    kind: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Delta:
    """One run against the previous run of the same mapping (``previous`` None: the first)."""

    run: RunRecord
    previous: RunRecord | None
    new: tuple[FindingRef, ...]
    resolved: tuple[FindingRef, ...]  # as they were in the previous run
    persisting: tuple[FindingRef, ...]  # as they are now
    unchecked: tuple[FindingRef, ...]  # open before, on a site this run could not audit
    phase_moves: tuple[PhaseMove, ...]

    @property
    def mapping_changed(self) -> bool:
        """The mapping file changed between the runs: standards may have come or gone."""
        return self.previous is not None and self.previous.mapping_hash != self.run.mapping_hash


@dataclass(frozen=True)
class Fix:
    fingerprint: str
    code: str
    site: str
    item_key: str
    first_seen: datetime
    resolved: datetime

    @property
    def days(self) -> float:
        return (self.resolved - self.first_seen).total_seconds() / 86400


@dataclass(frozen=True)
class TimeToFix:
    """How long findings stayed open: first run that saw one -> first run that no longer did."""

    fixes: tuple[Fix, ...]
    still_open: int

    @property
    def count(self) -> int:
        return len(self.fixes)

    @property
    def median_days(self) -> float | None:
        return statistics.median(f.days for f in self.fixes) if self.fixes else None

    @property
    def mean_days(self) -> float | None:
        return statistics.fmean(f.days for f in self.fixes) if self.fixes else None

    def by_code(self) -> dict[str, TimeToFix]:
        codes = sorted({f.code for f in self.fixes})
        return {c: TimeToFix(tuple(f for f in self.fixes if f.code == c), 0) for c in codes}


@dataclass(frozen=True)
class TrendPoint:
    run_id: int
    started: datetime
    kind: str
    mapping_name: str
    open_by_severity: dict[str, int]  # every severity, critical first
    items_checked: int

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity.values())


def stored_time(dt: datetime) -> str:
    """A time as the history stores it (UTC ISO text, so text order is time order); naive = UTC.

    Tables that plugins keep beside the history key runs by (mapping name, stored_time(started)).
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def resolve_history_path(path: str | Path | None = None) -> Path:
    """The SQLite file for ``path`` (a file path or ``sqlite:///path``); None: the configured one
    (``history`` in the config file, ``PMO_JIRA_HISTORY``, else
    ``$XDG_DATA_HOME/pmo-jira/history.sqlite``)."""
    if path is None:
        path = load_settings().history
    text = str(path)
    if text.startswith("sqlite:///"):
        return Path(text[len("sqlite:///"):])
    if "://" in text:
        raise PmoError(f"history {text}: only SQLite files are supported (a path or sqlite:///path)")
    return Path(text).expanduser()


def existing_history(path: str | Path | None = None) -> HistoryStore | None:
    """The store at ``path``, or None when no run was ever recorded there: reading creates no file."""
    resolved = resolve_history_path(path)
    return HistoryStore(resolved) if resolved.exists() else None


class HistoryStore:
    """The run history at ``path`` (see ``resolve_history_path``), created on first use."""

    def __init__(self, path: str | Path | None = None, *, timeout: float = 10.0):
        self.path = resolve_history_path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PmoError(f"history database {self.path}: cannot create its folder: "
                           f"{exc.strerror or exc}") from None
        with self._guard():
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._init_schema()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Any SQLite failure becomes one line that names the file."""
        try:
            yield
        except sqlite3.Error as exc:
            hint = ""
            if isinstance(exc, sqlite3.DatabaseError) and "locked" not in str(exc):
                hint = " (move the file aside to start a new history)"
            raise PmoError(f"history database {self.path} is unusable: {exc}{hint}") from None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; IMMEDIATE takes the write lock up front, so writers queue.

        Public so that plugins can keep their own tables in the same file with the same discipline.
        """
        with self._guard():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _init_schema(self) -> None:
        db = self._db
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        with self.transaction():
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                           (str(SCHEMA_VERSION),))
                return
            if "meta" not in tables:
                raise PmoError(f"history database {self.path} is not a pmo-jira history "
                               "(no meta table); point --db at another file")
            row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row and str(row[0]).isdigit() else None
            if version is None:
                raise PmoError(f"history database {self.path} has no schema version; "
                               "point --db at another file")
            if version > SCHEMA_VERSION:
                raise PmoError(f"history database {self.path} was written by a newer pmo-jira "
                               f"(schema {version}, this one knows {SCHEMA_VERSION}); upgrade pmo-jira")

    # --- writing ----------------------------------------------------------------------------------

    def record_run(self, result: AuditResult, *, kind: Literal["audit", "sync"] = "audit",
                   writes_planned: int = 0, writes_applied: int = 0, errors: int = 0) -> int:
        """Store one run and return its id. The run's time is ``result.started``."""
        if kind not in ("audit", "sync"):
            raise ValueError(f"kind must be 'audit' or 'sync', not {kind!r}")
        findings = _one_per_fingerprint(result.findings)
        items = {(i.site, i.key): i for i in result.items}
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO runs (started, finished, kind, mapping_name, mapping_hash, sites,"
                " site_errors, issues_read, requests, findings_total, findings_open, items_checked,"
                " unmapped, writes_planned, writes_applied, errors)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (stored_time(result.started), stored_time(result.finished), kind, result.mapping_name,
                 result.mapping_hash, json.dumps(sorted(result.sites)),
                 json.dumps(dict(sorted(result.site_errors.items()))), result.issues_read,
                 result.requests, len(findings), sum(f.counts for f in findings.values()),
                 len(items), sum(i.phase is None for i in items.values()), writes_planned,
                 writes_applied, errors))
            run_id = int(cur.lastrowid)
            db.executemany(
                "INSERT INTO findings (run_id, fingerprint, code, site, project_key, item_key,"
                " severity, outcome, phase) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, fp, f.code, f.site, f.project_key, f.item_key, f.severity.value,
                  f.outcome.value, f.phase) for fp, f in findings.items()])
            db.executemany(
                "INSERT INTO items (run_id, site, key, kind, project_key, phase)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, i.site, i.key, i.kind, i.project_key, i.phase) for i in items.values()])
        return run_id

    # --- reading ----------------------------------------------------------------------------------

    def runs(self, limit: int | None = 20, *, mapping: str | None = None) -> list[RunRecord]:
        """The most recent runs, newest first."""
        where, args = ("WHERE mapping_name = ?", [mapping]) if mapping else ("", [])
        sql = f"SELECT * FROM runs {where} ORDER BY started DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_summary(r) for r in self.query(sql, tuple(args))]

    def run(self, run_id: int) -> RunRecord:
        rows = self.query("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            raise PmoError(f"history database {self.path} has no run {run_id}")
        return _summary(rows[0])

    def previous(self, run: RunRecord) -> RunRecord | None:
        """The run of the same mapping just before ``run``."""
        rows = self.query(
            "SELECT * FROM runs WHERE mapping_name = ? AND (started < ? OR (started = ? AND id < ?))"
            " ORDER BY started DESC, id DESC LIMIT 1",
            (run.mapping_name, stored_time(run.started), stored_time(run.started), run.id))
        return _summary(rows[0]) if rows else None

    def compare(self, run_id: int | None = None) -> Delta:
        """``run_id`` (default: the latest run) against the previous run of its mapping."""
        if run_id is None:
            latest = self.runs(1)
            if not latest:
                raise PmoError(f"history database {self.path} has no runs yet")
            run = latest[0]
        else:
            run = self.run(run_id)
        prev = self.previous(run)
        now_open = self.open_findings(run.id)
        before = self.open_findings(prev.id) if prev else {}
        checked = run.checked_sites
        gone = [f for fp, f in before.items() if fp not in now_open]
        return Delta(
            run=run, previous=prev,
            new=sorted_refs(f for fp, f in now_open.items() if fp not in before),
            resolved=sorted_refs(f for f in gone if f.site in checked),
            persisting=sorted_refs(f for fp, f in now_open.items() if fp in before),
            unchecked=sorted_refs(f for f in gone if f.site not in checked),
            phase_moves=self._phase_moves(prev.id, run.id) if prev else (),
        )

    def time_to_fix(self, *, mapping: str | None = None) -> TimeToFix:
        """Resolved findings and how long each stayed open, over the whole history.

        A finding that re-appears after being resolved starts a new episode; findings on a site a
        run could not audit stay open through that run.
        """
        fixes: list[Fix] = []
        still_open = 0
        names = [mapping] if mapping else self._mapping_names()
        for name in names:
            open_since: dict[str, tuple[datetime, FindingRef]] = {}
            for run in reversed(self.runs(None, mapping=name)):
                current = self.open_findings(run.id)
                for fp, (since, ref) in list(open_since.items()):
                    if fp not in current and ref.site in run.checked_sites:
                        fixes.append(Fix(fp, ref.code, ref.site, ref.item_key, since, run.started))
                        del open_since[fp]
                for fp, ref in current.items():
                    open_since.setdefault(fp, (run.started, ref))
            still_open += len(open_since)
        fixes.sort(key=lambda f: (f.resolved, f.site, f.item_key, f.code, f.fingerprint))
        return TimeToFix(tuple(fixes), still_open)

    def compliance_trend(self, limit: int = 20, *, mapping: str | None = None) -> list[TrendPoint]:
        """Open findings per severity and items checked, for the last ``limit`` runs, oldest first."""
        runs = list(reversed(self.runs(limit, mapping=mapping)))
        if not runs:
            return []
        marks = ",".join("?" * len(runs))
        counts: dict[int, dict[str, int]] = {r.id: dict.fromkeys(_SEVERITIES, 0) for r in runs}
        for row in self.query(f"SELECT run_id, severity, COUNT(*) FROM findings WHERE run_id IN ({marks})"
                              f" AND outcome IN (?, ?) GROUP BY run_id, severity",
                              (*(r.id for r in runs), *_OPEN)):
            counts[row[0]][row[1]] = row[2]
        return [TrendPoint(r.id, r.started, r.kind, r.mapping_name, counts[r.id], r.items_checked)
                for r in runs]

    # --- helpers ----------------------------------------------------------------------------------

    def _mapping_names(self) -> list[str]:
        return [r[0] for r in self.query("SELECT DISTINCT mapping_name FROM runs ORDER BY mapping_name")]

    def open_findings(self, run_id: int) -> dict[str, FindingRef]:
        """The open (fail or error) findings of a run, by fingerprint."""
        rows = self.query(
            "SELECT fingerprint, code, site, project_key, item_key, severity, outcome, phase"
            " FROM findings WHERE run_id = ? AND outcome IN (?, ?)", (run_id, *_OPEN))
        return {r[0]: FindingRef(*r) for r in rows}

    def item_phases(self, run_id: int) -> dict[tuple[str, str], tuple[str, str | None]]:
        """(site, key) -> (kind, phase) of every item a run classified."""
        rows = self.query("SELECT site, key, kind, phase FROM items WHERE run_id = ?", (run_id,))
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """A read on the history's connection; a failure is one line naming the file."""
        with self._guard():
            return self._db.execute(sql, params).fetchall()

    def _phase_moves(self, before_id: int, after_id: int) -> tuple[PhaseMove, ...]:
        rows = self.query(
            "SELECT a.site, a.key, a.kind, b.phase, a.phase FROM items a"
            " JOIN items b ON b.run_id = ? AND b.site = a.site AND b.key = a.key"
            " WHERE a.run_id = ? AND a.phase IS NOT b.phase ORDER BY a.site, a.key",
            (before_id, after_id))
        return tuple(PhaseMove(*r) for r in rows)


def _one_per_fingerprint(findings: tuple[Finding, ...]) -> dict[str, Finding]:
    """Fingerprints are unique per run by design; if a standard repeats one, keep the worst."""
    out: dict[str, Finding] = {}
    for f in findings:
        kept = out.get(f.fingerprint)
        if kept is None or (f.counts, f.severity.rank) > (kept.counts, kept.severity.rank):
            out[f.fingerprint] = f
    return out


def sorted_refs(refs: Iterable[FindingRef]) -> tuple[FindingRef, ...]:
    """Findings in the order every comparison lists them: site, project, item, code."""
    return tuple(sorted(refs, key=lambda f: (f.site, f.project_key, f.item_key, f.code, f.fingerprint)))


def _summary(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"], started=datetime.fromisoformat(row["started"]),
        finished=datetime.fromisoformat(row["finished"]), kind=row["kind"],
        mapping_name=row["mapping_name"], mapping_hash=row["mapping_hash"],
        sites=tuple(json.loads(row["sites"])), site_errors=json.loads(row["site_errors"]),
        issues_read=row["issues_read"], requests=row["requests"],
        findings_total=row["findings_total"], findings_open=row["findings_open"],
        items_checked=row["items_checked"], unmapped=row["unmapped"],
        writes_planned=row["writes_planned"], writes_applied=row["writes_applied"],
        errors=row["errors"],
    )
