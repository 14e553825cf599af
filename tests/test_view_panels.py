"""The heat and coverage views' panels and the shared render path, called as plain functions on
both stores: what the screen would show, without a browser."""

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate
from flask import Flask
from flask_caching import Cache

from callbacks import coverage, heat, wallscreen, wiring
from dashboard import strings
from data.service import CityData
from layouts.coverage import VIEW_LIMIT


@pytest.fixture(scope="module")
def data(demo_store):
    return CityData(demo_store, Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))


def _vm(data, view, search):
    vm = wiring.resolve(data, search)
    vm["href"] = lambda code: view.href(vm["state"], code)
    return vm


def _texts(component) -> list[str]:
    """Every string in a component tree, in order."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, (list, tuple)):
        return [t for c in component for t in _texts(c)]
    children = getattr(component, "children", None)
    return _texts(children) if children is not None else []


def _by_class(component, name: str) -> list[str]:
    """The texts of every component with class ``name``."""
    found = []
    if isinstance(component, (list, tuple)):
        return [t for c in component for t in _by_class(c, name)]
    if name in (getattr(component, "className", None) or "").split():
        found.append("".join(_texts(component)))
    children = getattr(component, "children", None)
    nested = children is not None and not isinstance(children, str)
    return found + (_by_class(children, name) if nested else [])


def test_heat_panels_count_every_dispute_once(data):
    city = data.roots()[0]["code"]
    vm = _vm(data, heat.VIEW, f"?unit={city}&period=year")
    size = heat.cell_size(vm, None, None)
    out = heat.panels(data, vm, size=size, style={})
    cells = data.heat_cells(city, vm["period"], vm["state"].heat, cell="hex", size=size)
    total = sum(c["count"] for c in cells["records"])
    assert total > 0
    tiles = {t.id["key"]: _texts(t)[1] for t in out["kpis"]}
    assert tiles["disputes"] == f"{total:,}"
    ranked = sum(int(v.replace(",", "")) for v in _by_class(out["ranking"], "rank-value"))
    assert ranked == total  # the members' counts add up to the cells'
    assert out["drawn"] == {"size": size, "search": vm["state"].to_query()}
    assert len(out["map"].data) == 2 and len(out["map"].data[1].locations) == len(cells["records"])


def test_heat_zoom_redraws_only_when_the_cell_size_changes(data):
    city = data.roots()[0]["code"]
    vm = _vm(data, heat.VIEW, f"?unit={city}")
    size = heat.cell_size(vm, None, None)
    drawn = {"size": size, "search": vm["state"].to_query()}
    with pytest.raises(PreventUpdate):  # a pan
        heat.cell_size(vm, {"map.center": {"lon": 1, "lat": 2}}, drawn)
    with pytest.raises(PreventUpdate):  # a zoom drawn for another URL
        heat.cell_size(vm, {"map.zoom": 14}, {**drawn, "search": "?unit=x"})
    assert heat.cell_size(vm, {"map.zoom": 14}, drawn) < size


def test_a_click_on_a_cell_lists_its_disputes(data):
    city = data.roots()[0]["code"]
    vm = _vm(data, heat.VIEW, f"?unit={city}&period=year")
    size = heat.cell_size(vm, None, None)
    cells = data.heat_cells(city, vm["period"], vm["state"].heat, cell="hex", size=size)["records"]
    top = max(cells, key=lambda c: c["count"])
    click = {"points": [{"curveNumber": 1, "location": top["id"]}]}
    out = heat.cell_cases(data, click, f"?unit={city}&period=year", {"size": size})
    assert out["title"] == strings.CELL_LIST_TITLE.format(count=f"{top['count']:,}")
    with pytest.raises(PreventUpdate):  # a click on a unit, not a cell
        heat.cell_cases(data, {"points": [{"curveNumber": 0, "location": city}]}, "", {"size": size})


def test_coverage_panels_agree_with_the_service(data):
    city = data.roots()[0]["code"]
    vm = _vm(data, coverage.VIEW, f"?unit={city}")
    answer = data.coverage(city, vm["period"])
    drawing = data.coverage_drawing(answer, VIEW_LIMIT)
    out = coverage.panels(vm, answer, drawing, style={})
    tiles = {t.id["key"]: _texts(t)[1] for t in out["kpis"]}
    total = answer["total"]
    assert tiles["blind_cases"] == f"{total['blind_cases']:,}"
    assert tiles["uncovered_places"] == f"{total['uncovered_places']:,} / {total['key_places']:,}"
    assert out["note_hidden"] is drawing["drawn"]
    if drawing["drawn"]:
        assert len(drawing["views"]["features"]) == len(answer["views"])
    else:
        assert len(drawing["cameras"]) == len(answer["views"])


def test_coverage_draws_points_when_there_are_too_many_cameras(data):
    city = data.roots()[0]["code"]
    answer = data.coverage(city, wiring.resolve(data, "")["period"])
    few = data.coverage_drawing(answer, 0)
    assert few["drawn"] is False and few["views"] is None and len(few["cameras"]) == len(answer["views"])


def test_a_bad_link_shows_the_banner_and_leaves_the_panels(data):
    outputs = {"breadcrumb": None, "error": None, "error_hidden": None, **wallscreen.PANELS}
    out = wiring.render_view(data, wallscreen.VIEW, lambda *a, **k: pytest.fail("rendered"), outputs,
                             "?unit=nope")
    assert out["error"] == strings.UNKNOWN_UNIT.format(code="nope") and out["error_hidden"] is False
    assert all(out[k] is no_update for k in wallscreen.PANELS)


@pytest.mark.parametrize("search,interval,disabled", [
    ("", 5000, True), ("?tour=20", 20000, False), ("?tour=abc", 5000, True),
])
def test_tour_timer(search, interval, disabled):
    assert wiring.tour_settings(search) == {"interval": interval, "disabled": disabled}
