"""The staff views' callback bodies, called directly on the demo city (both stores): the case
grid's pages and sorting, opening a case, its timeline panel, the ranking at depth, the feed and a
click on a case dot."""

from __future__ import annotations

import pytest
from dash.exceptions import PreventUpdate

from callbacks import cases as cases_view
from callbacks import staff, wiring
from dashboard import strings, vocab
from dashboard.domain import CaseQuery
from data import queries
from data.access import PUBLIC_CASE_FIELDS, Denied, Principal
from data.scoped import ScopedData

PERIOD = "period=custom&from=2026-10-22&to=2026-11-20"


@pytest.fixture(scope="module")
def data(demo_client):
    return demo_client.application.config["CITYBRAIN_DATA"]


@pytest.fixture(scope="module")
def city(demo_store):
    with demo_store.engine.connect() as conn:
        return queries.roots(conn)[0]["code"]


def _ids(client, query):
    return [c["external_id"] for c in client.get(f"/api/v1/cases?{query}").json["cases"]]


@pytest.mark.parametrize("sort_model,api_sort", [
    ([{"colId": "reported_at", "sort": "desc"}], "-reported_at"),
    ([{"colId": "deadline", "sort": "asc"}], "deadline"),
    ([{"colId": "returned_count", "sort": "desc"}], "-returned_count"),
    ([], "-reported_at"),  # no sort in the grid: the list's own order
])
def test_grid_pages_are_the_apis_pages(data, demo_client, city, sort_model, api_sort):
    for page in (1, 3):
        request = {"startRow": (page - 1) * 50, "endRow": page * 50, "sortModel": sort_model}
        answer = cases_view.rows_for(data, request, f"?unit={city}&{PERIOD}&category=矛盾纠纷")
        expected = _ids(demo_client, f"unit={city}&{PERIOD}&category=矛盾纠纷&sort={api_sort}&page={page}")
        assert [r["external_id"] for r in answer["rowData"]] == expected
        total = demo_client.get(f"/api/v1/cases?unit={city}&{PERIOD}&category=矛盾纠纷").json["total"]
        assert answer["rowCount"] == total
        assert set(answer["rowData"][0]) == {*strings.CASE_COLUMNS, "row_key"}
        assert [r["row_key"] for r in answer["rowData"]] == expected  # a click opens the case


def test_grid_ignores_unsortable_columns_and_bad_urls(data, city):
    answer = cases_view.rows_for(data, {"startRow": 0, "endRow": 50,
                                        "sortModel": [{"colId": "grid_name", "sort": "asc"}]},
                                 f"?unit={city}&{PERIOD}")
    assert answer["rowCount"] > 0
    with pytest.raises(PreventUpdate):
        cases_view.rows_for(data, {"startRow": 0, "endRow": 50}, "?unit=nope")
    with pytest.raises(PreventUpdate):
        cases_view.rows_for(data, None, f"?unit={city}")


def test_a_row_click_opens_the_case_in_the_url(city):
    url = cases_view.opened({"rowId": "SJ1", "colId": "category"}, f"?unit={city}&{PERIOD}")
    assert url == f"?unit={city}&{PERIOD}&case=SJ1"
    with pytest.raises(PreventUpdate):
        cases_view.opened({"rowId": "SJ1"}, url)
    with pytest.raises(PreventUpdate):
        cases_view.opened(None, url)


def test_the_open_cases_timeline_and_the_list_counts(data, demo_client, city):
    returned = demo_client.get(f"/api/v1/cases?unit={city}&{PERIOD}&sort=-returned_count&per_page=1").json
    case = returned["cases"][0]
    assert case["returned_count"] == 1
    vm = wiring.resolve(data, f"?unit={city}&{PERIOD}&case={case['external_id']}")
    vm["href"] = lambda code: code
    out = cases_view.panels(data, vm, style={})
    text = str(out["timeline"])
    assert case["external_id"] in text and strings.ROUND_AFTER_RETURN.format(n=2) in text
    assert out["case_map_style"] == {}
    tiles = {t.id["key"]: t.children[1].children for t in out["kpis"]}
    assert tiles["listed"] == tiles["accepted"] == f"{returned['total']:,}"
    assert out["list_key"] == f"?unit={city}&{PERIOD}"
    missing = wiring.resolve(data, f"?unit={city}&{PERIOD}&case=NOPE")
    timeline = cases_view.panels(data, missing, style={})["timeline"]
    assert strings.CASE_NOT_FOUND.format(id="NOPE") in str(timeline)


def test_a_viewer_gets_the_stripped_list(data, demo_client, city):
    """A role without case text (viewer) sees the list, not a refusal: the public fields only, no
    id to open, no search in the text, ordered only by a field it sees."""
    viewer = ScopedData(data, Principal("v", "viewer", city))
    search = f"?unit={city}&{PERIOD}&category=矛盾纠纷"
    vm = wiring.resolve(viewer, search)
    vm["href"] = lambda code: code
    out = cases_view.panels(viewer, vm, style={})
    total = demo_client.get(f"/api/v1/cases?unit={city}&{PERIOD}&category=矛盾纠纷").json["total"]
    tiles = {t.id["key"]: t.children[1].children for t in out["kpis"]}
    assert tiles["listed"] == f"{total:,}"
    assert strings.CASES_PUBLIC_HINT in str(out["timeline"])
    analyst = cases_view.rows_for(data, {"startRow": 50, "endRow": 100, "sortModel": []}, search)
    for sort_model in ([], [{"colId": "returned_count", "sort": "desc"}]):  # a hidden field: not used
        rows = cases_view.rows_for(viewer, {"startRow": 50, "endRow": 100, "sortModel": sort_model}, search)
        assert rows["rowCount"] == total
        assert [r["row_key"] for r in rows["rowData"]] == [f"#{i}" for i in range(50, 100)]
        shown = {*PUBLIC_CASE_FIELDS, "row_key"}
        assert all(v in (None, "") for r in rows["rowData"] for k, v in r.items() if k not in shown)
        assert [r["reported_at"] for r in rows["rowData"]] == [r["reported_at"] for r in analyst["rowData"]]
        assert all(r["external_id"] for r in analyst["rowData"])  # the control: the analyst's ids
    with pytest.raises(PreventUpdate):
        cases_view.opened({"rowId": "#3", "colId": "category"}, search)
    with pytest.raises(Denied):
        viewer.case_page(city, vm["period"], CaseQuery(text="协调"))


