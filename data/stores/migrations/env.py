"""Alembic environment: migrations run on the connection handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from data.schema import metadata
from data.stores.migrations import include_object


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through data.stores.upgrade(url), which supplies a connection")
    context.configure(connection=connection, target_metadata=metadata, include_object=include_object,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not set up; run data.stores.upgrade(url)")
run_migrations_online()
