"""Coordinate conversion against published reference points, and geometry repair."""

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from geo import repair
from geo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    distance_m,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    implausible,
    parse_crs,
    to_storage,
    wgs84_to_gcj02,
)

# eviltransform's test vectors (WGS84 → GCJ-02), as lon, lat.
EVILTRANSFORM = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]
# coordtransform's README (wandergis), for the point 116.404, 39.915.
COORDTRANSFORM = {
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
    "gcj02_to_wgs84": (116.39775550083061, 39.91359571849836),  # its one-step approximation
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
}


@pytest.mark.parametrize("wgs,gcj", EVILTRANSFORM)
def test_wgs84_to_gcj02_matches_published_vectors(wgs, gcj):
    assert np.allclose(wgs84_to_gcj02(*wgs), gcj, rtol=0, atol=1e-9)


@pytest.mark.parametrize("wgs,gcj", EVILTRANSFORM)
def test_gcj02_to_wgs84_inverts_exactly(wgs, gcj):
    assert np.allclose(gcj02_to_wgs84(*gcj), wgs, rtol=0, atol=1e-9)


def test_bd09_matches_published_values():
    assert np.allclose(wgs84_to_gcj02(116.404, 39.915), COORDTRANSFORM["wgs84_to_gcj02"], atol=1e-12)
    assert np.allclose(gcj02_to_bd09(116.404, 39.915), COORDTRANSFORM["gcj02_to_bd09"], atol=1e-12)
    assert np.allclose(bd09_to_gcj02(116.404, 39.915), COORDTRANSFORM["bd09_to_gcj02"], atol=1e-12)
    # The iterative inverse lands within a few centimetres of coordtransform's one-step value.
    assert distance_m(*gcj02_to_wgs84(116.404, 39.915), *COORDTRANSFORM["gcj02_to_wgs84"]) < 1.0
    # Baidu's published inverse is itself approximate: a round trip closes to centimetres.
    lon, lat = bd09_to_wgs84(*gcj02_to_bd09(*wgs84_to_gcj02(114.3, 30.6)))
    assert distance_m(lon, lat, 114.3, 30.6) < 0.1


def test_a_gcj02_point_in_central_china_moves_several_hundred_metres():
    # Wuhan: a GCJ-02 point read wrongly as WGS84 would sit a few hundred metres from the truth.
    gcj = shapely.Point(114.305393, 30.593099)
    right = to_storage([gcj], parse_crs("gcj02"))[0]
    wrong = to_storage([gcj], parse_crs("4326"))[0]
    offset = distance_m(right.x, right.y, wrong.x, wrong.y)
    assert 300 < offset < 700, offset
    assert np.allclose(wgs84_to_gcj02(right.x, right.y), (gcj.x, gcj.y), atol=1e-9)


def test_no_offset_outside_china():
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)


def test_projected_cgcs2000_zone_converts_with_pyproj():
    x, y = Transformer.from_crs(4490, 4547, always_xy=True).transform(114.3, 30.6)
    point = to_storage([shapely.Point(x, y)], parse_crs("EPSG:4547"))[0]
    assert distance_m(point.x, point.y, 114.3, 30.6) < 0.01


def test_parse_crs_names_and_errors():
    assert parse_crs("gcj-02").label == "GCJ-02" and parse_crs("baidu").label == "BD-09"
    assert parse_crs(4490).epsg == 4490 and not parse_crs("4547").geographic
    with pytest.raises(ValueError, match="unknown CRS"):
        parse_crs("not-a-crs")


def test_implausible_catches_swapped_and_projected_coordinates():
    points = [shapely.Point(114.3, 30.6), shapely.Point(30.6, 114.3), shapely.Point(500000, 3400000)]
    assert implausible(points, parse_crs(4326)).tolist() == [False, True, True]
    assert implausible([shapely.Point(2.35, 48.85)], parse_crs("gcj02")).tolist() == [True]


def test_repair_fixes_a_bow_tie_and_refuses_what_it_cannot():
    bow_tie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    geoms, status = repair.check([bow_tie, shapely.Point(0, 0), shapely.Polygon(), None], "polygon")
    assert status.tolist() == [repair.REPAIRED, repair.WRONG_TYPE, repair.EMPTY, repair.MISSING]
    assert geoms[0].is_valid and geoms[0].area == pytest.approx(0.5)
