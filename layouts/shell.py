"""The frame every view shares: the app shell (page router), the navigation, the breadcrumb, the
error banner, the period picker and a view's header and page skeleton.

A view is built from these and its own panels; the ids come from ``dashboard.ids.ViewIds`` so
that the shared callbacks (``callbacks/wiring.py``) serve it unchanged. See docs/ARCHITECTURE.md,
"Adding a view".
"""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids, strings
from dashboard.ids import ViewIds
from dashboard.theme import GRAPH_CONFIG, empty_figure
from dashboard.viewstate import PERIOD_KEYS

WALL, HEAT, COVERAGE, CASES, LOOP, COMPARE = "/", "/heat", "/coverage", "/cases", "/loop", "/compare"


def shell() -> html.Div:
    """The app's layout: the router's URL, the screen's size and the body it fills with one view."""
    # "callback-nav": a callback that sets this URL (a case dot opening /cases) tells every view's URL.
    return html.Div([dcc.Location(id=ids.PAGE, refresh="callback-nav"), dcc.Store(id=ids.SCREEN),
                     html.Div(id=ids.PAGE_BODY)])


def fullscreen_button() -> html.Button:
    """全屏: dashboard/assets/wall.js toggles the browser's full screen (no server round trip)."""
    return html.Button(strings.FULLSCREEN, className="fullscreen-button", title=strings.FULLSCREEN,
                       n_clicks=0)


def graph(graph_id: str, *, class_name: str = "chart", zoom: bool = False):
    """A chart or map: dark and empty until its first answer, no toolbar."""
    config = {**GRAPH_CONFIG, "scrollZoom": True} if zoom else GRAPH_CONFIG
    return dcc.Graph(id=graph_id, config=config, className=class_name, figure=empty_figure())


def nav(current: str, query: str) -> list:
    """Links to the views, each keeping the unit, period and filters (``query``)."""
    return [
        *(dcc.Link(label, href=path + query, className="nav-link current" if path == current else "nav-link")
          for path, label in strings.NAV.items()),
        html.A(strings.LOGOUT, href="/logout", className="nav-link logout"),  # a page of its own
    ]


def breadcrumb(chain: list[dict], href_for) -> list:
    """Links up the chain; the last item (the current unit) is plain text."""
    items = []
    for i, unit in enumerate(chain):
        if i:
            items.append(html.Span("›", className="sep"))
        if i < len(chain) - 1:
            items.append(dcc.Link(unit["name"], href=href_for(unit["code"]), className="crumb"))
        else:
            items.append(html.Span(unit["name"], className="crumb current"))
    return items


def period_picker(view: ViewIds) -> list:
    """The period radio (今日 … 自定义) and the date range shown for 自定义."""
    return [
        dcc.RadioItems(
            id=view.period, className="periods", inline=True,
            options=[{"label": strings.PERIODS[k], "value": k} for k in PERIOD_KEYS],
        ),
        dcc.DatePickerRange(
            id=view.dates, display_format="YYYY-MM-DD", className="dates",
            start_date_placeholder_text=strings.DATE_START, end_date_placeholder_text=strings.DATE_END,
        ),
    ]


def view_state_components(view: ViewIds) -> list:
    """The invisible parts every view has: its URL and its tour timer (off unless ``?tour=``)."""
    return [dcc.Location(id=view.url, refresh=False), dcc.Interval(id=view.tour, disabled=True)]


def header(title: str, view: ViewIds, controls: list) -> html.Header:
    """A view's one-row header: title and breadcrumb, the period picker and ``controls``, links."""
    return html.Header(className="header view-header", children=[
        html.Div(className="brand", children=[
            html.H1(title),
            html.Nav(id=view.breadcrumb, className="breadcrumb"),
        ]),
        html.Div(className="controls", children=period_picker(view) + controls),
        html.Div(className="status", children=[html.Nav(id=view.nav, className="view-nav"),
                                               fullscreen_button()]),
    ])


def view_page(view: ViewIds, *, title: str, controls: list, kpis: html.Div, body: list,
              extra: tuple = ()) -> html.Div:
    """A desk view's page: header, error banner, KPI row and the three-column body."""
    return html.Div(className="screen view-screen", children=[
        *view_state_components(view), *extra,
        header(title, view, controls),
        html.Div(id=view.error, className="banner", hidden=True),
        kpis,
        html.Div(className="body", children=body),
    ])


def side_panel(title_id: str, body_id: str) -> html.Div:
    """A side column with one titled list."""
    return html.Div(className="side", children=[html.Div(className="panel ranking-panel", children=[
        html.H3(id=title_id, className="panel-title"),
        html.Div(id=body_id, className="ranking", children=skeleton_rows()),
    ])])


def skeleton_cards(n: int) -> list[html.Div]:
    """Dark placeholder cards for a KPI row before its first answer."""
    return [html.Div(className="kpi-skeleton", children=[html.Div(className="bone short"),
                                                          html.Div(className="bone tall")])
            for _ in range(n)]


def skeleton_rows(n: int = 6) -> html.Div:
    """Dark placeholder rows for a list before its first answer."""
    return html.Div(className="skeleton-rows", children=[html.Div(className="bone") for _ in range(n)])
