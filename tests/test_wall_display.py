"""The wall screen's display rules as plain functions: colours on fixed scales, figures scaled to
the screen, the map's fit and names, periods, the coverage headline and the base features."""

from __future__ import annotations

import copy
import json
from datetime import date

import plotly.graph_objects as go
import pytest
import shapely

from callbacks import coverage as coverage_view
from dashboard import strings, theme
from dashboard.domain import Period, trend_window
from dashboard.scales import DEFAULT_TARGETS, parse_targets, text_colour, value_scale
from data import base_features
from data.coverage import people_area_share
from data.demo.basemap import base_features as demo_base_features
from data.stores.base import CoverageFacts
from geo.simplify import label_points
from layouts import figures, kpi, maps, ranking


def _text(component) -> str:
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return "".join(_text(c) for c in component)
    return _text(getattr(component, "children", None) or "")


# --- colours -------------------------------------------------------------------------------------


def test_a_rate_sits_on_a_fixed_scale_anchored_on_its_target():
    # 办结率 90–95% at district level: all below the 98% target, so all on the red side, and the
    # same value has the same colour whatever the other units' values are.
    low = value_scale("closure_rate", [0.90, 0.95])
    wide = value_scale("closure_rate", [0.50, 0.99])
    assert (low.zmin, low.zmax, low.target) == (wide.zmin, wide.zmax, wide.target) == (0.88, 1.0, 0.98)
    assert low.colour(0.904) == wide.colour(0.904)
    red, calm = low.colour(0.90), low.colour(0.99)
    assert _rgb(red)[0] > 200 and _rgb(red)[2] < 150, red  # below target: red
    assert _rgb(calm)[2] > 200 and _rgb(calm)[0] < 120, calm  # above target: calm blue
    assert low.colour(0.979) != low.colour(0.98)  # the target is a visible break
    assert low.colour(0.10) == low.colour(0.88)  # far below: the reddest end
    bar = low.colorbar()
    assert bar["title"]["text"] == "办结率（%）" and bar["tickvals"][1] == 0.98
    assert bar["ticktext"][1] == strings.TARGET_TICK.format(value="98")


def test_counts_sit_on_a_sequential_scale_from_zero():
    scale = value_scale("accepted", [120, 300, 410])
    assert (scale.zmin, scale.zmax, scale.target) == (0.0, 410.0, None)
    assert scale.position(0) == 0 and scale.position(410) == 1
    assert scale.colorbar()["title"]["text"] == "受理（件）"
    assert value_scale("cases_per_10k", [1.5]).colorbar()["title"]["text"] == "万人发案率（件/万人）"


def test_targets_come_from_the_setting():
    assert parse_targets("") == DEFAULT_TARGETS
    assert parse_targets("closure_rate=95%, satisfaction_rate=0.9")["closure_rate"] == 0.95
    assert value_scale("closure_rate", [], parse_targets("closure_rate=95%")).target == 0.95
    with pytest.raises(ValueError, match="accepted"):
        parse_targets("accepted=0.9")
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_targets("closure_rate=1.5")


def test_rank_badges_and_bars_follow_the_metrics_scale():
    rows = [{"code": "a", "name": "甲", "closure_rate": 0.99},
            {"code": "b", "name": "乙", "closure_rate": 0.93},
            {"code": "c", "name": "丙", "closure_rate": 0.90}]
    items = ranking.ranking(rows, "closure_rate", lambda code: f"/?unit={code}").children
    scale = value_scale("closure_rate", [0.99, 0.93, 0.90])
    badges = [li.children[0] for li in items]
    bars = [li.children[2].children.style for li in items]
    assert [b.style["background"] for b in badges] == [scale.colour(v) for v in (0.99, 0.93, 0.90)]
    assert "top1" not in badges[0].className  # #1 of a rate is the best, not an alarm
    # Bar lengths on the scale (from its floor), not all full width because all are near 100%.
    assert [b["width"] for b in bars] == ["92%", "42%", "17%"]
    assert text_colour("#ffffff") != text_colour("#000000")


def _rgb(colour: str) -> list[float]:
    return [float(v) for v in colour[colour.index("(") + 1:-1].split(",")]


# --- figures at any screen size ---------------------------------------------------------------


