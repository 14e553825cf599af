"""The views' decisions, called as plain functions (no browser): URL sync, view model, tour."""

import json
from datetime import date

import pytest
from dash import no_update
from dash.exceptions import PreventUpdate
from flask import Flask
from flask_caching import Cache
from plotly.io.json import to_json_plotly

from callbacks import coverage, heat, wallscreen
from callbacks.wiring import next_tour_unit, resolve, sync_view
from dashboard import ids, strings
from dashboard.viewstate import BadRequest, Filters, ViewState
from data.access import Principal
from data.scoped import ScopedData
from data.service import CityData

TODAY = date(2026, 11, 20)


def _sync(trigger, search="", period="30d", start=None, end=None, metric="accepted", cats=None,
          srcs=None, click=None, exists=lambda c: True):
    values = {"search": search, "period": period, "start": start, "end": end, "click": click,
              "metric": metric, "categories": cats, "sources": srcs}
    return sync_view(wallscreen.VIEW, trigger, values, today=TODAY, unit_exists=exists)


def _changed(out: dict) -> dict:
    return {k: v for k, v in out.items() if v is not no_update}


def test_on_load_the_url_sets_the_controls():
    out = _sync(None, "?unit=990102&period=custom&from=2026-11-01&to=2026-11-10&metric=overdue"
                      "&category=治安")
    assert out["search"] is no_update
    assert _changed(out) == {"period": "custom", "start": "2026-11-01", "end": "2026-11-10",
                             "dates_style": {}, "metric": "overdue", "categories": ["治安"], "sources": [],
                             "rank": ""}


def test_named_period_hides_the_date_range():
    out = _sync(ids.URL, "?period=7d")
    assert (out["period"], out["start"], out["end"], out["dates_style"]) == (
        "7d", "2026-11-14", "2026-11-20", {"display": "none"})


def test_map_click_drills_and_keeps_the_rest_of_the_state():
    click = {"points": [{"curveNumber": 1, "location": "990102001"}]}
    out = _sync(ids.MAP, "?unit=990102&period=7d", click=click)
    assert _changed(out) == {"search": "?unit=990102001&period=7d"}


def test_click_on_unknown_or_current_unit_does_nothing():
    with pytest.raises(PreventUpdate):
        _sync(ids.MAP, "?unit=990102", click={"points": [{"curveNumber": 1, "location": "990102"}]})
    with pytest.raises(PreventUpdate):
        _sync(ids.MAP, "?unit=990102", click={"points": [{"curveNumber": 1, "location": "x"}]},
              exists=lambda c: False)
    with pytest.raises(PreventUpdate):
        _sync(ids.MAP, "?unit=990102", click={"points": [{"lon": 1, "lat": 2}]})  # a case point


def test_choosing_custom_fills_a_default_range():
    out = _sync(ids.PERIOD, "?unit=990102", period="custom")
    assert out["search"] == "?unit=990102&period=custom&from=2026-10-22&to=2026-11-20"
    assert (out["start"], out["end"], out["dates_style"]) == ("2026-10-22", "2026-11-20", {})


def test_filters_and_metric_write_the_url():
    out = _sync(ids.CATEGORY, "?unit=990102", metric="closure_rate", cats=["矛盾纠纷"], srcs=["企业"])
    state = ViewState.from_query(out["search"])
    assert (state.unit, state.metric) == ("990102", "closure_rate")
    assert state.filters == Filters(("矛盾纠纷",), ("企业",))


def test_an_unknown_filter_value_changes_nothing():
    with pytest.raises(PreventUpdate):
        _sync(ids.CATEGORY, "?unit=990102", cats=["<script>"])


def test_every_output_is_named_and_answered():
    """Sync answers exactly its outputs, for every view: no positional padding to get wrong."""
    for spec in (wallscreen.VIEW, heat.VIEW, coverage.VIEW):
        out = sync_view(spec, None, {"search": "?unit=990102"}, today=TODAY, unit_exists=bool)
        assert set(out) == {"search", "period", "start", "end", "dates_style", *spec.controls}


def view_model(data, search):
    base = resolve(data, search)
    return base if "error" in base else wallscreen.view_model(data, base)


