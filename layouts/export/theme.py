"""The print theme: the screen's figures restyled for a white slide or a printed page.

The wall screen is dark (light text on a transparent background), which vanishes on a white slide.
``for_print`` takes the figure the screen builds and gives it a white background, dark text, the
colours that read on paper, and a title block: the chart's title, then unit · period · data time,
and a source line at the foot. Fonts are the machine's own CJK fonts (``theme.FONT_FAMILY``).
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard import theme
from layouts.export.vector import vectorise

WHITE = "#ffffff"
INK = "#1f2d3d"
SUBTLE = "#5b6b7f"
RULE = "#d5dde8"
LAND = "#eef2f7"
EDGE = "#4a6a8a"
BLUE = "#1f5fa8"

# Screen colour → print colour, wherever a figure uses it (exact matches, case-insensitive).
_PRINT_COLOURS = {
    theme.BACKGROUND: WHITE,
    theme.PANEL: LAND,
    theme.TEXT: INK,
    theme.MUTED: SUBTLE,
    theme.GRID_LINE: RULE,
    theme.BOUNDARY: EDGE,
    theme.ACCENT: BLUE,
    theme.GOOD: "#1a9e6a",
    theme.WARN: "#d99a00",
    "rgba(51,209,255,0.15)": "rgba(31,95,168,0.12)",
    "rgba(5,13,26,0.6)": "rgba(255,255,255,0.85)",
    "rgba(5,13,26,0.75)": "rgba(255,255,255,0.85)",
    # the coverage map's scale: dark maroon (uncovered) reads as a black blot on paper
    "#3a1020": "#f4c7c3",
    "#1f5f8b": "#7fb3d5",
    "rgba(230,241,255,0.5)": "rgba(74,106,138,0.5)",
}
_PRINT_COLOURS = {k.lower(): v for k, v in _PRINT_COLOURS.items()}

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": theme.FONT_FAMILY, "color": INK, "size": 15},
        paper_bgcolor=WHITE,
        plot_bgcolor=WHITE,
        colorway=[BLUE, "#1a9e6a", "#d99a00", "#e4572e", "#c0392b", "#7e57c2", "#17a2b8", "#8d9b2d"],
        xaxis={"gridcolor": RULE, "zerolinecolor": RULE, "linecolor": RULE},
        yaxis={"gridcolor": RULE, "zerolinecolor": RULE, "linecolor": RULE},
        separators=".,",
    )
)

# A MapLibre style for print: a white page, nothing fetched.
MAP_STYLE = {
    "version": 8,
    "sources": {"none": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}},
    "layers": [{"id": "background", "type": "background", "paint": {"background-color": WHITE}}],
}

WIDTH, HEIGHT = 1280, 720  # CSS pixels of an exported chart (16:9); PNG is rendered at 2×
TITLE_PX = 96  # room for the title block


def subtitle(unit_name: str, period_text: str, data_time: str) -> str:
    return f"{unit_name} · {period_text} · 数据截至 {data_time}"


def for_print(fig: go.Figure, *, title: str | None, subtitle: str = "", source: str | None = None,
              bounds=None, width: int = WIDTH, height: int = HEIGHT) -> go.Figure:
    """A copy of the screen's ``fig`` in the print theme, with a title block and a source line
    when given (a slide has its own title: then neither).

    A map (with its unit's ``bounds``) is redrawn as vectors (``vector.vectorise``) and fitted to
    the printed size; without bounds it stays a MapLibre map on a white style.
    """
    spec = _recolour(fig.to_plotly_json())
    is_map = "map" in spec["layout"]
    if is_map and bounds is not None:
        spec = vectorise(spec, bounds)
    out = go.Figure(spec)
    top = TITLE_PX + 10 if title else 10
    bottom = 60 if source else 20
    margin = {"l": 20, "r": 20, "t": top, "b": bottom} if is_map else \
        {"l": spec["layout"].get("margin", {}).get("l", 70) + 10, "r": 60, "t": top, "b": bottom}
    layout = {
        "template": TEMPLATE, "paper_bgcolor": WHITE, "plot_bgcolor": WHITE,
        "font": {"family": theme.FONT_FAMILY, "color": INK}, "width": width, "height": height,
    }
    if title:
        layout["title"] = {
            "text": f"<b>{title}</b>", "font": {"size": 24, "color": INK},
            "subtitle": {"text": subtitle, "font": {"size": 15, "color": SUBTLE}},
            "x": 0.02, "xanchor": "left", "y": 1 - 16 / height, "yanchor": "top"}
    if is_map:
        if bounds is None:
            layout["map"] = {"style": MAP_STYLE}
        layout["legend"] = {"bgcolor": "rgba(255,255,255,0.85)", "bordercolor": RULE,
                            "font": {"color": INK}}
    out.update_layout(margin=margin, **layout)
    if source:
        out.add_annotation(text=source, xref="paper", yref="paper", x=0, y=0, xanchor="left",
                           yanchor="top", yshift=-bottom + 22, showarrow=False,
                           font={"size": 12, "color": SUBTLE})
    return out


def _recolour(value):
    if isinstance(value, dict):
        return {k: _recolour(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_recolour(v) for v in value]
    if isinstance(value, str):
        return _PRINT_COLOURS.get(value.lower(), value)
    return value
