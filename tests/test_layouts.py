"""Layout builders: pure functions from numbers to components and figures."""

from datetime import datetime

import plotly.graph_objects as go
from dash import html

from dashboard.indicators import KPI_CARDS
from layouts import figures, kpi, ranking


def _text(component) -> str:
    if isinstance(component, str):
        return component
    if isinstance(component, (list, tuple)):
        return "".join(_text(c) for c in component)
    return _text(getattr(component, "children", None) or "")


def test_kpi_cards_show_values_definitions_and_changes():
    values = {"accepted": 120, "closure_rate": 0.95, "overdue": 3, "satisfaction_rate": None}
    previous = {"accepted": 100, "closure_rate": 0.97}
    cards = kpi.kpi_cards(values, previous, "同比")
    assert len(cards) == len(KPI_CARDS)
    by_key = {c.id["key"]: c for c in cards}
    assert by_key["accepted"].title.startswith("时段内受理")
    assert _text(by_key["accepted"]) == "受理120同比 ▲20.0%"
    assert by_key["accepted"].children[2].children.className == "bad"  # more cases is worse
    assert _text(by_key["closure_rate"]).endswith("同比 ▼2.0个百分点")
    assert _text(by_key["overdue"]).endswith("实时")
    assert "—" in _text(by_key["satisfaction_rate"])


def test_unchanged_value_says_so():
    card = kpi.kpi_cards({"accepted": 10}, {"accepted": 10})[0]
    assert _text(card).endswith("环比持平")


def test_ranking_orders_by_value_with_unknown_last():
    rows = [{"code": "a", "name": "甲", "closure_rate": 0.9},
            {"code": "b", "name": "乙", "closure_rate": None},
            {"code": "c", "name": "丙", "closure_rate": 0.99}]
    ol = ranking.ranking(rows, "closure_rate", lambda code: f"/?unit={code}")
    names = [li.children[1].children for li in ol.children]
    hrefs = [li.children[1].href for li in ol.children]
    assert names == ["丙", "甲", "乙"] and hrefs[0] == "/?unit=c"
    assert _text(ol.children[2].children[3]) == "—"


def test_case_text_stays_text():
    cases = [{"category": "治安", "status": "受理", "reported_at": datetime(2026, 1, 2, 3, 4),
              "description": "<script>alert(1)</script>"}]
    listing = ranking.recent_cases(cases)
    text_div = listing.children[0].children[1]
    assert isinstance(text_div, html.Div) and text_div.children == "<script>alert(1)</script>"


def test_map_style_fetches_nothing_unless_a_tile_server_is_set():
    style = figures.map_style()
    # One empty inline GeoJSON source (an empty "sources" object does not survive Plotly.react).
    assert all(src["type"] == "geojson" and not src["data"]["features"] for src in style["sources"].values())
    assert style["sources"] and "glyphs" not in style and "sprite" not in style
    with_tiles = figures.map_style("http://tiles.local/{z}/{x}/{y}.png")
    assert with_tiles["sources"]["intranet"]["tiles"] == ["http://tiles.local/{z}/{x}/{y}.png"]


def test_unit_map_fits_the_bounds_and_keys_the_view_to_the_unit():
    rows = [{"code": "a", "name": "甲", "accepted": 5}, {"code": "b", "name": "乙", "accepted": 9}]
    fig = figures.unit_map(geojson_url="/geo/x.geojson", rows=rows, metric="accepted",
                           bounds=(114.0, 30.0, 114.2, 30.1), drill_key="x", style=figures.map_style())
    assert fig["layout"]["uirevision"] == "x"
    assert 114.09 < fig["layout"]["map"]["center"]["lon"] < 114.11
    values = fig["data"][figures.VALUES]
    assert list(values["locations"]) == ["a", "b"] and list(values["z"]) == [5, 9]
    assert go.Figure(fig).data[figures.VALUES].type == "choroplethmap"  # a valid Plotly figure
    patch = figures.map_values_patch([{**r, "accepted": 1} for r in rows], "accepted")
    assert patch is not None


def test_trend_of_small_counts_has_whole_ticks():
    fig = figures.trend_figure(["2026-01-01", "2026-01-02"], [0, 2])
    assert fig["layout"]["yaxis"]["dtick"] == 1 and fig["layout"]["yaxis"]["tickformat"] == ",d"
    assert go.Figure(fig).layout.yaxis.dtick == 1  # a valid Plotly figure


def test_alarms_say_how_late_or_why():
    now = datetime(2026, 3, 20, 12, 0)
    rows = [
        {"category": "治安", "subcategory": "盗窃", "status": "处置", "reported_at": datetime(2026, 3, 1),
         "deadline": datetime(2026, 3, 17, 12, 0), "description": "x"},
        {"category": "矛盾纠纷", "subcategory": "邻里", "status": "指派",
         "reported_at": datetime(2026, 3, 20),
         "deadline": datetime(2026, 3, 20, 9, 0), "description": "y"},
        {"category": "矛盾纠纷", "subcategory": "债务", "status": "受理",
         "reported_at": datetime(2026, 3, 20),
         "deadline": datetime(2026, 4, 1), "description": "z", "risk_level": "高"},
    ]
    tags = [li.children[0].children[0].children for li in ranking.alarms(rows, now).children]
    assert tags == ["超期3天", "超期3小时", "高风险"]
    assert _text(ranking.alarms([], now)) == "当前无超期事件和高风险纠纷"
