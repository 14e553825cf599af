"""The wall screen's callbacks: URL ↔ controls, the periodic version check, and rendering.

Each callback parses its inputs, asks ``CityData`` and hands the answers to ``layouts``. The pure
functions ``sync_state`` and ``view_model`` hold the decisions, so tests can call them directly.
"""

from __future__ import annotations

from datetime import date, timedelta

from dash import ClientsideFunction, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.views import error_outputs, resolve
from dashboard import ids, strings
from dashboard.indicators import INDICATORS
from dashboard.viewstate import BadRequest, Filters, ViewState
from data.service import CityData, QueryTimeout, StoreUnavailable
from layouts import figures, kpi, page, ranking

_CONTROL_OUTPUTS = 7  # period, start, end, date style, metric, categories, sources


def register(app, data: CityData, settings) -> None:
    style = figures.map_style(settings.tile_url, settings.tile_attribution)

    @app.callback(
        Output(ids.URL, "search"),
        Output(ids.PERIOD, "value"),
        Output(ids.DATE_RANGE, "start_date"),
        Output(ids.DATE_RANGE, "end_date"),
        Output(ids.DATE_RANGE, "style"),
        Output(ids.METRIC, "value"),
        Output(ids.CATEGORY, "value"),
        Output(ids.SOURCE, "value"),
        Input(ids.URL, "search"),
        Input(ids.PERIOD, "value"),
        Input(ids.DATE_RANGE, "start_date"),
        Input(ids.DATE_RANGE, "end_date"),
        Input(ids.METRIC, "value"),
        Input(ids.CATEGORY, "value"),
        Input(ids.SOURCE, "value"),
        Input(ids.MAP, "clickData"),
    )
    def sync(search, period, start, end, metric, categories, sources, click):
        return sync_state(ctx.triggered_id, search, period, start, end, metric, categories, sources,
                          click, today=data.now().date(), unit_exists=lambda c: data.unit(c) is not None)

    @app.callback(
        Output(ids.DATA_VERSION, "data"),
        Output(ids.STALE, "children"),
        Output(ids.STALE, "hidden"),
        Input(ids.REFRESH, "n_intervals"),
        State(ids.DATA_VERSION, "data"),
        State(ids.STALE, "hidden"),
        State(ids.UPDATED, "children"),
    )
    def refresh(_n, known, stale_hidden, updated):
        try:
            version = data.version(fresh=True)
        except StoreUnavailable:
            shown = (updated or "").replace(strings.UPDATED_AT.format(time=""), "") or "—"
            return no_update, strings.STALE.format(time=shown), False
        if version == known and stale_hidden is not False:
            raise PreventUpdate  # nothing changed: send nothing
        return version, "", True

    @app.callback(
        Output(ids.BREADCRUMB, "children"),
        Output(ids.ERROR, "children"),
        Output(ids.ERROR, "hidden"),
        Output(ids.KPI_ROW, "children"),
        Output(ids.MAP, "figure"),
        Output(ids.MAP_UNIT, "data"),
        Output(ids.TREND, "figure"),
        Output(ids.CATEGORIES, "figure"),
        Output(ids.RANKING_TITLE, "children"),
        Output(ids.RANKING, "children"),
        Output(ids.ALARMS_TITLE, "children"),
        Output(ids.ALARMS, "children"),
        Output(ids.UPDATED, "children"),
        Input(ids.URL, "search"),
        Input(ids.DATA_VERSION, "data"),
        State(ids.MAP_UNIT, "data"),
    )
    def render(search, _version, drawn):
        try:
            vm = view_model(data, search)
        except QueryTimeout:
            vm = {"error": strings.QUERY_TIMEOUT}
        except StoreUnavailable:
            raise PreventUpdate from None  # keep the last good screen; refresh shows the notice
        if vm.get("error"):
            return (no_update,) + error_outputs(vm["error"], 10)
        state, unit = vm["state"], vm["unit"]

        def href(code):
            return "/" + state.with_(unit=code).to_query()

        drill_key = unit["code"]
        if vm["children"] and drawn == drill_key:
            map_figure = figures.map_values_patch(vm["map_rows"], state.metric)
        else:
            map_figure = figures.unit_map(
                geojson_url=f"/geo/{unit['code']}.geojson?v={vm['geometry'].etag}",
                rows=vm["map_rows"], metric=state.metric, bounds=vm["geometry"].bounds,
                drill_key=drill_key, style=style, points=vm["points"],
            )
        metric_label = INDICATORS[state.metric].label
        if vm["children"]:
            level = strings.level_name(vm["children"][0]["level"])
            rank_title = strings.RANKING_TITLE.format(level=level, metric=metric_label)
            rank_body = ranking.ranking(vm["children"], state.metric, href)
        else:
            rank_title, rank_body = strings.NO_CHILDREN, ranking.recent_cases(vm["recent"])
        trend = vm["trend"]
        cats = vm["categories"]
        return (
            page.breadcrumb(vm["chain"], href),
            "", True,
            kpi.kpi_cards(vm["kpis"], vm["previous"], vm["compare_label"]),
            map_figure, drill_key,
            figures.trend_figure(list(trend.index), trend.tolist()),
            figures.category_figure(list(cats.index), cats.tolist()),
            rank_title, rank_body,
            strings.ALARMS_TITLE,
            ranking.alarms(vm["alarms"], vm["now"]),
            strings.UPDATED_AT.format(time=data.now().strftime("%H:%M:%S")),
        )

    @app.callback(
        Output(ids.TOUR, "interval"),
        Output(ids.TOUR, "disabled"),
        Input(ids.URL, "search"),
    )
    def tour_timer(search):
        try:
            seconds = ViewState.from_query(search).tour_seconds
        except BadRequest:
            seconds = 0
        return max(seconds, 5) * 1000, seconds == 0

    @app.callback(
        Output(ids.URL, "search", allow_duplicate=True),
        Input(ids.TOUR, "n_intervals"),
        State(ids.URL, "search"),
        prevent_initial_call=True,
    )
    def tour_step(_n, search):
        try:
            state = ViewState.from_query(search)
        except BadRequest:
            raise PreventUpdate from None
        code = next_tour_unit(data, state.unit or data.roots()[0]["code"])
        return state.with_(unit=code).to_query()

    app.clientside_callback(
        ClientsideFunction(namespace="citybrain", function_name="clock"),
        Output(ids.CLOCK, "children"),
        Input(ids.CLOCK + "-tick", "n_intervals"),
        State(ids.TIMEZONE, "data"),
    )


