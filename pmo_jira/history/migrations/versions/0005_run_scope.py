"""Runs that are recorded but never compared: narrowed ones (``--project``, ``--jql``) and
interrupted ones (SIGTERM, SIGINT).

Revision ID: 0005
Revises: 0004

``narrowed`` holds how the run was narrowed (e.g. ``--project DIG``), ``interrupted`` the signal
that stopped it; both NULL for a full, finished run, which every run recorded before was.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("narrowed", sa.Text, nullable=True))
        runs.add_column(sa.Column("interrupted", sa.Text, nullable=True))
    op.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")


def downgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("interrupted")
        runs.drop_column("narrowed")
    op.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
