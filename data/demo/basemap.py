"""The demo city's own base features, so its map is not shapes in the void: the river that
separates the core from the second centre (see ``generator._density``), a ring road and the
main roads out of the core. Written as a small GeoJSON file (``kind`` water or road) that the app
draws under the units (setting ``CITYBRAIN_BASE_FEATURES``); a real city supplies its own.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import shapely
import shapely.affinity

from data.demo.generator import _KM_PER_DEG_LAT, _KM_PER_DEG_LON, ORIGIN_LAT, ORIGIN_LON
from geo.geojson import feature_collection

RIVER_WIDTH_KM = 0.35


def _to_km(geom):
    return shapely.transform(geom, lambda xy: np.column_stack([
        (xy[:, 0] - ORIGIN_LON) * _KM_PER_DEG_LON, (xy[:, 1] - ORIGIN_LAT) * _KM_PER_DEG_LAT]))


def _to_lonlat(geom):
    return shapely.transform(geom, lambda xy: np.column_stack([
        ORIGIN_LON + xy[:, 0] / _KM_PER_DEG_LON, ORIGIN_LAT + xy[:, 1] / _KM_PER_DEG_LAT]))


def base_features(city_lonlat) -> dict:
    """River and main roads for the demo city whose outline is ``city_lonlat`` (a shapely shape)."""
    city = _to_km(city_lonlat)
    reach = city.buffer(1.5)
    # The river: between the core (0, 0) and the second centre (8, -5), across the whole city.
    along = np.array([5.0, 8.0]) / math.hypot(5, 8)
    across = np.array([8.0, -5.0]) / math.hypot(8, 5)
    t = np.linspace(-40, 40, 161)
    bend = 1.1 * np.sin(t / 4.5) + 0.4 * np.sin(t / 1.7)
    centre = np.array([4.0, -2.5])
    river_line = shapely.LineString(centre + np.outer(t, along) + np.outer(bend, across))
    river = river_line.buffer(RIVER_WIDTH_KM / 2).intersection(reach)
    ring = shapely.Point(0, 0).buffer(6.5, quad_segs=24).exterior
    ring = shapely.affinity.scale(ring, 1.2, 1.0)
    radials = [shapely.LineString([(0, 0), (40 * math.cos(a), 40 * math.sin(a))])
               for a in np.radians([15, 80, 150, 215, 285])]
    to_second = shapely.LineString([(0, 0), (8, -5), (20, -12)])
    roads = shapely.union_all([ring, *radials, to_second]).intersection(reach)
    geoms = [_to_lonlat(river), _to_lonlat(roads)]
    return feature_collection(geoms, [{"kind": "water", "name": "临江"}, {"kind": "road", "name": "主干道"}])


def write_base_features(store, path: Path) -> Path:
    """Write the base features of the demo city in ``store`` to ``path`` (GeoJSON)."""
    from data import queries

    with store.engine.connect() as conn:
        root = queries.roots(conn)[0]
    city = store.unit_shapes([root["code"]]).geometry.iloc[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(base_features(city), ensure_ascii=False), encoding="utf-8")
    return path
