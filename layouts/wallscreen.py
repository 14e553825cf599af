"""The wall-screen page skeleton: a 16:9 grid of header, KPI row, side panels and the map."""

from __future__ import annotations

from dash import dcc, html

from dashboard import ids, strings, vocab
from dashboard.indicators import INDICATORS, KPI_CARDS, MAP_METRICS
from layouts import shell
from layouts.export import buttons


def wall_screen(refresh_seconds: int, timezone: str, alarm_sound: bool = False) -> html.Div:
    return html.Div(
        className="screen wall-screen",
        children=[
            *shell.view_state_components(ids.WALL_VIEW),
            dcc.Interval(id=ids.REFRESH, interval=refresh_seconds * 1000),
            dcc.Interval(id=ids.CLOCK + "-tick", interval=1000),
            dcc.Store(id=ids.DATA_VERSION),
            dcc.Store(id=ids.LAST_GOOD),
            dcc.Store(id=ids.MAP_UNIT),
            dcc.Store(id=ids.TIMEZONE, data=timezone),
            _header(),
            html.Div(id=ids.ERROR, className="banner", hidden=True),
            html.Div(id=ids.KPI_ROW, className="kpi-row", children=shell.skeleton_cards(len(KPI_CARDS))),
            html.Div(
                className="body",
                children=[
                    html.Div(className="side", children=[
                        html.Div(className="panel", children=[
                            html.H3(strings.TREND_TITLE, id=ids.TREND_TITLE, className="panel-title"),
                            shell.graph(ids.TREND), buttons.chart("trend")]),
                        _panel(strings.CATEGORY_TITLE, shell.graph(ids.CATEGORIES),
                               buttons.chart("categories")),
                        html.Div(className="panel facts-panel", children=[
                            html.H3(strings.FACTS_TITLE, className="panel-title"),
                            html.Div(id=ids.FACTS),
                        ]),
                    ]),
                    html.Div(className="map-panel", children=[
                        shell.graph(ids.MAP, class_name="map", zoom=True),
                        buttons.chart("map", "map-tools"),
                        html.Div(className="feed", children=[
                            html.Span(strings.FEED_TITLE, className="feed-title"),
                            html.Div(id=ids.FEED, className="feed-body"),
                        ]),
                    ]),
                    html.Div(className="side", children=[
                        html.Div(className="panel ranking-panel", children=[
                            html.Div(className="panel-head", children=[
                                html.H3(id=ids.RANKING_TITLE, className="panel-title"),
                                buttons.table("ranking"), buttons.chart("ranking")]),
                            dcc.RadioItems(
                                id=ids.RANK_LEVEL, className="periods rank-depth", inline=True,
                                options=[{"label": v, "value": k} for k, v in strings.RANK_DEPTHS.items()],
                            ),
                            html.Div(id=ids.RANKING, className="ranking", children=shell.skeleton_rows()),
                        ]),
                        _alarm_panel(alarm_sound),
                    ]),
                ],
            ),
        ],
    )


def _alarm_panel(sound: bool) -> html.Div:
    # dashboard/assets/wall.js flashes new alarms once, and sounds a tone when data-sound is on.
    return html.Div(className="panel alarm-panel", **{"data-sound": "on" if sound else "off"}, children=[
        html.Div(className="panel-head", children=[
            html.H3(id=ids.ALARMS_TITLE, className="panel-title alarm-title"), buttons.table("alarms")]),
        html.Div(id=ids.ALARMS, className="ranking", children=shell.skeleton_rows(4)),
    ])


def _header() -> html.Header:
    # Two rows: title, view links and clock; then the breadcrumb and the controls. The breadcrumb
    # gets a row of its own so a grid's full path stays readable.
    return html.Header(
        className="header wall-header",
        children=[
            html.H1(strings.APP_TITLE, className="title"),
            html.Nav(id=ids.NAV, className="view-nav"),
            html.Div(className="status", children=[
                html.Div(id=ids.UPDATED, className="updated"),
                html.Div(id=ids.CLOCK, className="clock"),
                html.Div(id=ids.STALE, className="stale", hidden=True),
                buttons.pack(),
                shell.fullscreen_button(),
            ]),
            html.Nav(id=ids.BREADCRUMB, className="breadcrumb"),
            html.Div(className="controls", children=[
                *shell.period_picker(ids.WALL_VIEW),
                dcc.Dropdown(
                    id=ids.METRIC, clearable=False, searchable=False, className="select metric",
                    options=[{"label": INDICATORS[k].label, "value": k} for k in MAP_METRICS],
                ),
                dcc.Dropdown(
                    id=ids.CATEGORY, multi=True, searchable=False, className="select",
                    placeholder=strings.CATEGORY_PLACEHOLDER,
                    options=[{"label": c, "value": c} for c in vocab.CATEGORIES],
                ),
                dcc.Dropdown(
                    id=ids.SOURCE, multi=True, searchable=False, className="select",
                    placeholder=strings.SOURCE_PLACEHOLDER,
                    options=[{"label": s, "value": s} for s in vocab.SOURCES],
                ),
            ]),
        ],
    )


def _panel(title: str, body, tools=None) -> html.Div:
    head = html.H3(title, className="panel-title")
    if tools is not None:
        head = html.Div([head, tools], className="panel-head")
    return html.Div(className="panel", children=[head, body])
