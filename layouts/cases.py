"""The case list and one case's closed-loop timeline (``/cases``): page skeleton, the grid's
columns, the timeline panel and the small map of the open case's place.

Case text is passed as text: Dash escapes it, and the grid renders cell values as text too.
"""

from __future__ import annotations

from collections.abc import Collection

import dash_ag_grid as dag
import plotly.graph_objects as go
from dash import dcc, html

from dashboard import ids, strings, theme, vocab
from geo.viewport import fit_bounds
from layouts import maps, shell

PAGE_SIZE = 50
MAP_PX = (560, 210)  # the case map's size at 1920×1080 (30vw × 20vh, less the panel's padding)
SORTABLE = {"external_id", "reported_at", "category", "subcategory", "status", "source", "deadline",
            "returned_count", "department"}
_WIDTHS = {"external_id": 190, "reported_at": 150, "category": 100, "subcategory": 100, "status": 100,
           "grid_name": 170, "source": 120, "deadline": 150, "returned_count": 80, "department": 120}


def cases_screen(fields: Collection[str] | None = None) -> html.Div:
    """The case list and timeline; ``fields`` limits the list's columns to what the role may see
    (``None``: every column)."""
    controls = [
        dcc.Dropdown(id=ids.CASES_STATUS, multi=True, searchable=False, className="select",
                     placeholder=strings.STATUS_PLACEHOLDER,
                     options=[{"label": s, "value": s} for s in vocab.STATUSES]),
        dcc.Dropdown(id=ids.CASES_CATEGORY, multi=True, searchable=False, className="select",
                     placeholder=strings.CATEGORY_PLACEHOLDER,
                     options=[{"label": c, "value": c} for c in vocab.CATEGORIES]),
        dcc.Dropdown(id=ids.CASES_SOURCE, multi=True, searchable=False, className="select",
                     placeholder=strings.SOURCE_PLACEHOLDER,
                     options=[{"label": s, "value": s} for s in vocab.SOURCES]),
        dcc.Checklist(id=ids.CASES_OVERDUE, className="periods overdue-only",
                      options=[{"label": strings.OVERDUE_ONLY, "value": "1"}]),
        dcc.Input(id=ids.CASES_SEARCH, type="search", debounce=True, className="case-search",
                  placeholder=strings.SEARCH_PLACEHOLDER, maxLength=100),
    ]
    return shell.view_page(
        ids.CASES_VIEW, title=strings.CASES_TITLE, controls=controls,
        extra=(dcc.Store(id=ids.CASES_LIST_KEY), dcc.Store(id=ids.CASES_LIST_KEY_SEEN)),
        kpis=html.Div(id=ids.CASES_KPIS, className="kpi-row tiles-4"),
        body=[
            html.Div(className="panel cases-panel", children=[case_grid(fields)]),
            html.Div(className="panel timeline-panel", children=[
                html.H3(strings.TIMELINE_TITLE, id=ids.CASES_TIMELINE_TITLE, className="panel-title"),
                dcc.Graph(id=ids.CASES_MAP, config=theme.GRAPH_CONFIG, className="case-map",
                          style={"display": "none"}),
                html.Div(id=ids.CASES_TIMELINE, className="timeline"),
            ]),
        ],
    )


def case_grid(fields: Collection[str] | None = None) -> dag.AgGrid:
    """The case table: rows come a page at a time from the server (the infinite row model with
    paging), sorted by the database; nothing is filtered or sorted in the browser."""
    columns = [{"field": key, "headerName": label, "sortable": key in SORTABLE,
                "width": _WIDTHS.get(key, 120)} for key, label in strings.CASE_COLUMNS.items()
               if fields is None or key in fields]
    for column in columns:
        if column["field"] == "reported_at":
            column["sort"] = "desc"  # newest first, as the API
    return dag.AgGrid(
        id=ids.CASES_GRID, rowModelType="infinite", columnDefs=columns,
        # Fewer columns (a role without case text) share the table's width.
        **({} if fields is None else {"columnSize": "responsiveSizeToFit"}),
        defaultColDef={"resizable": True, "suppressHeaderMenuButton": True},
        getRowId="params.data.row_key",
        dashGridOptions={"pagination": True, "paginationPageSize": PAGE_SIZE, "cacheBlockSize": PAGE_SIZE,
                         "paginationPageSizeSelector": False, "maxBlocksInCache": 4,
                         "rowSelection": {"mode": "singleRow", "checkboxes": False,
                                          "enableClickSelection": True},
                         "localeText": LOCALE, "suppressCellFocus": True, "theme": {"function": THEME}},
        style={"height": "100%", "width": "100%"},
    )


