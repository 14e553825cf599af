"""Pieces the three views share: the app shell (page router), the navigation, a view header, KPI
tiles, and the map's drillable base layer of member units."""

from __future__ import annotations

import math

import plotly.graph_objects as go
from dash import dcc, html

from dashboard import ids, strings, theme
from dashboard.viewstate import PERIOD_KEYS
from geo.viewport import fit_bounds

WALL, HEAT, COVERAGE = "/", "/heat", "/coverage"


def shell() -> html.Div:
    """The app's layout: the router's URL and the body it fills with one view."""
    return html.Div([dcc.Location(id=ids.PAGE, refresh=False), html.Div(id=ids.PAGE_BODY)])


def nav(current: str, query: str) -> list:
    """Links to the three views, each keeping the unit, period and filters (``query``)."""
    return [
        dcc.Link(label, href=path + query, className="nav-link current" if path == current else "nav-link")
        for path, label in strings.NAV.items()
    ]


def header(title: str, nav_id: str, breadcrumb_id: str, controls: list) -> html.Header:
    return html.Header(className="header view-header", children=[
        html.Div(className="brand", children=[
            html.H1(title),
            html.Nav(id=breadcrumb_id, className="breadcrumb"),
        ]),
        html.Div(className="controls", children=controls),
        html.Div(className="status", children=[html.Nav(id=nav_id, className="view-nav")]),
    ])


def period_controls(period_id: str, dates_id: str) -> list:
    return [
        dcc.RadioItems(
            id=period_id, className="periods", inline=True,
            options=[{"label": strings.PERIODS[k], "value": k} for k in PERIOD_KEYS],
        ),
        dcc.DatePickerRange(
            id=dates_id, display_format="YYYY-MM-DD", className="dates",
            start_date_placeholder_text=strings.DATE_START, end_date_placeholder_text=strings.DATE_END,
        ),
    ]


def tiles(items: list[tuple[str, str, str, str | None]]) -> list[html.Div]:
    """KPI tiles: (key, label, value text, definition)."""
    return [
        html.Div(className="kpi tile", title=definition or "", id={"type": "tile", "key": key}, children=[
            html.Div(label, className="kpi-label"),
            html.Div(value, className="kpi-value"),
        ])
        for key, label, value, definition in items
    ]


def base_map(*, geojson_url: str, members: list[dict], bounds, drill_key: str, style: dict,
             z=None, zmin=0.0, zmax=1.0, colorscale=None, hover=None, colorbar=None) -> go.Figure:
    """The member units (trace 0): drawn flat, or coloured by ``z``; a click on one drills."""
    codes = [m["code"] for m in members]
    coloured = z is not None
    fig = go.Figure(go.Choroplethmap(
        geojson=geojson_url, featureidkey="properties.code", locations=codes,
        z=z if coloured else [0] * len(codes), zmin=zmin, zmax=zmax,
        colorscale=colorscale if coloured else [[0, theme.PANEL], [1, theme.PANEL]],
        showscale=bool(coloured and colorbar), colorbar=colorbar,
        customdata=[m["name"] for m in members],
        text=hover or [strings.CLICK_TO_DRILL] * len(codes),
        hovertemplate="<b>%{customdata}</b><br>%{text}<extra></extra>",
        marker={"line": {"color": theme.BOUNDARY, "width": 1.4}, "opacity": 0.85 if coloured else 1},
    ))
    fig.update_layout(template=theme.TEMPLATE, map={"style": style, **fit_bounds(bounds)},
                      showlegend=False, margin={"l": 0, "r": 0, "t": 0, "b": 0}, uirevision=drill_key)
    return fig


def colorbar(title: str, tickformat: str) -> dict:
    return {"title": {"text": title}, "thickness": 14, "len": 0.45, "tickformat": tickformat,
            "x": 0.99, "xanchor": "right", "y": 0.04, "yanchor": "bottom", "bgcolor": "rgba(5,13,26,0.6)"}


def legend() -> dict:
    return {"x": 0.01, "y": 0.99, "xanchor": "left", "yanchor": "top", "bgcolor": "rgba(5,13,26,0.75)",
            "bordercolor": theme.GRID_LINE, "borderwidth": 1, "font": {"size": theme.FONT_SIZE}}


def percent(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    # Below 1% a tenth of a point is too coarse: camera coverage of a whole city is often there.
    return f"{value * 100:.1f}%" if value >= 0.01 or value == 0 else f"{value * 100:.2f}%"
