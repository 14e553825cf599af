"""The closed-loop view (``/loop``): where a unit's cases are now, how long each stage takes
against its limit, at which level they were resolved, and which child unit holds them up."""

from __future__ import annotations

import plotly.graph_objects as go
from dash import dcc, html

from dashboard import ids, strings, theme, vocab
from layouts import shell
from layouts.ranking import rank_row


def loop_screen() -> html.Div:
    controls = [
        dcc.Dropdown(id=ids.LOOP_CATEGORY, multi=True, searchable=False, className="select",
                     placeholder=strings.CATEGORY_PLACEHOLDER,
                     options=[{"label": c, "value": c} for c in vocab.CATEGORIES]),
        dcc.Dropdown(id=ids.LOOP_SOURCE, multi=True, searchable=False, className="select",
                     placeholder=strings.SOURCE_PLACEHOLDER,
                     options=[{"label": s, "value": s} for s in vocab.SOURCES]),
    ]
    return shell.view_page(
        ids.LOOP_VIEW, title=strings.LOOP_TITLE, controls=controls,
        kpis=html.Div(id=ids.LOOP_KPIS, className="kpi-row tiles-5"),
        body=[
            html.Div(className="side loop-side", children=[
                _panel(strings.LOOP_FUNNEL_TITLE, dcc.Graph(id=ids.LOOP_FUNNEL, config=theme.GRAPH_CONFIG,
                                                            className="chart")),
                _panel(strings.LOOP_LEVELS_TITLE, dcc.Graph(id=ids.LOOP_LEVELS, config=theme.GRAPH_CONFIG,
                                                            className="chart")),
            ]),
            _panel(strings.LOOP_TIMES_TITLE, dcc.Graph(id=ids.LOOP_TIMES, config=theme.GRAPH_CONFIG,
                                                       className="chart")),
            shell.side_panel(ids.LOOP_MEMBERS_TITLE, ids.LOOP_MEMBERS),
        ],
    )


def _panel(title: str, body) -> html.Div:
    return html.Div(className="panel", children=[html.H3(title, className="panel-title"), body])


def funnel_figure(stages: dict[str, int], overdue: dict[str, int]) -> go.Figure:
    """Cases now at each stage of the loop, the overdue share of each open stage marked."""
    names = list(vocab.STATUSES)
    counts = [stages.get(s, 0) for s in names]
    late = [overdue.get(s, 0) for s in names]
    fig = go.Figure(go.Bar(
        y=names[::-1], x=counts[::-1], orientation="h", name=strings.LOOP_CASES,
        marker={"color": [theme.STATUS_COLORS.get(s, theme.ACCENT) for s in names[::-1]]},
        text=[f"{n:,}" for n in counts[::-1]], textposition="outside", cliponaxis=False,
        customdata=[strings.LOOP_OVERDUE_OF.format(n=n) if s in vocab.OPEN_STATUSES else ""
                    for s, n in zip(names[::-1], late[::-1], strict=True)],
        hovertemplate="%{y}：%{x:,} 件<br>%{customdata}<extra></extra>",
    ))
    fig.update_layout(template=theme.TEMPLATE, margin={"l": 80, "r": 60, "t": 4, "b": 24}, showlegend=False,
                      xaxis={"type": "log", "showgrid": False, "showticklabels": False}, bargap=0.3)
    return fig


def times_figure(times: dict[str, dict]) -> go.Figure:
    """Median and 90th-percentile hours per stage, with each stage's limit as a marker."""
    stages = [s for s in vocab.OPEN_STATUSES if s in times]
    median = [times[s]["median_hours"] for s in stages]
    p90 = [times[s]["p90_hours"] for s in stages]
    limit = [times[s]["limit_hours"] for s in stages]
    fig = go.Figure([
        go.Bar(x=stages, y=median, name=strings.LOOP_MEDIAN, marker={"color": theme.ACCENT},
               hovertemplate="%{x} " + strings.LOOP_MEDIAN + " %{y:.1f} 小时<extra></extra>"),
        go.Bar(x=stages, y=p90, name=strings.LOOP_P90, marker={"color": "#1f77b4"},
               hovertemplate="%{x} " + strings.LOOP_P90 + " %{y:.1f} 小时<extra></extra>"),
        go.Scatter(x=stages, y=limit, name=strings.LOOP_LIMIT, mode="markers",
                   marker={"symbol": "line-ew-open", "size": 46, "color": theme.BAD, "line": {"width": 3}},
                   hovertemplate="%{x} " + strings.LOOP_LIMIT + " %{y:.0f} 小时<extra></extra>"),
    ])
    fig.update_layout(template=theme.TEMPLATE, barmode="group", margin={"l": 56, "r": 12, "t": 30, "b": 36},
                      yaxis={"type": "log", "title": {"text": "小时"}},
                      legend={"orientation": "h", "y": 1.08, "x": 0})
    return fig


def levels_figure(levels: dict[str, int]) -> go.Figure:
    names = list(levels)
    local = set(vocab.LOCAL_RESOLVED_LEVELS)
    fig = go.Figure(go.Bar(
        x=names, y=[levels[n] for n in names], text=[f"{levels[n]:,}" for n in names],
        textposition="outside", cliponaxis=False,
        marker={"color": [theme.GOOD if n in local else theme.WARN for n in names]},
        hovertemplate="%{x}：%{y:,} 件<extra></extra>",
    ))
    fig.update_layout(template=theme.TEMPLATE, margin={"l": 40, "r": 12, "t": 16, "b": 36},
                      yaxis={"showgrid": False, "showticklabels": False})
    return fig


def members(rows: list[dict], href_for) -> html.Ol:
    """Child units, most overdue first: open, overdue and returned cases, and the stage most of
    the open ones wait at."""
    top = max((r["open"] for r in rows), default=0) or 1
    items = []
    for i, r in enumerate(rows, start=1):
        stuck = max(r["stages"].items(), key=lambda kv: kv[1]) if r["open"] else None
        note = html.Div(
            [html.Span(strings.LOOP_MEMBER_ROW.format(open=r["open"], overdue=r["overdue"],
                                                      returned=r["returned_cases"])),
             *([html.Span(strings.LOOP_STUCK_AT.format(stage=stuck[0], n=stuck[1]), className="stuck")]
               if stuck else [])],
            className="loop-member-note")
        items.append(rank_row(i, r, href_for, r["open"] / top, f"{r['overdue']:,}", note, medals=False))
    return html.Ol(items, className="rank-list loop-members")
