"""Alembic's entry point: runs the migrations on the connection ``migrate.py`` hands over.

That connection is already inside the write transaction (and, on PostgreSQL, holds the
migration lock), so a failed migration leaves the history exactly as it was.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
