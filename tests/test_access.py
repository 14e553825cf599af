"""Who is looking, on both stores: a crafted-request corpus against every API endpoint and every
Dash callback, the role rules, sessions, CSRF, throttling, the audit trail and the command line.

The Dash requests are built by hand from the app's own callback map (``/_dash-dependencies``),
the way Dash's renderer builds them, so a callback added later is in the corpus without a line
here. Callers are real: tokens and people in the store (``tests/access.py``), real logins.
"""

from __future__ import annotations

import io
import json
import time
from types import SimpleNamespace

import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import create_app
from dashboard import strings
from dashboard.settings import Settings
from data import queries
from data.access import PUBLIC_CASE_FIELDS, Accounts
from data.access_cli import first_run, run
from tests.access import csrf_from, grant, login, person

UPDATE = "/_dash-update-component"
FROM, TO = "2026-10-22", "2026-11-20"
PERIOD = f"period=custom&from={FROM}&to={TO}"
CASE_TEXT = "请求协调处理"  # every demo case description says this


# --- the city and the app ------------------------------------------------------------------------


def _subtree(conn, code: str) -> list[dict]:
    out, todo = [], [code]
    while todo:
        kids = queries.children(conn, todo.pop())
        out += kids
        todo += [k["code"] for k in kids]
    return out


@pytest.fixture(scope="module")
def city(demo_store):
    """District A (the first) and B (the second), a grid in A with cases, and the names only B's
    part of the city has (what must never reach a caller scoped to A)."""
    with demo_store.engine.connect() as conn:
        root = queries.roots(conn)[0]
        a, b = queries.children(conn, root["code"])[:2]
        in_a, in_b = _subtree(conn, a["code"]), _subtree(conn, b["code"])
        grids = [u for u in in_a if not queries.children(conn, u["code"])]
    names_a = {u["name"] for u in in_a} | {a["name"]}
    secret = ({u["name"] for u in in_b} | {b["name"], root["name"]}) - names_a
    return SimpleNamespace(root=root, a=a, b=b, grids=grids, secret=sorted(secret))


@pytest.fixture(scope="module")
def app(demo_store, tmp_path_factory):
    url = demo_store.engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(db=url, data_dir=str(tmp_path_factory.mktemp("auth")),
                              secret_key="tests-only-secret", writer_token="legacy-writer"))
    yield app
    app.server.config["CITYBRAIN_DATA"].store.engine.dispose()


def _as(app, store, role: str, unit: str, name: str | None = None, address: str = "127.0.0.1"):
    client = app.server.test_client()
    token = grant(store, name or f"t-{role}-{unit}", role, unit)
    client.environ_base.update(HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR=address)
    return client


def _text(reply) -> str:
    """The reply's body as text, JSON unescaped (Dash sends ``\\u6c5f``, not 江)."""
    body = reply.get_data(as_text=True)
    try:
        return json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        return body


def _leaks(reply, secret: list[str]) -> list[str]:
    text_ = _text(reply)
    return [name for name in secret if name in text_]


# --- callback requests, as Dash's renderer makes them --------------------------------------------


def _outputs(output: str):
    if output.startswith(".."):
        parts = output.strip(".").split("...")
        return [{"id": p.rsplit(".", 1)[0], "property": p.rsplit(".", 1)[1]} for p in parts]
    cid, prop = output.rsplit(".", 1)
    return {"id": cid, "property": prop}


def _value(prop: str, unit: str, click: dict | None):
    return {
        "search": f"?unit={unit}&{PERIOD}", "pathname": "/", "n_intervals": 1,
        "clickData": click, "relayoutData": {"map.zoom": 12.0},
        "data": {"size": 500, "search": f"?unit={unit}&{PERIOD}"},
        "getRowsRequest": {"startRow": 0, "endRow": 50, "sortModel": []},  # the case grid's first page
    }.get(prop)


