"""GeoJSON encoding sized for the browser: rounded coordinates, only the properties asked for."""

from __future__ import annotations

import json
import math

import shapely

# Five decimals of a degree is about one metre: more is noise on a wall screen.
DECIMALS = 5


def feature_collection(geoms, properties: list[dict]) -> dict:
    """A FeatureCollection of ``geoms`` with one properties dict each."""
    features = []
    for geom, props in zip(geoms, properties, strict=True):
        geometry = None
        if geom is not None and not shapely.is_empty(geom):
            geometry = json.loads(shapely.to_geojson(shapely.set_precision(geom, 10**-DECIMALS)))
        features.append({"type": "Feature", "geometry": geometry, "properties": _clean(props)})
    return {"type": "FeatureCollection", "features": features}


def _clean(props: dict) -> dict:
    # JSON has no NaN: a missing value is null.
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in props.items()}


def dumps(obj) -> str:
    """Compact JSON that keeps Chinese readable."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
