"""Plotly figures for the wall screen: the unit map, the 30-day trend, the category breakdown."""

from __future__ import annotations

from dash import Patch

from dashboard import strings, theme
from dashboard.indicators import INDICATORS
from dashboard.scales import value_scale
from layouts import maps

# Trace order on the map: a flat base layer (always clickable), the values, case points.
BASE, VALUES, POINTS = 0, 1, 2


def map_style(tile_url: str = "", attribution: str = "", base_features: dict | None = None) -> dict:
    """A MapLibre style that fetches nothing, unless an intranet tile URL is configured; with
    ``base_features`` (rivers, roads: ``data.base_features``) drawn inline under the units.

    It has no glyphs or sprite, so no layer can reach a public font server.
    """
    style = {
        "version": 8,
        # Never an empty "sources": Plotly.react drops an empty object when the figure changes,
        # MapLibre then rejects the style ("Map error.") and keeps showing the previous unit.
        "sources": {"none": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}},
        "layers": [{"id": "background", "type": "background",
                    "paint": {"background-color": theme.BACKGROUND}}],
    }
    if tile_url:
        style["sources"]["intranet"] = {"type": "raster", "tiles": [tile_url], "tileSize": 256,
                                        "attribution": attribution}
        style["layers"].append({"id": "intranet", "type": "raster", "source": "intranet",
                                "paint": {"raster-opacity": 0.55}})
    if base_features:
        style["sources"]["base"] = {"type": "geojson", "data": base_features}
        style["layers"] += [
            {"id": maps.BASE_FEATURES_LAYER, "type": "fill", "source": "base",
             "filter": ["==", ["get", "kind"], "water"],
             "paint": {"fill-color": theme.WATER, "fill-opacity": 0.8}},
            {"id": "base-road", "type": "line", "source": "base", "filter": ["==", ["get", "kind"], "road"],
             "paint": {"line-color": theme.ROAD, "line-width": 2.5}},
        ]
    return style


def _values(metric: str, rows: list[dict], targets: dict | None):
    ind = INDICATORS[metric]
    z = [_nan(r.get(metric)) for r in rows]
    text = [strings.MAP_HOVER_VALUE.format(label=ind.label, value=ind.format(r.get(metric))) for r in rows]
    return z, text, value_scale(metric, [r.get(metric) for r in rows], targets)


def colour_range(zmin: float, zmax: float, kind: str) -> tuple[float, float]:
    """The colour bar's range: a rate never leaves 0–100% (every child at 100% is 99%–100%, not
    100%–200%); equal counts get a range of one."""
    if zmax > zmin:
        return zmin, zmax
    if kind == "rate":
        return (zmin - 0.01, zmin) if zmin >= 0.01 else (zmin, zmin + 0.01)
    return zmin, zmin + 1


def rate_ticks(zmin: float, zmax: float) -> dict:
    """Percent ticks with enough decimals that no two read the same (not "99% 99% 99%")."""
    span = (zmax - zmin) * 100  # percentage points
    decimals = 0 if span >= 5 else 1 if span >= 0.5 else 2
    return {"tickformat": f".{decimals}%", "nticks": 5}


VALUES_TRACE = 1  # the unit map's coloured polygons (trace 0 is their flat background)
POINTS_TRACE = 2  # at a grid, its cases as dots (customdata: category, status, time, id, grid)


