"""Figures that exist only for export: the ranking of child units as a bar chart.

(The screen shows its ranking as a list; slides want a chart.) The others — map, trend,
categories, heat, coverage — are the screen's own figures, restyled by ``theme.for_print``.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from dashboard import theme
from dashboard.indicators import INDICATORS


def ranking_figure(rows: list[dict], metric: str, limit: int = 20) -> go.Figure:
    """Children by ``metric``, best on top (units without a value left out)."""
    ind = INDICATORS[metric]
    known = [r for r in rows if r.get(metric) is not None and not _nan(r[metric])]
    known.sort(key=lambda r: r[metric], reverse=True)
    known = known[:limit][::-1]  # plotly draws the first bar at the bottom
    values = [float(r[metric]) for r in known]
    fig = go.Figure(go.Bar(
        x=values, y=[r["name"] for r in known], orientation="h",
        marker={"color": theme.ACCENT}, text=[ind.format(r[metric]) for r in known],
        textposition="outside", cliponaxis=False,
    ))
    fig.update_layout(template=theme.TEMPLATE, margin={"l": 120, "r": 70, "t": 10, "b": 30},
                      xaxis={"showgrid": False, "showticklabels": False}, bargap=0.3, showlegend=False)
    return fig


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)
