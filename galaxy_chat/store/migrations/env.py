"""Alembic's environment for the history store: runs on the connection `migrate.upgrade` hands in.

`upgrade()` opens the async engine, takes the migration lock and calls Alembic inside run_sync, passing
the sync connection through `config.attributes["connection"]`; this module only runs the migrations on it.
"""

from __future__ import annotations

from alembic import context

from galaxy_chat.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the history store's migrations with galaxy-chat db upgrade")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
