"""The page router: one view per path, ``/`` the wall screen, ``/heat`` the dispute heatmap,
``/coverage`` the camera coverage. ``validation_layout`` holds every view, so Dash checks each
callback's ids against it without ``suppress_callback_exceptions``."""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, html

from callbacks import auth
from dashboard import ids
from data.access import PUBLIC_CASE_FIELDS
from layouts import shell
from layouts.cases import cases_screen
from layouts.compare import compare_screen
from layouts.coverage import coverage_screen
from layouts.heat import heat_screen
from layouts.loop import loop_screen
from layouts.wallscreen import wall_screen


def register(app, settings) -> None:
    def wall():
        return wall_screen(settings.refresh_seconds, settings.timezone, settings.alarm_sound)

    def cases():  # a role without case text gets only the columns it may see
        who = auth.principal()
        return cases_screen(None if who is None or who.sees_cases else PUBLIC_CASE_FIELDS)

    screens = {shell.WALL: wall, shell.HEAT: heat_screen, shell.COVERAGE: coverage_screen,
               shell.CASES: cases_screen, shell.LOOP: loop_screen,
               shell.COMPARE: compare_screen}
    app.layout = shell.shell()
    app.validation_layout = html.Div([shell.shell(), *(make() for make in screens.values())])

    # The screen's size, once on load (dashboard/assets/wall.js updates it on a resize).
    app.clientside_callback(ClientsideFunction(namespace="citybrain", function_name="screen"),
                            Output(ids.SCREEN, "data"), Input(ids.PAGE, "pathname"))

    @app.callback(Output(ids.PAGE_BODY, "children"), Input(ids.PAGE, "pathname"))
    def route(pathname):
        path = (pathname or "/").rstrip("/") or "/"
        make = cases if path == shell.CASES else screens.get(path)
        return make() if make else wall()