def callback_requests(app, unit: str, *, click_location: str | None = None):
    """Every server callback of the app, once per input as the trigger (and per map trace for a
    click), asking about ``unit``."""
    admin = app.server.test_client()
    admin.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {grant(_store(app), 'corpus-map', 'analyst')}"
    deps = admin.get("/_dash-dependencies").json
    assert len(deps) == len(app.callback_map) >= 15, "every callback of every view"
    for dep in deps:
        if dep.get("clientside_function"):
            continue
        for trigger in dep["inputs"]:
            clicks = [None]
            if trigger["property"] == "clickData":
                clicks = [{"points": [{"curveNumber": c, "location": click_location or unit}]}
                          for c in range(3)]  # includes the heat map's cells (trace heat.CELLS)
            for click in clicks:
                def filled(items, click=click):
                    return [{**i, "value": _value(i["property"], unit, click)} for i in items]
                yield dep["output"], {
                    "output": dep["output"], "outputs": _outputs(dep["output"]),
                    "inputs": filled(dep["inputs"]), "state": filled(dep.get("state", [])),
                    "changedPropIds": [f"{trigger['id']}.{trigger['property']}"],
                }


def _store(app):
    return app.server.config["CITYBRAIN_DATA"].store


def _post(client, body, headers=None):
    return client.post(UPDATE, data=json.dumps(body), content_type="application/json",
                       headers=headers or {})


# --- the corpus: every callback ------------------------------------------------------------------


def test_every_callback_refuses_another_district(app, demo_store, city):
    client = _as(app, demo_store, "analyst", city.a["code"])
    refused = 0
    for target in (city.b["code"], city.root["code"]):
        for output, body in callback_requests(app, target):
            reply = _post(client, body)
            assert reply.status_code in (200, 204, 403), (output, reply.status_code, reply.data[:300])
            assert not _leaks(reply, city.secret), (output, _leaks(reply, city.secret))
            refused += reply.status_code == 403 or "无权查看" in _text(reply)
    assert refused >= 10, "the renders and drills of other units should be refused"


def test_the_same_requests_answer_inside_the_scope(app, demo_store, city):
    """The control: the corpus's requests are real, a district user sees its own district."""
    client = _as(app, demo_store, "analyst", city.a["code"])
    bodies = [b for out, b in callback_requests(app, city.a["code"]) if "breadcrumb.children" in out
              and b["changedPropIds"][0].endswith(".search")]
    assert bodies
    for body in bodies:
        reply = _post(client, body)
        assert reply.status_code == 200 and city.a["name"] in _text(reply)
        assert city.root["name"] not in _text(reply)  # the breadcrumb starts at the district


def test_a_viewer_never_receives_case_text_or_points(app, demo_store, city):
    grid = city.grids[0]["code"]
    viewer = _as(app, demo_store, "viewer", city.a["code"])
    analyst = _as(app, demo_store, "analyst", city.a["code"])
    cells = viewer.get(f"/api/v1/units/{grid}/heat?{PERIOD}&size=500").json["cells"]
    with demo_store.engine.connect() as conn:
        cases = queries.recent_cases(conn, unit_code=grid, start=_day(FROM), end=_day(TO, 1))
    points = [json.dumps(shapely.from_wkb(c["geom"]).x) for c in cases if c["geom"]]
    assert cases and points
    seen_by_analyst = 0
    for location in [None] + [f"{c['i']}_{c['j']}" for c in cells[:3]]:
        for output, body in callback_requests(app, grid, click_location=location):
            reply = _text(_post(viewer, body))
            assert CASE_TEXT not in reply, output
            assert not [p for p in points if p in reply], output
            seen_by_analyst += CASE_TEXT in _text(_post(analyst, body))
    assert seen_by_analyst, "the analyst's control should see case text at a grid"


def _day(text_: str, plus: int = 0):
    from datetime import datetime, timedelta

    return datetime.fromisoformat(text_) + timedelta(days=plus)