def test_figures_scale_from_the_design_size_to_the_screen():
    assert theme.screen_scale(None) == 1
    assert theme.screen_scale({"width": 3840, "height": 2160}) == 2
    assert theme.screen_scale({"width": 7680, "height": 2160}) == 2  # the width goes to the layout
    fig = figures.category_figure(["治安", "信访"], [3, 1])
    scaled = theme.scale_figure(go.Figure(fig), 2)
    assert scaled.layout.font.size == 2 * theme.FONT_SIZE
    assert scaled.layout.margin.l == 2 * fig["layout"]["margin"]["l"]
    plain = theme.scale_figure(copy.deepcopy(fig), 2)  # a plain figure dict scales the same
    assert go.Figure(plain).to_plotly_json() == scaled.to_plotly_json()
    rows = [{"code": "a", "name": "甲", "accepted": 5}]
    points = [{"lon": 114.0, "lat": 30.0, "status": "受理", "category": "治安", "reported_at": "x"}]
    map_fig = figures.unit_map(geojson_url="/x", rows=rows, metric="accepted", bounds=(114, 30, 114.1, 30.1),
                               drill_key="a", style=figures.map_style(), points=points)
    theme.scale_figure(map_fig, 2)
    assert map_fig["data"][figures.VALUES]["colorbar"]["thickness"] == 28
    assert map_fig["data"][2]["marker"]["size"] == 22


def test_graphs_start_dark_and_without_a_toolbar():
    empty = theme.empty_figure()
    assert empty["data"] == [] and empty["layout"]["paper_bgcolor"] == "rgba(0,0,0,0)"
    assert not empty["layout"]["xaxis"]["visible"]
    assert theme.GRAPH_CONFIG["displayModeBar"] is False


def test_the_map_carries_its_bounds_and_names_for_the_browser():
    where = maps.view((114.0, 30.0, 114.2, 30.1), [("a", "甲", 114.05, 30.05), ("b", "乙", float("nan"), 0)],
                      {"width": 3840, "height": 2160})
    assert where["meta"]["fit"] == [114.0, 30.0, 114.2, 30.1]
    assert where["meta"]["labels"] == [{"code": "a", "name": "甲", "lon": 114.05, "lat": 30.05}]
    assert where["clickmode"] == "none"  # wall.js emits the click from the polygon under it
    # A 4K panel is twice the size: the first guess of the zoom is one level closer.
    design = maps.view((114.0, 30.0, 114.2, 30.1))["map"]["zoom"]
    assert where["map"]["zoom"] == pytest.approx(design + 1, abs=0.01)


def test_names_go_inside_their_shapes():
    crescent = shapely.Point(0, 0).buffer(10).difference(shapely.Point(4, 0).buffer(9))
    (x, y), = label_points([crescent])
    assert crescent.contains(shapely.Point(x, y))
    assert label_points([shapely.Polygon()])[0] != label_points([shapely.Polygon()])[0]  # NaN: no label


# --- periods --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key,first,step", [
    ("today", date(2026, 11, 14), "D"), ("7d", date(2026, 11, 14), "D"), ("30d", date(2026, 10, 22), "D"),
    ("year", date(2026, 1, 1), "W"),
])
def test_the_trend_follows_the_period(key, first, step):
    period = Period.resolve(key, today=date(2026, 11, 20))
    assert trend_window(period) == (first, date(2026, 11, 20), step)


def test_long_periods_trend_by_month():
    period = Period("custom", date(2024, 1, 1), date(2026, 11, 20))
    assert trend_window(period)[2] == "M"


