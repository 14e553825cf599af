"""The ranking of child units and, at a grid, the list of its newest cases."""

from __future__ import annotations

import math
from datetime import date
from urllib.parse import urlencode

from dash import dcc, html

from dashboard import strings
from dashboard.indicators import INDICATORS
from dashboard.scales import text_colour, value_scale


def ranking(rows: list[dict], metric: str, href_for, targets: dict | None = None) -> html.Ol:
    """Children by ``metric``, highest first (units with no value last), each a drill link. A
    badge and a bar take the map's colour of the value, and the bar's length is the value's place
    on the same scale (a rate from its scale's floor, not from zero), so rank 1 reads as good or
    bad by the metric's direction, not by being first."""
    ind = INDICATORS[metric]
    known = [r for r in rows if _known(r.get(metric))]
    unknown = [r for r in rows if not _known(r.get(metric))]
    known.sort(key=lambda r: r[metric], reverse=True)
    scale = value_scale(metric, [r[metric] for r in known], targets)
    items = []
    for i, row in enumerate(known + unknown, start=1):
        value = row.get(metric)
        colour = scale.colour(value)
        items.append(rank_row(i, row, href_for, scale.position(value) or 0, ind.format(value),
                              colour=colour))
    return html.Ol(items, className="rank-list")


def recent_cases(cases: list[dict]) -> html.Div:
    """Newest cases first. Case text is passed as text: Dash escapes it, never renders HTML."""
    if not cases:
        return html.Div(strings.NO_CASES, className="empty")
    return html.Ul([case_row(c, c["category"]) for c in cases], className="case-list")


def alarms(cases: list[dict], now, rises: list[dict] = (), scope: str = "") -> html.Div:
    """Sudden rises (in words), overdue cases (how long past the deadline) and high-risk
    disputes, as text. ``scope`` (the unit's code) tells dashboard/assets/wall.js which list is
    new, so only new alarms flash."""
    if not cases and not rises:
        return html.Div(strings.NO_ALARMS, className="empty", **{"data-scope": scope})
    rows = [html.Li(className="case-row rise-row", children=[
        html.Div([html.Span(strings.SUDDEN_RISE, className="alarm-tag"),
                  html.Span(r["reason"], className="rise-text")], className="case-head rise-head"),
    ]) for r in rises]
    for c in cases:
        rows.append(case_row(c, f"{c['category']} · {c.get('subcategory') or ''}",
                             tag=html.Span(strings.alarm_tag(c, now), className="alarm-tag"), year=now.year))
    return html.Ul(rows, className="case-list alarm-list", **{"data-scope": scope})


def rank_row(i: int, unit: dict, href_for, share: float, value_text: str, *extra,
             medals: bool = True, colour: str | None = None) -> html.Li:
    """One ranked unit: its place, a drill link, a bar of ``share`` (0–1), the value, extras.
    With ``colour`` (the value's colour on its scale) the badge and the bar wear it."""
    place = f"rank-no top{i}" if medals and i <= 3 and colour is None else "rank-no"
    badge = {"background": colour, "color": text_colour(colour)} if colour else None
    bar = {"width": f"{share * 100:.0f}%", **({"background": colour} if colour else {})}
    return html.Li(className="rank-row", children=[
        html.Span(str(i), className=place, style=badge),
        dcc.Link(unit["name"], href=href_for(unit["code"]), className="rank-name",
                 title=strings.CLICK_TO_DRILL),
        html.Span(className="rank-bar", children=html.Span(style=bar)),
        html.Span(value_text, className="rank-value"),
        *extra,
    ])


def case_href(case: dict) -> str | None:
    """Where a case opens: the case list of its grid with its timeline (``/cases?…&case=``)."""
    if not case.get("external_id") or not case.get("grid_code"):
        return None
    return "/cases?" + urlencode({"unit": case["grid_code"], "case": case["external_id"]})


def case_row(case: dict, label: str, *, tag=None, year: int | None = None) -> html.Li:
    """One case: an optional tag, its label, status and time, then its text as text (never HTML).
    A time outside ``year`` (the data's current year) shows its year."""
    head = [tag] if tag is not None else []
    at = case["reported_at"]
    href = case_href(case)
    head += [
        dcc.Link(label, href=href, className="case-cat case-link", title=strings.OPEN_CASE) if href
        else html.Span(label, className="case-cat"),
        html.Span(case["status"], className="case-status", **{"data-status": case["status"]}),
        html.Span(case_time(at, year), className="case-time"),
    ]
    key = str(case.get("external_id") or case.get("id") or "")  # wall.js flashes a new alarm once
    return html.Li(className="case-row", **{"data-key": key}, children=[
        html.Div(head, className="case-head"),
        html.Div(case.get("description") or "", className="case-text"),
    ])


def case_time(at, year: int | None = None) -> str:
    """``11-20 15:30`` in the current year (``year``, default the clock's), ``2024-11-20 15:30``
    in any other."""
    year = date.today().year if year is None else year
    return f"{at:%m-%d %H:%M}" if at.year == year else f"{at:%Y-%m-%d %H:%M}"


def _known(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def depth_ranking(rows: list[dict], metric: str, href_for, parents: dict[str, str]) -> html.Ol:
    """Units at a depth below, worst first (``rows`` come ranked from the service). The worst
    three are marked as such, whatever the metric's direction; each links to its own view."""
    ind = INDICATORS[metric]
    values = [abs(r["value"]) for r in rows]
    top = max(values, default=0) or 1
    items = []
    for i, row in enumerate(rows, start=1):
        share = abs(row["value"]) / top
        item = rank_row(i, row, href_for, share, ind.format(row["value"]), medals=False)
        parent = parents.get(row["parent_code"], "")
        item.children[1].title = f"{parent} › {row['name']}（受理{row['accepted']}件）"
        if i <= 3:
            item.children[0].className = f"rank-no worst{i}"
        items.append(item)
    return html.Ol(items, className="rank-list depth-rank")


def feed(cases: list[dict]) -> html.Div:
    """The live feed (滚动播报): newest first, category, place, time and stage, and the text
    where the caller may read it; it scrolls, and pauses under the pointer."""
    if not cases:
        return html.Div(strings.FEED_EMPTY, className="feed-empty")
    items = [html.Span(className="feed-item", children=[
        html.Span(c["category"], className="feed-cat"),
        html.Span(c.get("grid_name") or "", className="feed-place"),
        html.Span(f"{c['reported_at']:%m-%d %H:%M}", className="feed-time"),
        html.Span(c["status"], className="case-status", **{"data-status": c["status"]}),
        *([html.Span(c["description"], className="feed-text")] if c.get("description") else []),
    ]) for c in cases]
    seconds = max(30, 6 * len(cases))
    return html.Div(html.Div(items + items, className="feed-track",
                             style={"animationDuration": f"{seconds}s"}), className="feed-window")
