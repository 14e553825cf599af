"""The dispute heatmap view (/heat): page skeleton, the map, the ranking and a cell's cases."""

from __future__ import annotations

import plotly.graph_objects as go
from dash import dcc, html

from dashboard import ids, strings, vocab
from layouts import maps, shell
from layouts.export import buttons
from layouts.ranking import case_row, rank_row

HEAT_SCALE = [[0.0, "rgba(51,209,255,0.35)"], [0.35, "#1f77b4"], [0.65, "#ffc857"], [1.0, "#ff5c7a"]]
# A density's zero must be transparent: the density layer covers the whole map. Above it the
# colours rise quickly, so a single dispute shows as a visible glow, not a faint dot.
DENSITY_SCALE = [[0.0, "rgba(5,13,26,0)"], [0.02, "rgba(51,209,255,0.45)"], [0.25, "rgba(31,119,180,0.85)"],
                 [0.55, "#ffc857"], [1.0, "#ff5c7a"]]
# Screen pixels: about 1.6 cells (cells are ~28 px wide at any screen size, geo.cells.size_for_zoom),
# so neighbouring cells' glows merge into one surface.
DENSITY_RADIUS = 45
CELLS = 1  # trace index of the cells (trace 0 is the member units)


def heat_screen() -> html.Div:
    controls = [
        dcc.RadioItems(id=ids.HEAT_STYLE, className="periods", inline=True,
                       options=[{"label": v, "value": k} for k, v in strings.HEAT_STYLES.items()]),
        dcc.RadioItems(id=ids.HEAT_CELL, className="periods", inline=True,
                       options=[{"label": v, "value": k} for k, v in strings.CELL_KINDS.items()]),
        dcc.Dropdown(id=ids.HEAT_SUBCATEGORY, multi=True, searchable=False, className="select",
                     placeholder=strings.SUBCATEGORY_PLACEHOLDER,
                     options=[{"label": s, "value": s} for s in vocab.CATEGORIES[vocab.DISPUTE]]),
        dcc.Dropdown(id=ids.HEAT_SOURCE, multi=True, searchable=False, className="select",
                     placeholder=strings.SOURCE_PLACEHOLDER,
                     options=[{"label": s, "value": s} for s in vocab.SOURCES]),
        dcc.Dropdown(id=ids.HEAT_STATUS, multi=True, searchable=False, className="select",
                     placeholder=strings.STATUS_PLACEHOLDER,
                     options=[{"label": s, "value": s} for s in vocab.STATUSES]),
        html.Div(className="hours", title=strings.HOURS_LABEL, children=[
            html.Span(strings.HOURS_LABEL, className="hours-label"),
            dcc.RangeSlider(id=ids.HEAT_HOURS, min=0, max=23, step=1, value=[0, 23],
                            marks={h: f"{h}" for h in (0, 6, 12, 18, 23)}, allowCross=False,
                            tooltip={"placement": "bottom", "always_visible": False}),
        ]),
    ]
    return shell.view_page(
        ids.HEAT_VIEW, title=strings.HEAT_TITLE, controls=controls, extra=(dcc.Store(id=ids.HEAT_ZOOM),),
        kpis=html.Div(id=ids.HEAT_KPIS, className="kpi-row tiles-4", children=shell.skeleton_cards(4)),
        body=[
            shell.side_panel(ids.HEAT_RANKING_TITLE, ids.HEAT_RANKING),
            html.Div(className="map-panel", children=[
                shell.graph(ids.HEAT_MAP, class_name="map", zoom=True),
                buttons.chart("heat", "map-tools", view="heat"),
            ]),
            shell.side_panel(ids.HEAT_CELL_TITLE, ids.HEAT_CELL_LIST),
        ],
    )


def heat_map(*, geojson_url: str, members: list[dict], bounds, drill_key: str, style: dict,
             cells: list[dict], cells_geojson: dict, mode: str, labels=(), screen=None) -> go.Figure:
    """Member units (trace 0, click to drill) under the disputes: cells with counts (trace 1,
    click to list) or a smooth density of the same counts."""
    fig = maps.base_map(geojson_url=geojson_url, members=members, bounds=bounds, drill_key=drill_key,
                        style=style, labels=labels, screen=screen)
    counts = [c["count"] for c in cells]
    top = max(counts, default=1)
    bar = maps.colorbar(strings.HEAT_TOTAL, ",d")
    if top < 6:
        bar["dtick"] = 1  # no half a dispute
    if mode == "density":
        fig.add_trace(go.Densitymap(
            lon=[c["lon"] for c in cells], lat=[c["lat"] for c in cells], z=counts, zmin=0,
            zmax=max(1, top * 0.6),  # the densest spots saturate: the pattern reads, not one peak
            radius=DENSITY_RADIUS, colorscale=DENSITY_SCALE, hoverinfo="skip", showscale=True,
            colorbar=bar, opacity=0.95,
        ))
    else:
        fig.add_trace(go.Choroplethmap(
            geojson=cells_geojson, featureidkey="properties.id", locations=[c["id"] for c in cells],
            z=counts, zmin=0, zmax=top, colorscale=HEAT_SCALE,
            text=[strings.HEAT_HOVER.format(count=n) for n in counts],
            hovertemplate="%{text}<extra></extra>",
            marker={"line": {"color": "rgba(5,13,26,0.6)", "width": 0.6}, "opacity": 0.9},
            colorbar=bar,
        ))
    return maps.under_base_features(fig, style)


def ranking(rows: list[dict], href_for) -> html.Ol:
    """Members by disputes, most first; each a drill link."""
    rows = sorted(rows, key=lambda r: (-r["count"], r["code"]))
    top = max((r["count"] for r in rows), default=0) or 1
    return html.Ol(className="rank-list", children=[
        rank_row(i, r, href_for, r["count"] / top, f"{r['count']:,}") for i, r in enumerate(rows, start=1)
    ])


def cell_cases(cases: list[dict]) -> html.Div:
    """A cell's disputes, newest first; text is text, never HTML."""
    if not cases:
        return html.Div(strings.CELL_LIST_HINT, className="empty")
    return html.Ul([case_row(c, c["subcategory"] or c["category"]) for c in cases],
                   className="case-list")
