"""Alembic environment of the lot catalogue: run on the connection :func:`analysis.catalogue.db.migrate` passes."""

from __future__ import annotations

from alembic import context

from analysis.catalogue.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
