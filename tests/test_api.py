"""The JSON API against the generated demo city, on both stores."""

import gzip
import json

import pytest

from dashboard.domain import Period, local_now
from dashboard.indicators import INDICATORS
from data import queries
from tests.access import login, person
from tests.conftest import DEMO_END

FROM, TO = "2026-10-22", "2026-11-20"
PERIOD = f"from={FROM}&to={TO}"


@pytest.fixture(scope="module")
def tree(demo_store):
    """A path of codes from the city down to a grid, one per level."""
    with demo_store.engine.connect() as conn:
        path = [queries.roots(conn)[0]]
        while kids := queries.children(conn, path[-1]["code"]):
            path.append(kids[0])
    return path


def _expected_counts(demo_store, code, by_children=False):
    period = Period.resolve("custom", FROM, TO, today=DEMO_END.date())
    with demo_store.engine.connect() as conn:
        now = local_now().replace(second=0, microsecond=0)
        return queries.counts(conn, unit_code=code, start=period.start, end=period.end, now=now,
                              by_children=by_children)


def test_healthz(demo_client, demo_store):
    """Anyone (and a monitor without a login) gets the status only; an admin also the details."""
    anonymous = demo_client.application.test_client()
    reply = anonymous.get("/healthz")
    assert reply.status_code == 200 and reply.json == {"status": "ok"}
    assert demo_client.get("/healthz").json == {"status": "ok"}  # an analyst: no details either
    person(demo_store, "tests-admin", role="admin")
    login(anonymous, "tests-admin")
    reply = anonymous.get("/healthz")
    assert reply.json["status"] == "ok" and reply.json["store"] == demo_store.kind
    assert reply.json["version"]


def test_roots(demo_client, tree):
    reply = demo_client.get("/api/v1/units")
    assert reply.status_code == 200
    assert [u["code"] for u in reply.json["units"]] == [tree[0]["code"]]
    assert "临江市".encode() in reply.data  # readable Chinese, not \\u escapes


def test_unit_with_parent_chain_and_kpis_at_every_level(demo_client, tree, demo_store):
    for depth, unit in enumerate(tree):
        reply = demo_client.get(f"/api/v1/units/{unit['code']}?{PERIOD}")
        assert reply.status_code == 200, reply.json
        body = reply.json
        assert body["unit"]["code"] == unit["code"] and body["level"] == unit["level"]
        assert [p["code"] for p in body["parents"]] == [u["code"] for u in tree[:depth]]
        assert body["period"] == {"key": "custom", "from": FROM, "to": TO}
        expected = _expected_counts(demo_store, unit["code"]).iloc[0]
        assert body["counts"]["accepted"] == expected.accepted
        kpi = body["kpis"]["closure_rate"]
        assert kpi["label"] == "办结率" and kpi["definition"]
        value = INDICATORS["closure_rate"].value(expected)
        assert kpi["value"] == pytest.approx(value) if value is not None else kpi["value"] is None
        assert kpi["display"] == INDICATORS["closure_rate"].format(value)


def test_children_with_kpis(demo_client, tree, demo_store):
    city = tree[0]["code"]
    reply = demo_client.get(f"/api/v1/units/{city}/children?{PERIOD}")
    assert reply.status_code == 200
    children = reply.json["children"]
    expected = _expected_counts(demo_store, city, by_children=True)
    assert [c["code"] for c in children] == list(expected.index)
    assert [c["kpis"]["accepted"]["value"] for c in children] == list(expected.accepted)
    total = demo_client.get(f"/api/v1/units/{city}?{PERIOD}").json["counts"]["accepted"]
    assert sum(c["kpis"]["accepted"]["value"] for c in children) == total


def test_grid_has_no_children(demo_client, tree):
    reply = demo_client.get(f"/api/v1/units/{tree[-1]['code']}/children?{PERIOD}")
    assert reply.status_code == 200 and reply.json["children"] == []


def test_children_geojson_carries_the_metric(demo_client, tree):
    district = tree[1]["code"]
    reply = demo_client.get(f"/api/v1/units/{district}/children.geojson?metric=closure_rate&{PERIOD}")
    assert reply.status_code == 200 and reply.mimetype == "application/geo+json"
    features = reply.json["features"]
    listed = demo_client.get(f"/api/v1/units/{district}/children?{PERIOD}").json["children"]
    assert [f["properties"]["code"] for f in features] == [c["code"] for c in listed]
    for feature, child in zip(features, listed, strict=True):
        assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
        assert feature["properties"]["metric"] == "closure_rate"
        assert feature["properties"]["value"] == child["kpis"]["closure_rate"]["value"]


def test_map_geometry_is_gzipped_and_cacheable(demo_client, tree):
    reply = demo_client.get(f"/geo/{tree[0]['code']}.geojson", headers={"Accept-Encoding": "gzip"})
    assert reply.status_code == 200 and reply.headers["Content-Encoding"] == "gzip"
    assert "immutable" in reply.headers["Cache-Control"]
    collection = json.loads(gzip.decompress(reply.data))
    children = demo_client.get(f"/api/v1/units/{tree[0]['code']}/children").json["children"]
    assert len(collection["features"]) == len(children)
    again = demo_client.get(f"/geo/{tree[0]['code']}.geojson",
                            headers={"If-None-Match": reply.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("url", [
    "/api/v1/units/nope",
    "/api/v1/units/nope/children",
    "/api/v1/units/nope/children.geojson",
    "/geo/nope.geojson",
])
def test_unknown_code_is_404_with_a_message(demo_client, url):
    reply = demo_client.get(url)
    assert reply.status_code == 404
    assert "nope" in reply.json["error"]


@pytest.mark.parametrize("query,fragment", [
    ("from=2026-13-01&to=2026-11-20", "from"),
    ("from=2026-11-01", "from 与 to"),
    ("from=2026-11-20&to=2026-11-01", "早于"),
    ("period=fortnight", "period"),
    ("category=天气", "category"),
])
def test_bad_parameters_are_400_with_a_message(demo_client, tree, query, fragment):
    reply = demo_client.get(f"/api/v1/units/{tree[0]['code']}?{query}")
    assert reply.status_code == 400
    assert fragment in reply.json["error"]


def test_bad_metric_is_400(demo_client, tree):
    reply = demo_client.get(f"/api/v1/units/{tree[0]['code']}/children.geojson?metric=nonsense")
    assert reply.status_code == 400 and "metric" in reply.json["error"]
