"""The heatmap and coverage contract, and its embedded (Shapely) implementation.

Both stores answer the same two questions with the same frames; the rows come from the same
``data.queries`` selections and only the geometry differs: here Shapely through ``geo``, in
``data.stores.postgis_spatial`` SQL. Everything is measured in the metric CRS ``epsg`` the caller picks
(``geo.coverage.metric_epsg`` of the unit).

- ``heat_cells``: one row per cell with disputes: ``i``, ``j`` (the cell, as ``ST_HexagonGrid``
  and ``ST_SquareGrid`` number them), ``count``, ``ids`` (the newest :data:`CELL_IDS` case ids).
- ``coverage_facts``: a :class:`CoverageFacts`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select

from data import queries
from data.schema import cameras, cases, key_places, units
from geo import cells as geo_cells
from geo import coverage as geo_cov

CELL_IDS = 50  # case ids kept per cell, newest first, for the list a click opens


@dataclass
class CoverageFacts:
    """What the stores measure; ``data.service`` turns it into the per-unit summary.

    - ``members``: ``code``, ``area_m2``, ``covered_m2`` (inside an online camera's view);
    - ``cases``: ``id``, ``member``, ``x``, ``y`` (metres), ``blind`` (outside every online view);
    - ``places``: ``id``, ``name``, ``kind``, ``member``, ``x``, ``y``, ``covered``;
    - ``views``: ``id``, ``kind``, ``status``, ``wkb`` (lon/lat) of every camera whose view can
      reach the unit;
    - ``blind_wkb``: the unit outside online views, lon/lat WKB.
    """

    members: pd.DataFrame
    cases: pd.DataFrame
    places: pd.DataFrame
    views: pd.DataFrame
    blind_wkb: bytes


def group_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows ``id``, ``reported_at``, ``i``, ``j`` (one per case) as one row per cell."""
    if frame.empty:
        return pd.DataFrame({"i": pd.Series(dtype="int64"), "j": pd.Series(dtype="int64"),
                             "count": pd.Series(dtype="int64"), "ids": pd.Series(dtype=object)})
    frame = frame.sort_values(["reported_at", "id"], ascending=False)
    grouped = frame.groupby(["i", "j"], sort=True)
    out = grouped.size().rename("count").to_frame()
    out["ids"] = grouped["id"].agg(lambda ids: [int(v) for v in ids.iloc[:CELL_IDS]])
    return out.reset_index().astype({"i": "int64", "j": "int64", "count": "int64"})


def _metric_points(wkbs, epsg: int) -> np.ndarray:
    if len(wkbs) == 0:
        return np.empty((0, 2))
    geoms = geo_cov.to_metric(shapely.from_wkb(np.asarray(wkbs, dtype=object)), epsg)
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


# --- from facts to what screens and the API show --------------------------------------------------

# A suggested camera: a dome (球机) seeing this far all round.
SUGGEST_RADIUS_M = 100.0
# An uncovered key place weighs as much as this many blind-spot cases in the choice of sites.
PLACE_WEIGHT = 5.0
SUGGESTIONS = 10


def coverage_summary(facts: CoverageFacts, cameras: pd.DataFrame, epsg: int) -> dict:
    """Per member: area, covered share, blind area, cameras and online rate, uncovered key places,
    cases and cases in blind spots; the same for the whole unit; and the ranked suggestions.

    ``cameras`` is indexed by member code with ``cameras`` and ``cameras_online`` (counted by grid
    in ``data.queries.counts``, as the wall screen's 视频在线率).
    """
    cases_, places = facts.cases.copy(), facts.places.copy()
    # Empty frames come back with object columns: a boolean mask must be boolean to select rows.
    cases_["blind"] = cases_["blind"].astype(bool)
    places["covered"] = places["covered"].astype(bool)
    if len(places):
        spots = geo_cov.to_lonlat(shapely.points(places[["x", "y"]].to_numpy(float)), epsg)
        places["lon"], places["lat"] = shapely.get_x(spots).round(6), shapely.get_y(spots).round(6)
    rows = []
    for m in facts.members.itertuples():
        mine = cases_[cases_.member == m.code]
        here = places[places.member == m.code]
        uncovered = here[~here.covered].sort_values("id")
        cams = cameras.loc[m.code] if m.code in cameras.index else {"cameras": 0, "cameras_online": 0}
        rows.append({
            "code": m.code,
            "area_km2": m.area_m2 / 1e6,
            "covered_share": m.covered_m2 / m.area_m2 if m.area_m2 else None,
            "blind_km2": (m.area_m2 - m.covered_m2) / 1e6,
            "cameras": int(cams["cameras"]), "cameras_online": int(cams["cameras_online"]),
            "online_rate": cams["cameras_online"] / cams["cameras"] if cams["cameras"] else None,
            "key_places": len(here), "uncovered_places": len(uncovered),
            "uncovered_place_list": [{"id": r.id, "name": r.name, "kind": r.kind, "lon": r.lon,
                                      "lat": r.lat} for r in uncovered.itertuples()],
            "cases": len(mine), "blind_cases": int(mine.blind.sum()),
        })
    area = float(facts.members.area_m2.sum())
    covered = float(facts.members.covered_m2.sum())
    n_cams = sum(r["cameras"] for r in rows)
    online = sum(r["cameras_online"] for r in rows)
    total = {
        "area_km2": area / 1e6, "covered_share": covered / area if area else None,
        "blind_km2": (area - covered) / 1e6, "cameras": n_cams, "cameras_online": online,
        "online_rate": online / n_cams if n_cams else None,
        "key_places": len(places), "uncovered_places": int((~places.covered).sum()) if len(places) else 0,
        "cases": len(cases_), "blind_cases": int(cases_.blind.sum()) if len(cases_) else 0,
    }
    return {"members": rows, "total": total, "suggestions": suggestions(facts, epsg)}


def suggestions(facts: CoverageFacts, epsg: int, count: int = SUGGESTIONS) -> list[dict]:
    """Where one more camera would help most: greedy sites over blind-spot cases and uncovered
    key places (``geo.cells.greedy_sites``), best first."""
    blind = facts.cases[facts.cases.blind.astype(bool)]
    open_places = facts.places[~facts.places.covered.astype(bool)]
    xy = np.vstack([blind[["x", "y"]].to_numpy(float).reshape(-1, 2),
                    open_places[["x", "y"]].to_numpy(float).reshape(-1, 2)])
    weights = np.r_[np.ones(len(blind)), np.full(len(open_places), PLACE_WEIGHT)]
    members = np.r_[blind["member"].to_numpy(object), open_places["member"].to_numpy(object)]
    names = np.r_[np.full(len(blind), None, dtype=object), open_places["name"].to_numpy(object)]
    out = []
    for rank, (x, y, covered) in enumerate(geo_cells.greedy_sites(xy, weights, SUGGEST_RADIUS_M, count), 1):
        site = geo_cov.to_lonlat(shapely.points(x, y), epsg)
        is_place = covered >= len(blind)
        member = pd.Series(members[covered]).mode().sort_values().iloc[0]
        out.append({
            "rank": rank, "lon": round(site.x, 6), "lat": round(site.y, 6), "member": member,
            "cases": int((~is_place).sum()), "key_places": [str(n) for n in names[covered[is_place]]],
            "radius_m": SUGGEST_RADIUS_M,
        })
    return out
