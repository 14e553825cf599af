"""The camera coverage view (/coverage): page skeleton, the map of views and blind spots, the
ranking of members by coverage, and the suggested sites in plain words."""

from __future__ import annotations

import plotly.graph_objects as go
from dash import html

from dashboard import ids, strings, theme
from layouts import maps, shell
from layouts.export import buttons
from layouts.kpi import percent
from layouts.ranking import rank_row

# Above this many cameras the map shows camera points, not view sectors and blind spots: a city
# of thousands of 100-m sectors is a few pixels each and megabytes to send.
VIEW_LIMIT = 1500
# Levels drawn aggregated (members coloured by coverage, cameras as points): thousands of sectors
# take tens of seconds to paint in software rendering and are a few pixels each at these zooms.
AGGREGATED_LEVELS = ("city", "district")
ONLINE_FILL, OFFLINE_FILL = "rgba(51,209,255,0.55)", "rgba(138,164,200,0.35)"
BLIND_FILL = "rgba(255,92,122,0.28)"
PLACE_COLOR, SITE_COLOR = "#ff8c42", "#2ee59d"


def coverage_screen() -> html.Div:
    return shell.view_page(
        ids.COV_VIEW, title=strings.COVERAGE_TITLE, controls=[],
        kpis=html.Div(id=ids.COV_KPIS, className="kpi-row tiles-6", children=shell.skeleton_cards(6)),
        body=[
            shell.side_panel(ids.COV_RANKING_TITLE, ids.COV_RANKING),
            html.Div(className="map-panel", children=[
                shell.graph(ids.COV_MAP, class_name="map", zoom=True),
                buttons.chart("coverage", "map-tools", view="coverage"),
                html.Div(id=ids.COV_NOTE, className="map-note", hidden=True),
            ]),
            html.Div(className="side cov-side", children=[
                html.Div(className="panel", children=[
                    html.H3(strings.SUGGEST_TITLE, className="panel-title"),
                    html.Div(id=ids.COV_SUGGESTIONS, className="ranking"),
                ]),
                html.Div(className="panel", children=[
                    html.H3(strings.LEGEND_PLACE, className="panel-title"),
                    html.Div(id=ids.COV_PLACES, className="ranking"),
                ]),
            ]),
        ],
    )


