"""The first released schema: one row per finding and per item for every run.

Revision ID: 0001
Revises:

Files written by pmo-jira before migrations existed carry ``meta.schema_version = 1`` and no
Alembic version; ``migrate.py`` stamps them with this revision instead of running it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    meta = op.create_table(
        "meta",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started", sa.Text, nullable=False),
        sa.Column("finished", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, sa.CheckConstraint("kind IN ('audit', 'sync')"), nullable=False),
        sa.Column("mapping_name", sa.Text, nullable=False),
        sa.Column("mapping_hash", sa.Text, nullable=False),
        sa.Column("sites", sa.Text, nullable=False),
        sa.Column("site_errors", sa.Text, nullable=False),
        *(sa.Column(name, sa.Integer, nullable=False) for name in (
            "issues_read", "requests", "findings_total", "findings_open", "items_checked",
            "unmapped", "writes_planned", "writes_applied", "errors")),
        sqlite_autoincrement=True,
    )
    op.create_index("runs_by_mapping", "runs", ["mapping_name", "started", "id"])
    op.create_table(
        "findings",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("fingerprint", sa.Text, primary_key=True),
        *(sa.Column(name, sa.Text, nullable=False) for name in (
            "code", "site", "project_key", "item_key", "severity", "outcome")),
        sa.Column("phase", sa.Text),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "items",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("site", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("project_key", sa.Text, nullable=False),
        sa.Column("phase", sa.Text),
        sqlite_with_rowid=False,
    )
    op.bulk_insert(meta, [{"key": "schema_version", "value": "1"}])
