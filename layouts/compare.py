"""Two units side by side (``/compare?a=&b=``): their KPIs, trends, categories and closed loop."""

from __future__ import annotations

import plotly.graph_objects as go
from dash import dcc, html

from dashboard import ids, strings, theme, vocab
from dashboard.indicators import INDICATORS, KPI_CARDS
from layouts import shell
from layouts.kpi import percent

COLORS = (theme.ACCENT, theme.WARN)
HOVER = "%{x}：%{customdata:,} 件（%{y:.1%}）<extra>%{fullData.name}</extra>"


def compare_screen() -> html.Div:
    controls = [dcc.Dropdown(id=cid, clearable=True, searchable=True, className="select compare-pick",
                             placeholder=strings.COMPARE_PICK) for cid in (ids.CMP_A, ids.CMP_B)]
    return shell.view_page(
        ids.CMP_VIEW, title=strings.COMPARE_TITLE, controls=controls,
        kpis=html.Div(id=ids.CMP_KPIS, className="kpi-row compare-names"),
        body=[
            _panel(strings.COMPARE_KPIS, html.Div(id=ids.CMP_TABLE, className="ranking")),
            html.Div(className="side compare-charts", children=[
                _panel(strings.COMPARE_TREND, dcc.Graph(id=ids.CMP_TREND, config=theme.GRAPH_CONFIG,
                                                        className="chart")),
                _panel(strings.COMPARE_CATEGORIES, dcc.Graph(id=ids.CMP_CATEGORIES, config=theme.GRAPH_CONFIG,
                                                             className="chart")),
            ]),
            _panel(strings.COMPARE_LOOP, html.Div(id=ids.CMP_LOOP, className="ranking")),
        ],
    )


def _panel(title: str, body) -> html.Div:
    return html.Div(className="panel", children=[html.H3(title, className="panel-title"), body])


def names(units: list[dict], chains: list[str]) -> list:
    return [html.Div(className=f"kpi compare-name side-{i}", children=[
        html.Div(strings.level_name(u["level"]), className="kpi-label"),
        html.Div(u["name"], className="kpi-value"),
        html.Div(chain, className="kpi-delta"),
    ]) for i, (u, chain) in enumerate(zip(units, chains, strict=True))]


def kpi_table(units: list[dict], values: list[dict]) -> html.Table:
    """Each KPI for both units; the better one of each row marked by the indicator's direction."""
    head = html.Tr([html.Th(strings.COMPARE_INDICATOR), *(html.Th(u["name"]) for u in units)])
    rows = []
    for key in (*KPI_CARDS, "kept_local_rate", "cases_per_10k"):
        ind = INDICATORS[key]
        pair = [v.get(key) for v in values]
        better = _better(pair, ind.higher_is_better)
        rows.append(html.Tr([html.Td(ind.label, title=ind.definition),
                             *(html.Td(ind.format(v), className="better" if i == better else "")
                               for i, v in enumerate(pair))]))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="compare-table")


def loop_table(units: list[dict], loops: list[dict]) -> html.Table:
    head = html.Tr([html.Th(""), *(html.Th(u["name"]) for u in units)])
    rows = [html.Tr([html.Td(label), *(html.Td(_loop_value(key, lp)) for lp in loops)])
            for key, label in strings.COMPARE_LOOP_ROWS.items()]
    for stage in vocab.OPEN_STATUSES:
        rows.append(html.Tr([html.Td(strings.COMPARE_STAGE_MEDIAN.format(stage=stage)),
                             *(html.Td(strings.duration_text(_median_seconds(lp, stage))) for lp in loops)]))
    return html.Table([html.Thead(head), html.Tbody(rows)], className="compare-table")


def _loop_value(key: str, lp: dict) -> str:
    if key == "open":
        return f"{sum(lp['stages'][s] for s in vocab.OPEN_STATUSES):,}"
    if key == "overdue":
        return f"{sum(lp['overdue'].values()):,}"
    if key == "kept_local_rate":
        return percent(lp["kept_local_rate"])
    return f"{lp[key]:,}"


def _median_seconds(lp: dict, stage: str):
    hours = lp["stage_times"].get(stage, {}).get("median_hours")
    return None if hours is None else hours * 3600


def _better(pair: list, higher_is_better: bool):
    if any(v is None or v != v for v in pair) or pair[0] == pair[1]:
        return None
    return int((pair[1] > pair[0]) == higher_is_better)


def trend_figure(units: list[dict], trends: list) -> go.Figure:
    fig = go.Figure([go.Scatter(x=list(t.index), y=t.tolist(), name=u["name"], mode="lines",
                                line={"color": COLORS[i], "width": 3})
                     for i, (u, t) in enumerate(zip(units, trends, strict=True))])
    fig.update_layout(template=theme.TEMPLATE, margin={"l": 48, "r": 12, "t": 30, "b": 36},
                      xaxis={"tickformat": "%m-%d", "nticks": 6, "type": "date"},
                      yaxis={"rangemode": "tozero", "tickformat": ",d"},
                      legend={"orientation": "h", "y": 1.12, "x": 0})
    return fig


def category_figure(units: list[dict], categories: list) -> go.Figure:
    """Each unit's share of its cases per category (shares, so a district and a street compare)."""
    order = list(vocab.CATEGORIES)
    fig = go.Figure()
    for i, (u, cats) in enumerate(zip(units, categories, strict=True)):
        total = int(cats.sum()) or 1
        fig.add_trace(go.Bar(x=order, y=[cats.get(c, 0) / total for c in order], name=u["name"],
                             marker={"color": COLORS[i]}, customdata=[int(cats.get(c, 0)) for c in order],
                             hovertemplate=HOVER))
    fig.update_layout(template=theme.TEMPLATE, barmode="group", margin={"l": 48, "r": 12, "t": 30, "b": 36},
                      yaxis={"tickformat": ".0%"}, legend={"orientation": "h", "y": 1.12, "x": 0})
    return fig
