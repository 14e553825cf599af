"""The wall screen (``/``): its controls, its panels, the periodic version check and the clock.

URL, period picker, drill, tour and errors come from ``callbacks/wiring.py``. ``view_model`` holds
what the screen shows for a URL and ``panels`` turns it into outputs, so tests call both directly.
"""

from __future__ import annotations

import gzip
import json

from dash import ClientsideFunction, Input, Output, State, no_update
from dash.exceptions import PreventUpdate
from plotly.io.json import to_json_plotly

from callbacks import staff, wiring
from dashboard import ids, strings
from dashboard.indicators import INDICATORS
from dashboard.scales import parse_targets
from dashboard.viewstate import Filters, ViewState
from data.service import CityData, StoreUnavailable
from layouts import facts, figures, kpi, ranking


def _to_controls(state: ViewState) -> dict:
    return {"metric": state.metric, "categories": list(state.filters.categories),
            "sources": list(state.filters.sources), "rank": state.rank or ""}


def _from_controls(state: ViewState, values: dict) -> ViewState:
    filters = Filters(tuple(values["categories"] or ()), tuple(values["sources"] or ()))
    return state.with_(metric=values["metric"] or state.metric, filters=filters,
                       rank=values.get("rank") or None)


VIEW = wiring.ViewSpec(
    path="/", ids=ids.WALL_VIEW, drill_trace=figures.VALUES_TRACE,
    controls={"metric": ids.METRIC, "categories": ids.CATEGORY, "sources": ids.SOURCE,
              "rank": ids.RANK_LEVEL},
    to_controls=_to_controls, from_controls=_from_controls,
)

PANELS = {
    "kpis": Output(ids.KPI_ROW, "children"), "map": Output(ids.MAP, "figure"),
    "map_unit": Output(ids.MAP_UNIT, "data"), "trend": Output(ids.TREND, "figure"),
    "trend_title": Output(ids.TREND_TITLE, "children"),
    "categories": Output(ids.CATEGORIES, "figure"), "ranking_title": Output(ids.RANKING_TITLE, "children"),
    "ranking": Output(ids.RANKING, "children"), "alarms_title": Output(ids.ALARMS_TITLE, "children"),
    "alarms": Output(ids.ALARMS, "children"), "updated": Output(ids.UPDATED, "children"),
    "facts": Output(ids.FACTS, "children"),
    "last_good": Output(ids.LAST_GOOD, "data"),
}


def register(app, data: CityData, settings) -> None:
    style = wiring.map_style(settings)
    targets = parse_targets(settings.targets)

    def render(data, vm, *, version, drawn):
        return cached_panels(data, vm, drawn, lambda: panels(data, view_model(data, vm), style=style,
                                                             drawn=drawn, targets=targets))

    wiring.register_view(app, data, VIEW, panels=PANELS, render=render,
                         inputs={"version": Input(ids.DATA_VERSION, "data")},
                         state={"drawn": State(ids.MAP_UNIT, "data")})

    @app.callback(
        output={"version": Output(ids.DATA_VERSION, "data"), "stale": Output(ids.STALE, "children"),
                "stale_hidden": Output(ids.STALE, "hidden")},
        inputs={"tick": Input(ids.REFRESH, "n_intervals")},
        state={"known": State(ids.DATA_VERSION, "data"), "stale_hidden": State(ids.STALE, "hidden"),
               "last_good": State(ids.LAST_GOOD, "data")},
    )
    def refresh(tick, known, stale_hidden, last_good):
        return refresh_check(data, known, stale_hidden, last_good)

    app.clientside_callback(
        ClientsideFunction(namespace="citybrain", function_name="clock"),
        Output(ids.CLOCK, "children"),
        Input(ids.CLOCK + "-tick", "n_intervals"),
        State(ids.TIMEZONE, "data"),
    )


def refresh_check(data: CityData, known, stale_hidden, last_good) -> dict:
    """The periodic tick: a cheap version check; nothing is sent when nothing changed. When the
    store is unreachable the screen keeps its data and says since when (``last_good``)."""
    try:
        version = data.version(fresh=True)
    except StoreUnavailable:
        text = strings.STORE_REPLACED if data.store_problem else strings.STALE.format(time=last_good or "—")
        return {"version": no_update, "stale": text, "stale_hidden": False}
    if data.store_problem:  # the file was replaced while served: say so until a restart
        return {"version": version, "stale": strings.STORE_REPLACED, "stale_hidden": False}
    if version == known and stale_hidden is not False:
        raise PreventUpdate  # nothing changed: send nothing
    return {"version": version, "stale": "", "stale_hidden": True}


# Panels built anew at every render even when the rest comes from the cache: the alarms (case
# records, audited for those who see them; overdue moves with the data's moment) and the clock.
LIVE_PANELS = ("alarms", "updated", "last_good")


def panel_key(data: CityData, vm: dict, drawn) -> dict | None:
    """What the screen's cacheable panels depend on, or None when they are not cached (a unit
    without children lists case records and draws their dots: built per request).

    Who is asking is part of the key: the scope's root (breadcrumb and links start there) and
    whether the role sees case records, so one role's panels never reach another."""
    if vm["leaf"]:
        return None
    state, period, screen = vm["state"], vm["period"], vm.get("screen") or {}
    principal = getattr(data, "principal", None)
    key = {"view": VIEW.path, "code": vm["code"], "query": state.with_(tour_seconds=0).to_query(),
           "period": (period.key, period.first.isoformat(), period.last.isoformat()),
           "as_of": data.as_of().isoformat(), "screen": (screen.get("width"), screen.get("height")),
           "patch": drawn == f"{vm['code']}@{vm.get('scale', 1)}",
           "scope": principal.unit if principal else None,
           "cases": principal.sees_cases if principal else True}
    if state.rank:  # the depth ranking counts overdue at the minute (``CityData.ranking``)
        key["minute"] = data.now().strftime("%Y-%m-%d %H:%M")
    return key


