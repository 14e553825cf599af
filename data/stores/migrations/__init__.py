"""Schema migrations for the PostGIS store (Alembic), run from code: no alembic.ini needed.

``upgrade_engine(engine)`` brings a database up to the newest revision (``citybrain db upgrade``
runs it through ``data.stores.upgrade(url)``). A new
revision is written with :func:`alembic_config` and ``alembic.command.revision(…,
autogenerate=True)`` against a database at head; it is compared with ``data.schema.metadata``.
The embedded store does not use migrations: it creates its GeoPackage with ``create_all``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

HERE = Path(__file__).resolve().parent

# Two processes upgrading at once (several app workers starting) take turns on this lock.
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('citybrain-migrations'))"

# PostGIS's own tables and views are not ours to manage.
_POSTGIS_TABLES = {"spatial_ref_sys", "geography_columns", "geometry_columns"}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """What autogenerate compares with ``data.schema.metadata``: not PostGIS's tables, and not
    our GiST indexes (``gist_<table>_geom``), which only the migrations make."""
    if type_ == "table" and name in _POSTGIS_TABLES:
        return False
    return not (type_ == "index" and reflected and name.startswith("gist_"))


def alembic_config(connection=None) -> Config:
    """An Alembic configuration for these migrations, bound to ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    """Upgrade the PostGIS database behind ``engine`` to ``revision``, in one transaction."""
    with engine.begin() as conn:
        conn.exec_driver_sql(_LOCK_SQL)
        command.upgrade(alembic_config(conn), revision)
