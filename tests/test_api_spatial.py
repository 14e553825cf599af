"""The heatmap and coverage endpoints of the JSON API, on both stores."""

import pytest

from dashboard.domain import HeatFilters, Period
from data import queries
from tests.conftest import DEMO_END

FROM, TO = "2026-10-22", "2026-11-20"
PERIOD = f"from={FROM}&to={TO}"


@pytest.fixture(scope="module")
def city(demo_store):
    with demo_store.engine.connect() as conn:
        return queries.roots(conn)[0]


def test_heat_cells_with_counts(demo_client, demo_store, city):
    reply = demo_client.get(f"/api/v1/units/{city['code']}/heat?{PERIOD}&cell=square&size=1000&hour=8-20"
                       "&subcategory=邻里,物业")
    assert reply.status_code == 200, reply.json
    body = reply.json
    assert body["cell"] == "square" and body["size_m"] == 1000 and body["crs"] == "EPSG:32650"
    assert body["filters"] == {"subcategory": "邻里,物业", "hour": "8-20"}
    period = Period.resolve("custom", FROM, TO, today=DEMO_END.date())
    expected = demo_store.heat_cells(unit_code=city["code"], start=period.start, end=period.end,
                                heat=HeatFilters(("邻里", "物业"), hours=(8, 20)), cell="square",
                                size=1000, epsg=32650)
    assert body["total"] == expected["count"].sum() > 0
    assert [(c["i"], c["j"], c["count"]) for c in body["cells"]] == list(
        zip(expected.i, expected.j, expected["count"], strict=True))
    first = body["cells"][0]
    assert first["geometry"]["type"] == "Polygon" and len(first["geometry"]["coordinates"][0]) == 5
    assert 114 < first["lon"] < 115 and 30 < first["lat"] < 31


def test_heat_defaults_to_hexagons_sized_for_the_unit(demo_client, city):
    body = demo_client.get(f"/api/v1/units/{city['code']}/heat?{PERIOD}").json
    assert body["cell"] == "hex" and body["size_m"] in (500, 1000, 2000)
    assert len(body["cells"][0]["geometry"]["coordinates"][0]) == 7


def test_coverage_per_child_and_suggestions(demo_client, demo_store, city):
    reply = demo_client.get(f"/api/v1/units/{city['code']}/coverage?{PERIOD}")
    assert reply.status_code == 200, reply.json
    body = reply.json
    with demo_store.engine.connect() as conn:
        kids = queries.children(conn, city["code"])
    assert [c["code"] for c in body["children"]] == [k["code"] for k in kids]
    child = body["children"][0]
    for key in ("covered_share", "blind_km2", "area_km2", "online_rate", "cameras", "cameras_online",
                "key_places", "uncovered_places", "uncovered_key_places", "cases", "blind_cases"):
        assert key in child, key
    assert 0 <= child["covered_share"] <= 1 and child["blind_km2"] <= child["area_km2"]
    assert len(child["uncovered_key_places"]) == child["uncovered_places"]
    total = body["total"]
    assert total["blind_cases"] == sum(c["blind_cases"] for c in body["children"])
    assert total["cameras"] == sum(c["cameras"] for c in body["children"])
    assert body["suggestions"] and body["suggestions"][0]["rank"] == 1
    first = body["suggestions"][0]
    assert first["text"].startswith(f"在{first['unit']['name']}新增一路球机")


def test_coverage_of_a_grid_is_the_grid_itself(demo_client, demo_store, city):
    with demo_store.engine.connect() as conn:
        code = city["code"]
        while kids := queries.children(conn, code):
            code = kids[0]["code"]
    body = demo_client.get(f"/api/v1/units/{code}/coverage?{PERIOD}").json
    assert [c["code"] for c in body["children"]] == [code]


@pytest.mark.parametrize("path,name", [
    ("heat?cell=triangle", "cell"),
    ("heat?size=abc", "size"),
    ("heat?size=5", "size"),
    ("heat?hour=25", "hour"),
    ("heat?status=done", "status"),
    ("heat?subcategory=治安", "subcategory"),
    ("coverage?from=2026-13-01&to=2026-11-20", "from"),
    ("coverage?from=2026-10-01", "to"),
])
def test_bad_parameters_are_400_naming_the_parameter(demo_client, city, path, name):
    reply = demo_client.get(f"/api/v1/units/{city['code']}/{path}")
    assert reply.status_code == 400 and name in reply.json["error"]


@pytest.mark.parametrize("path", ["heat", "coverage"])
def test_unknown_unit_is_404(demo_client, path):
    reply = demo_client.get(f"/api/v1/units/nope/{path}")
    assert reply.status_code == 404 and "nope" in reply.json["error"]
