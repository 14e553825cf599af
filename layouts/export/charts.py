"""The charts an export can hold, built from answers the service already gave, in the print theme.

The map, trend, categories, heat and coverage figures are the screen's own builders
(``figures``, ``heat``, ``coverage``), drawn with inline GeoJSON and a white map style, then
restyled by ``theme.for_print``. The ranking is a bar chart made for slides (the screen shows a
list). ``answers`` holds what each chart needs (see ``callbacks.exports.chart_answers``).
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from dashboard import strings, theme
from dashboard.indicators import INDICATORS
from layouts import coverage, figures, heat
from layouts.export import theme as print_theme

CHARTS = ("map", "trend", "categories", "ranking", "heat", "coverage")


def title(name: str, answers: dict) -> str:
    metric = INDICATORS[answers["metric"]].label
    level = answers["level"] or strings.level_name(answers["unit"]["level"])
    return {
        "map": f"各{level}{metric}分布",
        "trend": strings.TREND_TITLE,
        "categories": strings.CATEGORY_TITLE,
        "ranking": strings.RANKING_TITLE.format(level=level, metric=metric),
        "heat": strings.HEAT_TITLE,
        "coverage": strings.COVERAGE_TITLE,
    }[name]


def screen_figure(name: str, a: dict) -> go.Figure:
    """The screen's figure ``name`` for the answers ``a`` (dark theme; inline geometry)."""
    style, code = print_theme.MAP_STYLE, a["unit"]["code"]
    geometry = a.get("geometry")
    if name == "map":
        return go.Figure(figures.unit_map(
            geojson_url=geometry.collection, rows=a["map_rows"], metric=a["metric"],
            bounds=geometry.bounds, drill_key=code, style=style, points=a["points"]))
    if name == "trend":
        return go.Figure(figures.trend_figure(list(a["trend"].index), a["trend"].tolist()))
    if name == "categories":
        return go.Figure(figures.category_figure(list(a["categories"].index), a["categories"].tolist()))
    if name == "ranking":
        return ranking_figure(a["children"], a["metric"])
    if name == "heat":
        return heat.heat_map(geojson_url=geometry.collection, members=a["members"], bounds=geometry.bounds,
                             drill_key=code, style=style, cells=a["heat"]["records"],
                             cells_geojson=a["heat"]["geojson"], mode=a["heat_style"])
    if name == "coverage":
        names = {m["code"]: m["name"] for m in a["members"]}
        answer, drawing = a["coverage"], a["drawing"]
        members = [{**m, "name": names[m["code"]]} for m in answer["members"]]
        sites = [{**s, "text": strings.suggestion_text(s, names[s["member"]])} for s in answer["suggestions"]]
        places = [{**p, "unit": names[m["code"]]}
                  for m in answer["members"] for p in m["uncovered_place_list"]]
        return coverage.coverage_map(
            geojson_url=geometry.collection, members=members, bounds=geometry.bounds, drill_key=code,
            style=style, views_geojson=drawing["views"], view_status=drawing["status"],
            cameras=drawing["cameras"], blind_geojson=drawing["blind"], places=places, sites=sites)
    raise ValueError(f"unknown chart {name!r}")


def print_figure(name: str, a: dict, *, titled: bool = True, width: int = print_theme.WIDTH,
                 height: int = print_theme.HEIGHT) -> go.Figure:
    """Chart ``name`` in the print theme; with the title block and source line when ``titled``."""
    geometry = a.get("geometry")
    return print_theme.for_print(
        screen_figure(name, a), title=title(name, a) if titled else None, subtitle=a["subtitle"],
        source=a["source"] if titled else None,
        bounds=geometry.bounds if geometry is not None and name in ("map", "heat", "coverage") else None,
        width=width, height=height)


def ranking_figure(rows: list[dict], metric: str, limit: int = 20) -> go.Figure:
    """Children by ``metric``, largest on top as on the screen (units without a value left out)."""
    ind = INDICATORS[metric]
    known = [r for r in rows if r.get(metric) is not None and not _nan(r[metric])]
    known.sort(key=lambda r: r[metric], reverse=True)
    known = known[:limit][::-1]  # plotly draws the first bar at the bottom
    fig = go.Figure(go.Bar(
        x=[float(r[metric]) for r in known], y=[r["name"] for r in known], orientation="h",
        marker={"color": theme.ACCENT}, text=[ind.format(r[metric]) for r in known],
        textposition="outside", cliponaxis=False,
    ))
    fig.update_layout(template=theme.TEMPLATE, margin={"l": 120, "r": 70, "t": 10, "b": 30},
                      xaxis={"showgrid": False, "showticklabels": False}, bargap=0.3, showlegend=False)
    return fig


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)
