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


def geometries(geoms) -> list[dict | None]:
    """GeoJSON geometry dicts of ``geoms`` (lon/lat), ``None`` for a missing or empty one."""
    geoms = np.asarray(geoms, dtype=object).reshape(-1)
    out: list[dict | None] = [None] * len(geoms)
    present = ~shapely.is_missing(geoms)
    present[present] = ~shapely.is_empty(geoms[present])
    if present.any():
        texts = shapely.to_geojson(shapely.set_precision(geoms[present], 10**-DECIMALS))
        for i, text in zip(np.flatnonzero(present), texts, strict=True):
            out[i] = json.loads(text)
    return out


def collection(geometries: list[dict | None], properties: list[dict]) -> dict:
    """A FeatureCollection of ready GeoJSON geometry dicts with one properties dict each."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": geometry, "properties": _clean(props)}
        for geometry, props in zip(geometries, properties, strict=True)
    ]}


def feature_collection(geoms, properties: list[dict]) -> dict:
    """A FeatureCollection of Shapely ``geoms`` with one properties dict each."""
    return collection(geometries(geoms) if len(geoms) else [], properties)


def points(geoms) -> np.ndarray:
    """``(n, 2)`` lon/lat of point geometries, rounded to :data:`DECIMALS`."""
    geoms = np.asarray(geoms, dtype=object).reshape(-1)
    return np.round(shapely.get_coordinates(geoms), DECIMALS) if len(geoms) else np.empty((0, 2))


def _clean(props: dict) -> dict:
    # JSON has no NaN: a missing value is null.
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in props.items()}


def dumps(obj) -> str:
    """Compact JSON that keeps Chinese readable."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
