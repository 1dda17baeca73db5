"""The history's tables at the newest schema, as SQLAlchemy Core objects the store queries.

Storage grows with change, not with the portfolio: a run stores one row of totals, its open
findings per severity, and *events* only for what changed on the sites it audited since the
previous audit of that site with the same mapping:

- ``finding_events``: ``opened`` (now fail or error), ``waived``, ``resolved`` (no longer open:
  gone, or not applicable) and ``changed`` (severity, phase, outcome or place changed otherwise,
  or a non-open finding went away). ``outcome`` NULL means the finding is gone.
- ``item_events``: an item ``added``, ``changed`` (kind, project or phase) or ``removed``
  (``kind`` NULL).

The state of a site after any run is the fold of its events up to that run (``events.py``).
Creating and changing these tables is the migrations' job (``migrations/versions``), never this
module's: they must describe what a migration built.
"""

from __future__ import annotations

import sqlalchemy as sa

SCHEMA_VERSION = 5  # meta.schema_version; an older pmo-jira refuses a newer file by it

metadata = sa.MetaData()

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started", sa.Text, nullable=False),  # ISO 8601 UTC with microseconds: sorts as text
    sa.Column("finished", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("mapping_name", sa.Text, nullable=False),
    sa.Column("mapping_hash", sa.Text, nullable=False),
    sa.Column("sites", sa.Text, nullable=False),  # JSON list
    sa.Column("site_errors", sa.Text, nullable=False),  # JSON object: site -> one-line error
    sa.Column("issues_read", sa.Integer, nullable=False),
    sa.Column("requests", sa.Integer, nullable=False),
    sa.Column("findings_total", sa.Integer, nullable=False),
    sa.Column("findings_open", sa.Integer, nullable=False),
    sa.Column("items_checked", sa.Integer, nullable=False),
    sa.Column("unmapped", sa.Integer, nullable=False),
    sa.Column("writes_planned", sa.Integer, nullable=False),
    sa.Column("writes_applied", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    # a run recorded but never compared: how it was narrowed (--project/--jql), the signal that stopped it
    sa.Column("narrowed", sa.Text),
    sa.Column("interrupted", sa.Text),
)

run_counts = sa.Table(
    "run_counts", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("severity", sa.Text, primary_key=True),
    sa.Column("open", sa.Integer, nullable=False),
)

finding_events = sa.Table(
    "finding_events", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("site", sa.Text, primary_key=True),
    sa.Column("fingerprint", sa.Text, primary_key=True),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("project_key", sa.Text, nullable=False),
    sa.Column("item_key", sa.Text, nullable=False),
    sa.Column("severity", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text),  # NULL: gone
    sa.Column("phase", sa.Text),
)

item_events = sa.Table(
    "item_events", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("site", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("kind", sa.Text),  # NULL: removed
    sa.Column("project_key", sa.Text, nullable=False),
    sa.Column("phase", sa.Text),  # NULL: no phase rule matched (or removed)
)

run_facts = sa.Table(
    "run_facts", metadata,  # figures a plugin keeps with a run (pmo_jira_run_facts), JSON
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
)

site_facts = sa.Table(
    "site_facts", metadata,  # what a plugin keeps per site, for the newest run of each site only
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("site", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),  # zlib-compressed JSON
)

FINDING_ATTRS = ("code", "project_key", "item_key", "severity", "outcome", "phase")
ITEM_ATTRS = ("kind", "project_key", "phase")
