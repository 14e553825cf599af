"""Colours, fonts and the Plotly template of the dark wall-screen theme."""

import plotly.graph_objects as go

# Local fonts only: nothing is fetched. Noto Sans CJK ships with Debian (fonts-noto-cjk); the
# others are what Windows and macOS desks have.
FONT_FAMILY = ('"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", '
               '"WenQuanYi Micro Hei", sans-serif')

BACKGROUND = "#050d1a"
PANEL = "#0b1a30"
GRID_LINE = "#1d3557"
TEXT = "#e6f1ff"
MUTED = "#8aa4c8"
ACCENT = "#33d1ff"
GOOD = "#2ee59d"
BAD = "#ff5c7a"
WARN = "#ffc857"
BOUNDARY = "#7fdbff"
ALONE = "#1d4f80"  # a unit drawn alone (a grid with its cases): no scale to place it on
WATER = "#0f4d7a"  # base features under the units (rivers, main roads)
ROAD = "#3c5f8c"

# Counts (cases, overdue, cases per 10k): a sequential scale from zero, dim to bright alarm.
SEQUENTIAL = ["#17426b", "#1f77b4", "#ffc857", "#ff5c7a"]
# Rates: a diverging scale anchored on the indicator's target. Below the target it runs from
# alarm red (far below) to a light rose (just below); from the target up it is calm blue.
BELOW_TARGET = ["#ff3b5c", "#ff8c6b", "#ffc2b8"]
ABOVE_TARGET = ["#9ad8ff", "#3aa8f0", "#2f7fd1"]

CATEGORY_COLORS = ["#33d1ff", "#2ee59d", "#ffc857", "#ff8c42", "#ff5c7a", "#b388ff", "#7fdbff", "#c0ca33"]

STATUS_COLORS = {"受理": "#ff5c7a", "指派": "#ff8c42", "处置": "#ffc857", "反馈": "#33d1ff",
                 "核查办结": "#2ee59d"}

# Plotly sizes are pixels at the design size (DESIGN_WIDTH × DESIGN_HEIGHT); every figure is
# scaled to the real screen by ``scale_figure`` (see docs/ARCHITECTURE.md, "Any resolution").
DESIGN_WIDTH, DESIGN_HEIGHT = 1920, 1080
FONT_SIZE = 16

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT_FAMILY, "color": TEXT, "size": FONT_SIZE},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        colorway=CATEGORY_COLORS,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"gridcolor": GRID_LINE, "zerolinecolor": GRID_LINE, "linecolor": GRID_LINE},
        yaxis={"gridcolor": GRID_LINE, "zerolinecolor": GRID_LINE, "linecolor": GRID_LINE},
        hoverlabel={"font": {"family": FONT_FAMILY, "size": FONT_SIZE}, "bgcolor": PANEL},
        separators=".,",
    )
)

# Graph config: no toolbar on the wall (it appeared when a mouse rested on a chart), no plotly
# logo, no "send to cloud" (must never appear on a government network).
GRAPH_CONFIG = {
    "displayModeBar": False,
    "displaylogo": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def empty_figure() -> dict:
    """What a graph shows before its first answer: nothing on the dark background, never
    plotly's white default chart with dummy axes."""
    hidden = {"visible": False, "showgrid": False, "zeroline": False}
    layout = {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "xaxis": hidden,
              "yaxis": hidden, "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
              "font": {"family": FONT_FAMILY, "color": TEXT}}
    return {"data": [], "layout": layout}


def screen_scale(screen: dict | None) -> float:
    """The factor from the design size to the screen (``{"width", "height"}`` in CSS pixels): the
    layout scales as a whole, so a 3840×2160 screen is 2 and a 7680×2160 splice wall is 2 too
    (its extra width goes to a wider layout, not to bigger type)."""
    if not screen or not screen.get("width") or not screen.get("height"):
        return 1.0
    scale = min(screen["width"] / DESIGN_WIDTH, screen["height"] / DESIGN_HEIGHT)
    return round(max(0.5, min(scale, 8.0)), 3)


_SIZED = ("size", "thickness", "width")


def scale_figure(fig, scale: float):
    """``fig`` with every pixel size (fonts, margins, colour bars, markers, lines) times ``scale``."""
    if scale == 1:
        return fig
    if isinstance(fig, dict):
        return _scale_plain(fig, scale)
    layout = fig.layout
    layout.font.size = round((layout.font.size or FONT_SIZE) * scale)
    layout.hoverlabel.font.size = round(FONT_SIZE * scale)
    for side in ("l", "r", "t", "b"):
        if layout.margin[side] is not None:
            layout.margin[side] = round(layout.margin[side] * scale)
    if layout.legend.font.size:
        layout.legend.font.size = round(layout.legend.font.size * scale)
    for note in layout.annotations:
        note.font.size = round((note.font.size or FONT_SIZE) * scale)
    for trace in fig.data:
        _scale_props(trace, scale, ("marker", "line", "colorbar", "textfont"))
    return fig


def _scale_props(obj, scale: float, names) -> None:
    for name in names:
        part = getattr(obj, name, None) if name in obj else None
        if part is None:
            continue
        for prop in _SIZED:
            if prop in part and isinstance(part[prop], int | float) and not isinstance(part[prop], bool):
                part[prop] = part[prop] * scale
        if "line" in part and part.line is not None:
            _scale_props(part, scale, ("line",))


def _scale_plain(fig: dict, scale: float) -> dict:
    """``scale_figure`` for a plain figure dict (``{"data": [...], "layout": {...}}``), in place."""
    layout = fig.setdefault("layout", {})
    font = layout.setdefault("font", {})
    font["size"] = round((font.get("size") or FONT_SIZE) * scale)
    layout.setdefault("hoverlabel", {}).setdefault("font", {})["size"] = round(FONT_SIZE * scale)
    margin = layout.get("margin") or {}
    for side in ("l", "r", "t", "b"):
        if margin.get(side) is not None:
            margin[side] = round(margin[side] * scale)
    legend_font = (layout.get("legend") or {}).get("font") or {}
    if legend_font.get("size"):
        legend_font["size"] = round(legend_font["size"] * scale)
    for note in layout.get("annotations") or ():
        note.setdefault("font", {})["size"] = round((note["font"].get("size") or FONT_SIZE) * scale)
    for trace in fig.get("data") or ():
        _scale_parts(trace, scale, ("marker", "line", "colorbar", "textfont"))
    return fig


def _scale_parts(obj: dict, scale: float, names) -> None:
    for name in names:
        part = obj.get(name)
        if not isinstance(part, dict):
            continue
        for prop in _SIZED:
            value = part.get(prop)
            if isinstance(value, int | float) and not isinstance(value, bool):
                part[prop] = value * scale
        if isinstance(part.get("line"), dict):
            _scale_parts(part, scale, ("line",))


_TEMPLATE_JSON: dict = {}


def template_json() -> dict:
    """``TEMPLATE`` as a plain dict, built once: plain figure dicts share it (never change it)."""
    if not _TEMPLATE_JSON:
        _TEMPLATE_JSON.update(TEMPLATE.to_plotly_json())
    return _TEMPLATE_JSON