def test_revoked_tokens_expired_sessions_and_missing_csrf_are_refused(app, demo_store, city):
    bodies = [b for _o, b in callback_requests(app, city.a["code"])]
    revoked = _as(app, demo_store, "analyst", city.a["code"], name="t-revoked", address="10.0.1.1")
    assert _post(revoked, bodies[0]).status_code in (200, 204)
    Accounts(demo_store.engine).revoke_token("t-revoked")
    person(demo_store, "p-session", role="analyst", unit=city.a["code"])
    session = app.server.test_client()
    session.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    assert login(session, "p-session").status_code == 302
    csrf = session.get_cookie("_csrf_token").value
    assert _post(session, bodies[0], {"X-CSRFToken": csrf}).status_code in (200, 204)  # the control
    for i, body in enumerate(bodies):
        # 401; after 20 wrong tokens from one address, 429 (still nothing answered)
        assert _post(revoked, body).status_code == (401 if i < 20 else 429)
        reply = _post(session, body)  # no X-CSRFToken
        assert reply.status_code == 403 and b"CSRF" in reply.data
    with session.session_transaction() as s:
        s["exp"] = time.time() - 1
    for body in bodies:
        assert _post(session, body, {"X-CSRFToken": csrf}).status_code == 401
    assert session.get("/").status_code == 302  # a page: to the login


# --- the corpus: every API endpoint ---------------------------------------------------------------


def _api_urls(app, code: str) -> list[tuple[str, str]]:
    urls = []
    for rule in app.server.url_map.iter_rules():
        path = rule.rule
        if not path.startswith(("/api/", "/geo/")):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, path.replace("<code>", code) + f"?{PERIOD}"))
    return urls


def test_every_api_endpoint_refuses_another_district(app, demo_store, city):
    client = _as(app, demo_store, "analyst", city.a["code"])
    urls = [(m, u) for m, u in _api_urls(app, city.b["code"]) if city.b["code"] in u or m == "POST"]
    assert len(urls) >= 7
    for method, url in urls:
        reply = client.open(url, method=method, json={} if method == "POST" else None)
        assert reply.status_code == 403, (method, url, reply.status_code)
        assert "权" in reply.json["error"] and not _leaks(reply, city.secret), url
    # The city's own list answers with the district as the root, and nothing else.
    units = client.get("/api/v1/units").json["units"]
    assert [u["code"] for u in units] == [city.a["code"]] and units[0]["parent_code"] is None
    assert client.get(f"/api/v1/units/{city.a['code']}/children?{PERIOD}").status_code == 200


def test_every_api_endpoint_needs_a_login_and_a_live_token(app, demo_store, city):
    anonymous = app.server.test_client()
    anonymous.environ_base["REMOTE_ADDR"] = "10.0.0.6"
    revoked = _as(app, demo_store, "viewer", city.root["code"], name="t-revoked-api", address="10.0.0.6")
    Accounts(demo_store.engine).revoke_token("t-revoked-api")
    failed_tokens = 0
    for method, url in _api_urls(app, city.a["code"]):
        for client in (anonymous, revoked):
            reply = client.open(url, method=method, json={} if method == "POST" else None)
            # After 20 wrong tokens from one address the rest answer 429 (still nothing answered).
            expected = 429 if client is revoked and failed_tokens >= 20 else 401
            failed_tokens += client is revoked
            assert reply.status_code == expected and reply.json["error"], (method, url)
    assert anonymous.get("/").status_code == 302 and "/login" in anonymous.get("/").location


def test_roles(app, demo_store, city):
    code = city.a["code"]
    writer = _as(app, demo_store, "writer", code)
    assert writer.get(f"/api/v1/units/{code}").status_code == 403
    assert _post(writer, next(b for _o, b in callback_requests(app, code))).status_code == 403
    assert writer.get("/").status_code == 403
    viewer = _as(app, demo_store, "viewer", code)
    assert viewer.post("/api/v1/cases", json={}).status_code == 403  # ingest needs a writer
    legacy = app.server.test_client()
    legacy.environ_base["HTTP_AUTHORIZATION"] = "Bearer legacy-writer"
    assert legacy.post("/api/v1/cases", json=[]).status_code in (200, 400)  # let in, then validated
    assert legacy.get(f"/api/v1/units/{code}").status_code == 403


# --- login, throttling, display links ------------------------------------------------------------


def test_login_needs_csrf_and_is_throttled(app, demo_store):
    person(demo_store, "p-throttle", role="viewer")
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    page = client.get("/login").get_data(as_text=True)
    assert "用户名" in page and 'name="csrf_token"' in page
    no_csrf = client.post("/login", data={"username": "p-throttle", "password": "x"})
    assert no_csrf.status_code == 403
    for _ in range(5):
        failed = login(client, "p-throttle", "wrong password")
        assert failed.status_code == 200 and strings.LOGIN_FAILED in failed.get_data(as_text=True)
    assert login(client, "p-throttle").status_code == 429  # even the right password, for a while
    other = app.server.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.8"
    assert login(other, "p-throttle").status_code == 429  # the name is throttled from anywhere


