"""What every view shares, wired once: the URL ⇄ period picker ⇄ view controls ⇄ map drill, the
navigation links, the tour (轮播), and rendering with its error banner.

A view describes itself with a ``ViewSpec`` (its ids, its own URL-backed controls and its panel
outputs) and a render function that returns a dict of its panels; ``register_view`` does the
rest. Outputs are named (dicts), never counted. See docs/ARCHITECTURE.md, "Adding a view".

Access: ``register_view`` is handed ``auth.request_data(data)`` by app.py, so every question a
render asks is checked against the caller's scope (``data/scoped.py``); a unit outside it shows
the refusal in the error banner and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import plotly.graph_objects as go
from dash import Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids, strings, theme
from dashboard.domain import parse_date
from dashboard.ids import ViewIds
from dashboard.viewstate import BadRequest, ViewState
from data import base_features
from data.access import Denied
from data.service import CityData, QueryTimeout, StoreUnavailable
from layouts import figures, shell

MIN_TOUR_SECONDS = 5  # dashboard.limits holds the bounds; this is the timer's floor


def _no_controls(_state: ViewState) -> dict:
    return {}


def _unchanged(state: ViewState, _values: dict) -> ViewState:
    return state


@dataclass(frozen=True)
class ViewSpec:
    """One view: its path, its ids, and how its own controls map to and from the URL state.

    ``controls`` maps a key to a component id whose ``value`` the URL holds; ``to_controls``
    gives those values for a state and ``from_controls`` the state after one of them changed
    (raising ``BadRequest`` for values it refuses). ``drill_trace`` is the map trace whose
    polygons drill on a click."""

    path: str
    ids: ViewIds
    drill_trace: int = 0
    controls: Mapping[str, str] = field(default_factory=dict)
    to_controls: Callable[[ViewState], dict] = _no_controls
    from_controls: Callable[[ViewState, dict], ViewState] = _unchanged

    def href(self, state: ViewState, code: str) -> str:
        return self.path + state.with_(unit=code).to_query()


def register_view(app, data: CityData, spec: ViewSpec, *, panels: Mapping[str, Output],
                  render: Callable[..., dict], inputs: Mapping | None = None,
                  state: Mapping | None = None) -> None:
    """Wire ``spec``: URL sync, nav, tour, and a render callback whose outputs are the shared
    breadcrumb and error banner plus ``panels``. ``render(data, vm, **extra)`` gets the resolved
    view (see ``resolve``) and the values of ``inputs``/``state`` by name, returns ``panels``'s
    keys (missing keys are left as they are)."""
    _register_sync(app, data, spec)
    _register_nav_and_tour(app, data, spec)
    outputs = {"breadcrumb": Output(spec.ids.breadcrumb, "children"),
               "error": Output(spec.ids.error, "children"),
               "error_hidden": Output(spec.ids.error, "hidden"), **panels}

    wiring = {"output": outputs, "inputs": {"search": Input(spec.ids.url, "search"),
                                            "screen": Input(ids.SCREEN, "data"), **(inputs or {})}}
    if state:
        wiring["state"] = dict(state)

    @app.callback(**wiring)
    def render_callback(search, screen, **extra):
        return render_view(data, spec, render, outputs, search, screen=screen, **extra)


def render_view(data: CityData, spec: ViewSpec, render, outputs: Mapping, search, *, screen=None,
                **extra) -> dict:
    """The render callback's body: resolve the URL, ask the view for its panels, or show why not.
    Every figure is scaled from the design size to the screen's (``theme.scale_figure``)."""
    answer = dict.fromkeys(outputs, no_update)
    try:
        with data.session():  # one connection for every question of the render
            vm = resolve(data, search)
            if "error" in vm:
                return answer | {"error": vm["error"], "error_hidden": False}
            vm["href"] = lambda code: spec.href(vm["state"], code)
            vm["screen"], vm["scale"] = screen or {}, theme.screen_scale(screen)
            panels = render(data, vm, **extra)
    except QueryTimeout:
        return answer | {"error": strings.QUERY_TIMEOUT, "error_hidden": False}
    except StoreUnavailable:
        if data.store_problem:
            return answer | {"error": strings.STORE_REPLACED, "error_hidden": False}
        raise PreventUpdate from None  # keep the last good screen; the stale notice says why
    except Denied as exc:
        return answer | {"error": strings.FORBIDDEN.format(message=exc), "error_hidden": False}
    panels = {key: theme.scale_figure(value, vm["scale"]) if _is_figure(value) else value
              for key, value in panels.items()}
    notice = strings.STORE_REPLACED if data.store_problem else ""
    return answer | {"breadcrumb": shell.breadcrumb(vm["chain"], vm["href"]), "error": notice,
                     "error_hidden": not notice} | panels


def _is_figure(value) -> bool:
    """A Plotly figure: a ``go.Figure`` or a plain figure dict (``layouts/figures.py``)."""
    return isinstance(value, go.Figure) or (isinstance(value, dict) and "data" in value and "layout" in value)


def resolve(data: CityData, search) -> dict:
    """The view's state, unit, period, chain and members, or ``{"error": message}``."""
    try:
        state = ViewState.from_query(search)
    except BadRequest as exc:
        return {"error": strings.BAD_VIEW.format(message=exc)}
    roots = data.roots()
    if not roots:
        return {"error": strings.NO_DATA}
    code = state.unit or roots[0]["code"]
    unit = data.unit(code)
    if unit is None:
        return {"error": strings.UNKNOWN_UNIT.format(code=code)}
    try:
        period = state.period(data.now().date())
    except BadRequest as exc:
        return {"error": strings.BAD_VIEW.format(message=exc)}
    kids = data.children(code)
    return {"state": state, "unit": unit, "code": code, "period": period, "chain": data.ancestors(code),
            "members": kids or [unit], "leaf": not kids, "geometry": data.children_geometry(code)}


