"""The dispute heatmap's callbacks (/heat): URL ↔ controls, drill, render, and a cell's cases."""

from __future__ import annotations

from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks import views as common
from dashboard import ids, strings
from dashboard.viewstate import BadRequest, Filters, HeatFilters
from data.service import CityData, QueryTimeout, StoreUnavailable
from geo.cells import size_for_zoom
from geo.viewport import fit_bounds
from layouts import figures, heat, page, views

_ALL_HOURS = [0, 23]


def register(app, data: CityData, settings) -> None:
    style = figures.map_style(settings.tile_url, settings.tile_attribution)

    @app.callback(
        Output(ids.HEAT_URL, "search"),
        Output(ids.HEAT_PERIOD, "value"),
        Output(ids.HEAT_DATES, "start_date"),
        Output(ids.HEAT_DATES, "end_date"),
        Output(ids.HEAT_DATES, "style"),
        Output(ids.HEAT_STYLE, "value"),
        Output(ids.HEAT_CELL, "value"),
        Output(ids.HEAT_SUBCATEGORY, "value"),
        Output(ids.HEAT_SOURCE, "value"),
        Output(ids.HEAT_STATUS, "value"),
        Output(ids.HEAT_HOURS, "value"),
        Input(ids.HEAT_URL, "search"),
        Input(ids.HEAT_PERIOD, "value"),
        Input(ids.HEAT_DATES, "start_date"),
        Input(ids.HEAT_DATES, "end_date"),
        Input(ids.HEAT_STYLE, "value"),
        Input(ids.HEAT_CELL, "value"),
        Input(ids.HEAT_SUBCATEGORY, "value"),
        Input(ids.HEAT_SOURCE, "value"),
        Input(ids.HEAT_STATUS, "value"),
        Input(ids.HEAT_HOURS, "value"),
        Input(ids.HEAT_MAP, "clickData"),
    )
    def sync(search, period, start, end, mode, cell, subs, sources, statuses, hours, click):
        trigger = ctx.triggered_id
        today = data.now().date()
        state = common.parse_state(search)
        if trigger in (None, ids.HEAT_URL):
            return (no_update, *_controls(state, today))
        if trigger == ids.HEAT_MAP:
            new = common.drilled(click, state, data)
        elif trigger in (ids.HEAT_PERIOD, ids.HEAT_DATES):
            new = common.sync_period(True, state, period, start, end, today=today)
            return (new.to_query(), *_controls(new, today))
        else:
            hours = tuple(hours) if hours and list(hours) != _ALL_HOURS else None
            try:
                heat_filters = HeatFilters(tuple(subs or ()), tuple(sources or ()), tuple(statuses or ()),
                                           hours)
            except BadRequest:
                raise PreventUpdate from None
            new = state.with_(heat=heat_filters, heat_style=mode or "cells", cell=cell or "hex",
                              filters=Filters(state.filters.categories, heat_filters.sources))
        return (new.to_query(),) + (no_update,) * 10

    @app.callback(
        Output(ids.HEAT_NAV, "children"),
        Output(ids.HEAT_BREADCRUMB, "children"),
        Output(ids.HEAT_ERROR, "children"),
        Output(ids.HEAT_ERROR, "hidden"),
        Output(ids.HEAT_KPIS, "children"),
        Output(ids.HEAT_MAP, "figure"),
        Output(ids.HEAT_ZOOM, "data"),
        Output(ids.HEAT_RANKING_TITLE, "children"),
        Output(ids.HEAT_RANKING, "children"),
        Output(ids.HEAT_CELL_TITLE, "children"),
        Output(ids.HEAT_CELL_LIST, "children"),
        Input(ids.HEAT_URL, "search"),
        Input(ids.HEAT_MAP, "relayoutData"),
        State(ids.HEAT_ZOOM, "data"),
    )
    def render(search, relayout, drawn):
        vm = _view(data, search)
        if vm.get("error"):
            return (no_update, no_update) + common.error_outputs(vm["error"], 7)
        lat = (vm["geometry"].bounds[1] + vm["geometry"].bounds[3]) / 2
        zoom = fit_bounds(vm["geometry"].bounds)["zoom"]
        # A zoom alone redraws the cells at the size for the new zoom; a new URL always renders
        # (a click can bring a relayout and the new URL in the same call).
        url_changed = any(t.startswith(ids.HEAT_URL + ".") for t in ctx.triggered_prop_ids)
        if ctx.triggered_id == ids.HEAT_MAP and not url_changed:
            zoom = (relayout or {}).get("map.zoom")
            if zoom is None or not drawn or drawn.get("search") != search:
                raise PreventUpdate
            if size_for_zoom(zoom, lat) == drawn["size"]:
                raise PreventUpdate  # a pan, or a zoom too small to change the cells
        size = size_for_zoom(zoom, lat)
        try:
            return _outputs(data, vm, search, size, style)
        except QueryTimeout:
            return (no_update, no_update) + common.error_outputs(strings.QUERY_TIMEOUT, 7)
        except StoreUnavailable:
            raise PreventUpdate from None

    @app.callback(
        Output(ids.HEAT_CELL_TITLE, "children", allow_duplicate=True),
        Output(ids.HEAT_CELL_LIST, "children", allow_duplicate=True),
        Input(ids.HEAT_MAP, "clickData"),
        State(ids.HEAT_URL, "search"),
        State(ids.HEAT_ZOOM, "data"),
        prevent_initial_call=True,
    )
    def cell_click(click, search, drawn):
        point = ((click or {}).get("points") or [{}])[0]
        if point.get("curveNumber") != heat.CELLS or not drawn:
            raise PreventUpdate
        vm = _view(data, search)
        if vm.get("error"):
            raise PreventUpdate
        state = vm["state"]
        cells = data.heat(vm["code"], vm["period"], state.heat, cell=state.cell, size=drawn["size"])
        found = cells[(cells.i.astype(str) + "_" + cells.j.astype(str)) == point.get("location")]
        if found.empty:
            raise PreventUpdate
        row = found.iloc[0]
        return (strings.CELL_LIST_TITLE.format(count=f"{int(row['count']):,}"),
                heat.cell_cases(data.cell_cases(row["ids"])))


