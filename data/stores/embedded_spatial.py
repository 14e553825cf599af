"""The heatmap and coverage contract (``data.stores.base``) in Shapely: the embedded store's
spatial backend.

The rows come from the same ``data.queries`` selections as in ``data.stores.postgis_spatial``; only
the geometry differs: here Shapely through ``geo``. Everything is measured in the metric CRS
``epsg`` the caller picks (``geo.coverage.metric_epsg`` of the unit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select

from data import queries
from data.schema import cameras, cases, key_places, units
from data.stores.base import CoverageFacts, group_cells
from geo import cells as geo_cells
from geo import coverage as geo_cov


def _metric_points(wkbs, epsg: int) -> np.ndarray:
    if len(wkbs) == 0:
        return np.empty((0, 2))
    geoms = geo_cov.to_metric(shapely.from_wkb(np.asarray(wkbs, dtype=object)), epsg)
    if (shapely.get_type_id(geoms) == 0).all():  # points (cases, cameras): their own coordinates
        return shapely.get_coordinates(geoms)
    return shapely.get_coordinates(shapely.point_on_surface(geoms))


def shapely_heat_cells(conn, *, unit_code, start, end, heat, cell, size, epsg) -> pd.DataFrame:
    rows = conn.execute(queries.dispute_cases(unit_code, start, end, heat).add_columns(cases.c.geom)).all()
    xy = _metric_points([r.geom for r in rows], epsg)
    i, j = geo_cells.cell_index(xy[:, 0], xy[:, 1], cell, size)
    return group_cells(pd.DataFrame({"id": [r.id for r in rows], "reported_at": [r.reported_at for r in rows],
                                     "i": i, "j": j}))


def shapely_coverage_facts(conn, *, unit_code, members, start, end, epsg) -> CoverageFacts:
    shapes = dict(conn.execute(select(units.c.code, units.c.geom)
                               .where(units.c.code.in_([unit_code, *members]))).all())
    unit = geo_cov.to_metric(shapely.from_wkb(shapes[unit_code]), epsg)
    member_geoms = geo_cov.to_metric(shapely.from_wkb([shapes[m] for m in members]), epsg)

    cams = pd.DataFrame(conn.execute(
        select(cameras.c.id, cameras.c.kind, cameras.c.status, cameras.c.heading, cameras.c.fov,
               cameras.c.range_m, cameras.c.geom).order_by(cameras.c.id)).mappings().all(),
        columns=["id", "kind", "status", "heading", "fov", "range_m", "geom"])
    xy = _metric_points(cams["geom"].to_numpy(), epsg)
    reach = cams["range_m"].astype(float).fillna(geo_cov.DEFAULT_RANGE_M).to_numpy()
    near = shapely.dwithin(shapely.points(xy), unit, reach) if len(cams) else np.zeros(0, bool)
    cams, xy = cams[near].reset_index(drop=True), xy[near]
    views = geo_cov.view_polygons(xy[:, 0], xy[:, 1], cams["heading"].astype(float),
                                  cams["fov"].astype(float), cams["range_m"].astype(float))
    online = (cams["status"] == "online").to_numpy()
    cover = geo_cov.union(views[online])
    area, covered = geo_cov.covered_area(member_geoms, cover)

    case_rows = conn.execute(queries.member_cases(members, start, end).add_columns(cases.c.geom)).all()
    case_xy = _metric_points([r.geom for r in case_rows], epsg)
    place_rows = conn.execute(queries.member_key_places(members).add_columns(key_places.c.geom)).all()
    place_geoms = (geo_cov.to_metric(shapely.from_wkb([r.geom for r in place_rows]), epsg)
                   if place_rows else np.empty(0, dtype=object))
    place_xy = (shapely.get_coordinates(shapely.point_on_surface(place_geoms)) if place_rows
                else np.empty((0, 2)))

    return CoverageFacts(
        members=pd.DataFrame({"code": list(members), "area_m2": area, "covered_m2": covered}),
        cases=pd.DataFrame({"id": [r.id for r in case_rows], "member": [r.member for r in case_rows],
                            "x": case_xy[:, 0], "y": case_xy[:, 1],
                            "blind": ~geo_cov.inside(shapely.points(case_xy), cover)}),
        places=pd.DataFrame({"id": [r.id for r in place_rows], "name": [r.name for r in place_rows],
                             "kind": [r.kind for r in place_rows], "member": [r.member for r in place_rows],
                             "x": place_xy[:, 0], "y": place_xy[:, 1],
                             "covered": geo_cov.inside(place_geoms, cover)}),
        views=pd.DataFrame({"id": cams["id"], "kind": cams["kind"], "status": cams["status"],
                            "wkb": shapely.to_wkb(geo_cov.to_lonlat(views, epsg)) if len(views) else []}),
        blind_wkb=shapely.to_wkb(geo_cov.to_lonlat(geo_cov.blind_spots(unit, cover), epsg)),
    )
