"""The heatmap and coverage contract (``data.stores.base``) in SQL: PostGIS does the geometry.

Cases are binned with ``ST_HexagonGrid``/``ST_SquareGrid`` per point (a lateral call over the
point's own extent yields only the cells touching it); camera views are built in a metric CRS
(``ST_Transform``) with the same constants as ``geo.coverage``, kept in a temporary table with a
GiST index, unioned (``ST_Union``) and subtracted (``ST_Difference``); cases and key places are
tested against the views with ``ST_Intersects`` through that index.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import bindparam, column, exists, func, literal, select, table, text
from sqlalchemy.dialects.postgresql import distinct_on

from data import queries
from data.schema import cases, key_places
from data.stores.base import CoverageFacts, group_cells
from geo import coverage as geo_cov

# Cameras are picked by bounding box first (degrees, generous: ~1 km), then exactly in metres.
_NEAR_DEGREES = 0.01

_VIEWS_SQL = f"""
CREATE TEMPORARY TABLE _views ON COMMIT DROP AS
SELECT c.id, c.kind, c.status,
  CASE WHEN v.f >= 360 THEN ST_Buffer(v.p, v.r, 'quad_segs={geo_cov.CIRCLE_QUAD_SEGS}')
  ELSE (SELECT ST_MakePolygon(ST_MakeLine(
          ARRAY[v.p] || array_agg(ST_SetSRID(ST_MakePoint(ST_X(v.p) + v.r * sin(radians(s.a)),
                                                          ST_Y(v.p) + v.r * cos(radians(s.a))),
                                             :epsg) ORDER BY s.k) || ARRAY[v.p]))
        FROM (SELECT k, v.h - v.f / 2 + v.f * k / v.n AS a FROM generate_series(0, v.n) AS k) AS s)
  END AS g
FROM cameras c
CROSS JOIN _unit u
CROSS JOIN LATERAL (
  SELECT ST_Transform(c.geom, :epsg) AS p,
         COALESCE(c.range_m, {geo_cov.DEFAULT_RANGE_M}) AS r,
         COALESCE(c.heading, {geo_cov.DEFAULT_HEADING}) AS h,
         COALESCE(c.fov, {geo_cov.DEFAULT_FOV}) AS f,
         GREATEST(2, ceil(COALESCE(c.fov, {geo_cov.DEFAULT_FOV}) / {geo_cov.ARC_STEP_DEGREES}))::int AS n
) AS v
WHERE c.geom && ST_Expand(u.geom, {_NEAR_DEGREES})
  AND ST_DWithin(v.p, u.g, v.r)
"""

_views = table("_views", column("id"), column("kind"), column("status"), column("g"))


def _begin(conn, unit_code: str, epsg: int) -> None:
    for name in ("_views", "_unit", "_cover"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.execute(text("CREATE TEMPORARY TABLE _unit ON COMMIT DROP AS "
                      "SELECT geom, ST_Transform(geom, :epsg) AS g FROM units WHERE code = :code"),
                 {"epsg": epsg, "code": unit_code})
    conn.execute(text(_VIEWS_SQL), {"epsg": epsg})
    conn.exec_driver_sql("CREATE INDEX ON _views USING gist (g)")
    conn.exec_driver_sql("ANALYZE _views")
    conn.execute(text(
        "CREATE TEMPORARY TABLE _cover ON COMMIT DROP AS SELECT COALESCE(ST_Union(g), "
        "ST_SetSRID('POLYGON EMPTY'::geometry, :epsg)) AS g FROM _views WHERE status = 'online'"),
        {"epsg": epsg})


def sql_heat_cells(conn, *, unit_code, start, end, heat, cell, size, epsg) -> pd.DataFrame:
    grid_fn = func.ST_HexagonGrid if cell == "hex" else func.ST_SquareGrid
    points = (queries.dispute_cases(unit_code, start, end, heat)
              .add_columns(func.ST_Transform(cases.c.geom, epsg).label("g")).subquery("p"))
    grid = grid_fn(float(size), points.c.g).table_valued("geom", "i", "j").render_derived().lateral("h")
    query = (
        select(points.c.id, points.c.reported_at, grid.c.i, grid.c.j)
        .select_from(points.join(grid, func.ST_Intersects(grid.c.geom, points.c.g)))
        .ext(distinct_on(points.c.id))  # a point on a shared edge counts once, in its lowest cell
        .order_by(points.c.id, grid.c.i, grid.c.j)
    )
    rows = conn.execute(query).all()
    return group_cells(pd.DataFrame(rows, columns=["id", "reported_at", "i", "j"]))


def sql_coverage_facts(conn, *, unit_code, members, start, end, epsg) -> CoverageFacts:
    _begin(conn, unit_code, epsg)
    member_rows = conn.execute(text(
        "SELECT u.code, ST_Area(m.g) AS area_m2, ST_Area(ST_Intersection(m.g, cv.g)) AS covered_m2 "
        "FROM units u CROSS JOIN LATERAL (SELECT ST_Transform(u.geom, :epsg) AS g) m CROSS JOIN _cover cv "
        "WHERE u.code IN :codes").bindparams(bindparam("codes", expanding=True)),
        {"epsg": epsg, "codes": list(members)}).mappings().all()
    by_code = {r["code"]: r for r in member_rows}

    def seen(geom):
        return exists(select(literal(1)).select_from(_views)
                      .where(_views.c.status == "online", func.ST_Intersects(_views.c.g, geom)))

    pt = func.ST_Transform(cases.c.geom, epsg)
    case_rows = conn.execute(queries.member_cases(members, start, end).add_columns(
        func.ST_X(pt).label("x"), func.ST_Y(pt).label("y"), seen(pt).label("seen"))).all()
    place = func.ST_Transform(key_places.c.geom, epsg)
    spot = func.ST_PointOnSurface(place)
    place_rows = conn.execute(queries.member_key_places(members).add_columns(
        func.ST_X(spot).label("x"), func.ST_Y(spot).label("y"), seen(place).label("seen"))).all()
    view_rows = conn.execute(text(
        "SELECT id, kind, status, ST_AsBinary(ST_Transform(g, 4326)) AS wkb FROM _views ORDER BY id")).all()
    blind = conn.execute(text(
        "SELECT ST_AsBinary(ST_Transform(ST_Difference(u.g, cv.g), 4326)) FROM _unit u, _cover cv")).scalar()

    return CoverageFacts(
        members=pd.DataFrame({"code": list(members),
                              "area_m2": [float(by_code[m]["area_m2"]) for m in members],
                              "covered_m2": [float(by_code[m]["covered_m2"]) for m in members]}),
        cases=pd.DataFrame({"id": [r.id for r in case_rows], "member": [r.member for r in case_rows],
                            "x": [r.x for r in case_rows], "y": [r.y for r in case_rows],
                            "blind": [not r.seen for r in case_rows]}),
        places=pd.DataFrame({"id": [r.id for r in place_rows], "name": [r.name for r in place_rows],
                             "kind": [r.kind for r in place_rows], "member": [r.member for r in place_rows],
                             "x": [r.x for r in place_rows], "y": [r.y for r in place_rows],
                             "covered": [bool(r.seen) for r in place_rows]}),
        views=pd.DataFrame({"id": [r.id for r in view_rows], "kind": [r.kind for r in view_rows],
                            "status": [r.status for r in view_rows],
                            "wkb": [bytes(r.wkb) for r in view_rows]}),
        blind_wkb=bytes(blind),
    )
