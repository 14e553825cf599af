"""GeoJSON polygons as plain coordinate paths, for drawing maps on x/y axes (print exports)."""

from __future__ import annotations

import shapely
from shapely.geometry import shape


def rings(geometries) -> tuple[list, list]:
    """Every ring of the GeoJSON (multi)polygons as one path: x and y lists, rings separated by
    ``None`` (exterior and holes alike, so a filled path keeps its holes)."""
    xs, ys = [], []
    for geometry in geometries:
        geom = shape(geometry) if isinstance(geometry, dict) else geometry
        for polygon in getattr(geom, "geoms", [geom]):
            if polygon.is_empty or polygon.geom_type != "Polygon":
                continue
            for ring in (polygon.exterior, *polygon.interiors):
                coords = shapely.get_coordinates(ring).round(6)
                xs += [*coords[:, 0].tolist(), None]
                ys += [*coords[:, 1].tolist(), None]
    return xs, ys


def inner_point(geometry: dict) -> tuple[float, float]:
    """A point certainly inside a GeoJSON geometry."""
    x, y = shapely.get_coordinates(shape(geometry).representative_point())[0]
    return float(x), float(y)
