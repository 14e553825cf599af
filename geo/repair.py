"""Checking and repairing imported geometries: what is safe to fix, and what must be refused."""

from __future__ import annotations

import numpy as np
import shapely

OK, REPAIRED, MISSING, EMPTY, WRONG_TYPE, UNREPAIRABLE = (
    "ok", "repaired", "missing", "empty", "wrong_type", "unrepairable")

_POLYGONAL = {"Polygon", "MultiPolygon"}
_POINT = {"Point"}
KINDS = {"polygon": _POLYGONAL, "point": _POINT, "any": _POLYGONAL | _POINT}


def _polygonal_part(geom):
    """The polygons of a ``make_valid`` result (it may add lines or points where rings touched)."""
    if geom.geom_type in _POLYGONAL:
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in _POLYGONAL]
        if parts:
            return shapely.union_all(parts)
    return None


def check(geoms, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Each geometry checked for ``kind`` (``polygon``, ``point`` or ``any``): (geoms, statuses).

    Invalid polygons (self-intersecting rings, bow ties, wrong orientation) are repaired with
    ``make_valid`` keeping only their polygonal parts, and flagged ``repaired``; a single-part
    MultiPoint becomes its Point. Missing, empty, wrongly typed or unrepairable geometries keep
    their status for the caller to report.
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    status = np.full(len(geoms), OK, dtype=object)
    allowed = KINDS[kind]
    missing = shapely.is_missing(geoms)
    status[missing] = MISSING
    for i in np.flatnonzero(~missing):
        geom = geoms[i]
        if geom.geom_type == "MultiPoint" and "Point" in allowed and shapely.get_num_geometries(geom) == 1:
            geom = geoms[i] = shapely.get_geometry(geom, 0)
        if geom.is_empty:
            status[i] = EMPTY
        elif geom.geom_type not in allowed:
            status[i] = WRONG_TYPE
        elif not geom.is_valid:
            fixed = _polygonal_part(shapely.make_valid(geom)) if geom.geom_type in _POLYGONAL else None
            if fixed is None or fixed.is_empty or not fixed.is_valid:
                status[i] = UNREPAIRABLE
            else:
                geoms[i], status[i] = fixed, REPAIRED
    return geoms, status
