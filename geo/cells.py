"""Hexagon and square cells for heat maps, and a greedy choice of where a camera would help most.

The cells tile the metric plane exactly as PostGIS's ``ST_HexagonGrid`` and ``ST_SquareGrid`` do
(anchored at the origin of the projection), so a cell ``(i, j)`` is the same cell in both stores:

- square ``(i, j)``: ``[i·s, (i+1)·s) × [j·s, (j+1)·s)``;
- hexagon ``(i, j)`` (flat-topped, edge ``s``): centre ``(1.5·s·i, h·j + h/2·(|i| mod 2))`` with
  ``h = √3·s``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

HEX, SQUARE = "hex", "square"
CELL_KINDS = (HEX, SQUARE)
NICE_SIZES_M = (25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000)


def _hex_centres(i, j, size):
    h = math.sqrt(3) * size
    return 1.5 * size * i, h * j + 0.5 * h * (np.abs(i) % 2)


def cell_index(x, y, kind: str, size: float) -> tuple[np.ndarray, np.ndarray]:
    """The ``(i, j)`` of the cell containing each point (metres)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if kind == SQUARE:
        return np.floor(x / size).astype(np.int64), np.floor(y / size).astype(np.int64)
    h = math.sqrt(3) * size
    base = np.round(x / (1.5 * size)).astype(np.int64)
    best_i = best_j = best_d = None
    # A hexagon is the set of points nearest its centre: try the three nearest columns.
    for di in (-1, 0, 1):
        i = base + di
        j = np.round((y - 0.5 * h * (np.abs(i) % 2)) / h).astype(np.int64)
        cx, cy = _hex_centres(i, j, size)
        d = (x - cx) ** 2 + (y - cy) ** 2
        if best_d is None:
            best_i, best_j, best_d = i, j, d
        else:
            closer = d < best_d - 1e-9
            best_i, best_j, best_d = (np.where(closer, i, best_i), np.where(closer, j, best_j),
                                      np.where(closer, d, best_d))
    return best_i, best_j


def cell_polygons(i, j, kind: str, size: float) -> np.ndarray:
    """The cells ``(i, j)`` as polygons (metres), with PostGIS's vertex order."""
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    if kind == SQUARE:
        return shapely.box(i * size, j * size, (i + 1) * size, (j + 1) * size, ccw=False)
    cx, cy = _hex_centres(i, j, size)
    half = math.sqrt(3) / 2 * size
    dx = np.array([-1.0, -0.5, 0.5, 1.0, 0.5, -0.5, -1.0]) * size
    dy = np.array([0.0, -1.0, -1.0, 0.0, 1.0, 1.0, 0.0]) * half
    rings = np.stack([cx[:, None] + dx, cy[:, None] + dy], axis=-1)
    return shapely.polygons(rings)


def size_for_extent(width_m: float, height_m: float, cells_across: int = 40) -> int:
    """A round cell size giving about ``cells_across`` cells over the longer side."""
    target = max(width_m, height_m, 1.0) / cells_across
    return min(NICE_SIZES_M, key=lambda s: abs(math.log(s / target)))


def size_for_zoom(zoom: float, lat: float, pixels: int = 28) -> int:
    """A round cell size about ``pixels`` wide on screen at MapLibre ``zoom``."""
    metres_per_px = 156543.03392 * math.cos(math.radians(lat)) / 2 ** (zoom + 1)  # 512-px tiles
    target = metres_per_px * pixels
    return min(NICE_SIZES_M, key=lambda s: abs(math.log(s / target)))


# --- where one more camera would help most ---------------------------------------------------------


def greedy_sites(targets_xy, weights, radius: float, count: int = 10, step: float | None = None):
    """Greedy choice of up to ``count`` camera sites covering the most target weight.

    ``targets_xy`` are uncovered things (cases in blind spots, uncovered key places) in metres,
    ``weights`` their worth. Candidate sites are the centres of a ``step``-metre grid (default
    ``radius / 2``) at the targets; a site covers the targets within ``radius``. Each round takes
    the site covering the most weight not yet covered (ties: the lowest x, then y), so the answer
    is the same for the same targets. Returns ``[(x, y, covered target indices), …]``.
    """
    xy = np.asarray(targets_xy, float).reshape(-1, 2)
    weights = np.asarray(weights, float)
    if len(xy) == 0:
        return []
    step = step or radius / 2
    snapped = np.unique((np.floor(xy / step) + 0.5) * step, axis=0)  # sorted by x, then y
    tree = shapely.STRtree(shapely.points(xy))
    site_idx, target_idx = tree.query(shapely.points(snapped), predicate="dwithin", distance=radius)
    left = weights.copy()
    sites = []
    for _ in range(count):
        score = np.bincount(site_idx, weights=left[target_idx], minlength=len(snapped))
        best = int(np.argmax(score))
        if score[best] <= 0:
            break
        covered = target_idx[(site_idx == best) & (left[target_idx] > 0)]
        sites.append((float(snapped[best, 0]), float(snapped[best, 1]), np.sort(covered)))
        left[covered] = 0
    return sites


def size_for_bounds(bounds, cells_across: int = 40) -> int:
    """A round cell size for a longitude/latitude box (about ``cells_across`` over its long side)."""
    minx, miny, maxx, maxy = bounds
    lat = math.radians((miny + maxy) / 2)
    return size_for_extent((maxx - minx) * 111_320 * math.cos(lat), (maxy - miny) * 110_574, cells_across)


def cells_in_bounds(bounds, kind: str, size: float) -> int:
    """An upper estimate of how many ``kind`` cells of edge ``size`` metres cover a lon/lat box."""
    width, height = _extent_m(bounds)
    if kind == SQUARE:
        return int((width / size + 2) * (height / size + 2))
    return int((width / (1.5 * size) + 2) * (height / (math.sqrt(3) * size) + 2))


def min_size_for_bounds(bounds, kind: str, max_cells: int) -> int:
    """The smallest whole-metre cell edge whose cells over the box number at most ``max_cells``."""
    width, height = _extent_m(bounds)
    per_cell = 1.0 if kind == SQUARE else 1.5 * math.sqrt(3)
    size = max(math.floor(math.sqrt(width * height / (max(max_cells, 1) * per_cell))), 1)
    while cells_in_bounds(bounds, kind, size) > max_cells:
        size += 1
    return size


def _extent_m(bounds) -> tuple[float, float]:
    minx, miny, maxx, maxy = bounds
    lat = math.radians((miny + maxy) / 2)
    return max((maxx - minx) * 111_320 * math.cos(lat), 1.0), max((maxy - miny) * 110_574, 1.0)
