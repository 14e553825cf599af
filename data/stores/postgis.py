"""The PostGIS store: the production home of units and cases, spatial work in SQL.

Other systems (the provincial grid platform, the 12345 hotline, the video platform) may write the
case tables directly. The schema is created and upgraded by the Alembic migrations in
``data.stores.migrations``; a trigger there gives every case inserted with a point and no grid code its
grid, and stamps ``updated_at``, so such rows count under the right units and change the data
version without this program being the writer.
"""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import DateTime, Engine, Float, Integer, create_engine, select, text
from sqlalchemy.engine import make_url

from data.schema import SRID, Geometry, units
from data.stores.base import Store, raise_query_timeouts
from data.stores.migrations import upgrade_engine
from data.stores.postgis_spatial import sql_coverage_facts, sql_heat_cells

# SQLSTATE of a statement the server cancelled (statement_timeout among others).
_QUERY_CANCELED = "57014"
# Tables this big or bigger get fresh planner statistics right after a bulk load.
_ANALYZE_ROWS = 10_000

# The leaf unit (grid) containing each point: the lowest code where leaves overlap, as in
# geo.assign.assign_points, and ST_Intersects so a point on a shared edge is not lost. The points
# go into an indexed temporary table and the join runs leaf by leaf: each leaf polygon is tested
# against the points near it in a row, which PostGIS does several times faster than a lookup per
# point (0.2 s instead of 1.5 s for 20,000 points in 2,000 grids).
_ASSIGN_SQL = """
    SELECT DISTINCT ON (p.i) p.i, u.code
    FROM units u JOIN _assign_points p ON ST_Intersects(u.geom, p.geom)
    WHERE u.code NOT IN (SELECT parent_code FROM units WHERE parent_code IS NOT NULL)
    ORDER BY p.i, u.code
"""


# Points outside every grid: the lowest unit containing each (deepest first, then the lowest
# code), as the trigger of migration 0003_seed and the embedded store's Shapely path do.
_ASSIGN_INNER_SQL = """
    SELECT DISTINCT ON (p.i) p.i, u.code
    FROM units u JOIN _assign_points p ON ST_Intersects(u.geom, p.geom)
    WHERE u.code IN (SELECT parent_code FROM units WHERE parent_code IS NOT NULL)
    ORDER BY p.i, (SELECT count(*) FROM unit_closure a WHERE a.descendant_code = u.code) DESC, u.code
"""


def postgis_engine(url: str, *, query_timeout: float | None = None) -> Engine:
    """An engine for a ``postgresql://`` URL, always through psycopg2 (COPY needs it).

    With ``query_timeout`` (seconds) every connection gets that ``statement_timeout``, and a
    statement it stops raises :class:`QueryTimeout`.
    """
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername not in ("postgresql", "postgresql+psycopg2"):
        raise ValueError(f"PostGIS 存储只支持 psycopg2 驱动 (use postgresql:// or postgresql+psycopg2://): "
                         f"{parsed.drivername}")
    connect_args = {"application_name": "citybrain"}
    if query_timeout:
        # Added to the options the URL may carry (``?options=-c search_path=…``), not instead.
        limit = f"-c statement_timeout={max(1, round(query_timeout * 1000))}"
        connect_args["options"] = " ".join(filter(None, [parsed.query.get("options"), limit]))
    engine = create_engine(
        parsed.set(drivername="postgresql+psycopg2"),
        pool_pre_ping=True,  # a restarted server costs one failed check, not a failed page
        connect_args=connect_args,
    )
    if query_timeout:
        raise_query_timeouts(engine, query_timeout,
                             lambda error: getattr(error, "pgcode", None) == _QUERY_CANCELED)
    return engine


