"""Splitting a polygon into cells that tile it (for the generated demo city)."""

from __future__ import annotations

import numpy as np
import shapely


def random_points_in(polygon, n: int, rng: np.random.Generator, weight=None) -> np.ndarray:
    """``n`` points (x, y) inside ``polygon``; ``weight(x, y) -> 0..1`` thins them where low."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    found = np.empty((0, 2))
    while len(found) < n:
        batch = max(64, 3 * (n - len(found)))
        xy = np.column_stack([rng.uniform(minx, maxx, batch), rng.uniform(miny, maxy, batch)])
        keep = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
        if weight is not None:
            keep &= rng.uniform(size=batch) < weight(xy[:, 0], xy[:, 1])
        found = np.vstack([found, xy[keep]])
    return found[:n]


def voronoi_cells(polygon, seeds: np.ndarray, relax: int = 1) -> list:
    """Voronoi cells of ``seeds`` clipped to ``polygon``: they tile it, one cell per seed.

    ``relax`` rounds of Lloyd's relaxation move each seed to its cell's centroid, which removes
    the slivers that pure random seeds produce.
    """
    seeds = np.asarray(seeds, dtype=float)
    if len(seeds) == 1:
        return [polygon]
    for round_ in range(relax + 1):
        cells = _cells(polygon, seeds)
        if round_ < relax:
            centroids = shapely.centroid(shapely.make_valid(np.array(cells, dtype=object)))
            seeds = shapely.get_coordinates(centroids)
    return cells


def _cells(polygon, seeds):
    points = shapely.multipoints(seeds)
    regions = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=polygon))
    # voronoi_polygons does not keep seed order: match each seed to the region containing it.
    tree = shapely.STRtree(regions)
    seed_idx, region_idx = tree.query(shapely.points(seeds), predicate="intersects")
    order = {}
    for s, r in zip(seed_idx, region_idx, strict=True):
        order.setdefault(s, r)
    clipped = shapely.intersection(regions[[order[i] for i in range(len(seeds))]], polygon)
    return [_polygonal(c) for c in clipped]


def _polygonal(geom):
    """Drop the points and lines an intersection can leave on shared edges."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