# The dark theme of the screens (AG Grid's theming API; no stylesheet is fetched).
THEME = (f"themeQuartz.withParams({{backgroundColor: '{theme.PANEL}', foregroundColor: '{theme.TEXT}', "
         f"accentColor: '{theme.ACCENT}', headerBackgroundColor: '#0f2647', borderColor: '#1d3f6e', "
         "fontSize: 15, headerFontSize: 15, fontFamily: 'inherit', rowHeight: 36})")

# The grid's own words, in Chinese.
LOCALE = {"page": "第", "to": "至", "of": "共", "more": "更多", "next": "下一页", "last": "末页",
          "first": "首页", "previous": "上一页", "loadingOoo": "加载中…",
          "noRowsToShow": "没有符合条件的事件",
          "pageLastRowUnknown": "?", "firstPage": "首页", "lastPage": "末页", "nextPage": "下一页",
          "previousPage": "上一页"}


def grid_rows(cases: list[dict], start: int = 0) -> list[dict]:
    """The grid's rows: times as text, nothing else but the columns, and ``row_key`` (the case's
    id, which a click opens; a stripped record has none: its place in the list, ``#n``)."""
    out = []
    for i, c in enumerate(cases, start=start):
        row = {k: c.get(k) for k in strings.CASE_COLUMNS}
        for key in ("reported_at", "deadline"):
            row[key] = f"{c[key]:%Y-%m-%d %H:%M}" if c.get(key) else ""
        row["row_key"] = c.get("external_id") or f"#{i}"
        out.append(row)
    return out


def timeline(case: dict | None, *, now, sees_cases: bool = True) -> list:
    """One case: its facts, a stage bar (each stage's share of the time, coloured by whether it
    kept its limit) and the list of stages with time, actor, duration against limit, by round.
    With no case open: how to open one, or (``sees_cases`` false) what the list leaves out."""
    if case is None:
        return [html.Div(strings.TIMELINE_HINT if sees_cases else strings.CASES_PUBLIC_HINT,
                         className="empty")]
    stages = case["stages"]
    facts = [
        html.Div(className="case-facts-head", children=[
            html.Span(case["external_id"], className="case-id"),
            html.Span(case["status"], className="case-status", **{"data-status": case["status"]}),
            html.Span(f"{case['category']} · {case.get('subcategory') or ''}", className="case-cat"),
        ]),
        html.Div(case.get("description") or "", className="case-text"),
        html.Dl(className="case-facts", children=[
            *_fact(strings.CASE_PLACE, " › ".join(u["name"] for u in case.get("units", [])[1:])
                   or case.get("grid_name") or "—"),
            *_fact(strings.CASE_SOURCE, case.get("source") or "—"),
            *_fact(strings.CASE_DEPARTMENT, case.get("department") or "—"),
            *_fact(strings.DEADLINE.format(at=""), f"{case['deadline']:%Y-%m-%d %H:%M}"
                   if case.get("deadline") else "—"),
        ]),
    ]
    return [*facts, stage_bar(stages), stage_list(stages, case.get("returned_count") or 0)]


def _fact(label: str, value: str) -> list:
    return [html.Dt(label.strip()), html.Dd(value)]


