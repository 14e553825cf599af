"""Pieces every view's map shares: the drillable base layer of member units, the view (fitted to
the panel in the browser, with the members' names drawn over it), a colour bar and a legend in
the dark theme."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard import strings, theme
from geo.viewport import fit_bounds

# The map panel's share of the screen at the design layout: the first guess of the zoom, before
# the browser fits the unit to the panel's real size (dashboard/assets/wall.js).
_PANEL_SHARE = (0.47, 0.70)


def view(bounds, labels=(), screen: dict | None = None) -> dict:
    """Layout for a map of ``bounds``: a first centre and zoom for a panel of about the right size,
    and ``meta`` that the browser reads to fit ``bounds`` exactly and write each member's name
    (``labels``: (code, name, lon, lat)) at its place, offline (an HTML overlay, no glyphs)."""
    width = (screen or {}).get("width") or theme.DESIGN_WIDTH
    height = (screen or {}).get("height") or theme.DESIGN_HEIGHT
    fitted = fit_bounds(bounds, int(width * _PANEL_SHARE[0]), int(height * _PANEL_SHARE[1]))
    names = [{"code": c, "name": n, "lon": x, "lat": y} for c, n, x, y in labels if x == x and y == y]
    # Clicks are emitted by wall.js from the polygon under the pointer: plotly's own click needs a
    # hover first, so a click right after a redraw (or a touch) was dropped.
    return {"map": fitted, "meta": {"fit": [round(v, 6) for v in bounds], "labels": names},
            "clickmode": "none"}


def under_base_features(fig, style: dict):
    """Polygons drawn under the style's rivers and roads (``figures.map_style``), which would
    otherwise be hidden under the units' fills. ``fig``: a ``go.Figure`` or a plain figure dict."""
    if "base" in style.get("sources", {}):
        if isinstance(fig, dict):
            for trace in fig["data"]:
                if trace.get("type") == "choroplethmap":
                    trace["below"] = BASE_FEATURES_LAYER
        else:
            fig.update_traces(below=BASE_FEATURES_LAYER, selector={"type": "choroplethmap"})
    return fig


BASE_FEATURES_LAYER = "base-water"  # the lowest layer of the base features


def base_map(*, geojson_url: str, members: list[dict], bounds, drill_key: str, style: dict,
             z=None, zmin=0.0, zmax=1.0, colorscale=None, hover=None, colorbar=None, labels=(),
             screen: dict | None = None) -> go.Figure:
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
    where = view(bounds, labels, screen)
    fig.update_layout(template=theme.TEMPLATE, **where, map_style=style, showlegend=False,
                      margin={"l": 0, "r": 0, "t": 0, "b": 0}, uirevision=drill_key)
    return fig


def colorbar(title: str, tickformat: str) -> dict:
    return {"title": {"text": title}, "thickness": 14, "len": 0.45, "tickformat": tickformat,
            "x": 0.99, "xanchor": "right", "y": 0.04, "yanchor": "bottom", "bgcolor": "rgba(5,13,26,0.6)"}


def legend() -> dict:
    return {"x": 0.01, "y": 0.99, "xanchor": "left", "yanchor": "top", "bgcolor": "rgba(5,13,26,0.75)",
            "bordercolor": theme.GRID_LINE, "borderwidth": 1, "font": {"size": theme.FONT_SIZE}}