def sync_state(trigger, search, period, start, end, metric, categories, sources, click, *,
               today: date, unit_exists) -> tuple:
    """Keep the URL and the controls in step; the URL wins on load and on back/forward."""
    try:
        state = ViewState.from_query(search)
    except BadRequest:
        state = ViewState()  # the render callback explains what is wrong with the link
    if trigger in (None, ids.URL):
        return (no_update, *_controls(state, today))
    if trigger == ids.MAP:
        code = ((click or {}).get("points") or [{}])[0].get("location")
        if not code or code == state.unit or not unit_exists(code):
            raise PreventUpdate
        new = state.with_(unit=code)
    elif trigger in (ids.PERIOD, ids.DATE_RANGE):
        if period == "custom":
            first = date.fromisoformat(start[:10]) if start else today - timedelta(days=29)
            last = date.fromisoformat(end[:10]) if end else today
            first, last = min(first, last), max(first, last)
            new = state.with_(period_key="custom", first=first, last=last)
        else:
            new = state.with_(period_key=period, first=None, last=None)
        return (new.to_query(), *_controls(new, today))
    else:
        try:
            filters = Filters(tuple(categories or ()), tuple(sources or ()))
        except BadRequest:
            raise PreventUpdate from None
        new = state.with_(metric=metric or state.metric, filters=filters)
    return (new.to_query(), *([no_update] * _CONTROL_OUTPUTS))


def _controls(state: ViewState, today: date) -> tuple:
    period = state.period(today) if state.period_key != "custom" or state.first else None
    first = period.first.isoformat() if period else None
    last = period.last.isoformat() if period else None
    hidden = {} if state.period_key == "custom" else {"display": "none"}
    return (state.period_key, first, last, hidden, state.metric, list(state.filters.categories),
            list(state.filters.sources))


def next_tour_unit(data: CityData, code: str) -> str:
    """轮播 order: a unit with children goes to its first child; then each sibling in turn; after
    the last sibling, back up to the parent. From the city: city → each district → city → …"""
    unit = data.unit(code)
    parent = unit and unit["parent_code"]
    if parent is None:
        kids = data.children(code)
        return kids[0]["code"] if kids else code
    siblings = [u["code"] for u in data.children(parent)]
    i = siblings.index(code)
    return siblings[i + 1] if i + 1 < len(siblings) else parent


def view_model(data: CityData, search: str | None) -> dict:
    """Everything the screen shows for a URL, or ``{"error": message}``."""
    base = resolve(data, search)
    if "error" in base:
        return base
    state, unit, code, period = base["state"], base["unit"], base["code"], base["period"]
    filters = state.filters
    kpis = data.kpis(code, period, filters)["values"]
    compared, compare_label = period.comparison()
    previous = data.kpis(code, compared, filters)["values"]
    children = data.children_kpis(code, period, filters).to_dict("records")
    recent, points = [], None
    if children:
        map_rows = children
    else:
        map_rows = [{"code": code, "name": unit["name"], **kpis}]
        recent = data.recent_cases(code, period, filters)
        points = data.case_points(code, period, filters)
    return {
        "state": state, "unit": unit, "period": period, "chain": base["chain"],
        "kpis": kpis, "previous": previous, "compare_label": compare_label,
        "children": children, "map_rows": map_rows,
        "geometry": base["geometry"], "recent": recent, "points": points,
        "alarms": data.alarms(code, filters), "now": data.now(),
        "trend": data.trend(code, period.last, filters),
        "categories": data.categories(code, period, filters),
    }