def test_bearer_failures_are_throttled_per_address(app):
    client = app.server.test_client()
    client.environ_base.update(REMOTE_ADDR="10.0.0.9", HTTP_AUTHORIZATION="Bearer nonsense")
    codes = [client.get("/api/v1/units").status_code for _ in range(21)]
    assert codes[:20] == [401] * 20 and codes[20] == 429


def test_a_display_link_logs_a_screen_in_once(app, demo_store, city):
    token = grant(demo_store, "t-wall", "display", city.a["code"])
    screen = app.server.test_client()
    reply = screen.get(f"/?token={token}&{PERIOD}")
    assert reply.status_code == 302 and "token" not in reply.location and "period=custom" in reply.location
    assert screen.get_cookie("citybrain_session") is not None
    units = screen.get("/api/v1/units").json["units"]
    assert [u["code"] for u in units] == [city.a["code"]]
    Accounts(demo_store.engine).revoke_token("t-wall")
    assert screen.get("/api/v1/units").status_code == 401  # revoking ends the cookie too


def test_first_run_makes_an_admin_with_a_one_time_link(empty_embedded):
    from data.demo.generator import Progress, generate

    generate(empty_embedded, seed=3, scale=0.01, progress=Progress(io.StringIO()))
    accounts = Accounts(empty_embedded.engine)
    password, once = first_run(accounts)
    assert first_run(accounts) is None  # only on a store with no one
    app = create_app(Settings(db=empty_embedded.engine.url.database, secret_key="x", data_dir="/tmp"))
    client = app.server.test_client()
    assert client.get(f"/login?once={once}").status_code == 302
    assert client.get("/healthz").json["store"] == "embedded"  # an admin sees the details
    again = app.server.test_client()
    assert again.get(f"/login?once={once}").status_code == 401  # used up
    assert login(again, "admin", password).status_code == 302


