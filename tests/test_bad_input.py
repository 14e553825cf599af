"""The bad-input corpus (issue 10): every hostile or careless input gets a clear 4xx (or 503 when
the store is unavailable) whose message names the parameter, or the record and field; never a
500; nothing stored for a refused write; and the server still answers afterwards. Both stores.

To add a case: append a ``Bad(...)`` row to ``CORPUS`` under its class (or start a new class).
Paths may use ``{city}``, ``{district}``, ``{grid}``, ``{east_grid}``; a ``body`` that is a dict or
list is sent as JSON, ``bytes`` as they are. ``words`` must all appear in the answer. Writes are
checked for unchanged row counts automatically. Inputs that need more than one request (races,
a replaced file, a locked or stopped store, the importer, the callbacks) have their own tests
below the table.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from dataclasses import dataclass

import pytest
from dash.exceptions import PreventUpdate
from sqlalchemy import func, select

from app import create_app, main
from callbacks import heat as heat_callbacks
from callbacks import wallscreen, wiring
from callbacks.throttle import LIMITER
from dashboard import limits, strings
from dashboard.indicators import MAP_METRICS
from dashboard.settings import Settings
from dashboard.viewstate import ViewState
from data import schema
from data.ingest.importer import ImportOptions, neutralise_formula, run_import
from data.stores import open_store
from tests.access import grant
from tests.factories import EAST, T0, WEST, case, tiny_city, write_cases

TOKEN = "s3cret"  # CITYBRAIN_WRITER_TOKEN: what POSTs send; GETs send an analyst token (tests/access.py)
READER = "token:tests-analyst@127.0.0.1"  # that token's client key for the per-client limit
BODY_LIMIT = 200_000  # this corpus's CITYBRAIN_MAX_BODY_BYTES, so a too-large body stays cheap
CODES = {"city": "990100", "district": "990102", "grid": "990102001001001", "east_grid": "990103001001001"}


@dataclass(frozen=True)
class Bad:
    """One bad input and what it must get back."""

    kind: str  # the class of input (README "Limits"; the corpus size is counted by it)
    method: str
    path: str
    body: object = None
    status: int | tuple = 400
    words: tuple = ()
    headers: tuple = ()

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.method} {self.path[:60]} {str(self.body)[:40]}"


def good(**overrides) -> dict:
    """A valid new case in the west grid; ``overrides`` make it bad."""
    body = {"external_id": "BAD-1", "category": "矛盾纠纷", "subcategory": "邻里", "source": "12345热线",
            "reported_at": "2026-03-02T09:00:00+08:00", "status": "受理", "lon": WEST[0], "lat": WEST[1]}
    return {**body, **overrides}


def without(*keys, **overrides) -> dict:
    return {k: v for k, v in good(**overrides).items() if k not in keys}


def deep(levels: int) -> bytes:
    return b'{"cases": ' + b"[" * levels + b"]" * levels + b"}"


U = "/api/v1/units/{city}"
H = "/api/v1/units/{city}/heat"
C = "/api/v1/cases"

CORPUS = [
    # --- read parameters: dates, digits, lengths, counts -----------------------------------------
    Bad("params", "GET", U + "?from=2026-01-01&to=9999-12-31", words=("to", "2000–2100")),
    Bad("params", "GET", U + "?from=0001-01-01&to=2026-01-01", words=("from", "2000–2100")),
    Bad("params", "GET", U + "?from=２０２６-01-01&to=2026-02-01", words=("from", "YYYY-MM-DD")),
    Bad("params", "GET", U + "?from=2026-1-1&to=2026-02-01", words=("from",)),
    Bad("params", "GET", U + "?tour=²", words=("tour",)),
    Bad("params", "GET", U + "?tour=2147484", words=("tour", "3600")),
    Bad("params", "GET", U + "?tour=3", words=("tour",)),
    Bad("params", "GET", U + "?tour=-5", words=("tour",)),
    Bad("params", "GET", H + "?hour=²", words=("hour",)),
    Bad("params", "GET", H + "?hour=3-٣", words=("hour",)),
    Bad("params", "GET", H + "?hour=8-25", words=("hour",)),
    Bad("params", "GET", U + "?category=" + ",".join(["治安"] * 30), words=("category", "30")),
    Bad("params", "GET", U + "?source=" + "x" * 300, words=("source", "too long")),
    Bad("params", "GET", U + "?period=" + "y" * 300, words=("period",)),
    Bad("params", "GET", U + "?unit=%00", words=("unit", "control")),
    Bad("params", "GET", U + "?" + "a=1&" * 600, words=("query string too long",)),
    Bad("params", "GET", "/api/v1/units/" + "9" * 40, words=("code", "32")),
    Bad("params", "GET", "/api/v1/units/{city}/children?to=9999-12-31&from=2026-01-01", words=("to",)),
    Bad("params", "GET", "/api/v1/units/{city}/coverage?from=2026-01-01&to=9999-12-31", words=("to",)),
    # --- heat: the cell size -------------------------------------------------------------------
    Bad("heat", "GET", H + "?size=abc", words=("size",)),
    Bad("heat", "GET", H + "?size=0", words=("size", "10")),
    Bad("heat", "GET", H + "?size=-5", words=("size",)),
    Bad("heat", "GET", H + "?size=1e-300", words=("size",)),
    Bad("heat", "GET", H + "?size=1e300", words=("size",)),
    Bad("heat", "GET", H + "?size=nan", words=("size",)),
    Bad("heat", "GET", H + "?size=inf", words=("size",)),
    Bad("heat", "GET", H + "?size=²⁰⁰", words=("size",)),
    Bad("heat", "GET", H + "?size=１００", words=("size",)),
    Bad("heat", "GET", H + "?size=10001", words=("size", "10000")),
    Bad("heat", "GET", H + "?cell=triangle", words=("cell", "hex")),
    # --- ingest: sizes and shapes of the body ----------------------------------------------------
    Bad("ingest-limits", "POST", C, good(description="长" * 2001), words=("description", "2,000")),
    Bad("ingest-limits", "POST", C, good(external_id="A" * 65), words=("external_id", "64")),
    Bad("ingest-limits", "POST", C, good(department="部" * 65), words=("department", "64")),
    Bad("ingest-limits", "POST", C, good(subcategory="邻" * 33), words=("subcategory",)),
    Bad("ingest-limits", "POST", C, good(description="a\u0000b"), words=("description", "NUL")),
    Bad("ingest-limits", "POST", C, good(external_id="A\u00001"), words=("external_id", "NUL")),
    Bad("ingest-limits", "POST", C, [good(external_id=f"B{i}") for i in range(1001)],
        words=("CITYBRAIN_MAX_BATCH",)),
    Bad("ingest-limits", "POST", C, good(description="x" * (BODY_LIMIT + 10)), status=413,
        words=("body too large", "CITYBRAIN_MAX_BODY_BYTES")),
    Bad("ingest-limits", "POST", C, deep(10_000), words=("nested",)),
    Bad("ingest-limits", "POST", C, deep(40), words=("nested",)),
    Bad("ingest-limits", "POST", C, b"{not json", words=("JSON",)),
    Bad("ingest-limits", "POST", C, "hello", words=("case object",)),
    Bad("ingest-limits", "POST", C, [1, 2], words=("case object",)),
    Bad("ingest-limits", "POST", C, {"cases": "x"}, words=("cases",)),
    # --- ingest: what JSON types may carry ------------------------------------------------------
    Bad("ingest-types", "POST", C, good(reported_at=1700000000), words=("reported_at", "not a number")),
    Bad("ingest-types", "POST", C, good(reported_at=True), words=("reported_at",)),
    Bad("ingest-types", "POST", C, good(reported_at="0001-01-01 00:00"), words=("reported_at",)),
    Bad("ingest-types", "POST", C, good(reported_at="9999-12-31 23:59"), words=("reported_at",)),
    Bad("ingest-types", "POST", C, good(deadline=1.5e9), words=("deadline",)),
    Bad("ingest-types", "POST", C, good(lon=True, lat=False), words=("lon", "true/false")),
    Bad("ingest-types", "POST", C, good(lon="114.005"), words=("lon",)),
    Bad("ingest-types", "POST", C, good(lat=None), words=("lat",)),
    Bad("ingest-types", "POST", C, json.dumps(good()).replace('"lon": 114.005', '"lon": NaN').encode(),
        words=("lon",)),
    Bad("ingest-types", "POST", C, json.dumps(good()).replace('"lat": 30.005', '"lat": 1e400').encode(),
        words=("lat",)),
    Bad("ingest-types", "POST", C, without("lon", "lat", location=[114.005]), words=("location",)),
    Bad("ingest-types", "POST", C, without("lon", "lat", location="114.005,30.005"), words=("location",)),
    Bad("ingest-types", "POST", C, good(external_id={"a": 1}), words=("external_id",)),
    Bad("ingest-types", "POST", C, good(external_id=[1, 2]), words=("external_id",)),
    Bad("ingest-types", "POST", C, good(external_id=True), words=("external_id",)),
    Bad("ingest-types", "POST", C, good(external_id=1.5), words=("external_id",)),
    Bad("ingest-types", "POST", C, good(category={"x": 1}), words=("category",)),
    Bad("ingest-types", "POST", C, good(description=["a"]), words=("description",)),
    Bad("ingest-types", "POST", C, good(returned_count=1e30), words=("returned_count",)),
    Bad("ingest-types", "POST", C, good(returned_count=-1), words=("returned_count",)),
    Bad("ingest-types", "POST", C, good(returned_count=True), words=("returned_count",)),
    Bad("ingest-types", "POST", C, good(returned_count=2.5), words=("returned_count",)),
    Bad("ingest-types", "POST", C, without("lon", "lat", geometry={"type": "Blob", "coordinates": [1, 2]}),
        words=("geometry", "Blob")),
    Bad("ingest-types", "POST", C, without("lon", "lat", geometry={"type": "Point", "coordinates": "abc"}),
        words=("geometry",)),
    Bad("ingest-types", "POST", C, without("lon", "lat", geometry="POINT(114 30)"), words=("geometry",)),
    Bad("ingest-types", "POST", C, without("lon", "lat", geometry={
        "type": "LineString", "coordinates": [[114.001, 30.001], [114.002, 30.002]]}),
        words=("geometry", "LineString")),
    # --- ingest: the grid a case is counted under ------------------------------------------------
    Bad("ingest-grid", "POST", C, good(grid_code="990102"), words=("grid_code", "not a grid")),
    Bad("ingest-grid", "POST", C, without("lon", "lat", grid_code="990100"),
        words=("grid_code", "not a grid")),
    Bad("ingest-grid", "POST", C, good(grid_code="990103001001001"), words=("grid_code", "outside")),
    Bad("ingest-grid", "POST", C, good(grid_code="nope"), words=("grid_code", "unknown")),
    Bad("ingest-grid", "POST", C, good(grid_code=990102001001001.5), words=("grid_code",)),
    # --- ingest: the coordinate system -----------------------------------------------------------
    Bad("ingest-crs", "POST", C, {"cases": [good()], "crs": "3857"}, words=("geometry", "degrees")),
    Bad("ingest-crs", "POST", C, {"cases": [good()], "crs": "EPSG:4547"}, words=("geometry", "degrees")),
    Bad("ingest-crs", "POST", C, {"cases": [good()], "crs": "+proj=merc +datum=WGS84"},
        words=("crs", "gcj02")),
    Bad("ingest-crs", "POST", C, {"cases": [good()], "crs": "EPSG:4978"}, words=("crs",)),
    Bad("ingest-crs", "POST", C, {"cases": [good()], "crs": "wat"}, words=("crs", "bd09")),
    Bad("ingest-crs", "POST", C, {"cases": [good()], "crs": {"a": 1}}, words=("crs",)),
    Bad("ingest-crs", "POST", C, {"cases": [good()], "crs": True}, words=("crs",)),
    # --- staff endpoints: the case list's paging and sorting, the ranking at depth (issue 12) ------
    Bad("staff", "GET", C + "?per_page=501", words=("per_page", "500")),
    Bad("staff", "GET", C + "?per_page=0", words=("per_page",)),
    Bad("staff", "GET", C + "?per_page=²", words=("per_page",)),
    Bad("staff", "GET", C + "?page=0", words=("page",)),
    Bad("staff", "GET", C + "?page=１", words=("page",)),
    Bad("staff", "GET", C + "?page=99999999999", words=("page",)),
    Bad("staff", "GET", C + "?sort=password", words=("sort",)),
    Bad("staff", "GET", C + "?sort=-" + "x" * 300, words=("sort",)),
    Bad("staff", "GET", C + "?status=丢失", words=("status",)),
    Bad("staff", "GET", C + "?overdue=maybe", words=("overdue",)),
    Bad("staff", "GET", C + "?q=" + "长" * 101, words=("q",)),
    Bad("staff", "GET", C + "?unit=%00", words=("unit",)),
    Bad("staff", "GET", C + "?unit=" + "9" * 40, words=("unit", "32")),
    Bad("staff", "GET", C + "?from=2026-01-01&to=9999-12-31", words=("to",)),
    Bad("staff", "GET", "/api/v1/units/{city}/ranking?level=district", words=("level",)),
    Bad("staff", "GET", "/api/v1/units/{city}/ranking?metric=nope", words=("metric",)),
    Bad("staff", "GET", "/api/v1/units/{city}/ranking?order=sideways", words=("order",)),
    Bad("staff", "GET", "/api/v1/units/{city}/ranking?min_cases=-1", words=("min_cases",)),
    Bad("staff", "GET", "/api/v1/units/{city}/ranking?limit=²", words=("limit",)),
    Bad("staff", "GET", "/api/v1/units/{city}/ranking?limit=501", words=("limit", "500")),
    Bad("staff", "GET", "/api/v1/units/{city}/loop?from=2026-01-01&to=9999-12-31", words=("to",)),
    Bad("staff", "GET", "/api/v1/units/{city}/alarms?category=天气", words=("category",)),
]


def corpus_sizes() -> dict:
    """How many cases each class holds (the closing note of issue 10 quotes this)."""
    sizes: dict = {}
    for bad in CORPUS:
        sizes[bad.kind] = sizes.get(bad.kind, 0) + 1
    return sizes


# --- the stores: the tiny city (tests/factories.py) with a few disputes, once per store ----------


def _fill(store) -> None:
    tiny_city(store)
    write_cases(store, [case(i, category="矛盾纠纷", at=WEST if i % 2 else EAST) for i in range(1, 9)])


@pytest.fixture(scope="module", params=["embedded", pytest.param("postgis", marks=pytest.mark.postgis)])
def hostile(request, tmp_path_factory):
    """``(client, store, data)``: an app on a private store, with the writer token set."""
    if request.param == "embedded":
        store = open_store(f"sqlite:///{tmp_path_factory.mktemp('bad') / 'city.gpkg'}")
        store.create_schema()
        cleanup = None
    else:
        cluster = request.getfixturevalue("postgis_cluster")
        name = cluster.create_database("bad", template=cluster.migrated_template())
        store = open_store(cluster.url(name))
        cleanup = (cluster, name)
    _fill(store)
    url = store.engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(db=url, writer_token=TOKEN, max_body_bytes=BODY_LIMIT))
    app.server.config["CITYBRAIN_READER"] = grant(store)
    yield app.server.test_client(), store, app.server.config["CITYBRAIN_DATA"]
    app.server.config["CITYBRAIN_DATA"].store.engine.dispose()
    store.engine.dispose()
    limits.configure(Settings())
    if cleanup:
        cleanup[0].drop_database(cleanup[1])


def counts(store) -> dict:
    with store.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in (schema.units, schema.cases, schema.case_events, schema.cameras)}


def send(client, method: str, path: str, body=None, headers=()):
    """The request as a real caller sends it: reads with an analyst token of the whole city,
    writes with the writer token."""
    path = path.format(**CODES)
    reader = client.application.config.get("CITYBRAIN_READER")
    token = reader if method == "GET" and reader else TOKEN
    head = {"Authorization": f"Bearer {token}", **dict(headers)}
    if method == "GET":
        return client.get(path, headers=head)
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False)
    return client.open(path, method=method, data=data, headers=head, content_type="application/json")


@pytest.mark.parametrize("bad", CORPUS, ids=[b.id for b in CORPUS])
def test_bad_input_gets_a_clear_4xx_and_stores_nothing(hostile, bad):
    client, store, _ = hostile
    before = counts(store)
    reply = send(client, bad.method, bad.path, bad.body, bad.headers)
    expected = bad.status if isinstance(bad.status, tuple) else (bad.status,)
    text = reply.get_data(as_text=True)
    assert reply.status_code in expected, f"{reply.status_code}: {text[:500]}"
    answer = json.loads(text)  # strict JSON, with a message
    assert answer.get("error"), text[:300]
    for word in bad.words:
        assert word in text, f"{word!r} not in {text[:600]}"
    if bad.method != "GET":
        assert counts(store) == before, "a refused write changed the store"


def test_the_server_still_answers_after_the_corpus(hostile):
    client, store, _ = hostile
    assert client.get("/healthz").status_code == 200
    assert send(client, "GET", U).status_code == 200
    before = counts(store)
    reply = send(client, "POST", C, good(external_id="AFTER-1"))
    assert reply.status_code == 201, reply.get_data(as_text=True)
    assert counts(store)["cases"] == before["cases"] + 1


def test_the_corpus_covers_every_class():
    sizes = corpus_sizes()
    assert set(sizes) >= {"params", "heat", "ingest-limits", "ingest-types", "ingest-grid", "ingest-crs",
                          "staff"}
    assert sum(sizes.values()) == len(CORPUS)


# Each "must be one of" check answers through ``limits.choice`` with the message it always gave.
ONE_OF = [
    ("/api/v1/units/{city}/ranking?level=district",
     "未知层级 level='district'，可选：street, community, grid"),
    ("/api/v1/units/{city}/ranking?metric=happiness", "未知指标 metric='happiness'，可选："),
    ("/api/v1/units/{city}/ranking?order=sideways",
     "未知排序 order='sideways'，可选：worst, best, asc, desc"),
    ("/api/v1/units/{city}/children.geojson?metric=happiness", "未知指标 metric='happiness'，可选："),
    (H + "?cell=triangle", "未知网格形状 cell='triangle'，可选：hex, square"),
    ("/api/v1/units/{city}?period=decade", "未知时段 period='decade'，可选：today, 7d, 30d, year, custom"),
]


@pytest.mark.parametrize("path,message", ONE_OF)
def test_one_of_checks_keep_their_messages(hostile, path, message):
    reply = send(hostile[0], "GET", path)
    assert reply.status_code == 400 and message in reply.json["error"], reply.json


@pytest.mark.parametrize("query,message", [
    ("style=swirl", "未知呈现方式 style='swirl'，可选：cells, density"),
    ("cell=triangle", "未知网格形状 cell='triangle'，可选：hex, square"),
    ("metric=happiness", "未知指标 metric='happiness'，可选：" + ", ".join(MAP_METRICS)),
    ("rank=district", "未知排名层级 rank='district'，可选：street, community, grid"),
    ("period=decade", "未知时段 period='decade'，可选：today, 7d, 30d, year, custom"),
])
def test_link_checks_keep_their_messages(query, message):
    with pytest.raises(limits.BadRequest) as refused:
        ViewState.from_query(query)
    assert str(refused.value) == message
    assert limits.choice("hex", "cell", "网格形状", ("hex", "square")) == "hex"


# --- inputs that need more than one request ---------------------------------------------------------


def test_a_point_on_the_shared_edge_may_name_either_grid(hostile):
    client, store, _ = hostile
    edge = {"lon": 114.01, "lat": 30.005}
    for i, grid in enumerate((CODES["grid"], CODES["east_grid"])):
        reply = send(client, "POST", C, good(external_id=f"EDGE-{i}", grid_code=grid, **edge))
        assert reply.status_code == 201, reply.get_data(as_text=True)


def test_both_stores_accept_the_longest_allowed_values(hostile):
    client, store, _ = hostile
    reply = send(client, "POST", C, good(external_id="L" * 64, department="部" * 64,
                                         description="长" * limits.current().max_description_chars))
    assert reply.status_code == 201, reply.get_data(as_text=True)


def test_concurrent_resends_of_a_new_case_never_fail(hostile):
    """Three clients send the same new case at once: one insert, the rest matched; no 500."""
    client, store, data = hostile
    app = client.application
    body = json.dumps(good(external_id="RACE-1"))
    replies, barrier = [], threading.Barrier(6)

    def post():
        with app.test_client() as own:
            barrier.wait()
            replies.append(own.post(C, data=body, content_type="application/json",
                                    headers={"Authorization": f"Bearer {TOKEN}"}))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status_code for r in replies) == [200] * 5 + [201], [r.get_json() for r in replies]
    assert sum(r.get_json()["inserted"] for r in replies) == 1
    with store.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(schema.cases)
                            .where(schema.cases.c.external_id == "RACE-1")).scalar()
        events = conn.execute(select(func.count()).select_from(schema.case_events).join(
            schema.cases, schema.cases.c.id == schema.case_events.c.case_id)
            .where(schema.cases.c.external_id == "RACE-1")).scalar()
    assert rows == 1 and events == 1


def test_expensive_requests_are_limited_per_client(hostile):
    client, _, _ = hostile
    most = limits.current().expensive_per_client
    held = [LIMITER.slot(READER, most) for _ in range(most)]
    for slot in held:
        slot.__enter__()
    try:
        for path in (H, "/api/v1/units/{city}/coverage"):
            reply = send(client, "GET", path)
            assert reply.status_code == 429 and reply.headers["Retry-After"]
            assert "CITYBRAIN_EXPENSIVE_PER_CLIENT" in reply.get_json()["error"]
        assert send(client, "GET", U).status_code == 200  # cheap requests still answer
    finally:
        for slot in held:
            slot.__exit__(None, None, None)
    assert send(client, "GET", H).status_code == 200


def test_missing_numbers_are_null_never_nan(hostile):
    client, store, _ = hostile
    with store.engine.begin() as conn:
        conn.execute(schema.units.update().where(schema.units.c.code == CODES["district"])
                     .values(population=None))
    client.application.config["CITYBRAIN_DATA"].cache.clear()
    for path in ("/api/v1/units/{district}", "/api/v1/units/{city}/children"):
        text = send(client, "GET", path).get_data(as_text=True)
        json.loads(text, parse_constant=lambda c, path=path: pytest.fail(f"{c} in {path}"))
    children = send(client, "GET", "/api/v1/units/{city}/children").get_json()["children"]
    assert {c["code"]: c["population"] for c in children}[CODES["district"]] is None


# --- the heat answer: clamped, built once -----------------------------------------------------------


def test_a_heat_size_finer_than_the_unit_allows_is_raised_and_said(demo_client):
    city = demo_client.get("/api/v1/units").get_json()["units"][0]["code"]
    reply = demo_client.get(f"/api/v1/units/{city}/heat?size=10&period=year")
    assert reply.status_code == 200
    answer = reply.get_json()
    assert answer["size_requested"] == 10 and answer["size_m"] > 10 and "size_note" in answer
    assert 0 < len(answer["cells"]) <= limits.current().max_heat_cells
    again = demo_client.get(f"/api/v1/units/{city}/heat?size=10&period=year",
                            headers={"Accept-Encoding": "gzip"})
    assert again.headers["Content-Encoding"] == "gzip"
    import gzip

    assert json.loads(gzip.decompress(again.data)) == answer


def test_the_heat_answer_is_built_once_per_question(demo_client, monkeypatch):
    data = demo_client.application.config["CITYBRAIN_DATA"]
    city = demo_client.get("/api/v1/units").get_json()["units"][0]["code"]
    url = f"/api/v1/units/{city}/heat?size=2000&period=30d&cell=square"
    first = demo_client.get(url)
    calls = []
    monkeypatch.setattr(data, "heat_cells", lambda *a, **k: calls.append(1))
    assert demo_client.get(url).data == first.data and calls == []


# --- the screens' callbacks: the same bounds --------------------------------------------------------


@pytest.mark.parametrize("size", [0, -5, 1e-300, "abc", 1e300, None, True, [1]])
def test_the_heat_cell_click_checks_the_size(hostile, size):
    _, _, data = hostile
    click = {"points": [{"curveNumber": 1, "location": "0_0"}]}
    with pytest.raises(PreventUpdate):
        heat_callbacks.cell_cases(data, click, f"?unit={CODES['city']}", {"size": size, "search": ""})


@pytest.mark.parametrize("search,word", [
    ("?tour=2147484", "tour"), ("?tour=²", "tour"), ("?to=9999-12-31&from=2026-01-01", "to"),
    ("?from=0001-01-01&to=2026-01-01", "from"), ("?hour=²", "hour"),
])
def test_a_bad_link_shows_a_banner_not_a_blank_page(hostile, search, word):
    _, _, data = hostile
    vm = wiring.resolve(data, search)
    assert word in vm["error"] and vm["error"].startswith(strings.BAD_VIEW.split("{")[0])
    assert wiring.tour_settings(search)["disabled"] is True


def test_a_date_picker_date_outside_the_years_is_ignored():
    with pytest.raises(PreventUpdate):
        wiring.sync_view(wallscreen.VIEW, wallscreen.VIEW.ids.dates,
                         {"search": "", "period": "custom", "start": "0001-01-01", "end": "2026-01-01"},
                         today=T0.date(), unit_exists=lambda code: True)


# --- an unavailable store: 503, never 500 -------------------------------------------------------------


def test_ingest_and_reads_while_postgresql_is_down_answer_503():
    app = create_app(Settings(db="postgresql://nobody@127.0.0.1:9/nowhere", writer_token=TOKEN))
    client = app.server.test_client()
    reply = send(client, "POST", C, good())
    assert reply.status_code == 503 and "unavailable" in reply.get_json()["error"]
    assert reply.headers["Retry-After"]
    # A reader's token cannot even be looked up: still 503, not 500.
    reply = client.get(U.format(**CODES), headers={"Authorization": "Bearer some-reader-token"})
    assert reply.status_code == 503 and reply.headers["Retry-After"]
    assert send(client, "GET", "/healthz").status_code == 503
    limits.configure(Settings())


def test_ingest_during_a_long_sqlite_write_lock_answers_503_with_retry_after(tmp_path, monkeypatch):
    from data.stores import embedded

    monkeypatch.setattr(embedded, "BUSY_TIMEOUT_MS", 300)
    store = open_store(f"sqlite:///{tmp_path / 'locked.gpkg'}")
    store.create_schema()
    _fill(store)
    app = create_app(Settings(db=str(tmp_path / "locked.gpkg"), writer_token=TOKEN))
    client = app.server.test_client()
    before = counts(store)
    locker = sqlite3.connect(tmp_path / "locked.gpkg")
    locker.execute("BEGIN EXCLUSIVE")
    try:
        reply = send(client, "POST", C, good(external_id="LOCKED-1"))
    finally:
        locker.rollback()
        locker.close()
    assert reply.status_code == 503 and reply.headers["Retry-After"], reply.get_data(as_text=True)
    assert counts(store) == before
    assert send(client, "POST", C, good(external_id="LOCKED-1")).status_code == 201


@pytest.mark.parametrize("how", ["mv", "copy-over", "delete"])
def test_an_embedded_file_replaced_while_served_is_noticed_and_writes_refused(tmp_path, how):
    path = tmp_path / "served.gpkg"
    store = open_store(f"sqlite:///{path}")
    store.create_schema()
    _fill(store)
    other = open_store(f"sqlite:///{tmp_path / 'other.gpkg'}")
    other.create_schema()
    tiny_city(other)
    store.engine.dispose()
    other.engine.dispose()
    app = create_app(Settings(db=str(path), writer_token=TOKEN))
    client = app.server.test_client()
    data = app.server.config["CITYBRAIN_DATA"]
    assert client.get("/healthz").get_json()["status"] == "ok"
    if how == "mv":
        os.replace(tmp_path / "other.gpkg", path)
    elif how == "copy-over":
        with open(path, "r+b") as target:
            target.truncate(0)
            target.write((tmp_path / "other.gpkg").read_bytes()[:4096])
    else:
        shutil.move(path, tmp_path / "moved.gpkg")
    health = client.get("/healthz")
    assert health.status_code == 503 and health.get_json()["status"] == "degraded"
    assert "restart" in health.get_json()["problem"]
    reply = send(client, "POST", C, good(external_id="LOST-1"))
    assert reply.status_code == 503 and "replaced" in reply.get_json()["error"]
    shown = wallscreen.refresh_check(data, "known", True, "10:00")
    assert shown["stale"] == strings.STORE_REPLACED and shown["stale_hidden"] is False
    data.store.engine.dispose()


# --- the importer ------------------------------------------------------------------------------------


@pytest.fixture
def import_store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'import.gpkg'}")
    store.create_schema()
    tiny_city(store)
    return store


HEADER = "id,category,source,reported_at,status,lon,lat\n"


def _cli(store, path, *args) -> int:
    url = store.engine.url.render_as_string(hide_password=False)
    return main(["import", "cases", str(path), "--db", url, "--quiet", *args])


def test_a_file_naming_no_crs_needs_crs(import_store, tmp_path, capsys):
    path = tmp_path / "cases.csv"
    path.write_text(HEADER + f"C1,治安,网格员上报,2026-03-02 09:00,受理,{WEST[0]},{WEST[1]}\n",
                    encoding="utf-8")
    before = counts(import_store)
    assert _cli(import_store, path) == 2
    err = capsys.readouterr().err
    assert "--crs" in err and "gcj02" in err and "bd09" in err and "Traceback" not in err
    assert counts(import_store) == before
    assert _cli(import_store, path, "--crs", "+proj=merc") == 2
    assert "gcj02" in capsys.readouterr().err
    assert _cli(import_store, path, "--crs", "4326") == 0


@pytest.mark.parametrize("content,word", [
    (b"", "empty"), (os.urandom(4096), "cannot read"),
    (b"SQLite format 3\x00" + b"\x00" * 200, "cannot read"),
])
def test_corrupt_or_empty_geopackages_end_in_a_clear_error(import_store, tmp_path, capsys, content, word):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(content)
    assert _cli(import_store, path, "--crs", "4326") == 2
    err = capsys.readouterr().err
    assert word in err and "Traceback" not in err


def test_over_long_fields_in_a_file_are_refused_naming_row_and_field(import_store, tmp_path, capsys):
    path = tmp_path / "long.csv"
    path.write_text(HEADER.replace("\n", ",department\n")
                    + f"C1,治安,网格员上报,2026-03-02 09:00,受理,{WEST[0]},{WEST[1]},{'部' * 65}\n",
                    encoding="utf-8")
    before = counts(import_store)
    assert _cli(import_store, path, "--crs", "4326") == 1
    err = capsys.readouterr().err
    assert "row 1 (C1)" in err and "department" in err and "too long" in err
    assert counts(import_store) == before


def test_a_big5_file_is_refused_not_read_as_gibberish(import_store, tmp_path, capsys):
    path = tmp_path / "big5.csv"
    text = HEADER.replace("category", "category,description") + "".join(
        f"C{i},治安,網格員巡查發現鄰里糾紛,網格員上報,2026-03-02 09:00,受理,{WEST[0]},{WEST[1]}\n"
        for i in range(3))
    path.write_bytes(text.encode("big5"))
    assert _cli(import_store, path, "--crs", "4326") == 2
    err = capsys.readouterr().err
    assert "utf-8-sig, gb18030" in err and "--encoding" in err


def test_the_reject_file_neutralises_formulas(import_store, tmp_path):
    path = tmp_path / "evil.csv"
    path.write_text(HEADER + f'C1,"=HYPERLINK(""http://x"",""y"")",网格员上报,2026-03-02 09:00,受理,'
                    f'{WEST[0]},'
                    f"{WEST[1]}\nC2,@SUM(1),+cmd(1),-cmd,受理,{WEST[0]},{WEST[1]}\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    run_import(import_store, "cases", path,
               ImportOptions(crs="4326", skip_invalid=True, rejects=str(rejects)))
    text = rejects.read_text(encoding="utf-8-sig")
    for cell in ("=HYPERLINK", "@SUM(1)", "+cmd(1)", "-cmd"):
        assert f"'{cell}" in text
    assert neutralise_formula("-12.5") == "-12.5" and neutralise_formula("=1") == "'=1"