def _controls(state, today) -> tuple:
    h = state.heat
    return (*common.period_controls(state, today), state.heat_style, state.cell, list(h.subcategories),
            list(h.sources), list(h.statuses), list(h.hours) if h.hours else _ALL_HOURS)


def _view(data: CityData, search) -> dict:
    try:
        return common.resolve(data, search)
    except QueryTimeout:
        return {"error": strings.QUERY_TIMEOUT}
    except StoreUnavailable:
        raise PreventUpdate from None


def _outputs(data: CityData, vm: dict, search: str, size: int, style: dict) -> tuple:
    state, code, period = vm["state"], vm["code"], vm["period"]
    cells = data.heat(code, period, state.heat, cell=state.cell, size=size)
    counts = data.dispute_counts(code, period, state.heat)
    records = [{"id": f"{r.i}_{r.j}", "count": int(r.count), "lon": r.lon, "lat": r.lat}
               for r in cells.itertuples()]
    collection = data.heat_geojson(code, period, state.heat, cell=state.cell, size=size)
    figure = heat.heat_map(
        geojson_url=f"/geo/{code}.geojson?v={vm['geometry'].etag}", members=vm["members"],
        bounds=vm["geometry"].bounds, drill_key=f"{code}|{state.heat_style}", style=style, cells=records,
        cells_geojson=collection, mode=state.heat_style,
    )
    total = int(cells["count"].sum())
    peak = int(cells["count"].max()) if len(cells) else 0
    kpis = views.tiles([
        ("disputes", strings.HEAT_TOTAL, f"{total:,}", None),
        ("cells", strings.HEAT_CELLS, f"{len(cells):,}", None),
        ("peak", strings.HEAT_PEAK, f"{peak:,}", None),
        ("size", strings.HEAT_CELL_SIZE, strings.METRES.format(size=size), None),
    ])

    def href(c):
        return "/heat" + state.with_(unit=c).to_query()

    rows = [{"code": m["code"], "name": m["name"], "count": counts.get(m["code"], 0)} for m in vm["members"]]
    level = strings.level_name(vm["members"][0]["level"])
    return (
        views.nav(views.HEAT, search or ""), page.breadcrumb(vm["chain"], href), "", True, kpis,
        figure, {"size": size, "search": search},
        strings.HEAT_SIDE_TITLE.format(level=level), heat.ranking(rows, href),
        strings.CELL_LIST_TITLE.format(count="—"), heat.cell_cases([]),
    )
