"""Storage that grows with change: finding and item events plus per-run counts.

Revision ID: 0002
Revises: 0001

Every run of the full-copy tables is replayed in order, per mapping: the first run of a site
becomes its ``opened``/``added`` events, every later one only what changed since the previous
audit of that site. Nothing is lost: folding a site's events up to a run gives back exactly
the findings (any outcome) and items that run stored. The full copies are dropped after.
"""

import json

import sqlalchemy as sa
from alembic import op

from pmo_jira.history import events

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FINDING_ATTRS = ("code", "project_key", "item_key", "severity", "outcome", "phase")
_ITEM_ATTRS = ("kind", "project_key", "phase")


def upgrade() -> None:
    run_counts = op.create_table(
        "run_counts",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("severity", sa.Text, primary_key=True),
        sa.Column("open", sa.Integer, nullable=False),
    )
    finding_events = op.create_table(
        "finding_events",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("site", sa.Text, primary_key=True),
        sa.Column("fingerprint", sa.Text, primary_key=True),
        sa.Column("event", sa.Text, nullable=False),
        *(sa.Column(name, sa.Text, nullable=False) for name in ("code", "project_key", "item_key", "severity")),
        sa.Column("outcome", sa.Text),
        sa.Column("phase", sa.Text),
    )
    item_events = op.create_table(
        "item_events",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("site", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("kind", sa.Text),
        sa.Column("project_key", sa.Text, nullable=False),
        sa.Column("phase", sa.Text),
    )
    _convert(op.get_bind(), run_counts, finding_events, item_events)
    op.drop_table("findings")
    op.drop_table("items")
    op.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def _convert(conn, run_counts, finding_events, item_events) -> None:
    runs = conn.execute(sa.text(
        "SELECT id, mapping_name, sites, site_errors FROM runs ORDER BY mapping_name, started, id")).all()
    found: dict[str, events.State] = {}
    classified: dict[str, events.State] = {}
    for run_id, mapping, sites, site_errors in runs:
        rows = conn.execute(sa.text(
            "SELECT site, fingerprint, code, project_key, item_key, severity, outcome, phase"
            " FROM findings WHERE run_id = :r"), {"r": run_id}).all()
        items = conn.execute(sa.text(
            "SELECT site, key, kind, project_key, phase FROM items WHERE run_id = :r"), {"r": run_id}).all()
        checked = (set(json.loads(sites)) - set(json.loads(site_errors))
                   | {r[0] for r in rows} | {i[0] for i in items})
        after_f = {(r[0], r[1]): tuple(r[2:]) for r in rows}
        after_i = {(i[0], i[1]): tuple(i[2:]) for i in items}
        state_f = found.setdefault(mapping, {})
        state_i = classified.setdefault(mapping, {})
        f_events = events.changes(events.only_sites(state_f, checked), after_f, findings=True)
        i_events = events.changes(events.only_sites(state_i, checked), after_i, findings=False)
        if f_events:
            conn.execute(finding_events.insert(), [
                {"run_id": run_id, "site": k[0], "fingerprint": k[1], "event": name,
                 **dict(zip(_FINDING_ATTRS, attrs))} for k, name, attrs in f_events])
        if i_events:
            conn.execute(item_events.insert(), [
                {"run_id": run_id, "site": k[0], "key": k[1], "event": name,
                 **dict(zip(_ITEM_ATTRS, attrs))} for k, name, attrs in i_events])
        events.apply(state_f, ((k, a) for k, _, a in f_events), findings=True)
        events.apply(state_i, ((k, a) for k, _, a in i_events), findings=False)
        counts = conn.execute(sa.text(
            "SELECT severity, COUNT(*) FROM findings WHERE run_id = :r AND outcome IN ('fail', 'error')"
            " GROUP BY severity"), {"r": run_id}).all()
        if counts:
            conn.execute(run_counts.insert(), [{"run_id": run_id, "severity": s, "open": n} for s, n in counts])
