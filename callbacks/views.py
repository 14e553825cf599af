"""The page router (one view per path) and what the heatmap and coverage views share: keeping the
URL and the period controls in step, the drill by a map click, and the view's unit and period.

The router fills the page body from the path: ``/`` the wall screen, ``/heat`` the dispute
heatmap, ``/coverage`` the camera coverage. ``validation_layout`` holds every view, so Dash checks
each callback's ids against it without ``suppress_callback_exceptions``.
"""

from __future__ import annotations

from datetime import date, timedelta

from dash import Input, Output, html, no_update
from dash.exceptions import PreventUpdate

from dashboard import ids, strings
from dashboard.viewstate import BadRequest, ViewState
from data.service import CityData
from layouts import page, views
from layouts.coverage import coverage_screen
from layouts.heat import heat_screen


def register(app, data: CityData, settings) -> None:
    def wall():
        return page.wall_screen(settings.refresh_seconds, settings.timezone)

    screens = {views.WALL: wall, views.HEAT: heat_screen, views.COVERAGE: coverage_screen}
    app.layout = views.shell()
    app.validation_layout = html.Div([views.shell(), *(make() for make in screens.values())])

    @app.callback(Output(ids.PAGE_BODY, "children"), Input(ids.PAGE, "pathname"))
    def route(pathname):
        make = screens.get((pathname or "/").rstrip("/") or "/")
        return make() if make else wall()

    @app.callback(Output(ids.NAV, "children"), Input(ids.URL, "search"))
    def wall_nav(search):
        return views.nav(views.WALL, search or "")


def sync_period(trigger_is_period: bool, state: ViewState, period, start, end, *, today: date) -> ViewState:
    """The state after the period radio or the date range changed."""
    if not trigger_is_period:
        return state
    if period == "custom":
        first = date.fromisoformat(start[:10]) if start else today - timedelta(days=29)
        last = date.fromisoformat(end[:10]) if end else today
        return state.with_(period_key="custom", first=min(first, last), last=max(first, last))
    return state.with_(period_key=period, first=None, last=None)


def period_controls(state: ViewState, today: date) -> tuple:
    """Values of the period radio, the date range and its style for ``state``."""
    period = state.period(today) if state.period_key != "custom" or state.first else None
    first = period.first.isoformat() if period else None
    last = period.last.isoformat() if period else None
    hidden = {} if state.period_key == "custom" else {"display": "none"}
    return state.period_key, first, last, hidden


def parse_state(search) -> ViewState:
    try:
        return ViewState.from_query(search)
    except BadRequest:
        return ViewState()


def drilled(click, state: ViewState, data: CityData, trace: int = 0) -> ViewState:
    """The state after a click on the map's member units (trace ``trace``); PreventUpdate else."""
    point = ((click or {}).get("points") or [{}])[0]
    code = point.get("location")
    if point.get("curveNumber", 0) != trace or not code or code == state.unit or data.unit(code) is None:
        raise PreventUpdate
    return state.with_(unit=code)


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


def error_outputs(message: str, count: int) -> tuple:
    text, hidden = page.banner(message)
    return (text, hidden) + (no_update,) * count
