"""The map view (centre and zoom) that fits a bounding box: plotly's map does not fit itself."""

from __future__ import annotations

import math

_TILE_PX = 512  # MapLibre's zoom 0 shows the world in 512 px.


def fit_bounds(bounds, width_px: int = 900, height_px: int = 760, padding: float = 0.08) -> dict:
    """``{"center": {"lon", "lat"}, "zoom"}`` showing ``bounds`` in a map of the given size."""
    minx, miny, maxx, maxy = bounds
    center = {"lon": (minx + maxx) / 2, "lat": (miny + maxy) / 2}
    span_x = max(maxx - minx, 1e-6) * (1 + 2 * padding)
    y0, y1 = _mercator_y(miny), _mercator_y(maxy)
    span_y = max(y1 - y0, 1e-9) * (1 + 2 * padding)
    zoom_x = math.log2(width_px / _TILE_PX * 360 / span_x)
    zoom_y = math.log2(height_px / _TILE_PX * 2 * math.pi / span_y)
    # Mercator y is symmetric only at the centre of the box: centre on its projected middle.
    center["lat"] = math.degrees(math.atan(math.sinh((y0 + y1) / 2)))
    return {"center": center, "zoom": round(min(zoom_x, zoom_y, 18), 3)}


def _mercator_y(lat: float) -> float:
    phi = math.radians(max(min(lat, 85.0), -85.0))
    return math.log(math.tan(math.pi / 4 + phi / 2))
