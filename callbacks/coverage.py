"""The camera coverage view (``/coverage``): its panels.

URL, period picker, drill, tour and errors come from ``callbacks/wiring.py``; ``panels`` is a
plain function of the resolved view and the service's answer, so tests call it directly.
"""

from __future__ import annotations

from dash import Output

from callbacks import wiring
from dashboard import ids, strings
from data.service import CityData
from layouts import coverage
from layouts.kpi import percent, tiles

VIEW = wiring.ViewSpec(path="/coverage", ids=ids.COV_VIEW)

PANELS = {
    "kpis": Output(ids.COV_KPIS, "children"), "map": Output(ids.COV_MAP, "figure"),
    "note": Output(ids.COV_NOTE, "children"), "note_hidden": Output(ids.COV_NOTE, "hidden"),
    "ranking_title": Output(ids.COV_RANKING_TITLE, "children"),
    "ranking": Output(ids.COV_RANKING, "children"),
    "suggestions": Output(ids.COV_SUGGESTIONS, "children"), "places": Output(ids.COV_PLACES, "children"),
}


def register(app, data: CityData, settings) -> None:
    style = wiring.map_style(settings)

    def render(data, vm):
        answer = data.coverage(vm["code"], vm["period"])
        # City and district: members coloured by coverage; view sectors from street level down.
        limit = coverage.VIEW_LIMIT if vm["unit"]["level"] not in coverage.AGGREGATED_LEVELS else -1
        return panels(vm, answer, data.coverage_drawing(answer, limit), style=style)

    wiring.register_view(app, data, VIEW, panels=PANELS, render=render)


def panels(vm: dict, answer: dict, drawing: dict, *, style: dict) -> dict:
    """The coverage view's panels: KPI tiles, the map, the members ranked, the suggested sites and
    the uncovered key places."""
    code = vm["code"]
    level = strings.level_name(vm["members"][0]["level"])
    names = {m["code"]: m for m in vm["members"]}
    members = [{**m, "name": names[m["code"]]["name"]} for m in answer["members"]]
    sites = [{**s, "text": strings.suggestion_text(s, names[s["member"]]["name"])}
             for s in answer["suggestions"]]
    places = [{**p, "unit": names[m["code"]]["name"]} for m in answer["members"]
              for p in m["uncovered_place_list"]]
    figure = coverage.coverage_map(
        geojson_url=f"/geo/{code}.geojson?v={vm['geometry'].etag}", members=members,
        bounds=vm["geometry"].bounds, drill_key=code, style=style, views_geojson=drawing["views"],
        view_status=drawing["status"], cameras=drawing["cameras"], blind_geojson=drawing["blind"],
        places=places, sites=sites, labels=vm["geometry"].labels, screen=vm.get("screen"),
    )
    return {
        "kpis": tiles([(k, label, v, definition) for (k, (label, definition)), v
                       in zip(strings.COVERAGE_KPIS.items(), _kpi_values(answer["total"]), strict=True)]),
        "map": figure, "note": _note(vm), "note_hidden": drawing["drawn"],
        "ranking_title": strings.COVERAGE_RANK_TITLE.format(level=level),
        "ranking": coverage.ranking(members, vm["href"]),
        "suggestions": coverage.suggestion_list(sites), "places": coverage.place_list(places),
    }


def _kpi_values(total: dict) -> list[str]:
    """The headline tiles' texts, in the order of ``strings.COVERAGE_KPIS``."""
    places, cases = total["key_places"], total["cases"]
    values = {
        "places_in_view": percent((places - total["uncovered_places"]) / places if places else None),
        "cases_in_view": percent((cases - total["blind_cases"]) / cases if cases else None),
        "people_share": percent(total.get("people_share")),
        "online_rate": percent(total["online_rate"]),
        "uncovered_places": f"{total['uncovered_places']:,} / {total['key_places']:,}",
        "blind_cases": f"{total['blind_cases']:,}",
    }
    return [values[k] for k in strings.COVERAGE_KPIS]


def _note(vm: dict) -> str:
    if vm["unit"]["level"] in coverage.AGGREGATED_LEVELS:
        return strings.CAMERAS_AGGREGATED
    return strings.CAMERAS_POINTS_ONLY
