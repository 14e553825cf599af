"""The dispute heatmap (``/heat``): its controls, its panels, and a cell's cases.

URL, period picker, drill, tour and errors come from ``callbacks/wiring.py``; the functions here
are plain functions of their inputs, so tests call them directly.
"""

from __future__ import annotations

from dash import Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from callbacks import wiring
from dashboard import ids, strings
from dashboard.viewstate import BadRequest, Filters, HeatFilters, ViewState
from data.service import CityData, StoreUnavailable
from geo.cells import size_for_zoom
from layouts import heat, maps
from layouts.kpi import tiles

ALL_HOURS = [0, 23]


def _to_controls(state: ViewState) -> dict:
    h = state.heat
    return {"mode": state.heat_style, "cell": state.cell, "subcategories": list(h.subcategories),
            "sources": list(h.sources), "statuses": list(h.statuses),
            "hours": list(h.hours) if h.hours else ALL_HOURS}


def _from_controls(state: ViewState, values: dict) -> ViewState:
    hours = values["hours"]
    hours = tuple(hours) if hours and list(hours) != ALL_HOURS else None
    heat_filters = HeatFilters(tuple(values["subcategories"] or ()), tuple(values["sources"] or ()),
                               tuple(values["statuses"] or ()), hours)
    return state.with_(heat=heat_filters, heat_style=values["mode"] or "cells", cell=values["cell"] or "hex",
                       filters=Filters(state.filters.categories, heat_filters.sources))


VIEW = wiring.ViewSpec(
    path="/heat", ids=ids.HEAT_VIEW,
    controls={"mode": ids.HEAT_STYLE, "cell": ids.HEAT_CELL, "subcategories": ids.HEAT_SUBCATEGORY,
              "sources": ids.HEAT_SOURCE, "statuses": ids.HEAT_STATUS, "hours": ids.HEAT_HOURS},
    to_controls=_to_controls, from_controls=_from_controls,
)

PANELS = {
    "kpis": Output(ids.HEAT_KPIS, "children"), "map": Output(ids.HEAT_MAP, "figure"),
    "drawn": Output(ids.HEAT_ZOOM, "data"), "ranking_title": Output(ids.HEAT_RANKING_TITLE, "children"),
    "ranking": Output(ids.HEAT_RANKING, "children"), "cell_title": Output(ids.HEAT_CELL_TITLE, "children"),
    "cell_list": Output(ids.HEAT_CELL_LIST, "children"),
}


def register(app, data: CityData, settings) -> None:
    style = wiring.map_style(settings)

    def render(data, vm, *, relayout, drawn):
        url_changed = any(t.startswith(ids.HEAT_URL + ".") for t in ctx.triggered_prop_ids)
        zoomed_only = ctx.triggered_id == ids.HEAT_MAP and not url_changed
        size = cell_size(vm, relayout if zoomed_only else None, drawn)
        if zoomed_only and data.heat_size(vm["code"], vm["state"].cell, size)[0] == drawn.get("size"):
            raise PreventUpdate  # zoomed in past what the unit's area allows: the same cells
        return panels(data, vm, size=size, style=style)

    wiring.register_view(app, data, VIEW, panels=PANELS, render=render,
                         inputs={"relayout": Input(ids.HEAT_MAP, "relayoutData")},
                         state={"drawn": State(ids.HEAT_ZOOM, "data")})

    @app.callback(
        output={"title": Output(ids.HEAT_CELL_TITLE, "children", allow_duplicate=True),
                "cases": Output(ids.HEAT_CELL_LIST, "children", allow_duplicate=True)},
        inputs={"click": Input(ids.HEAT_MAP, "clickData")},
        state={"search": State(ids.HEAT_URL, "search"), "drawn": State(ids.HEAT_ZOOM, "data")},
        prevent_initial_call=True,
    )
    def cell_click(click, search, drawn):
        return cell_cases(data, click, search, drawn)


