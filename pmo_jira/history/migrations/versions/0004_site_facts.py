"""What plugins keep per site (the newest run of each site only), and the portfolio's colours
moved into the run facts.

Revision ID: 0004
Revises: 0003

``site_facts`` holds, per plugin and site, what a report needs to roll the sites up from the
history alone (``pmo-jira report portfolio --from-history``). The portfolio report used to keep
its RAG rows in a table of its own, ``portfolio_rag``, keyed by mapping and start time, which
``history prune`` never reached; they become the ``portfolio`` run facts of the run they
belong to (deleted with it) and the table goes. A table of that name with other columns is not
the portfolio's and is left alone.
"""

import json
from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_RAG_COLUMNS = {"mapping_name", "started", "level", "site", "key", "open_children", "rag"}
DIMENSIONS = ("schedule", "scope", "risk", "compliance", "freshness", "overall")  # the portfolio's order


def upgrade() -> None:
    op.create_table(
        "site_facts",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("site", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    conn = op.get_bind()
    inspector = sa.inspect(conn)
    if "portfolio_rag" in inspector.get_table_names() and \
            _RAG_COLUMNS <= {c["name"] for c in inspector.get_columns("portfolio_rag")}:
        _move_portfolio_rows(conn)
        op.drop_table("portfolio_rag")
    op.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")


def _move_portfolio_rows(conn: sa.Connection) -> None:
    """Each run's rows become its ``portfolio`` run facts (rows of no recorded run go with the table)."""
    newest = {(m, s): run_id for m, s, run_id in conn.execute(sa.text(
        "SELECT mapping_name, started, MAX(id) FROM runs GROUP BY mapping_name, started"))}
    taken = {r[0] for r in conn.execute(sa.text("SELECT run_id FROM run_facts WHERE name = 'portfolio'"))}
    rows = conn.execute(sa.text(
        "SELECT mapping_name, started, level, site, key, open_children, rag FROM portfolio_rag "
        "ORDER BY mapping_name, started, level, site, key"))
    facts = []
    for (mapping, started), group in groupby(rows, key=lambda r: (r[0], r[1])):
        run_id = newest.get((mapping, started))
        if run_id is None or run_id in taken:
            continue
        kept = []
        for _, _, level, site, key, open_children, rag in group:
            colours = json.loads(rag)
            kept.append([level, site, key, open_children, [colours.get(d, "none") for d in DIMENSIONS]])
        facts.append({"run_id": run_id, "name": "portfolio", "data": json.dumps(
            {"dimensions": list(DIMENSIONS), "rows": kept}, separators=(",", ":"))})
    if facts:
        conn.execute(sa.text("INSERT INTO run_facts (run_id, name, data) VALUES (:run_id, :name, :data)"), facts)


def downgrade() -> None:
    op.drop_table("site_facts")
    op.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
