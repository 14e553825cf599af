"""The stores behind one interface: open one from a URL, write to it, read geometry from it.

Tabular reads (KPIs, rankings, trends) live in ``data.queries`` and are written once for both
stores. Only the spatial operations have one implementation per store: the embedded store does
them in Shapely here; the PostGIS store does them in SQL.
"""

from __future__ import annotations

from collections import defaultdict
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, create_engine, delete, event, select

from data import schema
from data.schema import cases, unit_closure, units


def open_store(url: str) -> "Store":
    """The store at ``url``: a ``postgresql://`` URL or a ``sqlite:///`` embedded file."""
    if url.startswith("sqlite"):
        from data.embedded import EmbeddedStore

        return EmbeddedStore(_sqlite_engine(url))
    if url.startswith(("postgresql", "postgres://")):
        from data.postgis import PostGISStore

        return PostGISStore.from_url(url)
    raise ValueError(f"不支持的数据库地址 unsupported database URL: {url}")


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        # WAL: wall screens keep reading while an import writes.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()

    return engine


class Store:
    """What every store does; subclasses supply the spatial parts."""

    kind = "abstract"

    def __init__(self, engine: Engine):
        self.engine = engine

    # --- schema -------------------------------------------------------------------------------

    def create_schema(self) -> None:
        raise NotImplementedError

    def checkpoint(self) -> None:
        """Make finished writes durable and visible to other tools (no-op where not needed)."""

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(units.c.code).limit(1)).first() is None

    # --- spatial operations (one implementation per store) ------------------------------------

    def assign_grids(self, wkb_points) -> np.ndarray:
        """The leaf unit (grid) code containing each WKB point, None where no grid does."""
        raise NotImplementedError

    def unit_shapes(self, codes) -> gpd.GeoDataFrame:
        """``code`` and full-detail ``geometry`` of the given units."""
        raise NotImplementedError

    # --- writing ------------------------------------------------------------------------------

    def write_units(self, frame: gpd.GeoDataFrame) -> None:
        """Insert units (any levels, parents first or not) and rebuild the ancestor links."""
        rows = _records(frame.drop(columns="geometry"))
        for row, geom in zip(rows, frame.geometry, strict=True):
            row["geom"] = shapely.to_wkb(shapely.force_2d(_multi(geom)))
        with self.engine.begin() as conn:
            # Insert parents before children so the foreign key holds on every row.
            for batch in _parents_first(rows):
                conn.execute(units.insert(), batch)
            self._rebuild_closure(conn)

    def _rebuild_closure(self, conn) -> None:
        parent_of = dict(conn.execute(select(units.c.code, units.c.parent_code)).all())
        links = []
        for code in parent_of:
            depth, node, seen = 0, code, set()
            while node is not None:
                if node in seen:
                    raise ValueError(f"单元层级存在循环 cycle in the unit hierarchy at {node}")
                seen.add(node)
                links.append({"ancestor_code": node, "descendant_code": code, "depth": depth})
                node, depth = parent_of.get(node), depth + 1
        conn.execute(delete(unit_closure))
        conn.execute(unit_closure.insert(), links)

    def write_cases(self, frame: pd.DataFrame, events: pd.DataFrame) -> None:
        """Insert cases (with ``id`` and WKB ``geom``) and their status events in one transaction.

        Cases without a ``grid_code`` are assigned the grid containing their point.
        """
        frame = frame.copy()
        if "grid_code" not in frame:
            frame["grid_code"] = None
        missing = frame["grid_code"].isna().to_numpy()
        if missing.any():
            frame.loc[missing, "grid_code"] = self.assign_grids(frame.loc[missing, "geom"].to_numpy())
        with self.engine.begin() as conn:
            self._bulk_insert(conn, cases, frame)
            self._bulk_insert(conn, schema.case_events, events)

    def write_table(self, table, frame: pd.DataFrame) -> None:
        """Insert rows into one of the other tables (cameras, key places, surveys)."""
        with self.engine.begin() as conn:
            self._bulk_insert(conn, table, frame)

    def _bulk_insert(self, conn, table, frame: pd.DataFrame) -> None:
        rows = _records(frame)
        for i in range(0, len(rows), 50_000):
            conn.execute(table.insert(), rows[i : i + 50_000])


def _multi(geom):
    return shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def _parents_first(rows: list[dict]) -> list[list[dict]]:
    by_code = {r["code"]: r for r in rows}
    depth_of: dict[str, int] = {}

    def depth(code, trail=()):
        if code in depth_of:
            return depth_of[code]
        parent = by_code[code].get("parent_code")
        if parent in trail:
            raise ValueError(f"单元层级存在循环 cycle in the unit hierarchy at {code}")
        d = depth(parent, trail + (code,)) + 1 if parent in by_code else 0
        depth_of[code] = d
        return d

    batches: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        batches[depth(row["code"])].append(row)
    return [batches[d] for d in sorted(batches)]


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of plain Python values (None for missing) that every driver accepts."""
    out = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in out:
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                row[key] = value.to_pydatetime()
            elif isinstance(value, np.generic):
                row[key] = value.item()
    return out

