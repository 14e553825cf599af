"""Alembic environment: migrations run on the connection handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from data.schema import metadata

# PostGIS's own tables and views are not ours to manage.
_POSTGIS_TABLES = {"spatial_ref_sys", "geography_columns", "geometry_columns"}


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name in _POSTGIS_TABLES)


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through data.migrations.upgrade(url), which supplies a connection")
    context.configure(connection=connection, target_metadata=metadata, include_object=include_object,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not set up; run data.migrations.upgrade(url)")
run_migrations_online()
