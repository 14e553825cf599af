"""Camera coverage at scale: the union of camera views measured once per grid and kept in the store
(``grid_coverage``), measured again only where cameras, grids or key places changed; a unit's
coverage is the sum of its grids' (see docs/ARCHITECTURE.md, "Coverage at scale").

The same code serves both stores: plain SQLAlchemy reads and writes, the geometry in Shapely
through ``geo.coverage`` (the views are the polygons the embedded store's from-scratch path builds,
``data.stores.embedded_spatial``; the PostGIS store's SQL path builds the same shapes).

- :func:`refresh` brings the rows of one metric CRS up to date. A cheap token of the cameras,
  units and key places (:func:`inputs_token`) says whether anything could have changed; if so,
  every grid's signature is computed (its shape, the online cameras whose views touch it, the key
  places within reach) and only the grids whose signature differs are measured again: the union of
  their cameras' views clipped to the grid, and of the key places' reach.
- :func:`stored_facts` answers ``Store.coverage_facts`` from those rows: members' covered areas are
  sums over their grids; cases and key places are tested against the online views themselves
  (exact, through an STRtree); the blind-spot geometry and the view shapes are only built when the
  unit has few enough cameras to draw them (:data:`DRAW_LIMIT`).

The members' covered areas equal the from-scratch ones where the grids tile their parents; where a
parent's outline leaves slivers outside its grids, coverage in the slivers is not counted.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import bindparam, delete, func, select

from data import queries
from data.schema import cameras, cases, coverage_state, grid_coverage, key_places, unit_closure, units
from data.stores.base import CoverageFacts
from geo import coverage as geo_cov

# "Where people are": this far around a key place (data.coverage.PEOPLE_RADIUS_M).
PEOPLE_RADIUS_M = 200.0
# Above this many cameras in reach the answer carries no view shapes and no blind-spot geometry:
# the map draws camera points instead (layouts/coverage.py VIEW_LIMIT is at most this).
DRAW_LIMIT = 1500


def inputs_token(conn) -> str:
    """A cheap token that changes whenever cameras, units or key places change (counts and newest
    ``updated_at``: index look-ups)."""
    parts = []
    for table in (cameras, units, key_places):
        parts += [select(func.count()).select_from(table).scalar_subquery(),
                  select(func.max(table.c.updated_at)).scalar_subquery()]
    return "|".join(str(v) for v in conn.execute(select(*parts)).one())


def _metric(wkbs, epsg: int) -> np.ndarray:
    wkbs = np.asarray(wkbs, dtype=object)
    if len(wkbs) == 0:
        return np.empty(0, dtype=object)
    return geo_cov.to_metric(shapely.from_wkb(wkbs), epsg)


def _points_xy(conn, query, geom, epsg: int) -> tuple[list, np.ndarray]:
    """The rows of ``query`` and their points ``geom`` in metres: transformed in SQL on PostGIS,
    through PROJ here on the embedded store (as each store's from-scratch path does)."""
    if conn.dialect.name == "postgresql":
        # ST_Transform's cost over many rows makes the planner JIT-compile the statement: seconds
        # of compiling for a scan that takes a fraction of one.
        conn.exec_driver_sql("SET LOCAL jit = off")
        metric = func.ST_Transform(geom, epsg)
        rows = conn.execute(query.add_columns(func.ST_X(metric).label("_x"),
                                              func.ST_Y(metric).label("_y"))).all()
        xy = np.array([r[-2:] for r in rows], dtype=float).reshape(-1, 2)  # by index: far faster
        return rows, xy
    rows = conn.execute(query.add_columns(geom.label("_g"))).all()
    xy = shapely.get_coordinates(_metric([r[-1] for r in rows], epsg)).reshape(-1, 2)
    return rows, xy


def read_cameras(conn, epsg: int) -> pd.DataFrame:
    """Every camera with its point in metres (``x``, ``y``), by id."""
    c = cameras.c
    rows, xy = _points_xy(conn, select(c.id, c.kind, c.status, c.heading, c.fov, c.range_m)
                          .order_by(c.id), c.geom, epsg)
    frame = pd.DataFrame([tuple(r)[:6] for r in rows],
                         columns=["id", "kind", "status", "heading", "fov", "range_m"])
    frame["x"], frame["y"] = xy[:, 0], xy[:, 1]
    for col in ("heading", "fov", "range_m"):
        frame[col] = frame[col].astype(float)
    return frame


def views_of(frame: pd.DataFrame) -> np.ndarray:
    """The cameras' view polygons in metres (``geo.coverage.view_polygons``)."""
    return geo_cov.view_polygons(frame["x"].to_numpy(), frame["y"].to_numpy(), frame["heading"],
                                 frame["fov"], frame["range_m"])


class Cameras:
    """Every camera of the store and its view, in one metric CRS: read once per :func:`inputs_token`
    (a caller may keep it while the token stays the same)."""

    def __init__(self, frame: pd.DataFrame, epsg: int, token: str | None = None):
        self.frame, self.epsg, self.token = frame, epsg, token
        self.views = views_of(frame)

    @classmethod
    def load(cls, conn, epsg: int, token: str | None = None) -> Cameras:
        return cls(read_cameras(conn, epsg), epsg, token)


def _leaves(conn, epsg: int) -> tuple[list[str], np.ndarray, list[bytes]]:
    parents = select(units.c.parent_code).where(units.c.parent_code.isnot(None))
    rows = conn.execute(select(units.c.code, units.c.geom)
                        .where(units.c.code.notin_(parents), units.c.geom.isnot(None))
                        .order_by(units.c.code)).all()
    wkbs = [bytes(r.geom) for r in rows]
    return [r.code for r in rows], _metric(wkbs, epsg), wkbs


def _groups(left: np.ndarray, right: np.ndarray, n: int) -> list[np.ndarray]:
    """For each of ``n`` left items, the right items paired with it (sorted)."""
    order = np.lexsort((right, left))
    left, right = left[order], right[order]
    bounds = np.searchsorted(left, np.arange(n + 1))
    return [right[bounds[k]:bounds[k + 1]] for k in range(n)]


def _digest(*parts) -> str:
    h = hashlib.sha1()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\x00")
    return h.hexdigest()


class Grids:
    """The leaf units (grids) in one metric CRS, the reach of the key places and which grids each
    reaches, with a digest per grid of both: what a camera change leaves alone. Read once per
    units-and-key-places part of :func:`inputs_token` (a caller may keep it while that stays)."""

    def __init__(self, conn, epsg: int, token: str | None = None):
        self.epsg, self.token = epsg, token
        self.codes, self.shapes, wkbs = _leaves(conn, epsg)
        place_wkbs = [bytes(g) for g in
                      conn.execute(select(key_places.c.geom).order_by(key_places.c.id)).scalars()]
        places = _metric(place_wkbs, epsg)
        # As data.coverage.people_area_share: around each place's point on its surface.
        self.reach = (shapely.buffer(shapely.point_on_surface(places), PEOPLE_RADIUS_M) if len(places)
                      else np.empty(0, dtype=object))
        self.by_place = _pairs(self.reach, self.shapes)
        self.digests = [_digest(wkbs[k], *(place_wkbs[p] for p in self.by_place[k]))
                        for k in range(len(self.codes))]


def static_part(token: str) -> str:
    """The units-and-key-places part of an :func:`inputs_token` (what :class:`Grids` depends on)."""
    return token.split("|", 2)[2]


def stale(conn, epsg: int, token: str) -> bool:
    """Whether the rows of ``epsg`` were built from other inputs than ``token``."""
    stored = conn.execute(select(coverage_state.c.inputs).where(coverage_state.c.epsg == epsg)).scalar()
    return stored != token


def refresh(conn, epsg: int, *, force: bool = False, cams: Cameras | None = None,
            grids: Grids | None = None, token: str | None = None) -> list[str] | None:
    """Bring ``grid_coverage`` for ``epsg`` up to date in the caller's transaction; the codes of the
    grids measured again (removed ones included), or None when the token said nothing changed.
    ``cams`` and ``grids`` (read now if not given) must be the store's at ``token``."""
    token = token or inputs_token(conn)
    if not force and not stale(conn, epsg, token):
        return None
    grids = grids or Grids(conn, epsg, static_part(token))
    codes, shapes, reach, by_place = grids.codes, grids.shapes, grids.reach, grids.by_place
    cams = cams or Cameras.load(conn, epsg, token)
    on = (cams.frame["status"] == "online").to_numpy()
    online, views = cams.frame[on].reset_index(drop=True), cams.views[on]
    cam_keys = (online["id"].astype(str) + "|" + online["x"].map(repr) + "|" + online["y"].map(repr) + "|"
                + online["heading"].map(repr) + "|" + online["fov"].map(repr) + "|"
                + online["range_m"].map(repr)).to_numpy()

    by_view = _pairs(views, shapes)
    signatures = [_digest(grids.digests[k], *cam_keys[by_view[k]]) for k in range(len(codes))]
    old = dict(conn.execute(select(grid_coverage.c.code, grid_coverage.c.signature)
                            .where(grid_coverage.c.epsg == epsg)).all())
    changed = [k for k, (code, sig) in enumerate(zip(codes, signatures, strict=True))
               if old.get(code) != sig]
    removed = sorted(set(old) - set(codes))
    rows = [_measure(epsg, codes[k], signatures[k], shapes[k], views[by_view[k]], reach[by_place[k]])
            for k in changed]
    gone = [codes[k] for k in changed] + removed
    for i in range(0, len(gone), 500):
        conn.execute(delete(grid_coverage).where(grid_coverage.c.epsg == epsg,
                                                 grid_coverage.c.code.in_(gone[i:i + 500])))
    for i in range(0, len(rows), 5_000):
        conn.execute(grid_coverage.insert(), rows[i:i + 5_000])
    conn.execute(delete(coverage_state).where(coverage_state.c.epsg == epsg))
    conn.execute(coverage_state.insert().values(epsg=epsg, inputs=token))
    return sorted(gone)


def _pairs(shapes: np.ndarray, grids: np.ndarray) -> list[np.ndarray]:
    if len(shapes) == 0 or len(grids) == 0:
        return [np.empty(0, dtype=int) for _ in range(len(grids))]
    grid_i, shape_i = shapely.STRtree(shapes).query(grids, predicate="intersects")
    return _groups(grid_i, shape_i, len(grids))


def _measure(epsg, code, signature, grid, views, reach) -> dict:
    cover = shapely.intersection(grid, geo_cov.union(views)) if len(views) else shapely.Polygon()
    zone = shapely.intersection(grid, geo_cov.union(reach)) if len(reach) else shapely.Polygon()
    return {"epsg": epsg, "code": code, "signature": signature, "area_m2": float(grid.area),
            "covered_m2": float(cover.area), "people_m2": float(zone.area),
            "people_covered_m2": float(shapely.intersection(zone, cover).area) if zone.area else 0.0}


def member_sums(conn, members: list[str], epsg: int) -> pd.DataFrame:
    """Per member: the sums of its grids' stored areas (indexed by code, every member present)."""
    g = grid_coverage.c
    rows = conn.execute(
        select(unit_closure.c.ancestor_code, func.sum(g.area_m2), func.sum(g.covered_m2),
               func.sum(g.people_m2), func.sum(g.people_covered_m2))
        .join(grid_coverage, g.code == unit_closure.c.descendant_code)
        .where(g.epsg == epsg, unit_closure.c.ancestor_code.in_(bindparam("m", expanding=True)))
        .group_by(unit_closure.c.ancestor_code), {"m": list(members)}).all()
    frame = pd.DataFrame([tuple(r)[:6] for r in rows],
                         columns=["code", "grid_m2", "covered_m2", "people_m2", "people_covered_m2"])
    return frame.set_index("code").reindex(list(members)).fillna(0.0)


def stored_facts(conn, *, unit_code, members, start, end, epsg, cams: Cameras | None = None,
                 draw_limit: int = DRAW_LIMIT) -> CoverageFacts:
    """``Store.coverage_facts`` from the stored per-grid rows (call :func:`refresh` first).
    ``people_m2``/``people_covered_m2`` are the unit's (sums of its members); ``cams`` as read now
    if not given."""
    shapes = dict(conn.execute(select(units.c.code, units.c.geom)
                               .where(units.c.code.in_([unit_code, *members]))).all())
    unit = _metric([shapes[unit_code]], epsg)[0]
    areas = shapely.area(_metric([shapes[m] for m in members], epsg))
    sums = member_sums(conn, members, epsg)

    cams = cams or Cameras.load(conn, epsg)
    frame = cams.frame
    reach = frame["range_m"].fillna(geo_cov.DEFAULT_RANGE_M).to_numpy()
    shapely.prepare(unit)
    near = (shapely.dwithin(shapely.points(frame[["x", "y"]].to_numpy()), unit, reach) if len(frame)
            else np.zeros(0, bool))
    frame, views = frame[near].reset_index(drop=True), cams.views[near]
    online = (frame["status"] == "online").to_numpy()
    seen = shapely.STRtree(views[online]) if online.any() else None

    def in_view(geoms) -> np.ndarray:
        result = np.zeros(len(geoms), dtype=bool)
        if seen is not None and len(geoms):
            hit, _ = seen.query(geoms, predicate="intersects")
            result[hit] = True
        return result

    case_rows, case_xy = _points_xy(conn, queries.member_cases(members, start, end), cases.c.geom, epsg)
    case_pts = shapely.points(case_xy)
    place_rows = conn.execute(queries.member_key_places(members).add_columns(key_places.c.geom)).all()
    place_geoms = _metric([r.geom for r in place_rows], epsg)
    place_xy = (shapely.get_coordinates(shapely.point_on_surface(place_geoms)).reshape(-1, 2)
                if len(place_rows) else np.empty((0, 2)))

    drawn = len(frame) <= draw_limit
    centres = geo_cov.to_lonlat(shapely.centroid(views), epsg) if len(views) else np.empty(0, dtype=object)
    view_frame = pd.DataFrame({"id": frame["id"], "kind": frame["kind"], "status": frame["status"],
                               "lon": shapely.get_x(centres) if len(views) else [],
                               "lat": shapely.get_y(centres) if len(views) else []})
    blind_wkb = None
    if drawn:
        view_frame["wkb"] = shapely.to_wkb(geo_cov.to_lonlat(views, epsg)) if len(views) else []
        cover = geo_cov.union(views[online])
        blind_wkb = shapely.to_wkb(geo_cov.to_lonlat(geo_cov.blind_spots(unit, cover), epsg))
    return CoverageFacts(
        members=pd.DataFrame({"code": list(members), "area_m2": areas,
                              "covered_m2": sums["covered_m2"].to_numpy(float)}),
        cases=pd.DataFrame({"id": [r[0] for r in case_rows], "member": [r[1] for r in case_rows],
                            "x": case_xy[:, 0], "y": case_xy[:, 1], "blind": ~in_view(case_pts)}),
        places=pd.DataFrame({"id": [r.id for r in place_rows], "name": [r.name for r in place_rows],
                             "kind": [r.kind for r in place_rows], "member": [r.member for r in place_rows],
                             "x": place_xy[:, 0], "y": place_xy[:, 1], "covered": in_view(place_geoms)}),
        views=view_frame,
        blind_wkb=blind_wkb,
        people_m2=float(sums["people_m2"].sum()),
        people_covered_m2=float(sums["people_covered_m2"].sum()),
    )
