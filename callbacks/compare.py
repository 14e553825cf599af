"""Two units side by side (``/compare?a=&b=``): KPIs, trends, categories and the closed loop,
all from the same service as every other view.

URL, period picker and errors come from ``callbacks/wiring.py``; the two unit pickers write
``a`` and ``b`` to the URL (``picked_url``). ``panels`` is a plain function tests call directly.
"""

from __future__ import annotations

from dash import Input, Output, State
from dash.exceptions import PreventUpdate

from callbacks import wiring
from dashboard import ids, strings
from data.access import Denied
from data.service import CityData
from layouts import compare

SPEC = wiring.ViewSpec(path="/compare", ids=ids.CMP_VIEW, drill_trace=-1)

PANELS = {
    "names": Output(ids.CMP_KPIS, "children"), "table": Output(ids.CMP_TABLE, "children"),
    "trend": Output(ids.CMP_TREND, "figure"), "categories": Output(ids.CMP_CATEGORIES, "figure"),
    "loop": Output(ids.CMP_LOOP, "children"), "options_a": Output(ids.CMP_A, "options"),
    "options_b": Output(ids.CMP_B, "options"), "a": Output(ids.CMP_A, "value"),
    "b": Output(ids.CMP_B, "value"),
}


def register(app, data: CityData, settings) -> None:
    # The pickers get their choices and values from the render (with the URL's units among the
    # choices, so a shared link keeps them); a pick writes the URL.
    wiring.register_view(app, data, SPEC, panels=PANELS, render=panels)

    @app.callback(Output(ids.CMP_URL, "search", allow_duplicate=True), Input(ids.CMP_A, "value"),
                  Input(ids.CMP_B, "value"), State(ids.CMP_URL, "search"), prevent_initial_call=True)
    def pick(a, b, search):
        return picked_url(a, b, search)


def picked_url(a, b, search) -> str:
    """The URL after a pick; nothing when the pickers only show what the URL already says."""
    state = wiring.parse_state(search)
    new = state.with_(a=a or None, b=b or None)
    if new == state:
        raise PreventUpdate
    return new.to_query()


def unit_options(data: CityData, picked: list[str]) -> list[dict]:
    """The pickers' choices: the city, its districts and their streets, and the picked units."""
    options, seen = [], set()

    def add(unit, depth):
        if unit["code"] not in seen:
            seen.add(unit["code"])
            options.append({"label": "　" * depth + unit["name"], "value": unit["code"]})

    for root in data.roots():
        add(root, 0)
        for district in data.children(root["code"]):
            add(district, 1)
            for street in data.children(district["code"]):
                add(street, 2)
    for code in picked:
        if (unit := visible_unit(data, code)) is not None:
            add(unit, 0)
    return options


def visible_unit(data: CityData, code: str) -> dict | None:
    """The unit if it exists and the caller may see it."""
    try:
        return data.unit(code)
    except Denied:
        return None


def panels(data: CityData, vm: dict) -> dict:
    state, period = vm["state"], vm["period"]
    picked = [c for c in (state.a, state.b) if c]
    options = unit_options(data, picked)
    units = [visible_unit(data, c) for c in picked]
    if len(units) < 2 or None in units:
        return {"names": [], "table": strings.COMPARE_HINT, "loop": "", "options_a": options,
                "options_b": options, "a": state.a, "b": state.b, "trend": compare.trend_figure([], []),
                "categories": compare.category_figure([], [])}
    codes = [u["code"] for u in units]
    values = [data.kpis(c, period, state.filters)["values"] for c in codes]
    chains = [" › ".join(u["name"] for u in data.ancestors(c)[:-1]) for c in codes]
    return {
        "names": compare.names(units, chains), "table": compare.kpi_table(units, values),
        "trend": compare.trend_figure(units, [data.trend(c, period.last, state.filters) for c in codes]),
        "categories": compare.category_figure(units, [data.categories(c, period, state.filters)
                                                      for c in codes]),
        "loop": compare.loop_table(units, [data.loop(c, period, state.filters) for c in codes]),
        "options_a": options, "options_b": options, "a": state.a, "b": state.b,
    }