def test_security_headers(app, demo_store):
    client = _as(app, demo_store, "analyst", Accounts(demo_store.engine).root_code())
    for url in ("/", "/login", "/api/v1/units", "/healthz"):
        h = client.get(url).headers
        csp = h["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "http" not in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer"
    person(demo_store, "p-cookie", role="viewer")
    fresh = app.server.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "10.0.0.10"
    cookie = login(fresh, "p-cookie").headers.get_all("Set-Cookie")
    session = next(c for c in cookie if c.startswith("citybrain_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session
    assert fresh.get("/healthz").json == {"status": "ok"}  # a viewer: no details


# --- the audit trail and the command line ---------------------------------------------------------


def test_audit_rows_for_each_audited_action(app, demo_store, city, capsys):
    accounts = Accounts(demo_store.engine)
    start = max(r["id"] for r in accounts.audit_rows()) if accounts.audit_rows() else 0
    person(demo_store, "p-audit", role="analyst", unit=city.a["code"])
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.11"
    assert strings.LOGIN_FAILED in login(client, "p-audit", "not it").get_data(as_text=True)
    assert login(client, "p-audit").status_code == 302
    grid = city.grids[0]["code"]
    body = next(b for o, b in callback_requests(app, grid) if "breadcrumb.children" in o and "unit-map" in o
                and b["changedPropIds"][0].endswith(".search"))
    csrf = {"X-CSRFToken": client.get_cookie("_csrf_token").value}
    assert CASE_TEXT in _text(_post(client, body, csrf))
    logout_page = client.get("/logout").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(logout_page)}).status_code == 302
    cli = SimpleNamespace(command="users", action="add", name="p-cli", role="viewer", unit=city.a["code"],
                          password_stdin=True)
    if "p-cli" not in {u["name"] for u in accounts.list_users()}:
        assert run(accounts, cli, stdin=io.StringIO("a long enough password\n"), out=io.StringIO()) == 0
    out = io.StringIO()
    assert run(accounts, SimpleNamespace(command="tokens", action="add", name=f"t-cli-{time.time_ns()}",
                                         role="display", unit=city.a["code"]), out=out) == 0
    writer = app.server.test_client()
    writer.environ_base["HTTP_AUTHORIZATION"] = "Bearer legacy-writer"
    assert writer.post("/api/v1/cases", json=[]).status_code in (200, 400)

    rows = [r for r in accounts.audit_rows() if r["id"] > start]
    by_action = {r["action"]: r for r in rows}
    for action in ("login_failed", "login", "case_list", "logout", "user_change", "token_change"):
        assert action in by_action, f"no audit row for {action}: {rows}"
    assert by_action["login"]["actor"] == "p-audit" and by_action["login"]["address"] == "10.0.0.11"
    assert by_action["case_list"]["unit_code"] == grid
    lines = io.StringIO()
    run(accounts, SimpleNamespace(command="audit", since=None, user="p-audit", action=None), out=lines)
    assert {json.loads(line)["action"] for line in lines.getvalue().splitlines()} >= {"login", "case_list"}


def test_ingest_is_audited(app, demo_store):
    accounts = Accounts(demo_store.engine)
    writer = app.server.test_client()
    writer.environ_base["HTTP_AUTHORIZATION"] = "Bearer legacy-writer"
    before = len(accounts.audit_rows(action="ingest"))
    assert writer.post("/api/v1/cases", json=[]).status_code == 200  # an empty batch: nothing changes
    assert len(accounts.audit_rows(action="ingest")) == before + 1


def test_the_audit_trail_is_append_only(demo_store):
    accounts = Accounts(demo_store.engine)
    accounts.audit("login", actor="trigger-test", result="ok")
    for sql in ("UPDATE audit_log SET result = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), demo_store.engine.begin() as conn:
            conn.execute(text(sql))
    assert accounts.audit_rows(actor="trigger-test")


def test_strings_for_refusals_are_chinese_and_english(app, demo_store, city):
    client = _as(app, demo_store, "viewer", city.a["code"])
    message = client.get(f"/api/v1/units/{city.b['code']}").json["error"]
    assert "无权" in message and "jurisdiction" in message
    assert strings.FORBIDDEN


def test_every_service_method_is_scoped():
    """A method added to CityData must be named in data/scoped.py (else callbacks cannot reach it)."""
    from data.scoped import CASE_METHODS, FREE, UNIT_METHODS, WRITES, ScopedData
    from data.service import CityData

    public = {n for n in dir(CityData) if not n.startswith("_")}
    explicit = {n for n in vars(ScopedData) if not n.startswith("_")}
    assert public - UNIT_METHODS - CASE_METHODS - FREE - WRITES - explicit == set()


def test_a_new_password_or_disabling_ends_sessions(app, demo_store, city):
    accounts = Accounts(demo_store.engine)
    for name in ("p-passwd", "p-disabled"):
        person(demo_store, name, role="analyst", unit=city.a["code"])
    clients = {}
    for i, name in enumerate(("p-passwd", "p-disabled")):
        clients[name] = app.server.test_client()
        clients[name].environ_base["REMOTE_ADDR"] = f"10.0.2.{i}"
        assert login(clients[name], name).status_code == 302
        assert clients[name].get("/api/v1/units").status_code == 200
    time.sleep(1.1)  # the stamp has whole seconds
    accounts.set_password("p-passwd", "another long password")
    accounts.disable_user("p-disabled")
    for client in clients.values():
        assert client.get("/api/v1/units").status_code == 401


def test_only_trusted_proxies_may_name_the_user(demo_store, tmp_path, city):
    url = demo_store.engine.url.render_as_string(hide_password=False)
    app = create_app(Settings(db=url, data_dir=str(tmp_path), secret_key="k", auth_header="X-Remote-User",
                              trusted_proxies="10.1.1.1"))
    try:
        person(demo_store, "p-sso", role="viewer", unit=city.a["code"])
        proxied = app.server.test_client()
        proxied.environ_base.update(REMOTE_ADDR="10.1.1.1", HTTP_X_REMOTE_USER="p-sso",
                                    HTTP_X_FORWARDED_FOR="192.0.2.7")
        assert [u["code"] for u in proxied.get("/api/v1/units").json["units"]] == [city.a["code"]]
        direct = app.server.test_client()
        direct.environ_base.update(REMOTE_ADDR="10.9.9.9", HTTP_X_REMOTE_USER="p-sso")
        assert direct.get("/api/v1/units").status_code == 401
        unknown = app.server.test_client()
        unknown.environ_base.update(REMOTE_ADDR="10.1.1.1", HTTP_X_REMOTE_USER="nobody-here")
        assert unknown.get("/api/v1/units").status_code == 401
    finally:
        app.server.config["CITYBRAIN_DATA"].store.engine.dispose()


def test_login_goes_back_only_to_this_site(app, demo_store):
    person(demo_store, "p-next", role="viewer")
    for target, expected in (("/heat?unit=1", "/heat?unit=1"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        client = app.server.test_client()
        client.environ_base["REMOTE_ADDR"] = "10.0.3.1"
        page = client.get("/login").get_data(as_text=True)
        reply = client.post("/login", data={"username": "p-next", "password": "correct horse battery staple",
                                            "csrf_token": csrf_from(page), "next": target})
        assert reply.status_code == 302 and reply.location == expected, target


def test_secrets_are_masked_and_debug_stays_on_loopback(monkeypatch, capsys, tmp_path):
    from app import main
    from dashboard.settings import mask_url

    assert mask_url("postgresql://cb:s3cr@t@db:5432/city") == "postgresql://cb:***@db:5432/city"
    assert mask_url("GET /?token=abc&unit=1 HTTP/1.1") == "GET /?token=***&unit=1 HTTP/1.1"
    assert mask_url("sqlite:////var/citybrain.gpkg") == "sqlite:////var/citybrain.gpkg"
    monkeypatch.setenv("CITYBRAIN_DEBUG", "1")
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("CITYBRAIN_DATA_DIR", str(tmp_path))
    assert main(["serve"]) == 2
    assert "loopback" in capsys.readouterr().err


# --- the staff endpoints and views (issue 12) ------------------------------------------------------


def _a_case_in(store, code: str) -> str:
    with store.engine.connect() as conn:
        return conn.execute(text(
            "SELECT external_id FROM cases WHERE grid_code IN (SELECT descendant_code FROM unit_closure "
            "WHERE ancestor_code = :u) ORDER BY id LIMIT 1"), {"u": code}).scalar()


def test_staff_endpoints_keep_to_the_scope_and_the_role(app, demo_store, city):
    a, b = city.a["code"], city.b["code"]
    analyst = _as(app, demo_store, "analyst", a)
    viewer = _as(app, demo_store, "viewer", a)
    case_a, case_b = _a_case_in(demo_store, a), _a_case_in(demo_store, b)
    outside = [f"/api/v1/cases?unit={b}&{PERIOD}", f"/api/v1/cases?unit={city.root['code']}&{PERIOD}",
               f"/api/v1/cases/{case_b}", f"/api/v1/units/{b}/loop?{PERIOD}",
               f"/api/v1/units/{b}/ranking?level=grid&{PERIOD}", f"/api/v1/units/{b}/alarms?{PERIOD}",
               f"/api/v1/units/{city.root['code']}/ranking?level=grid&{PERIOD}"]
    for url in outside:
        reply = analyst.get(url)
        assert reply.status_code == 403, (url, reply.status_code)
        assert not _leaks(reply, city.secret), url
    listed = analyst.get(f"/api/v1/cases?{PERIOD}").json  # no unit: the scope's own root
    assert listed["unit"]["code"] == a and listed["total"] > 0
    assert analyst.get(f"/api/v1/cases/{case_a}").status_code == 200
    assert viewer.get(f"/api/v1/cases/{case_a}").status_code == 403  # a case's details need "cases"
    stripped = viewer.get(f"/api/v1/cases?unit={a}&{PERIOD}")  # the list as on the screen: stripped
    assert stripped.status_code == 200 and stripped.json["total"] == listed["total"]
    assert stripped.json["cases"] and CASE_TEXT not in _text(stripped) and case_a not in _text(stripped)
    assert {k for c in stripped.json["cases"] for k in c} <= set(PUBLIC_CASE_FIELDS)
    for url in (f"/api/v1/cases?unit={a}&q=x&{PERIOD}", f"/api/v1/cases?unit={a}&sort=department&{PERIOD}",
                f"/api/v1/cases?unit={b}&{PERIOD}"):
        assert viewer.get(url).status_code == 403, url  # case text searched or sorted, or out of scope
    for url in (f"/api/v1/units/{a}/alarms?{PERIOD}", f"/api/v1/units/{a}/loop?{PERIOD}",
                f"/api/v1/units/{a}/ranking?level=grid&{PERIOD}"):
        reply = viewer.get(url)
        assert reply.status_code == 200 and CASE_TEXT not in _text(reply), url
    assert "description" not in json.dumps(viewer.get(f"/api/v1/units/{a}/alarms").json)


def test_staff_views_keep_to_the_scope(app, demo_store, city):
    """The case list, a case's timeline, the compare pickers and the feed, as crafted requests."""
    a, b = city.a["code"], city.b["code"]
    analyst = _as(app, demo_store, "analyst", a)
    viewer = _as(app, demo_store, "viewer", a)
    case_a, case_b = _a_case_in(demo_store, a), _a_case_in(demo_store, b)
    deps = {d["output"]: d for d in analyst.get("/_dash-dependencies").json}

    def ask(client, output: str, search: str, extra: dict | None = None):
        dep = deps[output]
        values = {"search": search, **(extra or {})}
        fill = lambda items: [{**i, "value": values.get(i["property"])} for i in items]  # noqa: E731
        return _post(client, {"output": output, "outputs": _outputs(output), "inputs": fill(dep["inputs"]),
                              "state": fill(dep.get("state", [])),
                              "changedPropIds": [f"{dep['inputs'][0]['id']}.{dep['inputs'][0]['property']}"]})

    render = next(o for o in deps if "cases-timeline.children" in o)
    reply = ask(analyst, render, f"?unit={a}&{PERIOD}&case={case_b}")
    assert "无权查看" in _text(reply) and case_b not in _text(reply).split("无权查看")[0]
    assert not _leaks(reply, city.secret)
    rows = next(o for o in deps if o.startswith("cases-grid.getRowsResponse"))
    request = {"getRowsRequest": {"startRow": 0, "endRow": 50, "sortModel": []}}
    assert ask(analyst, rows, f"?unit={b}&{PERIOD}", request).status_code == 204
    listed = ask(analyst, rows, f"?unit={a}&{PERIOD}", request)  # the control: ids to open
    shown = [r["external_id"] for r in listed.json["response"]["cases-grid"]["getRowsResponse"]["rowData"]]
    assert listed.status_code == 200 and len(shown) == 50 and all(shown)
    stripped = ask(viewer, rows, f"?unit={a}&{PERIOD}", request)  # a viewer: the stripped list
    assert stripped.status_code == 200 and "#0" in _text(stripped)
    assert not [i for i in shown if i in _text(stripped)] and CASE_TEXT not in _text(stripped)
    assert ask(viewer, rows, f"?unit={b}&{PERIOD}", request).status_code == 204  # still scoped
    viewed = ask(viewer, render, f"?unit={a}&{PERIOD}")  # the list's counts, no refusal
    assert viewed.status_code == 200 and "无权" not in _text(viewed) and CASE_TEXT not in _text(viewed)
    assert strings.CASES_PUBLIC_HINT in _text(viewed)
    searched = ask(viewer, render, f"?unit={a}&{PERIOD}&q=协调")  # no search in the text
    assert "无此权限" in _text(searched) and CASE_TEXT not in _text(searched)
    opened = ask(viewer, render, f"?unit={a}&{PERIOD}&case={case_a}")  # nor one case
    assert "无此权限" in _text(opened) and CASE_TEXT not in _text(opened)
    compare = next(o for o in deps if "cmp-table.children" in o)
    picked = ask(analyst, compare, f"?unit={a}&{PERIOD}&a={a}&b={b}")
    assert not _leaks(picked, city.secret)
    feed = next(o for o in deps if o.startswith("live-feed.children"))
    assert CASE_TEXT not in _text(ask(viewer, feed, f"?unit={a}"))
    assert ask(analyst, feed, f"?unit={b}").status_code == 204
