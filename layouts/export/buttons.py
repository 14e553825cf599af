"""The screen's export buttons: small links whose ``href`` a callback keeps in step with the URL
(``callbacks.exports.export_links``), so each file is the view on the screen.

Every link has a plain id made from its view and target (``link_id``); ``TARGETS`` lists each
view's links in the order the callback fills them.
"""

from __future__ import annotations

from dash import html

CHART = (("PNG", "png", "导出图片（PNG，白底，适合幻灯片）"), ("SVG", "svg", "导出矢量图（SVG）"))
TABLE = (("CSV", "csv", "导出表格（CSV，UTF-8）"), ("Excel", "xlsx", "导出表格（Excel）"))
PACK = (("简报 PPTX", "brief.pptx", "生成本单元、本时段的简报（PowerPoint）"),
        ("简报 PDF", "brief.pdf", "生成本单元、本时段的简报（PDF）"),
        ("截屏", "screen.png", "把当前大屏保存为图片（PNG）"))


def _charts(*names: str) -> list[str]:
    return [f"charts/{n}.{fmt}" for n in names for _label, fmt, _tip in CHART]


def _tables(*kinds: str) -> list[str]:
    return [f"{k}.{fmt}" for k in kinds for _label, fmt, _tip in TABLE]


TARGETS = {
    "wall": [t for _l, t, _tip in PACK] + _charts("trend", "categories", "map") + _tables("ranking")
    + _charts("ranking") + _tables("alarms"),
    "heat": _charts("heat"),
    "coverage": _charts("coverage"),
}


def link_id(view: str, target: str) -> str:
    return f"export-{view}-" + target.replace("/", "-").replace(".", "-")


def bar(items, className: str = "", view: str = "wall") -> html.Div:
    """Links ``(label, target, tooltip)``; ``target`` is the export path, e.g. ``charts/trend.png``;
    ``view`` names the view whose URL the links follow (wall, heat, coverage)."""
    return html.Div(className=f"export-bar {className}".strip(), children=[
        html.A(label, id=link_id(view, target), href="#", download="", title=tip, className="export-link")
        for label, target, tip in items
    ])


def chart(name: str, className: str = "", view: str = "wall") -> html.Div:
    return bar([(label, f"charts/{name}.{fmt}", tip) for label, fmt, tip in CHART], className, view)


def table(kind: str, className: str = "", view: str = "wall") -> html.Div:
    return bar([(label, f"{kind}.{fmt}", tip) for label, fmt, tip in TABLE], className, view)


def pack() -> html.Div:
    """The header's buttons: the briefing pack and the whole screen as an image."""
    return bar(PACK, "pack-bar")
