"""Boundary simplification per drill level, keeping neighbours' shared edges shared."""

from __future__ import annotations

import numpy as np
import shapely

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
