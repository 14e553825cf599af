"""The screen's map figures redrawn as vectors, for print and slides.

On the screen a map is MapLibre (WebGL): in a headless Chromium without a GPU it draws in software,
seconds per image, and an SVG export could only hold it as a picture. For print the same figure —
the same traces, GeoJSON, values, colour scales and colour bars — is redrawn as plain Plotly shapes
on an x/y plane (longitude, latitude with the local aspect): a fraction of a second, sharp at any
size, and a real vector SVG. Only the drawing changes, never a number.
"""

from __future__ import annotations

import math
import re

from geo.paths import inner_point, rings

_LEVELS = 32  # a continuous colour scale is drawn in this many steps (one trace each)
_RGBA = re.compile(r"rgba?\(([^)]*)\)")


def vectorise(spec: dict, bounds) -> dict:
    """A figure spec (``fig.to_plotly_json()``) whose map traces are drawn on x/y axes."""
    minx, miny, maxx, maxy = bounds
    pad_x, pad_y = (maxx - minx) * 0.04 or 0.01, (maxy - miny) * 0.04 or 0.01
    aspect = 1 / max(math.cos(math.radians((miny + maxy) / 2)), 0.1)
    data = []
    for trace in spec["data"]:
        kind = trace.get("type")
        if kind == "choroplethmap":
            data += _choropleth(trace)
        elif kind == "scattermap":
            data.append(_points(trace))
        elif kind == "densitymap":
            data.append(_density(trace))
        else:
            data.append(trace)
    layout = {k: v for k, v in spec["layout"].items() if k not in ("map", "uirevision")}
    axis = {"visible": False, "showgrid": False, "zeroline": False, "fixedrange": True}
    layout["xaxis"] = {**axis, "range": [minx - pad_x, maxx + pad_x], "constrain": "domain"}
    layout["yaxis"] = {**axis, "range": [miny - pad_y, maxy + pad_y], "scaleanchor": "x",
                       "scaleratio": aspect, "constrain": "domain"}
    return {"data": data, "layout": layout}


def _choropleth(trace: dict) -> list[dict]:
    """Polygons grouped by colour (one filled trace per colour), and a colour bar if it had one."""
    key = trace.get("featureidkey", "id").split(".")[-1]
    geojson = trace.get("geojson")
    if not isinstance(geojson, dict):
        return []
    shapes = {f["properties"].get(key): f["geometry"] for f in geojson.get("features", [])}
    locations, z = trace.get("locations") or [], trace.get("z") or []
    zmin, zmax = trace.get("zmin"), trace.get("zmax")
    finite = [v for v in z if _finite(v)]
    zmin = min(finite, default=0) if zmin is None else zmin
    zmax = max(finite, default=1) if zmax is None else zmax
    scale = trace.get("colorscale") or [[0, "#cccccc"], [1, "#cccccc"]]
    marker = trace.get("marker") or {}
    opacity = marker.get("opacity", 1)
    line = marker.get("line") or {}
    groups: dict[str, list] = {}
    for code, value in zip(locations, z, strict=False):
        if code not in shapes:
            continue
        if _finite(value):
            t = 0 if zmax == zmin else min(max((value - zmin) / (zmax - zmin), 0), 1)
            colour = _css(_sample(scale, round(t * _LEVELS) / _LEVELS), opacity)
        else:
            colour = "rgba(0,0,0,0)"
        groups.setdefault(colour, []).append(shapes[code])
    out = []
    for colour, geometries in groups.items():
        xs, ys = rings(geometries)
        out.append({"type": "scatter", "x": xs, "y": ys, "mode": "lines", "fill": "toself",
                    "fillcolor": colour, "hoverinfo": "skip", "showlegend": False,
                    "line": {"color": line.get("color", "rgba(0,0,0,0)"),
                             "width": line.get("width", 0) or 0}})
    if trace.get("showscale", True) and locations:
        out.append(_colour_bar(trace, scale, zmin, zmax, shapes[locations[0]] if locations[0] in shapes
                               else None))
    return out


def _colour_bar(trace: dict, scale, zmin, zmax, geometry) -> dict:
    """An invisible point that carries the colour bar."""
    x, y = inner_point(geometry) if geometry else (None, None)
    return {"type": "scatter", "x": [x], "y": [y], "mode": "markers", "hoverinfo": "skip",
            "showlegend": False,
            "marker": {"size": 0.1, "opacity": 0, "color": [zmin], "cmin": zmin, "cmax": zmax,
                       "colorscale": scale, "showscale": True, "colorbar": trace.get("colorbar") or {}}}


def _points(trace: dict) -> dict:
    out = {k: v for k, v in trace.items() if k not in ("lon", "lat", "type", "subplot", "below", "cluster")}
    return {**out, "type": "scatter", "x": trace.get("lon") or [], "y": trace.get("lat") or []}


def _density(trace: dict) -> dict:
    """A density layer as soft, colour-scaled dots (the cells' counts, as on the screen)."""
    z = trace.get("z") or []
    top = max((v for v in z if _finite(v)), default=1) or 1
    return {"type": "scatter", "x": trace.get("lon") or [], "y": trace.get("lat") or [], "mode": "markers",
            "hoverinfo": "skip", "showlegend": False,
            "marker": {"size": [8 + 22 * (v / top) for v in z], "color": z, "cmin": trace.get("zmin", 0),
                       "cmax": trace.get("zmax", top), "colorscale": trace.get("colorscale"), "opacity": 0.6,
                       "showscale": trace.get("showscale", False), "colorbar": trace.get("colorbar") or {},
                       "line": {"width": 0}}}


def _finite(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _rgba(colour: str) -> tuple[float, float, float, float]:
    colour = colour.strip()
    if colour.startswith("#"):
        h = colour[1:]
        if len(h) == 3:
            h = "".join(c * 2 for c in h)
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16), 1.0
    match = _RGBA.match(colour)
    if match:
        parts = [float(p) for p in match.group(1).split(",")]
        return parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else 1.0
    return 204, 204, 204, 1.0


def _sample(scale, t: float) -> tuple[float, float, float, float]:
    stops = [(float(p), _rgba(c)) for p, c in scale]
    if t <= stops[0][0]:
        return stops[0][1]
    for (p0, c0), (p1, c1) in zip(stops, stops[1:], strict=False):
        if t <= p1:
            f = 0 if p1 == p0 else (t - p0) / (p1 - p0)
            return tuple(a + (b - a) * f for a, b in zip(c0, c1, strict=True))
    return stops[-1][1]


def _css(rgba, opacity: float = 1) -> str:
    r, g, b, a = rgba
    return f"rgba({round(r)},{round(g)},{round(b)},{round(a * opacity, 3)})"
