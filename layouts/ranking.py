"""The ranking of child units and, at a grid, the list of its newest cases."""

from __future__ import annotations

import math

from dash import dcc, html

from dashboard import strings
from dashboard.indicators import INDICATORS


def ranking(rows: list[dict], metric: str, href_for) -> html.Ol:
    """Children best-to-worst by ``metric`` (units with no value last), each a drill link."""
    ind = INDICATORS[metric]
    known = [r for r in rows if _known(r.get(metric))]
    unknown = [r for r in rows if not _known(r.get(metric))]
    known.sort(key=lambda r: r[metric], reverse=True)
    top = max((abs(r[metric]) for r in known), default=0) or 1
    items = []
    for i, row in enumerate(known + unknown, start=1):
        value = row.get(metric)
        share = abs(value) / top * 100 if _known(value) else 0
        items.append(html.Li(className="rank-row", children=[
            html.Span(str(i), className=f"rank-no top{i}" if i <= 3 else "rank-no"),
            dcc.Link(row["name"], href=href_for(row["code"]), className="rank-name",
                     title=strings.CLICK_TO_DRILL),
            html.Span(className="rank-bar", children=html.Span(style={"width": f"{share:.0f}%"})),
            html.Span(ind.format(value), className="rank-value"),
        ]))
    return html.Ol(items, className="rank-list")


def recent_cases(cases: list[dict]) -> html.Div:
    """Newest cases first. Case text is passed as text: Dash escapes it, never renders HTML."""
    if not cases:
        return html.Div(strings.NO_CASES, className="empty")
    return html.Ul(className="case-list", children=[
        html.Li(className="case-row", children=[
            html.Div(className="case-head", children=[
                html.Span(c["category"], className="case-cat"),
                html.Span(c["status"], className="case-status", **{"data-status": c["status"]}),
                html.Span(f"{c['reported_at']:%m-%d %H:%M}", className="case-time"),
            ]),
            html.Div(c.get("description") or "", className="case-text"),
        ])
        for c in cases
    ])


def alarms(cases: list[dict], now) -> html.Div:
    """Overdue cases (how long past the deadline) and high-risk disputes, as text."""
    if not cases:
        return html.Div(strings.NO_ALARMS, className="empty")
    rows = []
    for c in cases:
        late = now - c["deadline"] if c.get("deadline") and c["deadline"] < now else None
        if late is None:
            tag = strings.HIGH_RISK
        elif late.days >= 1:
            tag = strings.OVERDUE_BY.format(days=late.days)
        else:
            tag = strings.OVERDUE_HOURS.format(hours=max(1, late.seconds // 3600))
        rows.append(html.Li(className="case-row", children=[
            html.Div(className="case-head", children=[
                html.Span(tag, className="alarm-tag"),
                html.Span(f"{c['category']} · {c.get('subcategory') or ''}", className="case-cat"),
                html.Span(c["status"], className="case-status", **{"data-status": c["status"]}),
                html.Span(f"{c['reported_at']:%m-%d %H:%M}", className="case-time"),
            ]),
            html.Div(c.get("description") or "", className="case-text"),
        ]))
    return html.Ul(rows, className="case-list alarm-list")


def _known(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))
