"""Staff additions to the wall screen: the ranking at any depth, the live feed (滚动播报), and a
click on a case dot opening that case's timeline (``/cases``).

The feed follows the data-version tick: its callback runs only when the version changes (or the
view does), so no new case means no work. The service is the caller's scoped one (app.py): the
feed of a viewer or a display carries no case text and no address.
"""

from __future__ import annotations

from dash import Input, Output, html
from dash.exceptions import PreventUpdate

from callbacks import wiring
from dashboard import ids, strings
from dashboard.indicators import INDICATORS
from data.access import Denied
from data.service import CityData, StoreUnavailable
from layouts import figures, ranking


def register(app, data: CityData) -> None:
    @app.callback(Output(ids.FEED, "children"), Input(ids.DATA_VERSION, "data"), Input(ids.URL, "search"))
    def live_feed(_version, search):
        return feed_panel(data, search)

    @app.callback(Output(ids.PAGE, "href"), Input(ids.MAP, "clickData"),
                  prevent_initial_call=True)
    def case_dot(click):
        return case_dot_href(click)


def depth_ranking_panel(data: CityData, vm: dict) -> tuple[str, object]:
    """The wall screen's ranking of every unit at ``?rank=`` below the current one, worst first
    with the minimum volume; each row opens that unit's view."""
    state, code, period = vm["state"], vm["code"], vm["period"]
    answer = data.ranking(code, period, state.filters, level=state.rank, metric=state.metric, limit=30)
    level = strings.RANK_DEPTHS[state.rank]
    title = strings.DEPTH_RANKING_TITLE.format(level=level, metric=INDICATORS[state.metric].label,
                                               min_cases=answer["min_cases"])
    if not answer["rows"]:
        return title, html.Div(strings.DEPTH_RANKING_EMPTY.format(
            level=level, min_cases=answer["min_cases"]), className="empty")
    parents = parent_names(data, {r["parent_code"] for r in answer["rows"]})
    return title, ranking.depth_ranking(answer["rows"], state.metric, vm["href"], parents)


def parent_names(data: CityData, codes) -> dict[str, str]:
    return {c: (data.unit(c) or {}).get("name", "") for c in codes if c}


def feed_panel(data: CityData, search) -> object:
    """The newest cases of the view's unit, as the scrolling feed."""
    try:
        state = wiring.parse_state(search)
        roots = data.roots()
        code = state.unit or (roots[0]["code"] if roots else None)
        if code is None or data.unit(code) is None:  # unknown; outside the scope: Denied
            raise PreventUpdate
        return ranking.feed(data.feed(code))
    except (StoreUnavailable, Denied):
        raise PreventUpdate from None


def case_dot_href(click) -> str:
    """A click on a case dot (at a grid) opens its timeline in the case list."""
    point = ((click or {}).get("points") or [{}])[0]
    custom = point.get("customdata") or []
    if point.get("curveNumber") != figures.POINTS_TRACE or len(custom) < 5 or not custom[3]:
        raise PreventUpdate
    return ranking.case_href({"external_id": custom[3], "grid_code": custom[4]})
