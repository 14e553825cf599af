"""Pure geometry: point assignment, tiling, simplification, view fitting, GeoJSON."""

import json
import math

import numpy as np
import shapely

from geo.assign import assign_points
from geo.geojson import feature_collection
from geo.simplify import simplify_children
from geo.tiling import random_points_in, voronoi_cells
from geo.viewport import fit_bounds


def test_assign_points_inside_outside_and_overlap():
    a, b = shapely.box(0, 0, 1, 1), shapely.box(0.9, 0, 2, 1)  # overlap on 0.9–1
    points = shapely.points([[0.5, 0.5], [1.5, 0.5], [0.95, 0.5], [5, 5]])
    codes = assign_points(points, [a, b], ["A", "B"])
    assert list(codes) == ["A", "B", "A", None]  # overlap: the first listed wins


def test_assign_points_on_empty_inputs():
    assert len(assign_points([], [shapely.box(0, 0, 1, 1)], ["A"])) == 0
    assert list(assign_points(shapely.points([[0, 0]]), [], [])) == [None]


def test_voronoi_cells_tile_the_parent():
    rng = np.random.default_rng(1)
    parent = shapely.Polygon([(0, 0), (10, 0), (10, 4), (5, 8), (0, 4)])
    cells = voronoi_cells(parent, random_points_in(parent, 12, rng))
    assert len(cells) == 12
    union = shapely.union_all(cells)
    assert math.isclose(union.area, parent.area, rel_tol=1e-9)
    assert math.isclose(sum(c.area for c in cells), parent.area, rel_tol=1e-9)  # no overlaps


def test_random_points_fall_inside():
    rng = np.random.default_rng(2)
    poly = shapely.Polygon([(0, 0), (4, 0), (0, 4)])
    xy = random_points_in(poly, 200, rng)
    assert len(xy) == 200 and shapely.contains_xy(poly, xy[:, 0], xy[:, 1]).all()


def test_simplify_keeps_neighbours_sharing_edges():
    rng = np.random.default_rng(3)
    parent = shapely.Point(0, 0).buffer(1, quad_segs=64)
    cells = voronoi_cells(parent, random_points_in(parent, 20, rng))
    simple = simplify_children(cells, parent.bounds)
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(np.array(cells)).sum()
    # Coverage simplification leaves no gaps: the union keeps (nearly) the parent's area.
    assert shapely.union_all(simple).area > 0.99 * shapely.union_all(cells).area
    assert sum(s.area for s in simple) < 1.001 * shapely.union_all(simple).area


def test_fit_bounds_centres_and_zooms():
    view = fit_bounds((114.0, 30.0, 114.4, 30.3))
    assert math.isclose(view["center"]["lon"], 114.2)
    assert 30.14 < view["center"]["lat"] < 30.16
    smaller = fit_bounds((114.0, 30.0, 114.04, 30.03))
    assert math.isclose(smaller["zoom"] - view["zoom"], math.log2(10), abs_tol=0.05)


def test_geojson_rounds_coordinates_and_keeps_chinese():
    fc = feature_collection([shapely.box(114.123456789, 30.0, 114.2, 30.1)],
                            [{"name": "江岸区", "v": float("nan")}])
    text = json.dumps(fc, ensure_ascii=False)
    assert "114.12346" in text and "114.123456" not in text
    assert fc["features"][0]["properties"] == {"name": "江岸区", "v": None}