def stage_bar(stages: list[dict]) -> html.Div:
    """Stages side by side, widths by the square root of their durations (a long wait stays
    visible without hiding the short steps), coloured by limit kept, missed or not measured."""
    timed = [s for s in stages if s["seconds"] is not None]
    weights = [max(s["seconds"], 60) ** 0.5 for s in timed]
    total = sum(weights) or 1
    segments = []
    for s, w in zip(timed, weights, strict=True):
        state = {True: "ok", False: "late"}.get(s["within_limit"], "plain")
        segments.append(html.Div(
            className=f"stage-seg {state}" + (" returned" if s["status"] == vocab.RETURNED else ""),
            style={"flexGrow": f"{w / total:.4f}"},
            title=f"{s['status']} · {strings.duration_text(s['seconds'])}",
            children=html.Span(s["status"], className="stage-seg-label"),
        ))
    return html.Div(segments, className="stage-bar")


def stage_list(stages: list[dict], returns: int) -> html.Ol:
    items, shown_round = [], 0
    for s in stages:
        if s["round"] != shown_round:
            shown_round = s["round"]
            label = (strings.ROUND.format(n=1) if shown_round == 1
                     else strings.ROUND_AFTER_RETURN.format(n=shown_round))
            items.append(html.Li(label, className="round-head", **{"data-round": str(shown_round)}))
        items.append(_stage_item(s))
    if returns:
        items.append(html.Li(strings.CASE_RETURNS.format(n=returns), className="round-foot"))
    return html.Ol(items, className="stage-list")


def _stage_item(s: dict) -> html.Li:
    took = strings.duration_text(s["seconds"])
    when = strings.STAGE_ONGOING.format(took=took) if s["ongoing"] else strings.STAGE_TOOK.format(took=took)
    badges = []
    if s["status"] == vocab.CLOSED and s["within_limit"] is not None:
        badges.append(html.Span(strings.DEADLINE_MET if s["within_limit"] else strings.DEADLINE_MISSED,
                                className="ok" if s["within_limit"] else "late"))
    elif s["within_limit"] is not None:
        badges.append(html.Span(strings.STAGE_LIMIT.format(limit=strings.duration_text(s["limit_seconds"])),
                                className="limit"))
        badges.append(html.Span(strings.WITHIN_LIMIT if s["within_limit"] else strings.OVER_LIMIT,
                                className="ok" if s["within_limit"] else "late"))
    state = {True: "ok", False: "late"}.get(s["within_limit"], "plain")
    return html.Li(className=f"stage {state}", **{"data-status": s["status"]}, children=[
        html.Div(className="stage-head", children=[
            html.Span(s["status"], className="stage-name"),
            html.Span(f"{s['at']:%Y-%m-%d %H:%M}", className="stage-time"),
            html.Span(s.get("actor") or "", className="stage-actor"),
        ]),
        html.Div(className="stage-meta", children=[html.Span(when if s["status"] != vocab.CLOSED else ""),
                                                   *badges]),
        *([html.Div(s["note"], className="stage-note")] if s.get("note") else []),
    ])


def case_map(case: dict | None, *, bounds, style: dict) -> tuple[go.Figure, dict]:
    """The open case's grid with its point; hidden when no case is open or it has no point."""
    if case is None or case.get("lon") is None or not case.get("grid_code"):
        return go.Figure(), {"display": "none"}
    grid = {"code": case["grid_code"], "name": case.get("grid_name") or case["grid_code"]}
    fig = maps.base_map(geojson_url=f"/geo/{grid['code']}.geojson", members=[grid], bounds=bounds,
                        drill_key=case["external_id"], style=style)
    fig.add_trace(go.Scattermap(lon=[case["lon"]], lat=[case["lat"]], mode="markers", hoverinfo="skip",
                                marker={"size": 14, "color": theme.STATUS_COLORS.get(case["status"],
                                                                                      theme.ACCENT)}))
    fig.update_layout(map=fit_bounds(bounds, *MAP_PX))  # the small map beside the timeline
    return fig, {}