def cell_size(vm: dict, relayout: dict | None, drawn: dict | None) -> int:
    """Cell edge in metres: sized to the unit's fitted zoom, or to the map's new zoom when the
    person only zoomed (``relayout``). A pan, or a zoom too small to change the cells, sends
    nothing."""
    bounds = vm["geometry"].bounds
    lat = (bounds[1] + bounds[3]) / 2
    if relayout is None:
        return size_for_zoom(maps.view(bounds, screen=vm.get("screen"))["map"]["zoom"], lat)
    zoom = relayout.get("map.zoom") if isinstance(relayout, dict) else None
    if (isinstance(zoom, bool) or not isinstance(zoom, int | float) or not 0 <= zoom <= 24
            or not isinstance(drawn, dict) or drawn.get("search") != vm["state"].to_query()):
        raise PreventUpdate  # no zoom, or not a zoom MapLibre could send
    size = size_for_zoom(zoom, lat)
    if size == drawn.get("size"):
        raise PreventUpdate
    return size


def panels(data: CityData, vm: dict, *, size: int, style: dict) -> dict:
    """The heat view's panels: KPI tiles, the map of cells or density, the members ranked."""
    state, code, period = vm["state"], vm["code"], vm["period"]
    size, _ = data.heat_size(code, state.cell, size)  # no finer than the unit's area allows
    cells = data.heat_cells(code, period, state.heat, cell=state.cell, size=size)
    counts = data.dispute_counts(code, period, state.heat)
    figure = heat.heat_map(
        geojson_url=f"/geo/{code}.geojson?v={vm['geometry'].etag}", members=vm["members"],
        bounds=vm["geometry"].bounds, drill_key=f"{code}|{state.heat_style}", style=style,
        cells=cells["records"], cells_geojson=cells["geojson"], mode=state.heat_style,
        labels=vm["geometry"].labels, screen=vm.get("screen"),
    )
    total = sum(c["count"] for c in cells["records"])
    peak = max((c["count"] for c in cells["records"]), default=0)
    rows = [{"code": m["code"], "name": m["name"], "count": counts.get(m["code"], 0)} for m in vm["members"]]
    return {
        "kpis": tiles([
            ("disputes", strings.HEAT_TOTAL, f"{total:,}", None),
            ("cells", strings.HEAT_CELLS, f"{len(cells['records']):,}", None),
            ("peak", strings.HEAT_PEAK, f"{peak:,}", None),
            ("size", strings.HEAT_CELL_SIZE, strings.METRES.format(size=size), None),
        ]),
        "map": figure, "drawn": {"size": size, "search": state.to_query()},
        "ranking_title": strings.HEAT_SIDE_TITLE.format(level=strings.level_name(vm["members"][0]["level"])),
        "ranking": heat.ranking(rows, vm["href"]),
        "cell_title": strings.CELL_LIST_TITLE.format(count="—"), "cell_list": heat.cell_cases([]),
    }


def cell_cases(data: CityData, click, search, drawn) -> dict:
    """A click on a cell (trace ``heat.CELLS``) lists its disputes; anything else sends nothing."""
    point = ((click or {}).get("points") or [{}])[0]
    if point.get("curveNumber") != heat.CELLS or not isinstance(drawn, dict):
        raise PreventUpdate
    try:
        vm = wiring.resolve(data, search)
        if vm.get("error"):
            raise PreventUpdate
        state = vm["state"]
        # The size comes back from the browser: checked and clamped like the API's ``size``.
        size, _ = data.heat_size(vm["code"], state.cell, drawn.get("size"))
        cells = data.heat(vm["code"], vm["period"], state.heat, cell=state.cell, size=size)
        found = cells[(cells.i.astype(str) + "_" + cells.j.astype(str)) == point.get("location")]
        if found.empty:
            raise PreventUpdate
        row = found.iloc[0]
        return {"title": strings.CELL_LIST_TITLE.format(count=f"{int(row['count']):,}"),
                "cases": heat.cell_cases(data.cell_cases(row["ids"], unit_code=vm["code"]))}
    except (StoreUnavailable, BadRequest):
        raise PreventUpdate from None
