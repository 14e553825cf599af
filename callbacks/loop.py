"""The closed-loop view (``/loop``): the funnel, stage times against limits, resolved-at levels,
and which child unit holds cases up.

URL, period picker, tour and errors come from ``callbacks/wiring.py``; ``panels`` is a plain
function of the service and the resolved view, so tests call it directly. The numbers are the
ones ``GET /api/v1/units/<code>/loop`` answers (both ask ``CityData.loop``).
"""

from __future__ import annotations

from dash import Output

from callbacks import wiring
from dashboard import ids, strings
from dashboard.viewstate import Filters, ViewState
from data.service import CityData
from layouts import loop
from layouts.kpi import percent, tiles


def _to_controls(state: ViewState) -> dict:
    return {"categories": list(state.filters.categories), "sources": list(state.filters.sources)}


def _from_controls(state: ViewState, values: dict) -> ViewState:
    return state.with_(filters=Filters(tuple(values["categories"] or ()), tuple(values["sources"] or ())))


SPEC = wiring.ViewSpec(
    path="/loop", ids=ids.LOOP_VIEW, drill_trace=-1,
    controls={"categories": ids.LOOP_CATEGORY, "sources": ids.LOOP_SOURCE},
    to_controls=_to_controls, from_controls=_from_controls,
)

PANELS = {
    "kpis": Output(ids.LOOP_KPIS, "children"), "funnel": Output(ids.LOOP_FUNNEL, "figure"),
    "times": Output(ids.LOOP_TIMES, "figure"), "levels": Output(ids.LOOP_LEVELS, "figure"),
    "members_title": Output(ids.LOOP_MEMBERS_TITLE, "children"),
    "members": Output(ids.LOOP_MEMBERS, "children"),
}


def register(app, data: CityData, settings) -> None:
    wiring.register_view(app, data, SPEC, panels=PANELS, render=panels)


def panels(data: CityData, vm: dict) -> dict:
    """The loop of the view's unit and period, and its members' hold-ups."""
    state, code, period = vm["state"], vm["code"], vm["period"]
    answer = data.loop(code, period, state.filters)
    open_cases = sum(answer["stages"][s] for s in answer["overdue"])
    level = strings.level_name(vm["members"][0]["level"])
    return {
        "kpis": tiles([
            ("cases", strings.LOOP_CASES, f"{answer['cases']:,}", None),
            ("open", strings.LOOP_OPEN, f"{open_cases:,}", None),
            ("overdue", strings.LOOP_OVERDUE, f"{sum(answer['overdue'].values()):,}", None),
            ("returned", strings.LOOP_RETURNED, f"{answer['returned_cases']:,}", None),
            ("kept_local", strings.LOOP_KEPT_LOCAL, percent(answer["kept_local_rate"]), None),
        ]),
        "funnel": loop.funnel_figure(answer["stages"], answer["overdue"]),
        "times": loop.times_figure(answer["stage_times"]),
        "levels": loop.levels_figure(answer["resolved_levels"]),
        "members_title": strings.LOOP_MEMBERS_TITLE.format(level=level),
        "members": loop.members(answer["members"], vm["href"]),
    }
