"""Alembic migrations of the run history, from the first released schema on (see ``migrate.py``)."""