def unit_map(*, geojson_url: str, rows: list[dict], metric: str, bounds, drill_key: str,
             style: dict, points: list[dict] | None = None, labels=(), targets: dict | None = None,
             screen: dict | None = None) -> dict:
    """The children of the current unit coloured by ``metric`` on its fixed scale (``dashboard.
    scales``); ``rows`` carry code, name, metric. At a grid (no children) ``rows`` is the grid
    itself and ``points`` its cases. ``labels`` are the names written on the map.

    A plain figure dict (no ``plotly.graph_objects``: its validation cost more than the rest of a
    render; see docs/ARCHITECTURE.md)."""
    codes = [r["code"] for r in rows]
    names = [r["name"] for r in rows]
    z, text, scale = _values(metric, rows, targets)
    line = {"color": theme.BOUNDARY, "width": 1.2}
    base = {"type": "choroplethmap", "geojson": geojson_url, "featureidkey": "properties.code",
            "locations": codes, "z": [0] * len(codes), "colorscale": [[0, theme.PANEL], [1, theme.PANEL]],
            "showscale": False, "hoverinfo": "skip", "marker": {"line": dict(line)}}
    # One grid alone has nothing to compare with: drawn in a neutral tint, its cases over it.
    colours = [list(s) for s in scale.colorscale] if points is None else [[0, theme.ALONE], [1, theme.ALONE]]
    values = {
        "type": "choroplethmap", "geojson": geojson_url, "featureidkey": "properties.code",
        "locations": codes, "z": z, "zmin": scale.zmin, "zmax": scale.zmax, "colorscale": colours,
        "customdata": names, "text": text, "hovertemplate": "<b>%{customdata}</b><br>%{text}<extra></extra>",
        "marker": {"line": dict(line), "opacity": 0.85},
        "showscale": points is None,  # one grid alone needs no colour scale
        "colorbar": {"thickness": 14, "len": 0.5, **scale.colorbar(), "x": 0.99, "xanchor": "right",
                     "y": 0.04, "yanchor": "bottom", "bgcolor": "rgba(5,13,26,0.6)"},
    }
    data = [base, values]
    if points is not None:
        data.append({
            "type": "scattermap", "lon": [p["lon"] for p in points], "lat": [p["lat"] for p in points],
            "mode": "markers",
            "marker": {"size": 11, "color": [theme.STATUS_COLORS.get(p["status"], theme.ACCENT)
                                             for p in points]},
            "customdata": [[p["category"], p["status"], p["reported_at"], p.get("external_id"),
                            p.get("grid_code")] for p in points],
            "hovertemplate": "%{customdata[0]} · %{customdata[1]}<br>%{customdata[2]}<extra></extra>",
        })
    where = maps.view(bounds, labels, screen)
    layout = {
        "template": theme.template_json(), **where, "showlegend": False,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        # A new unit resets the view; a refresh of the same unit keeps the user's pan and zoom.
        "uirevision": drill_key,
    }
    layout["map"] = {**where["map"], "style": style}
    return maps.under_base_features({"data": data, "layout": layout}, style)


def map_values_patch(rows: list[dict], metric: str, targets: dict | None = None) -> Patch:
    """Only the values of the map, for a refresh or a metric change at the same unit."""
    z, text, scale = _values(metric, rows, targets)
    patch = Patch()
    values = patch["data"][VALUES]
    values["z"] = z
    values["text"] = text
    values["zmin"] = scale.zmin
    values["zmax"] = scale.zmax
    values["colorscale"] = [list(s) for s in scale.colorscale]
    bar = scale.colorbar()
    values["colorbar"]["title"]["text"] = bar["title"]["text"]
    for key in ("tickformat", "dtick", "tickmode", "tickvals", "ticktext"):
        values["colorbar"][key] = bar.get(key)
    return patch


_STEP_TICKS = {"D": "%m-%d", "W": "%m-%d", "M": "%Y-%m"}


def trend_figure(days: list[str], values: list[int], step: str = "D") -> dict:
    """Cases per day, week (from its Monday) or month (``step``), as a plain figure dict."""
    trace = {
        "type": "scatter", "x": list(days), "y": list(values), "mode": "lines+markers",
        "line": {"color": theme.ACCENT, "width": 3}, "marker": {"size": 5}, "fill": "tozeroy",
        "fillcolor": "rgba(51,209,255,0.15)",
        "hovertemplate": "%{x}<br>%{y} " + strings.CASES_AXIS + "<extra></extra>",
    }
    # Counts are whole numbers: never a tick at 0.5.
    yaxis = {"rangemode": "tozero", "nticks": 5, "tickformat": ",d"}
    if max(values, default=0) < 5:
        yaxis["dtick"] = 1
    layout = {"template": theme.template_json(), "margin": {"l": 48, "r": 12, "t": 8, "b": 36},
              "xaxis": {"tickformat": _STEP_TICKS[step], "nticks": 6, "type": "date"}, "yaxis": yaxis}
    return {"data": [trace], "layout": layout}


def category_figure(categories: list[str], values: list[int]) -> dict:
    """Cases per category, largest on top, as a plain figure dict."""
    pairs = list(zip(categories, values, strict=True))[::-1]  # largest on top
    trace = {
        "type": "bar", "x": [v for _, v in pairs], "y": [c for c, _ in pairs], "orientation": "h",
        "marker": {"color": [theme.CATEGORY_COLORS[i % len(theme.CATEGORY_COLORS)]
                             for i in range(len(pairs))][::-1]},
        "text": [f"{v:,}" for _, v in pairs], "textposition": "outside", "cliponaxis": False,
        "hovertemplate": "%{y}：%{x} " + strings.CASES_AXIS + "<extra></extra>",
    }
    layout = {"template": theme.template_json(), "margin": {"l": 90, "r": 56, "t": 4, "b": 24},
              "xaxis": {"showgrid": False, "showticklabels": False}, "bargap": 0.28}
    if not pairs:
        layout["annotations"] = [{"text": strings.NO_CASES, "showarrow": False,
                                  "font": {"color": theme.MUTED}}]
        layout["yaxis"] = {"visible": False}
    return {"data": [trace], "layout": layout}


def _nan(value) -> float:
    return float("nan") if value is None else float(value)