def _city_data(store) -> CityData:
    return CityData(store, Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def data(request):
    yield _city_data(request.getfixturevalue(f"{request.param}_demo"))


def test_view_model_for_the_city(data):
    vm = view_model(data, "?period=custom&from=2026-10-22&to=2026-11-20")
    assert vm["unit"]["level"] == "city" and [u["level"] for u in vm["chain"]] == ["city"]
    assert len(vm["children"]) == len(data.children(vm["unit"]["code"])) > 1
    assert vm["points"] is None
    assert vm["kpis"]["accepted"] == sum(c["accepted"] for c in vm["children"])
    assert len(vm["trend"]) == 30 and vm["trend"].sum() > 0
    assert vm["categories"].sum() == vm["kpis"]["accepted"]
    assert len(vm["geometry"].collection["features"]) == len(vm["children"])


def test_view_model_at_a_grid_has_its_cases(data):
    code = data.roots()[0]["code"]
    while kids := data.children(code):
        code = kids[-1]["code"]
    vm = view_model(data, f"?unit={code}&period=year")
    assert vm["children"] == [] and vm["map_rows"][0]["code"] == code
    assert len(vm["chain"]) == 5
    assert len(vm["points"]) == len(vm["recent"]) > 0


@pytest.mark.parametrize("search,message", [
    ("?unit=nope", strings.UNKNOWN_UNIT.format(code="nope")),
    ("?period=fortnight", "period='fortnight'"),
])
def test_view_model_explains_bad_links(data, search, message):
    assert message in view_model(data, search)["error"]


def test_tour_goes_round_the_districts_and_back_to_the_city(data):
    city = data.roots()[0]["code"]
    districts = [d["code"] for d in data.children(city)]
    seen, code = [], city
    for _ in range(len(districts) + 2):
        code = next_tour_unit(data, code)
        seen.append(code)
    assert seen == districts + [city, districts[0]]


def test_tour_in_the_url():
    state = ViewState.from_query("?tour=20")
    assert state.tour_seconds == 20 and "tour=20" in state.to_query()
    with pytest.raises(BadRequest, match="tour"):
        ViewState.from_query("?tour=1")


@pytest.mark.postgis
def test_an_external_insert_reaches_the_screen_on_the_next_refresh(postgis_demo_copy):
    """Another program INSERTs a case with a point and no grid: the next version check sees it
    and the screen's numbers count it under the right grid and every ancestor, cache and all."""
    from tests.test_postgis_store import ExternalWriter, grid_points

    data = _city_data(postgis_demo_copy)
    grid, point = next(iter(grid_points(postgis_demo_copy, 1).items()))
    search = "?unit={}&period=custom&from=2026-11-01&to=2026-11-20"
    chain = [u["code"] for u in data.ancestors(grid)]
    before = {code: view_model(data, search.format(code))["kpis"]["accepted"] for code in chain}
    version = data.version(fresh=True)

    writer = ExternalWriter(postgis_demo_copy)
    writer.insert_case("EXT-SCREEN-1", point)
    writer.conn.close()

    assert data.version(fresh=True) != version  # what the refresh tick compares
    for code in chain:
        assert view_model(data, search.format(code))["kpis"]["accepted"] == before[code] + 1, code


def _resolved(data, search, screen=None) -> dict:
    vm = resolve(data, search)
    vm["href"] = lambda code: wallscreen.VIEW.href(vm["state"], code)
    vm["screen"], vm["scale"] = screen or {"width": 1920, "height": 1080}, 1.0
    return vm


def _counted_build(data, vm, built: list):
    def build():
        built.append(vm["code"])
        return wallscreen.panels(data, wallscreen.view_model(data, vm), style={}, drawn=None)
    return build


def _json(panels: dict) -> dict:
    return json.loads(to_json_plotly({k: v for k, v in panels.items() if k not in ("updated", "last_good")}))


def test_a_repeat_render_comes_from_the_panel_cache_and_equals_a_fresh_one(data):
    district = data.children(data.roots()[0]["code"])[0]["code"]
    search = f"?unit={district}&period=custom&from=2026-10-22&to=2026-11-20"
    vm, built = _resolved(data, search), []
    first = wallscreen.cached_panels(data, vm, None, _counted_build(data, vm, built))
    again = wallscreen.cached_panels(data, vm, None, _counted_build(data, vm, built))
    assert built == [district]  # the second render built nothing
    assert _json(again) == _json(first) and isinstance(first["map"], dict)
    # Another screen size, period or metric is another question.
    for other in (_resolved(data, search, {"width": 3840, "height": 2160}),
                  _resolved(data, search.replace("2026-10-22", "2026-10-23")),
                  _resolved(data, search + "&metric=overdue")):
        wallscreen.cached_panels(data, other, None, _counted_build(data, other, built))
    assert len(built) == 4
    # A unit without children lists case records: never kept.
    grid = district
    while kids := data.children(grid):
        grid = kids[0]["code"]
    leaf = _resolved(data, f"?unit={grid}&period=year")
    for _ in range(2):
        wallscreen.cached_panels(data, leaf, None, _counted_build(data, leaf, built))
    assert built[-2:] == [grid, grid]


def test_the_panel_cache_keeps_roles_and_scopes_apart(data):
    city = data.roots()[0]["code"]
    district = data.children(city)[0]["code"]
    search = f"?unit={district}&period=custom&from=2026-10-22&to=2026-11-20"
    built = []
    for role, scope in (("analyst", city), ("viewer", city), ("analyst", district), ("viewer", city)):
        scoped = ScopedData(data, Principal(f"t-{role}", role, scope))
        vm = _resolved(scoped, search)
        wallscreen.cached_panels(scoped, vm, None, _counted_build(scoped, vm, built))
    assert len(built) == 3  # only the second viewer's render came from the cache
