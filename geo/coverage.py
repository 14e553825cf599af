"""Camera views and coverage, in a metric projection (see docs/ARCHITECTURE.md, "Spatial work").

A bullet camera (枪机, 人脸, 车牌) sees a sector: from its point, ``range_m`` metres out, ``fov``
degrees wide around its compass ``heading`` (0 = north, clockwise). A dome camera (球机, fov 360)
sees a circle. Coverage is the union of the views of online cameras; blind spots are a unit's
area outside it. The PostGIS store builds the same polygons in SQL with the same constants
(``ARC_STEP_DEGREES``, ``CIRCLE_QUAD_SEGS``), so both stores measure the same shapes.

Everything here works in metres: project with :func:`metric_epsg` / :func:`to_metric` first.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

# A sector's arc has one vertex every this many degrees (at least two segments).
ARC_STEP_DEGREES = 10.0
# Circles (dome cameras): shapely/GEOS quadrant segments, as ST_Buffer(…, 'quad_segs=8').
CIRCLE_QUAD_SEGS = 8
# What a camera row without a value is taken to have.
DEFAULT_HEADING, DEFAULT_FOV, DEFAULT_RANGE_M = 0.0, 360.0, 50.0


def metric_epsg(lon: float, lat: float) -> int:
    """The WGS84 UTM zone (EPSG:326xx north, 327xx south) containing ``lon``/``lat``."""
    zone = min(max(int(math.floor((lon + 180.0) / 6.0)) + 1, 1), 60)
    return (32600 if lat >= 0 else 32700) + zone


def _transformer(source: int, target: int):
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)


def to_metric(geoms, epsg: int):
    """Longitude/latitude geometries (EPSG:4326) in the metric CRS ``epsg``."""
    t = _transformer(4326, epsg)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def to_lonlat(geoms, epsg: int):
    """Geometries in the metric CRS ``epsg`` back in longitude/latitude."""
    t = _transformer(epsg, 4326)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def arc_segments(fov: float) -> int:
    """How many straight segments approximate a sector's arc (the PostGIS store uses the same)."""
    return max(2, int(math.ceil(fov / ARC_STEP_DEGREES)))


def view_polygons(x, y, heading, fov, range_m) -> np.ndarray:
    """Each camera's field of view as a polygon, in the same metres as ``x``/``y``.

    ``fov >= 360`` (a dome camera) gives a circle; anything else a sector. Missing values take
    the defaults above.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    heading = np.nan_to_num(np.asarray(heading, float), nan=DEFAULT_HEADING)
    fov = np.nan_to_num(np.asarray(fov, float), nan=DEFAULT_FOV)
    range_m = np.nan_to_num(np.asarray(range_m, float), nan=DEFAULT_RANGE_M)
    out = np.empty(len(x), dtype=object)
    dome = fov >= 360
    if dome.any():
        out[dome] = shapely.buffer(shapely.points(x[dome], y[dome]), range_m[dome],
                                   quad_segs=CIRCLE_QUAD_SEGS)
    sectors = np.flatnonzero(~dome)
    segments = np.array([arc_segments(f) for f in fov[sectors]], dtype=int)
    for n in np.unique(segments):  # one array of rings per arc length: no Python call per camera
        i = sectors[segments == n]
        angles = np.radians(heading[i, None] - fov[i, None] / 2 + fov[i, None] * np.arange(n + 1) / n)
        apex = np.column_stack([x[i], y[i]])[:, None, :]
        ring = np.stack([x[i, None] + range_m[i, None] * np.sin(angles),
                         y[i, None] + range_m[i, None] * np.cos(angles)], axis=-1)
        out[i] = shapely.polygons(np.concatenate([apex, ring, apex], axis=1))
    return out


def union(polygons):
    """The union of ``polygons`` (an empty polygon when there are none)."""
    polygons = [p for p in np.asarray(polygons, dtype=object) if p is not None]
    return shapely.union_all(polygons) if polygons else shapely.Polygon()


def covered_area(units, coverage) -> tuple[np.ndarray, np.ndarray]:
    """Area and covered area (m²) of each unit polygon under ``coverage``."""
    units = np.asarray(units, dtype=object)
    shapely.prepare(coverage)
    return shapely.area(units), shapely.area(shapely.intersection(units, coverage))


def blind_spots(unit, coverage):
    """The part of ``unit`` outside ``coverage``."""
    return shapely.difference(unit, coverage)


def inside(points, coverage) -> np.ndarray:
    """True for each geometry that touches ``coverage`` (a key place or a case point in view)."""
    points = np.asarray(points, dtype=object)
    if len(points) == 0 or coverage.is_empty:
        return np.zeros(len(points), dtype=bool)
    tree = shapely.STRtree(shapely.get_parts(coverage))
    hit, _ = tree.query(points, predicate="intersects")
    result = np.zeros(len(points), dtype=bool)
    result[hit] = True
    return result