class PostGISStore(Store):
    kind = "postgis"

    @classmethod
    def from_url(cls, url: str, *, query_timeout: float | None = None) -> PostGISStore:
        """The store at a ``postgresql://`` URL; statements stop after ``query_timeout`` seconds
        when given."""
        return cls(postgis_engine(url, query_timeout=query_timeout))

    # --- schema -------------------------------------------------------------------------------

    def create_schema(self) -> None:
        """Run the Alembic migrations up to the newest revision; idempotent."""
        upgrade_engine(self.engine)

    def checkpoint(self) -> None:
        """Nothing to do: PostgreSQL makes a committed write durable and visible by itself."""

    # --- spatial operations -------------------------------------------------------------------

    def assign_grids(self, wkb_points) -> np.ndarray:
        with self.engine.begin() as conn:
            return self._assign_in(conn, wkb_points)

    def _assign_in(self, conn, wkb_points) -> np.ndarray:
        wkb_points = np.asarray(wkb_points, dtype=object)
        result = np.full(len(wkb_points), None, dtype=object)
        if len(wkb_points) == 0:
            return result
        body = _copy_text([[str(i) for i in range(len(wkb_points))], _copy_column(
            pd.Series(wkb_points), Geometry())])
        conn.exec_driver_sql("DROP TABLE IF EXISTS _assign_points")
        conn.exec_driver_sql("CREATE TEMPORARY TABLE _assign_points (i integer, geom geometry)"
                             " ON COMMIT DROP")
        self._copy(conn, "COPY _assign_points (i, geom) FROM STDIN", body)
        conn.exec_driver_sql("CREATE INDEX ON _assign_points USING gist (geom)")
        conn.exec_driver_sql("ANALYZE _assign_points")
        for i, code in conn.exec_driver_sql(_ASSIGN_SQL):
            result[i] = code
        if pd.isna(result).any():
            found = [int(i) for i in np.flatnonzero(~pd.isna(result))]
            conn.exec_driver_sql("DELETE FROM _assign_points WHERE i = ANY(%(found)s)", {"found": found})
            for i, code in conn.exec_driver_sql(_ASSIGN_INNER_SQL):
                result[i] = code
        conn.exec_driver_sql("DROP TABLE _assign_points")
        return result

    def heat_cells(self, **kwargs) -> pd.DataFrame:
        with self.engine.begin() as conn:
            return sql_heat_cells(conn, **kwargs)

    def coverage_facts(self, **kwargs):
        with self.engine.begin() as conn:
            return sql_coverage_facts(conn, **kwargs)

    def lock_coverage(self, conn) -> None:
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('citybrain_grid_coverage'))"))

    def unit_shapes(self, codes) -> gpd.GeoDataFrame:
        query = select(units.c.code, units.c.geom).where(units.c.code.in_(list(codes))).order_by(units.c.code)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        geoms = shapely.from_wkb([r.geom for r in rows]) if rows else []
        return gpd.GeoDataFrame({"code": [r.code for r in rows]}, geometry=list(geoms), crs=SRID)

    # --- writing ------------------------------------------------------------------------------

    def _bulk_insert(self, conn, table, frame: pd.DataFrame) -> None:
        """COPY the rows in, in the caller's transaction; geometry goes as hex EWKB."""
        columns = [c for c in frame.columns if c in table.c]
        if frame.empty or not columns:
            return
        body = _copy_text([_copy_column(frame[c], table.c[c].type) for c in columns])
        sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        self._copy(conn, sql, body)
        # Rows that brought their own ids leave the id sequence behind: move it past them (never
        # back), or the next INSERT by another program collides.
        serial = table.autoincrement_column
        if serial is not None and serial.name in columns:
            sequence = f"pg_get_serial_sequence('{table.name}', '{serial.name}')"
            conn.exec_driver_sql(
                f"SELECT setval({sequence}, GREATEST(nextval({sequence}), "
                f"(SELECT COALESCE(max({serial.name}), 0) + 1 FROM {table.name})), false)"
            )
        if len(frame) >= _ANALYZE_ROWS:
            conn.exec_driver_sql(f"ANALYZE {table.name}")

    @staticmethod
    def _copy(conn, sql: str, body: str) -> None:
        """Run ``COPY … FROM STDIN`` with ``body`` (text format) on the connection's transaction."""
        with conn.connection.dbapi_connection.cursor() as cursor:
            cursor.copy_expert(sql, io.BytesIO(body.encode("utf-8")), size=1 << 20)


def _hex_ewkb(wkb) -> list:
    """WKB bytes as hex EWKB text with our SRID (what PostGIS reads as geometry input)."""
    geoms = shapely.set_srid(shapely.from_wkb(np.asarray(wkb, dtype=object)), SRID)
    return shapely.to_wkb(geoms, hex=True, include_srid=True).tolist()


_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_NULL = "\\N"


def _copy_column(series: pd.Series, type_) -> list[str]:
    """One column as COPY text-format fields."""
    missing = series.isna().to_numpy()
    present = series[~missing]
    if isinstance(type_, Geometry):
        values = _hex_ewkb(present.to_numpy())
    elif isinstance(type_, DateTime):
        values = pd.to_datetime(present).dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist()
    elif isinstance(type_, Integer):
        values = [str(int(v)) for v in present.tolist()]
    elif isinstance(type_, Float):
        values = [repr(float(v)) for v in present.tolist()]
    else:
        values = present.astype(str).tolist()
        joined = "".join(values)
        for old, new in _ESCAPES:
            if old in joined:  # rare: escape only the columns that need it
                values = [v.replace(old, new) for v in values]
    out = np.full(len(series), _NULL, dtype=object)
    out[~missing] = values
    return out.tolist()


def _copy_text(columns: list[list[str]]) -> str:
    return "".join("\t".join(row) + "\n" for row in zip(*columns, strict=True))

