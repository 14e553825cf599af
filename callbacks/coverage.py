"""The camera coverage view's callbacks (/coverage): URL ↔ period, drill, render."""

from __future__ import annotations

from dash import Input, Output, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks import views as common
from dashboard import ids, strings
from data.service import CityData, QueryTimeout, StoreUnavailable
from layouts import coverage, figures, page, views


def register(app, data: CityData, settings) -> None:
    style = figures.map_style(settings.tile_url, settings.tile_attribution)

    @app.callback(
        Output(ids.COV_URL, "search"),
        Output(ids.COV_PERIOD, "value"),
        Output(ids.COV_DATES, "start_date"),
        Output(ids.COV_DATES, "end_date"),
        Output(ids.COV_DATES, "style"),
        Input(ids.COV_URL, "search"),
        Input(ids.COV_PERIOD, "value"),
        Input(ids.COV_DATES, "start_date"),
        Input(ids.COV_DATES, "end_date"),
        Input(ids.COV_MAP, "clickData"),
    )
    def sync(search, period, start, end, click):
        trigger = ctx.triggered_id
        today = data.now().date()
        state = common.parse_state(search)
        if trigger in (None, ids.COV_URL):
            return (no_update, *common.period_controls(state, today))
        if trigger == ids.COV_MAP:
            return (common.drilled(click, state, data).to_query(),) + (no_update,) * 4
        new = common.sync_period(True, state, period, start, end, today=today)
        return (new.to_query(), *common.period_controls(new, today))

    @app.callback(
        Output(ids.COV_NAV, "children"),
        Output(ids.COV_BREADCRUMB, "children"),
        Output(ids.COV_ERROR, "children"),
        Output(ids.COV_ERROR, "hidden"),
        Output(ids.COV_KPIS, "children"),
        Output(ids.COV_MAP, "figure"),
        Output(ids.COV_NOTE, "children"),
        Output(ids.COV_NOTE, "hidden"),
        Output(ids.COV_RANKING_TITLE, "children"),
        Output(ids.COV_RANKING, "children"),
        Output(ids.COV_SUGGESTIONS, "children"),
        Output(ids.COV_PLACES, "children"),
        Input(ids.COV_URL, "search"),
    )
    def render(search):
        try:
            vm = common.resolve(data, search)
            if vm.get("error"):
                return (no_update, no_update) + common.error_outputs(vm["error"], 8)
            answer = data.coverage(vm["code"], vm["period"])
        except QueryTimeout:
            return (no_update, no_update) + common.error_outputs(strings.QUERY_TIMEOUT, 8)
        except StoreUnavailable:
            raise PreventUpdate from None
        return _outputs(vm, answer, search, style)


def _outputs(vm: dict, answer: dict, search: str, style: dict) -> tuple:
    state, code = vm["state"], vm["code"]
    names = {m["code"]: m for m in vm["members"]}
    members = [{**m, "name": names[m["code"]]["name"]} for m in answer["members"]]
    sites = [{**s, "text": strings.suggestion_text(s, names[s["member"]]["name"])}
             for s in answer["suggestions"]]
    places = [{**p, "unit": names[m["code"]]["name"]} for m in answer["members"]
              for p in m["uncovered_place_list"]]
    cams = answer["views"]
    drawn = len(cams) <= coverage.VIEW_LIMIT
    views_geojson = blind_geojson = None
    points = []
    if drawn:
        views_geojson, blind_geojson = answer["views_geojson"], answer["blind_geojson"]
    else:
        points = answer["camera_points"]
    figure = coverage.coverage_map(
        geojson_url=f"/geo/{code}.geojson?v={vm['geometry'].etag}", members=members,
        bounds=vm["geometry"].bounds, drill_key=code, style=style, views_geojson=views_geojson,
        view_status=list(cams["status"]), cameras=points, blind_geojson=blind_geojson,
        places=places, sites=sites,
    )
    total = answer["total"]
    share = total["blind_cases"] / total["cases"] if total["cases"] else None
    values = {
        "covered_share": views.percent(total["covered_share"]),
        "blind_km2": strings.KM2.format(value=_km2(total["blind_km2"])),
        "online_rate": views.percent(total["online_rate"]),
        "uncovered_places": f"{total['uncovered_places']:,} / {total['key_places']:,}",
        "blind_cases": f"{total['blind_cases']:,}",
        "blind_case_share": views.percent(share),
    }
    kpis = views.tiles([(k, label, values[k], definition)
                        for k, (label, definition) in strings.COVERAGE_KPIS.items()])

    def href(c):
        return "/coverage" + state.with_(unit=c).to_query()

    level = strings.level_name(vm["members"][0]["level"])
    return (
        views.nav(views.COVERAGE, search or ""), page.breadcrumb(vm["chain"], href), "", True, kpis,
        figure, strings.CAMERAS_POINTS_ONLY, drawn,
        strings.COVERAGE_RANK_TITLE.format(level=level), coverage.ranking(members, href),
        coverage.suggestion_list(sites), coverage.place_list(places),
    )


def _km2(value: float) -> str:
    """Area for a tile: whole km² when large, two decimals when small."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}" if value >= 10 else f"{value:.2f}"
