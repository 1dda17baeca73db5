"""Bring a history database to the newest schema with Alembic, inside one write transaction.

Recognised states: an empty database (created from scratch), a file of the first release
(``meta.schema_version = 1``, no Alembic version: stamped ``0001``, then upgraded), an older
Alembic revision (upgraded) and the newest one (nothing to do). A database of a newer pmo-jira
or one that is not a pmo-jira history is refused, never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pmo_jira.errors import PmoError
from pmo_jira.history.schema import SCHEMA_VERSION

if TYPE_CHECKING:
    from alembic.config import Config

_MIGRATIONS = Path(__file__).with_name("migrations")
_RELEASED_WITHOUT_ALEMBIC = {1: "0001"}  # meta.schema_version -> the revision such a file is at
MIGRATION_LOCK = 0x706D6F6A  # PostgreSQL advisory lock id ("pmoj") held while migrating


@dataclass(frozen=True)
class SchemaState:
    revision: str | None  # None: an empty database
    head: str

    @property
    def current(self) -> bool:
        return self.revision == self.head


def _config(conn: Connection | None = None) -> Config:
    from alembic.config import Config  # alembic loads only to migrate or to check an unusual file

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head() or ""


_REVISION = re.compile(r'^(down_)?revision(?:: *[\w |\[\],]+)? *= *["\']?([\w]+)["\']?', re.MULTILINE)


def stamped_head() -> str | None:
    """The newest revision, read from the migration files' ``revision``/``down_revision`` lines
    without loading alembic (a tenth of a recording's memory); None when they do not make one
    plain chain, and then alembic decides."""
    revisions, parents = set(), set()
    for script in sorted((_MIGRATIONS / "versions").glob("*.py")):
        lines = dict((bool(down), value) for down, value in _REVISION.findall(script.read_text()))
        if False in lines:
            revisions.add(lines[False])
            parents.add(lines.get(True, "None"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _current(conn: Connection) -> str | None:
    """The revision alembic stamped in the database (None: none)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    return str(row[0][0]) if len(row) == 1 else None


def schema_state(conn: Connection, where: str) -> SchemaState:
    """Which revision the database is at; PmoError when it is not ours or is newer."""
    tables = set(sa.inspect(conn).get_table_names())
    if not tables:
        return SchemaState(None, head())
    if "meta" not in tables:
        raise PmoError(f"history database {where} is not a pmo-jira history (no meta table); "
                       "point --db at another file")
    row = conn.execute(sa.text("SELECT value FROM meta WHERE key = 'schema_version'")).first()
    version = int(row[0]) if row and str(row[0]).isdecimal() else None
    if version is None:
        raise PmoError(f"history database {where} has no schema version; point --db at another file")
    if version > SCHEMA_VERSION:
        raise PmoError(f"history database {where} was written by a newer pmo-jira (schema {version}, "
                       f"this one knows {SCHEMA_VERSION}); upgrade pmo-jira")
    revision = _current(conn)
    newest = stamped_head()
    if revision is not None and revision == newest:
        return SchemaState(revision, newest)  # the usual case: at the newest revision already
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    newest = head()
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        revision = _RELEASED_WITHOUT_ALEMBIC.get(version)
        if revision is None:
            raise PmoError(f"history database {where}: schema {version} has no known migration path")
    script = ScriptDirectory.from_config(_config())
    if script.get_revision(revision) is None:
        raise PmoError(f"history database {where} was written by a newer pmo-jira (revision "
                       f"{revision}); upgrade pmo-jira")
    return SchemaState(revision, newest)


def upgrade(conn: Connection, state: SchemaState) -> None:
    """Migrate to the newest revision on ``conn`` (already in the write transaction)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    cfg = _config(conn)
    if state.revision is not None and MigrationContext.configure(conn).get_current_revision() is None:
        command.stamp(cfg, state.revision)  # a first-release file: it is at 0001 already
    command.upgrade(cfg, "head")