def cached_panels(data: CityData, vm: dict, drawn, build) -> dict:
    """``build()``'s panels, kept as JSON per ``panel_key`` and data version (``CityData.
    cached_answer``) so the next screen or analyst asking the same gets them without a query or
    a figure built; the ``LIVE_PANELS`` are always built anew. See docs/ARCHITECTURE.md."""
    key = panel_key(data, vm, drawn)
    if key is None:
        return build()
    built: dict = {}

    def encode() -> bytes:
        built.update(build())
        kept = {k: v for k, v in built.items() if k not in LIVE_PANELS}
        return to_json_plotly(kept).encode()

    body = data.cached_answer("wall_panels", encode, **key)
    if built:
        return built
    code, filters = vm["code"], vm["state"].filters
    return {**json.loads(gzip.decompress(body)),
            **live_panels(data, code, data.alarms(code, filters), data.rises(code, filters),
                          data.as_of())}


def live_panels(data: CityData, code: str, alarms: list, rises: list, now) -> dict:
    """The alarms (overdue at the data's moment ``now``) and the time of the render."""
    updated = data.now().strftime("%H:%M:%S")
    return {"alarms": ranking.alarms(alarms, now, rises, code),
            "updated": strings.UPDATED_AT.format(time=updated), "last_good": updated}


def view_model(data: CityData, base: dict) -> dict:
    """Everything the screen shows for a resolved view (``wiring.resolve``)."""
    state, unit, code, period = base["state"], base["unit"], base["code"], base["period"]
    filters = state.filters
    answer = data.kpis(code, period, filters)
    kpis = answer["values"]
    compared = data.comparison(code, period, filters)
    previous, compare_label = compared["values"], compared["label"]
    children = data.children_kpis(code, period, filters).to_dict("records")
    trend, step = data.trend_for(code, period, filters)
    recent, points = [], None
    if children:
        map_rows = children
    else:
        map_rows = [{"code": code, "name": unit["name"], **kpis}]
        recent = data.recent_cases(code, period, filters)
        points = data.case_points(recent)
    return {
        **base, "kpis": kpis, "previous": previous, "compare_label": compare_label,
        "today_counts": answer["counts"] if period.key == "today" else None,
        "children": children, "map_rows": map_rows, "recent": recent, "points": points,
        "alarms": data.alarms(code, filters), "rises": data.rises(code, filters),
        "now": data.as_of(),
        "trend": trend, "trend_step": step,
        "categories": data.categories(code, period, filters),
        "profile": data.profile(code, period), "surveys": data.surveys(code),
        "police": data.police_summary(code, period), "sensitive": data.sensitive(code).get(code, {}),
    }


def panels(data: CityData, vm: dict, *, style: dict, drawn, targets: dict | None = None) -> dict:
    """The wall screen's panels for a view model; the map sends values only (a ``Patch``) when
    its polygons are already drawn at this screen size."""
    state, unit = vm["state"], vm["unit"]
    drill_key = f"{unit['code']}@{vm.get('scale', 1)}"
    if vm["children"] and drawn == drill_key:
        map_figure = figures.map_values_patch(vm["map_rows"], state.metric, targets)
    else:
        geometry = vm["geometry"]
        map_figure = figures.unit_map(
            geojson_url=f"/geo/{unit['code']}.geojson?v={geometry.etag}",
            rows=vm["map_rows"], metric=state.metric, bounds=geometry.bounds,
            drill_key=unit["code"], style=style, points=vm["points"], labels=geometry.labels,
            targets=targets, screen=vm.get("screen"),
        )
    if vm["children"] and state.rank:
        rank_title, rank_body = staff.depth_ranking_panel(data, vm)
    elif vm["children"]:
        level = strings.level_name(vm["children"][0]["level"])
        rank_title = strings.RANKING_TITLE.format(level=level, metric=INDICATORS[state.metric].label)
        rank_body = ranking.ranking(vm["children"], state.metric, vm["href"], targets)
    else:
        rank_title, rank_body = strings.NO_CHILDREN, ranking.recent_cases(vm["recent"])
    trend, step, cats = vm["trend"], vm["trend_step"], vm["categories"]
    return {
        "kpis": kpi.kpi_cards(vm["kpis"], vm["previous"], vm["compare_label"],
                              today_counts=vm["today_counts"]),
        "map": map_figure, "map_unit": drill_key,
        "trend": figures.trend_figure(list(trend.index), trend.tolist(), step),
        "trend_title": strings.TREND_TITLES[step],
        "categories": figures.category_figure(list(cats.index), cats.tolist()),
        "ranking_title": rank_title, "ranking": rank_body, "alarms_title": strings.ALARMS_TITLE,
        "facts": facts.facts(vm["profile"], vm["surveys"], vm["police"], vm["sensitive"]),
        **live_panels(data, unit["code"], vm["alarms"], vm.get("rises", ()), vm["now"]),
    }
