"""Boundary simplification per drill level, keeping neighbours' shared edges shared."""

from __future__ import annotations

import numpy as np
import shapely
import shapely.ops

# A tolerance of this fraction of the parent's extent stays below a pixel at the zoom that fits it.
_TOLERANCE_SHARE = 1 / 2000


def simplify_children(geoms, parent_bounds) -> np.ndarray:
    """Simplify the children of one unit together, so no gaps open between neighbours."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return geoms
    minx, miny, maxx, maxy = parent_bounds
    tolerance = max(maxx - minx, maxy - miny) * _TOLERANCE_SHARE
    simplified = shapely.coverage_simplify(shapely.make_valid(geoms), tolerance)
    # coverage_simplify may hand back an empty shape for a sliver: keep the original then.
    return np.where(shapely.is_empty(simplified), geoms, simplified)


def label_points(geoms) -> list[tuple[float, float]]:
    """Where to write each shape's name: the pole of inaccessibility of its largest part (the
    point farthest from its edges), which stays inside even for a crescent or an L."""
    points = []
    for geom in geoms:
        if geom is None or shapely.is_empty(geom):
            points.append((float("nan"), float("nan")))
            continue
        parts = list(getattr(geom, "geoms", [geom]))
        largest = max(parts, key=lambda g: g.area)
        minx, miny, maxx, maxy = largest.bounds
        point = shapely.ops.polylabel(largest, tolerance=max(maxx - minx, maxy - miny) / 200)
        points.append((round(point.x, 5), round(point.y, 5)))
    return points
