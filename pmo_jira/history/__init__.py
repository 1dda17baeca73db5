"""Run history: what each audit or sync found, so runs can be compared over time.

A SQLite file by default, or a shared PostgreSQL database (``history = "postgresql://..."``),
through one SQLAlchemy Core code path with Alembic migrations. See ``store.py`` for what it
answers and ``schema.py`` for how little it stores.
"""

from pmo_jira.history.database import HistoryTarget
from pmo_jira.history.models import Delta, FindingRef, Fix, PerSite, PhaseMove, RunRecord, TimeToFix, TrendPoint, sorted_refs, stored_time
from pmo_jira.history.schema import SCHEMA_VERSION
from pmo_jira.history.store import HistoryStore, existing_history, history_target

__all__ = ["SCHEMA_VERSION", "Delta", "FindingRef", "Fix", "HistoryStore", "HistoryTarget", "PhaseMove",
           "PerSite", "RunRecord", "TimeToFix", "TrendPoint", "existing_history", "history_target", "sorted_refs",
           "stored_time"]
