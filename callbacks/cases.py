"""The case list and one case's timeline (``/cases``).

URL, period picker, tour and errors come from ``callbacks/wiring.py``. The grid asks for one page
at a time (``rows_for``): the database filters, sorts and cuts it. A click on a row puts the case
in the URL (``?case=``), and the render shows its timeline, so a link opens the same case.
Access: app.py hands these callbacks ``auth.request_data(data)``: the caller's scope, and one case
needs "cases" (``data/scoped.py``); a refusal shows in the error banner. A caller without "cases"
(a viewer) gets the list stripped to what ``access.public_case`` keeps: no id, text, address or
point, so no row opens a case; the grid orders it only by the fields it shows.
"""

from __future__ import annotations

from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from callbacks import wiring
from dashboard import ids, strings, vocab
from dashboard.domain import CaseQuery
from dashboard.viewstate import BadRequest, Filters, HeatFilters, ViewState
from data.access import PUBLIC_CASE_FIELDS, Denied
from data.service import CityData, StoreUnavailable
from layouts import cases, figures
from layouts.kpi import tiles

GRID_SORTS = cases.SORTABLE


def _to_controls(state: ViewState) -> dict:
    return {"statuses": list(state.heat.statuses), "categories": list(state.filters.categories),
            "sources": list(state.filters.sources), "overdue": ["1"] if state.overdue else [],
            "q": state.q}


def _from_controls(state: ViewState, values: dict) -> ViewState:
    filters = Filters(tuple(values["categories"] or ()), tuple(values["sources"] or ()))
    h = state.heat
    heat = HeatFilters(h.subcategories, filters.sources, tuple(values["statuses"] or ()), h.hours)
    return state.with_(filters=filters, heat=heat, overdue=bool(values["overdue"]),
                       q=(values["q"] or "").strip()[:100])


SPEC = wiring.ViewSpec(
    path="/cases", ids=ids.CASES_VIEW, drill_trace=-1,
    controls={"statuses": ids.CASES_STATUS, "categories": ids.CASES_CATEGORY, "sources": ids.CASES_SOURCE,
              "overdue": ids.CASES_OVERDUE, "q": ids.CASES_SEARCH},
    to_controls=_to_controls, from_controls=_from_controls,
)

PANELS = {
    "kpis": Output(ids.CASES_KPIS, "children"), "timeline": Output(ids.CASES_TIMELINE, "children"),
    "case_map": Output(ids.CASES_MAP, "figure"), "case_map_style": Output(ids.CASES_MAP, "style"),
    "list_key": Output(ids.CASES_LIST_KEY, "data"),
}

# Refill the grid from page one when the list's unit, period or filters change (not the open case).
PURGE_ON_NEW_LIST = """
function(key, seen) {
    if (key !== seen && window.dash_ag_grid) {
        window.dash_ag_grid.getApiAsync('GRID').then(function (api) { api.purgeInfiniteCache(); });
    }
    return key;
}
""".replace("GRID", ids.CASES_GRID)


def register(app, data: CityData, settings) -> None:
    style = figures.map_style(settings.tile_url, settings.tile_attribution)

    def render(data, vm):
        return panels(data, vm, style=style)

    wiring.register_view(app, data, SPEC, panels=PANELS, render=render)

    @app.callback(Output(ids.CASES_GRID, "getRowsResponse"), Input(ids.CASES_GRID, "getRowsRequest"),
                  State(ids.CASES_URL, "search"))
    def grid_rows(request, search):
        return rows_for(data, request, search)

    @app.callback(Output(ids.CASES_URL, "search", allow_duplicate=True), Input(ids.CASES_GRID, "cellClicked"),
                  State(ids.CASES_URL, "search"), prevent_initial_call=True)
    def open_case(cell, search):
        return opened(cell, search)

    app.clientside_callback(PURGE_ON_NEW_LIST, Output(ids.CASES_LIST_KEY_SEEN, "data"),
                            Input(ids.CASES_LIST_KEY, "data"), State(ids.CASES_LIST_KEY_SEEN, "data"))