def map_style(settings) -> dict:
    """Every view's map style: the base map from a local MBTiles file (served at ``/tiles``) or an
    intranet tile URL, and the local base features (rivers, roads); nothing from outside."""
    tile_url = "/tiles/{z}/{x}/{y}" if settings.tile_file else settings.tile_url
    return figures.map_style(tile_url, settings.tile_attribution,
                             base_features.load(settings.base_features_path))


# --- URL ⇄ controls ⇄ drill ------------------------------------------------------------------


def _sync_outputs(spec: ViewSpec) -> dict:
    return {"search": Output(spec.ids.url, "search"), "period": Output(spec.ids.period, "value"),
            "start": Output(spec.ids.dates, "start_date"), "end": Output(spec.ids.dates, "end_date"),
            "dates_style": Output(spec.ids.dates, "style"),
            **{key: Output(cid, "value") for key, cid in spec.controls.items()}}


def _register_sync(app, data: CityData, spec: ViewSpec) -> None:
    outputs = _sync_outputs(spec)
    inputs = {"search": Input(spec.ids.url, "search"), "period": Input(spec.ids.period, "value"),
              "start": Input(spec.ids.dates, "start_date"), "end": Input(spec.ids.dates, "end_date"),
              "click": Input(spec.ids.map, "clickData"),
              **{key: Input(cid, "value") for key, cid in spec.controls.items()}}

    @app.callback(output=outputs, inputs=inputs)
    def sync(**values):
        return sync_view(spec, ctx.triggered_id, values, today=data.now().date(),
                         unit_exists=lambda code: data.unit(code) is not None)


def sync_view(spec: ViewSpec, trigger, values: dict, *, today: date, unit_exists) -> dict:
    """Keep the URL and the controls in step; the URL wins on load and on back/forward."""
    answer = dict.fromkeys(_sync_outputs(spec), no_update)
    state = parse_state(values.get("search"))
    if trigger in (None, spec.ids.url):
        return answer | period_values(state, today) | spec.to_controls(state)
    if trigger == spec.ids.map:
        new = drilled(values.get("click"), state, unit_exists, spec.drill_trace)
        return answer | {"search": new.to_query()}
    if trigger in (spec.ids.period, spec.ids.dates):
        try:
            new = with_period(state, values.get("period"), values.get("start"), values.get("end"),
                              today=today)
        except BadRequest:
            raise PreventUpdate from None  # a date the picker cannot mean (year 0001, 9999)
        return answer | {"search": new.to_query()} | period_values(new, today)
    try:
        new = spec.from_controls(state, {key: values.get(key) for key in spec.controls})
    except BadRequest:
        raise PreventUpdate from None
    return answer | {"search": new.to_query()}


def parse_state(search) -> ViewState:
    """The URL's state, or the default one: the render callback explains what is wrong."""
    try:
        return ViewState.from_query(search)
    except BadRequest:
        return ViewState()


def with_period(state: ViewState, period, start, end, *, today: date) -> ViewState:
    """The state after the period radio or the date range changed."""
    if period == "custom":
        first = parse_date(str(start)[:10], "from") if start else today - timedelta(days=29)
        last = parse_date(str(end)[:10], "to") if end else today
        return state.with_(period_key="custom", first=min(first, last), last=max(first, last))
    return state.with_(period_key=period, first=None, last=None)


def period_values(state: ViewState, today: date) -> dict:
    """The period picker's values for ``state``; the date range shows only for 自定义."""
    period = state.period(today) if state.period_key != "custom" or state.first else None
    return {"period": state.period_key,
            "start": period.first.isoformat() if period else None,
            "end": period.last.isoformat() if period else None,
            "dates_style": {} if state.period_key == "custom" else {"display": "none"}}


def drilled(click, state: ViewState, unit_exists, trace: int = 0) -> ViewState:
    """The state after a click on the map's member units (trace ``trace``); PreventUpdate else."""
    point = ((click or {}).get("points") or [{}])[0]
    code = point.get("location")
    if point.get("curveNumber", 0) != trace or not code or code == state.unit or not unit_exists(code):
        raise PreventUpdate
    return state.with_(unit=code)


# --- navigation and tour ---------------------------------------------------------------------


def _register_nav_and_tour(app, data: CityData, spec: ViewSpec) -> None:
    @app.callback(Output(spec.ids.nav, "children"), Input(spec.ids.url, "search"))
    def nav(search):
        return shell.nav(spec.path, search or "")

    @app.callback(output={"interval": Output(spec.ids.tour, "interval"),
                          "disabled": Output(spec.ids.tour, "disabled")},
                  inputs={"search": Input(spec.ids.url, "search")})
    def tour_timer(search):
        return tour_settings(search)

    @app.callback(Output(spec.ids.url, "search", allow_duplicate=True), Input(spec.ids.tour, "n_intervals"),
                  State(spec.ids.url, "search"), prevent_initial_call=True)
    def tour_step(_n, search):
        try:
            state = ViewState.from_query(search)
        except BadRequest:
            raise PreventUpdate from None
        return state.with_(unit=next_tour_unit(data, state.unit or data.roots()[0]["code"])).to_query()


def tour_settings(search) -> dict:
    """The tour timer for a URL: off unless ``?tour=N`` (seconds, at least MIN_TOUR_SECONDS)."""
    try:
        seconds = ViewState.from_query(search).tour_seconds
    except BadRequest:
        seconds = 0
    return {"interval": max(seconds, MIN_TOUR_SECONDS) * 1000, "disabled": seconds == 0}


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