def coverage_map(*, geojson_url: str, members: list[dict], bounds, drill_key: str, style: dict,
                 views_geojson: dict | None, view_status: list[str], cameras: list[dict],
                 blind_geojson: dict | None, places: list[dict], sites: list[dict], labels=(),
                 screen=None) -> go.Figure:
    """Members coloured by covered share (trace 0, click to drill); over them the blind spots,
    the online and offline views (or camera points when there are too many), the uncovered key
    places and the suggested sites."""
    shares = [m["covered_share"] or 0 for m in members]
    hover = [f"{strings.COVERED_SHARE[0]}：{percent(m['covered_share'])}<br>"
             f"{strings.COVERAGE_KPIS['blind_cases'][0]}：{m['blind_cases']:,} / {m['cases']:,}"
             for m in members]
    fig = maps.base_map(geojson_url=geojson_url, members=members, bounds=bounds, drill_key=drill_key,
                        style=style, z=shares, zmin=0, zmax=max(max(shares, default=0), 0.01),
                        colorscale=[[0, "#3a1020"], [0.5, "#1f5f8b"], [1, "#33d1ff"]], hover=hover,
                        colorbar=maps.colorbar(strings.COVERED_SHARE[0], ".1%"),
                        labels=labels, screen=screen)
    if blind_geojson is not None:
        fig.add_trace(go.Choroplethmap(
            geojson=blind_geojson, featureidkey="properties.id", locations=["blind"], z=[1],
            colorscale=[[0, BLIND_FILL], [1, BLIND_FILL]], showscale=False, hoverinfo="skip",
            marker={"line": {"width": 0}}, name=strings.LEGEND_BLIND,
        ))
    if views_geojson is not None:
        fig.add_trace(go.Choroplethmap(
            geojson=views_geojson, featureidkey="properties.id",
            locations=[f["properties"]["id"] for f in views_geojson["features"]],
            z=[1 if s == "online" else 0 for s in view_status], zmin=0, zmax=1,
            colorscale=[[0, OFFLINE_FILL], [0.5, OFFLINE_FILL], [0.5, ONLINE_FILL], [1, ONLINE_FILL]],
            showscale=False, hoverinfo="skip",
            marker={"line": {"color": "rgba(230,241,255,0.5)", "width": 0.5}},
        ))
    else:
        fig.add_trace(go.Scattermap(
            lon=[c["lon"] for c in cameras], lat=[c["lat"] for c in cameras], mode="markers",
            marker={"size": 5, "color": [theme.ACCENT if c["status"] == "online" else theme.MUTED
                                         for c in cameras]},
            hoverinfo="skip", showlegend=False,
        ))
    fig.add_trace(go.Scattermap(
        lon=[p["lon"] for p in places], lat=[p["lat"] for p in places], mode="markers",
        marker={"size": 13, "color": PLACE_COLOR}, showlegend=False,
        text=[f"{p['name']}（{p['kind']}）" for p in places], hovertemplate="%{text}<extra></extra>",
    ))
    fig.add_trace(go.Scattermap(
        lon=[s["lon"] for s in sites], lat=[s["lat"] for s in sites], mode="markers",
        marker={"size": 20, "color": SITE_COLOR, "opacity": 0.9}, showlegend=False,
        text=[f"{strings.LEGEND_SITE} {s['rank']}<br>{s['text']}" for s in sites],
        hovertemplate="%{text}<extra></extra>",
    ))
    # A legend of what the colours mean (traces without points, for the legend only).
    for name, color in ((strings.LEGEND_ONLINE, ONLINE_FILL), (strings.LEGEND_OFFLINE, OFFLINE_FILL),
                        (strings.LEGEND_BLIND, BLIND_FILL), (strings.LEGEND_PLACE, PLACE_COLOR),
                        (strings.LEGEND_SITE, SITE_COLOR)):
        fig.add_trace(go.Scattermap(lon=[None], lat=[None], mode="markers", name=name,
                                    marker={"size": 14, "color": color}, showlegend=True,
                                    hoverinfo="skip"))
    fig.update_layout(showlegend=True, legend=maps.legend())
    return maps.under_base_features(fig, style)


def ranking(rows: list[dict], href_for) -> html.Ol:
    """Members by covered share, least covered first; each a drill link."""
    def order(r):
        return (r["covered_share"] if r["covered_share"] is not None else 2, r["code"])

    rows = sorted(rows, key=order)
    top = max((r["covered_share"] or 0 for r in rows), default=0) or 1
    return html.Ol(className="rank-list cov-rank", children=[
        rank_row(i, r, href_for, (r["covered_share"] or 0) / top, percent(r["covered_share"]),
                 html.Span(f"{r['blind_cases']:,}", className="rank-extra",
                           title=strings.COVERAGE_KPIS["blind_cases"][1]),
                 medals=False)
        for i, r in enumerate(rows, start=1)
    ])


def suggestion_list(sites: list[dict]) -> html.Div:
    if not sites:
        return html.Div(strings.SUGGEST_NONE, className="empty")
    return html.Ol(className="suggest-list", children=[
        html.Li(className="suggest-row", children=[
            html.Span(str(s["rank"]), className="rank-no top1" if s["rank"] == 1 else "rank-no"),
            html.Span(s["text"], className="suggest-text"),
        ])
        for s in sites
    ])


def place_list(places: list[dict]) -> html.Div:
    if not places:
        return html.Div(strings.PLACES_ALL_COVERED, className="empty")
    return html.Ul(className="case-list", children=[
        html.Li(className="case-row", children=[html.Div(className="case-head", children=[
            html.Span(p["kind"], className="case-cat"),
            html.Span(p["name"], className="place-name"),
            html.Span(p["unit"], className="case-time"),
        ])])
        for p in places
    ])
