"""Point-in-polygon assignment: which grid each point lies in."""

from __future__ import annotations

import numpy as np
import shapely


def assign_points(points, polygons, codes) -> np.ndarray:
    """The code of the polygon containing each point, or None where no polygon does.

    Where polygons overlap (real grid layers have slivers), the first one in ``codes`` order wins,
    so the answer does not depend on the R-tree's internal order.
    """
    points = np.asarray(points, dtype=object)
    codes = np.asarray(codes, dtype=object)
    result = np.full(len(points), None, dtype=object)
    if len(points) == 0 or len(codes) == 0:
        return result
    tree = shapely.STRtree(polygons)
    point_idx, poly_idx = tree.query(points, predicate="intersects")
    if len(point_idx):
        # Keep, for each point, the lowest polygon index among its hits.
        order = np.lexsort((poly_idx, point_idx))
        point_idx, poly_idx = point_idx[order], poly_idx[order]
        first = np.r_[True, point_idx[1:] != point_idx[:-1]]
        result[point_idx[first]] = codes[poly_idx[first]]
    return result