def list_query(state: ViewState, **changes) -> CaseQuery:
    """The case list's filters for a view state (``changes``: sort and page)."""
    return CaseQuery(filters=state.filters, statuses=state.heat.statuses, overdue=state.overdue,
                     text=state.q, **changes)


def panels(data: CityData, vm: dict, *, style: dict) -> dict:
    """Counts of the list, the open case's timeline and map, and the list's key."""
    state, code, period = vm["state"], vm["code"], vm["period"]
    listed = data.case_page(code, period, list_query(state, per_page=1))["total"]
    accepted = data.kpis(code, period, state.filters)["counts"]["accepted"]
    def count(**kw):
        return data.case_page(code, period, CaseQuery(filters=state.filters, per_page=1, **kw))
    open_now = count(statuses=vocab.OPEN_STATUSES)["total"]
    overdue = count(overdue=True)["total"]
    case = open_case_detail(data, state.case)
    figure, map_style = cases.case_map(case, bounds=_case_bounds(data, case), style=style)
    return {
        "kpis": tiles([
            ("listed", strings.CASES_MATCHING, f"{listed:,}", None),
            ("accepted", strings.CASES_ACCEPTED, f"{int(accepted):,}", None),
            ("open", strings.CASES_OPEN, f"{open_now:,}", None),
            ("overdue", strings.CASES_OVERDUE, f"{overdue:,}", None),
        ]),
        "timeline": cases.timeline(case, now=data.as_of(), sees_cases=sees_cases(data))
        if case or not state.case
        else [strings.CASE_NOT_FOUND.format(id=state.case)],
        "case_map": figure, "case_map_style": map_style,
        "list_key": state.with_(case=None).to_query(),
    }


def sees_cases(data) -> bool:
    """Whether the caller sees case records whole (the unscoped service: yes)."""
    principal = getattr(data, "principal", None)
    return principal is None or principal.sees_cases


def open_case_detail(data: CityData, external_id: str | None) -> dict | None:
    """The open case with its timeline and its point as lon/lat (``None`` if unknown; refused
    by the scoped service outside the caller's scope or role)."""
    if not external_id:
        return None
    return data.case(external_id)


def _case_bounds(data: CityData, case: dict | None):
    if case is None or not case.get("grid_code") or case.get("lon") is None:
        return None
    return data.children_geometry(case["grid_code"]).bounds


def rows_for(data: CityData, request: dict | None, search) -> dict:
    """One block of the grid: the rows ``startRow``–``endRow`` in the grid's sort order, and the
    total so the pager knows the last page."""
    if not request:
        raise PreventUpdate
    try:
        vm = wiring.resolve(data, search)
        if "error" in vm:
            raise PreventUpdate
        start, end = int(request.get("startRow", 0)), int(request.get("endRow", cases.PAGE_SIZE))
        per_page = max(1, min(end - start, 500))
        sortable = GRID_SORTS if sees_cases(data) else GRID_SORTS & set(PUBLIC_CASE_FIELDS)
        sort = next((s for s in request.get("sortModel") or [] if s.get("colId") in sortable), None)
        order = {"sort": sort["colId"], "descending": sort.get("sort") == "desc"} if sort else {}
        query = list_query(vm["state"], page=start // per_page + 1, per_page=per_page, **order)
        page = data.case_page(vm["code"], vm["period"], query)
    except (StoreUnavailable, BadRequest, Denied):
        raise PreventUpdate from None
    return {"rowData": cases.grid_rows(page["cases"], start),
            "rowCount": page["total"]}


def opened(cell: dict | None, search) -> str:
    """The URL with the clicked row's case open."""
    external_id = (cell or {}).get("rowId")
    if not external_id or external_id.startswith("#"):  # a stripped record opens nothing
        raise PreventUpdate
    state = wiring.parse_state(search)
    if state.case == external_id:
        raise PreventUpdate
    return state.with_(case=external_id).to_query()
