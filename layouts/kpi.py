"""KPI cards (a big number, its name, its definition on hover, the change on last period) and the
simpler KPI tiles of the desk views."""

from __future__ import annotations

import math

from dash import html

from dashboard import strings
from dashboard.compare import change
from dashboard.indicators import INDICATORS, KPI_CARDS


def kpi_cards(values: dict, previous: dict, label: str = "环比", *,
              today_counts: dict | None = None) -> list[html.Div]:
    """One card per KPI; ``label`` names the comparison (环比 or 同比). With ``today_counts`` (the
    period is 今日) a rate over the day's still-open cases gives way to the day's count, labelled
    as such."""
    return [_today_card(key, today_counts) if today_counts is not None and key in strings.TODAY_COUNTS
            else _card(key, values.get(key), previous.get(key), label) for key in KPI_CARDS]


def _today_card(key: str, counts: dict) -> html.Div:
    count, label, definition = strings.TODAY_COUNTS[key]
    value = counts.get(count)
    text = f"{int(value):,}" if value is not None and value == value else "—"
    return html.Div(className="kpi", title=definition, id={"type": "kpi", "key": key}, children=[
        html.Div(label, className="kpi-label"),
        html.Div(text, className="kpi-value"),
        html.Div(strings.TODAY_COUNT_NOTE, className="kpi-delta"),
    ])


def _card(key: str, value, previous, label: str) -> html.Div:
    ind = INDICATORS[key]
    delta = _delta(key, value, previous, label)
    return html.Div(
        className="kpi",
        title=ind.definition,
        id={"type": "kpi", "key": key},
        children=[
            html.Div(ind.label, className="kpi-label"),
            html.Div(ind.format(value), className="kpi-value"),
            html.Div(delta, className="kpi-delta"),
        ],
    )


def _delta(key: str, value, previous, label: str):
    c = change(key, value, previous)  # the same change the briefing pack puts in words
    if c.kind == "snapshot":
        return strings.REALTIME
    if c.kind == "none":
        return strings.NO_PREVIOUS.format(label=label)
    if c.kind == "flat":
        return html.Span(strings.UNCHANGED.format(label=label), className="flat")
    arrow = strings.UP if c.kind == "up" else strings.DOWN
    text = strings.PREVIOUS_DELTA_POINTS if c.points else strings.PREVIOUS_DELTA
    return html.Span(text.format(label=label, arrow=arrow, value=c.text),
                     className="good" if c.good else "bad")


def tiles(items: list[tuple[str, str, str, str | None]]) -> list[html.Div]:
    """KPI tiles: (key, label, value text, definition)."""
    return [
        html.Div(className="kpi tile", title=definition or "", id={"type": "tile", "key": key}, children=[
            html.Div(label, className="kpi-label"),
            html.Div(value, className="kpi-value"),
        ])
        for key, label, value, definition in items
    ]


def percent(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    # Below 1% a tenth of a point is too coarse: camera coverage of a whole city is often there.
    return f"{value * 100:.1f}%" if value >= 0.01 or value == 0 else f"{value * 100:.2f}%"
