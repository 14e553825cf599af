"""The PostGIS store: the production home of units and cases, spatial work in SQL.

Other systems (the provincial grid platform, the 12345 hotline, the video platform) may write the
case tables directly. The schema is created and upgraded by the Alembic migrations in
``data.migrations``; a trigger there gives every case inserted with a point and no grid code its
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
from data.store import Store

# Tables this big or bigger get fresh planner statistics right after a bulk load.
_ANALYZE_ROWS = 10_000

# The leaf unit (grid) containing a point: the lowest code where grids overlap, as in
# geo.assign.assign_points, and ST_Intersects so a point on a shared edge is not lost.
_ASSIGN_SQL = text("""
    SELECT p.i, g.code
    FROM unnest(CAST(:points AS text[])) WITH ORDINALITY AS p(hex, i)
    CROSS JOIN LATERAL (
        SELECT u.code FROM units u
        WHERE ST_Intersects(u.geom, CAST(p.hex AS geometry))
          AND NOT EXISTS (SELECT 1 FROM units c WHERE c.parent_code = u.code)
        ORDER BY u.code
        LIMIT 1
    ) g
""")


def postgis_engine(url: str) -> Engine:
    """An engine for a ``postgresql://`` URL, always through psycopg2 (COPY needs it)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername not in ("postgresql", "postgresql+psycopg2"):
        raise ValueError(f"PostGIS 存储只支持 psycopg2 驱动 (use postgresql:// or postgresql+psycopg2://): "
                         f"{parsed.drivername}")
    return create_engine(
        parsed.set(drivername="postgresql+psycopg2"),
        pool_pre_ping=True,  # a restarted server costs one failed check, not a failed page
        connect_args={"application_name": "citybrain"},
    )


class PostGISStore(Store):
    kind = "postgis"

    @classmethod
    def from_url(cls, url: str) -> PostGISStore:
        return cls(postgis_engine(url))

    # --- schema -------------------------------------------------------------------------------

    def create_schema(self) -> None:
        """Run the Alembic migrations up to the newest revision; idempotent."""
        from data.migrations import upgrade_engine

        upgrade_engine(self.engine)

    def checkpoint(self) -> None:
        """Nothing to do: PostgreSQL makes a committed write durable and visible by itself."""

    # --- spatial operations -------------------------------------------------------------------

    def assign_grids(self, wkb_points) -> np.ndarray:
        wkb_points = np.asarray(wkb_points, dtype=object)
        result = np.full(len(wkb_points), None, dtype=object)
        if len(wkb_points) == 0:
            return result
        points = _hex_ewkb(wkb_points)
        with self.engine.connect() as conn:
            for start in range(0, len(points), 100_000):
                chunk = points[start:start + 100_000]
                for i, code in conn.execute(_ASSIGN_SQL, {"points": chunk}):
                    result[start + i - 1] = code
        return result

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
        with conn.connection.dbapi_connection.cursor() as cursor:
            cursor.copy_expert(sql, io.BytesIO(body.encode("utf-8")), size=1 << 20)
        # Rows that brought their own ids leave the id sequence behind: move it past them, or the
        # next INSERT by another program collides.
        for column in table.primary_key.columns:
            if column.name in columns and column.autoincrement is not False and isinstance(column.type, Integer):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"
                )
        if len(frame) >= _ANALYZE_ROWS:
            conn.exec_driver_sql(f"ANALYZE {table.name}")


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
        values = present.astype(str)
        for old, new in _ESCAPES:
            values = values.str.replace(old, new, regex=False)
        values = values.tolist()
    out = np.full(len(series), _NULL, dtype=object)
    out[~missing] = values
    return out.tolist()


def _copy_text(columns: list[list[str]]) -> str:
    return "".join("\t".join(row) + "\n" for row in zip(*columns))

