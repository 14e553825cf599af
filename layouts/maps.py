"""Pieces every view's map shares: the drillable base layer of member units, a colour bar and a
legend in the dark theme."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard import strings, theme
from geo.viewport import fit_bounds


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
