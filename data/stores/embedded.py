"""The embedded store: one GeoPackage file (SQLite), spatial work in Shapely.

The file is a valid GeoPackage: QGIS and GeoPandas open its ``units``, ``cases``, ``cameras`` and
``key_places`` layers. It has no R-tree triggers (they need SpatiaLite functions that Python's
SQLite lacks), so plain SQL updates work.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import DateTime, Engine, Float, String, create_engine, event, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateColumn

from data import rollups
from data.schema import (
    APPEND_ONLY_SQLITE,
    FEATURE_TABLES,
    LEGACY_BACKFILL,
    SRID,
    Geometry,
    cases,
    gpkg_blob,
    metadata,
    units,
)
from data.stores.base import Store, _inner_units_deepest_first, raise_query_timeouts
from data.stores.embedded_spatial import shapely_coverage_facts, shapely_heat_cells
from geo.assign import assign_points

_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_VERSION = 10300
BUSY_TIMEOUT_MS = 10_000  # how long a writer waits for another's lock
_SQLA_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's SQLite DateTime text format

_GPKG_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '', last_change DATETIME NOT NULL
            DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
        srs_id INTEGER REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name))""",
]

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
)


# GeoPackage readers (GDAL, QGIS) know TEXT and REAL, not VARCHAR(n) or 4-byte FLOAT.
@compiles(String, "sqlite")
def _text(type_, compiler, **kw):
    return "TEXT"


@compiles(Float, "sqlite")
def _real(type_, compiler, **kw):
    return "REAL"


def sqlite_engine(url: str, *, query_timeout: float | None = None) -> Engine:
    """An engine for a ``sqlite:///`` file: WAL, foreign keys, and the time limit when given."""
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        # WAL: wall screens keep reading while an import writes.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # then "database is locked": a 503
        cur.close()

    if query_timeout:
        _limit_statements(engine, query_timeout)
    return engine


# SQLite steps between two looks at the clock while a statement runs (as Datasette's time limit).
_CLOCK_STEPS = 1000


def _limit_statements(engine: Engine, seconds: float) -> None:
    """Interrupt any statement that runs longer than ``seconds``.

    A progress handler on each connection looks at the clock every :data:`_CLOCK_STEPS` virtual
    machine steps and stops the statement past its deadline (SQLite then raises "interrupted",
    which the engine turns into :class:`QueryTimeout`). The deadline is set when a statement
    starts, so it covers the fetching of its rows, and lifted when the transaction ends.
    """

    @event.listens_for(engine, "connect")
    def _install(dbapi_conn, record):
        deadline = record.info["deadline"] = [math.inf]
        dbapi_conn.set_progress_handler(lambda: time.monotonic() > deadline[0], _CLOCK_STEPS)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, _cursor, _statement, _parameters, _context, _executemany):
        conn.info["deadline"][0] = time.monotonic() + seconds

    def _lift(conn):
        conn.info["deadline"][0] = math.inf

    event.listen(engine, "commit", _lift)
    event.listen(engine, "rollback", _lift)
    raise_query_timeouts(engine, seconds, lambda error: isinstance(error, sqlite3.OperationalError)
                         and str(error) == "interrupted")


def _sqlite_values(series: pd.Series, type_) -> list:
    """A column as plain Python values stored exactly as SQLAlchemy stores them in SQLite."""
    if isinstance(type_, Geometry):
        return [None if v is None else gpkg_blob(v) for v in series.tolist()]
    if isinstance(type_, DateTime):
        text = pd.to_datetime(series).dt.strftime(_SQLA_DATETIME)
        return text.where(series.notna(), None).tolist()
    missing = series.isna().to_numpy()
    values = series.astype(object).tolist()
    return [None if m else v.item() if isinstance(v, np.generic) else v
            for v, m in zip(values, missing, strict=True)]


# After a bulk write this big, fresh planner statistics: without them SQLite does not know that
# the open-cases index is small and scans a bigger one.
_ANALYZE_ROWS = 10_000


def _analyze(conn) -> None:
    conn.exec_driver_sql("PRAGMA analysis_limit = 2000")  # sampled: a fraction of a second
    conn.exec_driver_sql("ANALYZE")