def test_trend_by_week_in_the_store(embedded_demo):
    from flask import Flask
    from flask_caching import Cache

    from data.service import CityData

    data = CityData(embedded_demo, Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    code = data.roots()[0]["code"]
    first, last = date(2026, 6, 1), date(2026, 11, 20)
    weekly, step = data.trend_for(code, Period("custom", first, last))
    daily = data.trend(code, last, days=(last - first).days + 1)
    assert step == "W" and weekly.sum() == daily.sum() > 0 and len(weekly) == 25  # 173 days from a Monday
    assert all(date.fromisoformat(d).weekday() == 0 for d in weekly.index)  # weeks from Monday


def test_no_comparison_says_so():
    cards = kpi.kpi_cards({"accepted": 120, "overdue": 3}, {}, "同比")
    by_key = {c.id["key"]: c for c in cards}
    assert _text(by_key["accepted"]).endswith("同比 —")
    assert _text(by_key["overdue"]).endswith("实时")


def test_today_shows_the_days_counts_not_rates_over_open_cases():
    cards = kpi.kpi_cards({"closure_rate": 0.0, "accepted": 50}, {}, "环比",
                          today_counts={"closed": 7, "disputes_resolved": 2})
    by_key = {c.id["key"]: c for c in cards}
    assert _text(by_key["closure_rate"]).startswith("今日已办结7")
    assert "0.0%" not in _text(by_key["closure_rate"])
    assert _text(by_key["resolution_rate"]).startswith("今日已化解2")


# --- coverage -------------------------------------------------------------------------------------


def test_the_coverage_headline_reads_in_view_shares_first():
    total = {"key_places": 80, "uncovered_places": 20, "cases": 1000, "blind_cases": 900,
             "people_share": 0.42, "online_rate": 0.97}
    values = dict(zip(strings.COVERAGE_KPIS, coverage_view._kpi_values(total), strict=True))
    assert list(strings.COVERAGE_KPIS)[:3] == ["places_in_view", "cases_in_view", "people_share"]
    assert values["places_in_view"] == "75.0%" and values["cases_in_view"] == "10.0%"
    assert values["people_share"] == "42.0%" and values["uncovered_places"] == "20 / 80"


def test_people_area_share_leaves_out_empty_land():
    import pandas as pd

    from geo import coverage as geo_cov

    epsg = geo_cov.metric_epsg(114.05, 30.05)
    unit = shapely.box(114.0, 30.0, 114.1, 30.1)  # about 10 km × 11 km
    in_view = shapely.box(114.002, 30.002, 114.008, 30.008)  # one corner, about 600 m across
    place = geo_cov.to_metric(shapely.Point(114.005, 30.005), epsg)
    facts = CoverageFacts(members=pd.DataFrame(), cases=pd.DataFrame(),
                          places=pd.DataFrame({"x": [place.x], "y": [place.y]}), views=pd.DataFrame(),
                          blind_wkb=shapely.to_wkb(unit.difference(in_view)))
    share = people_area_share(facts, shapely.to_wkb(unit), epsg)
    assert share == pytest.approx(1.0, abs=0.01)  # where people are is in view
    assert in_view.area / unit.area < 0.01  # though nearly all the land is not


# --- base features ---------------------------------------------------------------------------------


def test_base_features_are_drawn_from_a_local_file(tmp_path):
    city = shapely.Point(114.3, 30.6).buffer(0.15)
    collection = demo_base_features(city)
    kinds = [f["properties"]["kind"] for f in collection["features"]]
    assert kinds == ["water", "road"]
    path = tmp_path / "base.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    loaded = base_features.load(path)
    assert len(loaded["features"]) == 2 and base_features.load(tmp_path / "none.geojson") is None
    style = figures.map_style(base_features=loaded)
    assert style["sources"]["base"]["data"] == loaded  # inline: nothing fetched
    fig = figures.unit_map(geojson_url="/x", rows=[{"code": "a", "name": "甲", "accepted": 1}],
                           metric="accepted", bounds=(114, 30, 114.1, 30.1), drill_key="a", style=style)
    assert {t["below"] for t in fig["data"]} == {maps.BASE_FEATURES_LAYER}  # polygons under the rivers


# --- a local base map ----------------------------------------------------------------------------


def make_mbtiles(path, tiles: dict) -> None:
    """A raster MBTiles file with ``tiles`` {(z, x, y XYZ): colour}, 256-px PNGs."""
    import io
    import sqlite3

    from PIL import Image

    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE metadata (name text, value text)")
        conn.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
                     "tile_data blob)")
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", [("format", "png"), ("name", "test")])
        for (z, x, y), colour in tiles.items():
            png = io.BytesIO()
            Image.new("RGB", (256, 256), colour).save(png, "PNG")
            conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, png.getvalue()))


def test_a_local_mbtiles_file_is_served_as_the_base_map(tmp_path, embedded_demo):
    from app import create_app
    from dashboard.settings import Settings
    from data.tiles import EMPTY_TILE, MBTiles

    path = tmp_path / "base.mbtiles"
    make_mbtiles(path, {(1, 1, 0): "#123456"})
    tiles = MBTiles(path)
    assert tiles.tile(1, 1, 0)[1] == "image/png" and tiles.tile(1, 1, 1) is None  # XYZ, not TMS rows
    assert tiles.tile(1, 2, 0) is None
    from tests.access import grant

    app = create_app(Settings(db=embedded_demo.engine.url.database, tile_file=str(path)))
    client = app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {grant(embedded_demo)}"  # as a logged-in page
    reply = client.get("/tiles/1/1/0")
    assert reply.status_code == 200 and reply.mimetype == "image/png"
    empty = client.get("/tiles/1/0/0")  # no such tile in the file: transparent, not an error
    assert empty.status_code == 200 and empty.data == EMPTY_TILE
    app.server.config["CITYBRAIN_DATA"].store.engine.dispose()