def test_controls_round_trip_through_the_url():
    state = wiring.parse_state(f"?{PERIOD}&status=受理,指派&category=治安&overdue=1&q=噪声&case=X")
    values = cases_view._to_controls(state)
    assert values == {"statuses": ["受理", "指派"], "categories": ["治安"], "sources": [], "overdue": ["1"],
                      "q": "噪声"}
    again = cases_view._from_controls(state, {**values, "overdue": [], "q": " 漏水 "})
    assert not again.overdue and again.q == "漏水" and again.case == "X"
    assert "overdue" not in again.to_query() and "q=%E6%BC%8F%E6%B0%B4" in again.to_query()


def test_depth_ranking_panel_lists_the_worst_grids_first(data, demo_client, city):
    vm = wiring.resolve(data, f"?unit={city}&{PERIOD}&rank=grid&metric=closure_rate")
    vm["href"] = lambda code: f"/?unit={code}"
    title, body = staff.depth_ranking_panel(data, vm)
    assert "网格" in title and "最差在前" in title
    api = demo_client.get(f"/api/v1/units/{city}/ranking?level=grid&metric=closure_rate&limit=30&{PERIOD}")
    names = [li.children[1].children for li in body.children]
    assert names == [u["name"] for u in api.json["units"]]
    assert body.children[0].children[1].href == f"/?unit={api.json['units'][0]['code']}"
    assert body.children[0].children[0].className == "rank-no worst1"


def test_feed_lists_the_newest_cases(data, city):
    body = staff.feed_panel(data, f"?unit={city}")
    # The demo city ends a week or more before today: the feed may be empty, never an error.
    assert body.className in ("feed-window", "feed-empty")
    with pytest.raises(PreventUpdate):
        staff.feed_panel(data, "?unit=nope")


def test_a_case_dot_opens_the_case():
    click = {"points": [{"curveNumber": 2, "customdata": ["治安", "受理", "2026-11-20 10:00", "SJ9", "G1"]}]}
    assert staff.case_dot_href(click) == "/cases?unit=G1&case=SJ9"
    with pytest.raises(PreventUpdate):
        staff.case_dot_href({"points": [{"curveNumber": 1, "location": "G1"}]})
    with pytest.raises(PreventUpdate):
        staff.case_dot_href(None)


def test_loop_view_shows_the_apis_loop(data, demo_client, city):
    from callbacks import loop as loop_view

    vm = wiring.resolve(data, f"?unit={city}&{PERIOD}&category=矛盾纠纷")
    vm["href"] = lambda code: f"/loop?unit={code}"
    out = loop_view.panels(data, vm)
    api = demo_client.get(f"/api/v1/units/{city}/loop?{PERIOD}&category=矛盾纠纷").json
    tiles = {t.id["key"]: t.children[1].children for t in out["kpis"]}
    assert tiles["cases"] == f"{api['cases']:,}"
    assert tiles["overdue"] == f"{sum(api['overdue'].values()):,}"
    assert list(out["funnel"].data[0].x) == [api["stages"][s] for s in reversed(vocab.STATUSES)]
    names = [li.children[1].children for li in out["members"].children]
    assert names == [m["name"] for m in api["members"]]
    assert out["members"].children[0].children[1].href == f"/loop?unit={api['members'][0]['code']}"


def test_compare_puts_two_units_side_by_side(data, demo_client, demo_store, city):
    from callbacks import compare as compare_view

    with demo_store.engine.connect() as conn:
        a, b = (u["code"] for u in queries.children(conn, city)[:2])
    vm = wiring.resolve(data, f"?{PERIOD}&a={a}&b={b}")
    out = compare_view.panels(data, vm)
    rows = out["table"].children[1].children
    accepted = [demo_client.get(f"/api/v1/units/{c}?{PERIOD}").json["kpis"]["accepted"]["display"]
                for c in (a, b)]
    assert [td.children for td in rows[0].children[1:]] == accepted
    assert {out["a"], out["b"]} == {a, b} and {a, b} <= {o["value"] for o in out["options_a"]}
    loop_a = demo_client.get(f"/api/v1/units/{a}/loop?{PERIOD}").json
    assert out["loop"].children[1].children[1].children[1].children == f"{sum(loop_a['overdue'].values()):,}"
    assert [t.name for t in out["trend"].data] == [queries_name(demo_store, c) for c in (a, b)]
    hint = compare_view.panels(data, wiring.resolve(data, f"?{PERIOD}&a={a}"))
    assert hint["table"] == strings.COMPARE_HINT and hint["a"] == a


def queries_name(store, code):
    with store.engine.connect() as conn:
        return queries.unit(conn, code)["name"]


def test_a_pick_writes_the_url_once():
    from callbacks import compare as compare_view

    assert compare_view.picked_url("A", "B", f"?{PERIOD}") == f"?{PERIOD}&a=A&b=B"
    with pytest.raises(PreventUpdate):
        compare_view.picked_url("A", "B", f"?{PERIOD}&a=A&b=B")
