"""Heat cells, camera views and coverage: the geometry (geo/), and the two stores agreeing on it.

Contract tolerance (both stores, same generated city): covered share within 0.5 percentage points
(per child and in total), blind area within 0.5% of the unit's area, counts of cases in blind spots
and of uncovered key places within 1% (at least 1), heat-cell counts equal cell by cell in total
within 1%. In practice the two agree to the float: they build the same polygons (same arc steps,
``quad_segs=8`` circles, the same UTM zone through PROJ) and GEOS measures both. The tolerance
leaves room for a point on a sector's edge and for other PROJ or GEOS versions.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pytest
import shapely

from dashboard.domain import HeatFilters, Period
from data import queries
from data.coverage import coverage_summary
from geo import cells, coverage
from tests.conftest import DEMO_END

PERIOD = Period("custom", datetime(2026, 10, 22).date(), DEMO_END.date())
STORES = ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)]
SHARE_POINTS = 0.5  # covered share, percentage points
COUNT_SHARE = 0.01  # cases in blind spots, uncovered key places, heat counts


# --- geometry ------------------------------------------------------------------------------------


def test_a_bullet_camera_sees_a_sector_and_a_dome_a_circle():
    sector, dome = coverage.view_polygons([0, 0], [0, 0], [90, 0], [60, 360], [100, 50])
    assert sector.area == pytest.approx(math.pi * 100**2 * 60 / 360, rel=0.01)
    assert sector.contains(shapely.Point(80, 0)) and not sector.contains(shapely.Point(0, 80))  # east
    assert dome.area == pytest.approx(math.pi * 50**2, rel=0.02)
    assert len(sector.exterior.coords) == coverage.arc_segments(60) + 3


def test_coverage_union_and_blind_spots():
    views = coverage.view_polygons([0, 30], [0, 0], [0, 0], [360, 360], [50, 50])
    cover = coverage.union(views)
    square = shapely.box(-100, -100, 100, 100)
    area, covered = coverage.covered_area([square], cover)
    assert covered[0] == pytest.approx(cover.area) and covered[0] < 2 * math.pi * 50**2
    blind = coverage.blind_spots(square, cover)
    assert blind.area == pytest.approx(area[0] - covered[0])
    assert list(coverage.inside(shapely.points([[0, 0], [90, 90]]), cover)) == [True, False]


@pytest.mark.parametrize("kind", cells.CELL_KINDS)
def test_each_point_lies_in_the_cell_it_is_given(kind):
    rng = np.random.default_rng(1)
    xy = rng.uniform(-5_000, 5_000, (2_000, 2))
    i, j = cells.cell_index(xy[:, 0], xy[:, 1], kind, 250)
    polygons = cells.cell_polygons(i, j, kind, 250)
    assert shapely.contains_xy(polygons, xy[:, 0], xy[:, 1]).all()
    cell_area = 250**2 if kind == "square" else 1.5 * math.sqrt(3) * 250**2
    assert shapely.area(polygons) == pytest.approx(cell_area)


def test_the_metric_zone_and_the_round_trip():
    assert coverage.metric_epsg(114.3, 30.6) == 32650
    point = shapely.Point(114.3, 30.6)
    back = coverage.to_lonlat(coverage.to_metric(point, 32650), 32650)
    assert back.distance(point) < 1e-9


def test_greedy_sites_take_the_biggest_cluster_first():
    cluster = np.array([[1000, 1000]]) + np.random.default_rng(2).normal(0, 10, (20, 2))
    lonely = np.array([[5000, 5000], [9000, 9000]])
    sites = cells.greedy_sites(np.vstack([cluster, lonely]), np.r_[np.ones(21), 5.0], 100, count=3)
    assert len(sites[0][2]) == 20 and np.hypot(sites[0][0] - 1000, sites[0][1] - 1000) < 100
    assert list(sites[1][2]) == [21]  # the key place (weight 5) before the lone case
    assert cells.greedy_sites(np.empty((0, 2)), [], 100) == []


def test_cell_sizes_are_round_and_follow_the_zoom():
    assert cells.size_for_zoom(10, 30) > cells.size_for_zoom(14, 30)
    assert cells.size_for_zoom(12, 30) in cells.NICE_SIZES_M
    assert cells.size_for_extent(40_000, 30_000) == 1000


# --- both stores ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def levels(embedded_demo) -> dict[str, str]:
    """A unit at each level, down through the first child."""
    with embedded_demo.engine.connect() as conn:
        code, out = queries.roots(conn)[0]["code"], {}
        while code:
            out[queries.unit(conn, code)["level"]] = code
            kids = queries.children(conn, code)
            code = kids[len(kids) // 2]["code"] if kids else None
    return out


def _facts(store, code):
    with store.engine.connect() as conn:
        members = queries.member_codes(conn, code)
        cams = queries.counts(conn, unit_code=code, start=PERIOD.start, end=PERIOD.end, now=DEMO_END,
                              by_children=members != [code])
    facts = store.coverage_facts(unit_code=code, members=members, start=PERIOD.start, end=PERIOD.end,
                                 epsg=32650)
    return facts, coverage_summary(facts, cams, 32650)


def _close(a, b, share=COUNT_SHARE):
    return abs(a - b) <= max(1, share * max(a, b))


@pytest.mark.postgis
@pytest.mark.parametrize("level", ["city", "district", "street", "community", "grid"])
def test_both_stores_measure_the_same_coverage(embedded_demo, postgis_demo, levels, level):
    (ef, e), (pf, p) = _facts(embedded_demo, levels[level]), _facts(postgis_demo, levels[level])
    assert [m["code"] for m in e["members"]] == [m["code"] for m in p["members"]]
    for a, b in zip(e["members"] + [e["total"]], p["members"] + [p["total"]], strict=True):
        assert abs(a["covered_share"] - b["covered_share"]) * 100 <= SHARE_POINTS
        assert abs(a["blind_km2"] - b["blind_km2"]) <= 0.005 * a["area_km2"]
        assert _close(a["blind_cases"], b["blind_cases"]) and a["cases"] == b["cases"]
        assert _close(a["uncovered_places"], b["uncovered_places"]) and a["key_places"] == b["key_places"]
        assert (a["cameras"], a["cameras_online"]) == (b["cameras"], b["cameras_online"])
    assert sorted(ef.views["id"]) == sorted(pf.views["id"])
    assert shapely.from_wkb(ef.blind_wkb).symmetric_difference(shapely.from_wkb(pf.blind_wkb)).area < 1e-8
    # The same targets give the same greedy sites.
    assert [(s["member"], s["cases"], s["key_places"]) for s in e["suggestions"]] == \
           [(s["member"], s["cases"], s["key_places"]) for s in p["suggestions"]]


@pytest.mark.parametrize("store_name", STORES)
def test_coverage_is_meaningful_on_the_demo_city(request, store_name, levels):
    store = request.getfixturevalue(f"{store_name}_demo")
    _, city = _facts(store, levels["city"])
    total = city["total"]
    assert 0 < total["covered_share"] < 0.05  # 100-m views over a whole city: a small share
    assert 0 < total["uncovered_places"] < total["key_places"]  # some key places, not all, uncovered
    assert 0 < total["blind_cases"] < total["cases"]  # cases at watched places are on video
    assert 0.85 <= total["online_rate"] <= 1
    best = city["suggestions"][0]
    assert best["cases"] + 5 * len(best["key_places"]) >= max(
        s["cases"] + 5 * len(s["key_places"]) for s in city["suggestions"])


@pytest.mark.postgis
@pytest.mark.parametrize("cell,size", [("hex", 500), ("square", 1000), ("hex", 120)])
@pytest.mark.parametrize("level", ["city", "street"])
def test_both_stores_count_the_same_heat_cells(embedded_demo, postgis_demo, levels, level, cell, size):
    heat = HeatFilters()
    kwargs = dict(unit_code=levels[level], start=PERIOD.start, end=PERIOD.end, heat=heat, cell=cell,
                  size=size, epsg=32650)
    e, p = embedded_demo.heat_cells(**kwargs), postgis_demo.heat_cells(**kwargs)
    assert e["count"].sum() > 0
    assert _close(e["count"].sum(), p["count"].sum())
    merged = e.merge(p, on=["i", "j"], how="outer", suffixes=("_e", "_p")).fillna(0)
    moved = (merged["count_e"] - merged["count_p"]).abs().sum()
    assert moved <= max(2, COUNT_SHARE * e["count"].sum()), merged[merged.count_e != merged.count_p]


@pytest.mark.postgis
def test_both_stores_filter_heat_by_hour_status_and_subcategory(embedded_demo, postgis_demo, levels):
    heat = HeatFilters(subcategories=("邻里", "物业"), statuses=("核查办结",), hours=(22, 6))
    kwargs = dict(unit_code=levels["city"], start=PERIOD.start, end=PERIOD.end, heat=heat, cell="hex",
                  size=1000, epsg=32650)
    e, p = embedded_demo.heat_cells(**kwargs), postgis_demo.heat_cells(**kwargs)
    assert 0 < e["count"].sum() == p["count"].sum()
    assert e[["i", "j", "count"]].equals(p[["i", "j", "count"]])


def test_heat_filters_round_trip_through_the_url():
    from dashboard.viewstate import BadRequest, ViewState

    query = ("?unit=990102&subcategory=邻里,物业&source=12345热线&status=受理&hour=22-6"
             "&style=density&cell=square")
    state = ViewState.from_query(query)
    assert state.heat == HeatFilters(("邻里", "物业"), ("12345热线",), ("受理",), (22, 6))
    assert (state.heat_style, state.cell) == ("density", "square")
    assert ViewState.from_query(state.to_query()) == state
    assert ViewState.from_query("").to_query() == ""
    for bad, name in (("hour=25", "hour"), ("cell=tri", "cell"), ("style=x", "style"),
                      ("subcategory=盗窃", "subcategory"), ("status=done", "status")):
        with pytest.raises(BadRequest, match=name):
            ViewState.from_query(bad)
