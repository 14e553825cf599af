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
from dashboard.viewstate import PERIOD_KEYS

WALL, HEAT, COVERAGE, CASES, LOOP, COMPARE = "/", "/heat", "/coverage", "/cases", "/loop", "/compare"


def shell() -> html.Div:
    """The app's layout: the router's URL and the body it fills with one view."""
    # "callback-nav": a callback that sets this URL (a case dot opening /cases) tells every view's URL.
    return html.Div([dcc.Location(id=ids.PAGE, refresh="callback-nav"), html.Div(id=ids.PAGE_BODY)])


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
        html.Div(className="status", children=[html.Nav(id=view.nav, className="view-nav")]),
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
        html.Div(id=body_id, className="ranking"),
    ])])
