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

# For indicators where more is worse (cases, overdue): calm blue to alarm red.
SCALE_BAD_HIGH = [[0.0, "#12355b"], [0.35, "#1f77b4"], [0.65, "#ffc857"], [1.0, "#ff5c7a"]]
# For rates where more is better: low values are the alarm.
SCALE_GOOD_HIGH = [[0.0, "#ff5c7a"], [0.35, "#ffc857"], [0.65, "#1f77b4"], [1.0, "#12355b"]]

CATEGORY_COLORS = ["#33d1ff", "#2ee59d", "#ffc857", "#ff8c42", "#ff5c7a", "#b388ff", "#7fdbff", "#c0ca33"]

STATUS_COLORS = {"受理": "#ff5c7a", "指派": "#ff8c42", "处置": "#ffc857", "反馈": "#33d1ff",
                 "核查办结": "#2ee59d"}

# Plotly sizes are pixels; these read from a few metres on a 1920×1080 screen.
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

# Graph config: no plotly logo, no "send to cloud" (must never appear on a government network).
GRAPH_CONFIG = {
    "displaylogo": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}
