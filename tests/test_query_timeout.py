"""The time limit on every statement, for real on both stores (no mocks).

``CITYBRAIN_QUERY_TIMEOUT_SECONDS`` becomes PostgreSQL's ``statement_timeout`` and a progress
handler in SQLite; the store raises ``QueryTimeout``, the API answers 503 and the screens say
查询超时 in their error banner.
"""

import time

import pytest
from sqlalchemy import text

from app import create_app
from dashboard import ids, strings
from dashboard.settings import Settings
from data import queries
from data.stores import QueryTimeout, StoreUnavailable, open_store
from tests.access import grant

# Runs for minutes on either database unless something stops it.
RUNAWAY = text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) "
               "SELECT count(*) FROM c")
# Far below what a city-wide aggregate takes: every screen and API answer hits it.
TINY = 0.001


def _url(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


@pytest.fixture
def limited(demo_store):
    """The demo store opened again with a limit of 0.3 s."""
    store = open_store(_url(demo_store), query_timeout=0.3)
    yield store
    store.engine.dispose()


@pytest.fixture
def tiny_limit_app(demo_store):
    # An intervention limit other than the rollups' (data/rollups.py): every count comes from the
    # raw cases, a city-wide aggregate that takes far longer than TINY.
    app = create_app(Settings(db=_url(demo_store), query_timeout_seconds=TINY, intervention_minutes=59,
                              warm=False))
    app.test_token = grant(demo_store)  # granted without the limit; tests/access.py
    yield app
    app.server.config["CITYBRAIN_DATA"].store.engine.dispose()  # leave the template database free


def test_a_runaway_statement_stops_at_the_limit(limited):
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as caught, limited.engine.connect() as conn:
        conn.execute(RUNAWAY).scalar()
    assert 0.3 <= time.monotonic() - started < 10
    assert isinstance(caught.value, StoreUnavailable) and "查询超时" in str(caught.value)
    with limited.engine.connect() as conn:  # the connection goes on working
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_the_limit_is_per_statement(limited):
    """Time between statements does not count: a transaction may outlast the limit."""
    with limited.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM units")).scalar() > 0
        time.sleep(0.4)
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() > 0
        time.sleep(0.4)
    with limited.engine.connect() as conn:
        assert queries.roots(conn)


def test_no_limit_unless_one_is_given(demo_store):
    store = open_store(_url(demo_store), query_timeout=0)
    try:
        with store.engine.connect() as conn:
            slow = text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
                        "SELECT count(*) FROM c")
            assert conn.execute(slow).scalar() == 300000
    finally:
        store.engine.dispose()


def test_the_setting_is_read_from_the_environment():
    assert Settings().query_timeout_seconds == 20
    assert Settings.from_env({"CITYBRAIN_QUERY_TIMEOUT_SECONDS": "2.5"}).query_timeout_seconds == 2.5
    with pytest.raises(ValueError, match="CITYBRAIN_QUERY_TIMEOUT_SECONDS"):
        Settings.from_env({"CITYBRAIN_QUERY_TIMEOUT_SECONDS": "soon"})


def test_the_api_answers_503(demo_store, tiny_limit_app):
    with demo_store.engine.connect() as conn:
        city = queries.roots(conn)[0]["code"]
    response = _client(tiny_limit_app).get(f"/api/v1/units/{city}/children?period=year")
    assert response.status_code == 503
    assert response.get_json() == {"error": "查询超时 (query timed out)"}


@pytest.mark.parametrize("url_id, error_id", [(ids.URL, ids.ERROR), (ids.HEAT_URL, ids.HEAT_ERROR),
                                              (ids.COV_URL, ids.COV_ERROR)])
def test_the_screens_say_so_in_their_error_banner(demo_store, tiny_limit_app, url_id, error_id):
    with demo_store.engine.connect() as conn:
        city = queries.roots(conn)[0]["code"]
    out = _run_callback(tiny_limit_app, url_id, error_id, f"?unit={city}&period=year")
    assert out[error_id] == {"children": strings.QUERY_TIMEOUT, "hidden": False}


def _run_callback(app, url_id: str, error_id: str, search: str) -> dict:
    """Call, through Dash's own endpoint, the callback that renders a view from its URL."""
    key, spec = next((k, s) for k, s in app.callback_map.items()
                     if f"{error_id}.children" in k
                     and any(i["id"] == url_id and i["property"] == "search" for i in s["inputs"]))
    outputs = [dict(zip(("id", "property"), o.rsplit(".", 1), strict=True))
               for o in key.strip(".").split("...")]
    body = {
        "output": key, "outputs": outputs,
        "inputs": [{**i, "value": search if i["id"] == url_id else None} for i in spec["inputs"]],
        "state": [{**s, "value": None} for s in spec["state"]],
        "changedPropIds": [f"{url_id}.search"],
    }
    response = _client(app).post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]


def _client(app):
    """A test client of a city-wide analyst (a real token, tests/access.py)."""
    client = app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {app.test_token}"
    return client


def test_a_session_goes_on_after_a_statement_stopped_at_the_limit(limited):
    """The request's one connection reads outside any transaction (``data.stores.base.reading``):
    a statement stopped by the limit leaves nothing aborted, the next question of the same request
    is answered, and the pool gets the connection back transactional for writers."""
    from flask import Flask
    from flask_caching import Cache

    from data.service import CityData

    data = CityData(limited, Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    with data.session():
        with pytest.raises(QueryTimeout):
            data._query(lambda conn: conn.execute(RUNAWAY).scalar())
        assert data.roots()[0]["parent_code"] is None
        assert data._query(lambda conn: conn.execute(text("SELECT 2")).scalar()) == 2
    with limited.engine.connect() as conn:
        if limited.kind == "postgis":
            assert conn.connection.dbapi_connection.autocommit is False
        conn.execute(text("CREATE TEMPORARY TABLE _t (x integer)"))
        conn.execute(text("INSERT INTO _t VALUES (1)"))
        conn.rollback()  # a writer's transaction still rolls back
        if limited.kind == "postgis":
            assert conn.execute(text("SELECT count(*) FROM pg_class WHERE relname = '_t'")).scalar() == 0