class EmbeddedStore(Store):
    kind = "embedded"

    def __init__(self, engine: Engine):
        super().__init__(engine)
        self.path = engine.url.database
        self._identity = self._stat()
        self._size = self._identity[2] if self._identity else 0

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except (OSError, TypeError, ValueError):
            return None
        return st.st_dev, st.st_ino, st.st_size

    def identity_problem(self) -> str | None:
        """The file at the path is not the one opened: moved away, replaced (``mv``: another inode)
        or copied over (it shrank; a SQLite file in WAL mode never does by itself)."""
        if self._identity is None:  # created after opening (create_schema): adopt it
            self._identity = self._stat()
            self._size = self._identity[2] if self._identity else 0
            return None
        now = self._stat()
        if now is None:
            return f"数据文件已被移走或删除 the store file {self.path} was moved or deleted; restart"
        if now[:2] != self._identity[:2]:
            return (f"数据文件已被替换 the store file {self.path} was replaced while served "
                    "(another file at the path); restart to serve the new file")
        if now[2] < self._size:
            return (f"数据文件被覆盖或截短 the store file {self.path} shrank while served "
                    "(copied over?); restart")
        self._size = now[2]
        return None

    def damage(self, exc: Exception) -> str | None:
        text = str(exc).lower()
        if "malformed" in text or "not a database" in text or "disk i/o error" in text:
            return f"数据文件已损坏 the store file {self.path} is damaged ({str(exc).splitlines()[0]})"
        return None

    @classmethod
    def from_url(cls, url: str, *, query_timeout: float | None = None) -> EmbeddedStore:
        """The store in the file of a ``sqlite:///`` URL; statements stop after ``query_timeout``
        seconds when given."""
        return cls(sqlite_engine(url, query_timeout=query_timeout))

    def create_schema(self) -> None:
        """Create the tables and the GeoPackage registry; idempotent."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA application_id={_GPKG_APPLICATION_ID}")
            conn.exec_driver_sql(f"PRAGMA user_version={_GPKG_VERSION}")
            conn.commit()
        with self.engine.begin() as conn:
            for ddl in _GPKG_DDL:
                conn.exec_driver_sql(ddl)
            conn.execute(
                text(
                    "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES "
                    "('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL),"
                    "('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL),"
                    "('WGS 84 geodetic', :srid, 'EPSG', :srid, :wkt, NULL)"
                ),
                {"srid": SRID, "wkt": _WGS84_WKT},
            )
            metadata.create_all(conn)
            _add_missing_columns(conn)
            for table in metadata.sorted_tables:  # an older file: indexes added since it was made
                for index in table.indexes:
                    index.create(conn, checkfirst=True)
            for ddl in APPEND_ONLY_SQLITE:
                conn.exec_driver_sql(ddl)
            for table, geometry_type in FEATURE_TABLES.items():
                conn.execute(
                    text(
                        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, srs_id)"
                        " VALUES (:t, 'features', :t, :srid)"
                    ),
                    {"t": table, "srid": SRID},
                )
                conn.execute(
                    text(
                        "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES (:t, 'geom', :g, :srid, 0, 0)"
                    ),
                    {"t": table, "g": geometry_type, "srid": SRID},
                )
            rollups.ensure(conn)  # triggers in place; rebuilt if their definition changed
            stats = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
            if stats.first() is None:
                _analyze(conn)

        self.checkpoint()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file, so other readers (GDAL, a copy) see it all."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def _bulk_insert(self, conn, table, frame: pd.DataFrame) -> None:
        # Row tuples straight to sqlite3: SQLAlchemy's per-row processing is 5x slower here.
        columns = [c for c in frame.columns if c in table.c]
        values = [_sqlite_values(frame[c], table.c[c].type) for c in columns]
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' * len(columns))})")
        if table is not cases or len(frame) < 100:
            conn.exec_driver_sql(sql, list(zip(*values, strict=True)))
        else:
            # Many cases: the rollups take them in one statement, not a trigger call per row.
            with rollups.bulk_insert(conn, frame["id"].tolist() if "id" in columns else None):
                conn.exec_driver_sql(sql, list(zip(*values, strict=True)))
        if len(frame) >= _ANALYZE_ROWS:
            _analyze(conn)

    def assign_grids(self, wkb_points) -> np.ndarray:
        with self.engine.connect() as conn:
            return self._assign_in(conn, wkb_points)

    def _assign_in(self, conn, wkb_points) -> np.ndarray:
        leaves = self._leaf_shapes(conn)
        points = shapely.from_wkb(np.asarray(wkb_points, dtype=object))
        codes = assign_points(points, leaves.geometry.to_numpy(), leaves["code"].to_numpy())
        outside = pd.isna(codes)
        if outside.any():
            # Outside every grid: the lowest unit containing the point (deepest first).
            inner = self._shapes(_inner_units_deepest_first(), conn)
            codes[outside] = assign_points(points[outside], inner.geometry.to_numpy(),
                                           inner["code"].to_numpy())
        return codes

    def _leaf_shapes(self, conn=None) -> gpd.GeoDataFrame:
        has_child = select(units.c.parent_code).where(units.c.parent_code.isnot(None))
        query = (
            select(units.c.code, units.c.geom)
            .where(units.c.code.not_in(has_child), units.c.geom.isnot(None))
            .order_by(units.c.code)
        )
        return self._shapes(query, conn)

    def heat_cells(self, **kwargs) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return shapely_heat_cells(conn, **kwargs)

    def coverage_facts(self, **kwargs):
        with self.engine.connect() as conn:
            return shapely_coverage_facts(conn, **kwargs)

    def unit_shapes(self, codes) -> gpd.GeoDataFrame:
        query = select(units.c.code, units.c.geom).where(units.c.code.in_(list(codes)))
        return self._shapes(query.order_by(units.c.code))

    def _shapes(self, query, conn=None) -> gpd.GeoDataFrame:
        if conn is None:
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
        else:
            rows = conn.execute(query).all()
        codes = [r.code for r in rows]
        geoms = shapely.from_wkb([r.geom for r in rows]) if rows else []
        return gpd.GeoDataFrame({"code": codes}, geometry=list(geoms), crs=SRID)


def _add_missing_columns(conn) -> None:
    """A file made by an earlier version gets the columns added to the schema since (additive
    changes only; PostGIS gets the same columns from its Alembic revisions)."""
    for table in metadata.sorted_tables:
        have = {row[1] for row in conn.exec_driver_sql(f'PRAGMA table_info("{table.name}")')}
        for column in table.columns:
            if column.name not in have:
                spec = str(CreateColumn(column).compile(dialect=conn.dialect))
                # SQLite adds a column only with a constant default: now, for the rows already there.
                spec = spec.replace("DEFAULT CURRENT_TIMESTAMP",
                                    time.strftime("DEFAULT '%Y-%m-%d %H:%M:%S'", time.gmtime()))
                conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN {spec}')
                if (table.name, column.name) in LEGACY_BACKFILL:
                    conn.exec_driver_sql(LEGACY_BACKFILL[table.name, column.name])
        for index in table.indexes:
            index.create(conn, checkfirst=True)
