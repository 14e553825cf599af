"""GeoJSON encoding sized for the browser: rounded coordinates, only the properties asked for.

Everything the dashboard hands out as GeoJSON or as a point goes through here, at one precision
(:data:`DECIMALS`).
"""

from __future__ import annotations

import json
import math

import numpy as np
import shapely

# Five decimals of a degree is about one metre: more is noise on a wall screen.
DECIMALS = 5


def geometries(geoms, *, snap: bool = True) -> list[dict | None]:
    """GeoJSON geometry dicts of ``geoms`` (lon/lat), ``None`` for a missing or empty one.

    Coordinates keep :data:`DECIMALS` decimals: ``snap`` rounds them keeping the shapes valid
    (``set_precision``, for boundaries that share edges); without it they are only rounded, ten
    times faster, for shapes that cannot fold over at a metre (heat cells)."""
    geoms = np.asarray(geoms, dtype=object).reshape(-1)
    out: list[dict | None] = [None] * len(geoms)
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present])
    if not present.any():
        return out
    shapes = geoms[present]
    if not snap and _simple_polygons(shapes):
        for i, ring in zip(np.flatnonzero(present), _rounded_rings(shapes), strict=True):
            out[i] = {"type": "Polygon", "coordinates": [ring]}
        return out
    shapes = (shapely.set_precision(shapes, 10**-DECIMALS) if snap
              else shapely.transform(shapes, lambda c: np.round(c, DECIMALS)))
    for i, text in zip(np.flatnonzero(present), shapely.to_geojson(shapes), strict=True):
        out[i] = json.loads(text)
    return out


def collection(geometries: list[dict | None], properties: list[dict]) -> dict:
    """A FeatureCollection of ready GeoJSON geometry dicts with one properties dict each."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": geometry, "properties": _clean(props)}
        for geometry, props in zip(geometries, properties, strict=True)
    ]}


def feature_collection(geoms, properties: list[dict], *, snap: bool = True) -> dict:
    """A FeatureCollection of Shapely ``geoms`` with one properties dict each."""
    return collection(geometries(geoms, snap=snap) if len(geoms) else [], properties)


def points(geoms) -> np.ndarray:
    """``(n, 2)`` lon/lat of point geometries, rounded to :data:`DECIMALS`."""
    geoms = np.asarray(geoms, dtype=object).reshape(-1)
    return np.round(shapely.get_coordinates(geoms), DECIMALS) if len(geoms) else np.empty((0, 2))


def _simple_polygons(shapes: np.ndarray) -> bool:
    """Polygons without holes: their GeoJSON is one ring, built straight from the coordinates."""
    return bool((shapely.get_type_id(shapes) == 3).all()
                and (shapely.get_num_interior_rings(shapes) == 0).all())


def _rounded_rings(shapes: np.ndarray) -> list:
    coords = np.round(shapely.get_coordinates(shapely.get_exterior_ring(shapes)), DECIMALS).tolist()
    ends = np.cumsum(shapely.get_num_coordinates(shapes)).tolist()
    return [coords[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def _clean(props: dict) -> dict:
    # JSON has no NaN: a missing value is null.
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in props.items()}


def dumps(obj) -> str:
    """Compact JSON that keeps Chinese readable."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
