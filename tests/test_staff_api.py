"""The staff endpoints on both stores: the case list against 受理 and against direct SQL, one case's
timeline with its returns, the loop, the ranking at any depth, and sudden-rise alarms."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime, timedelta

import pandas as pd
import pytest
import shapely
from cachelib import SimpleCache
from sqlalchemy import text

from dashboard import vocab
from dashboard.domain import Filters, Period, local_now
from dashboard.settings import Settings
from data import queries, rises
from data.service import CityData, StaffSettings
from data.stores import open_store
from tests.access import grant
from tests.conftest import DEMO_END
from tests.factories import T0, WEST, tiny_city

FROM, TO = "2026-10-22", "2026-11-20"
PERIOD = f"from={FROM}&to={TO}"
PERIOD_OBJ = Period.resolve("custom", FROM, TO, today=DEMO_END.date())


class FixedClock(CityData):
    """The service at a fixed moment (the demo city's end), so 'the last 24 hours' has data."""

    def __init__(self, store, now: datetime, **kwargs):
        super().__init__(store, SimpleCache(), **kwargs)
        self._now = now

    def now(self) -> datetime:
        return self._now


@pytest.fixture(scope="module")
def tree(demo_store):
    with demo_store.engine.connect() as conn:
        path = [queries.roots(conn)[0]]
        while kids := queries.children(conn, path[-1]["code"]):
            path.append(kids[0])
    return path


def _accepted(store, code, filters=Filters()):
    with store.engine.connect() as conn:
        frame = queries.counts(conn, unit_code=code, start=PERIOD_OBJ.start, end=PERIOD_OBJ.end,
                               now=DEMO_END, filters=filters)
    return int(frame.iloc[0].accepted)


# --- the case list -------------------------------------------------------------------------------


@pytest.mark.parametrize("filters,query", [
    (Filters(), ""),
    (Filters(categories=("矛盾纠纷",)), "&category=矛盾纠纷"),
    (Filters(categories=("治安", "信访"), sources=("12345热线",)), "&category=治安,信访&source=12345热线"),
])
def test_case_total_is_the_units_accepted(demo_client, demo_store, tree, filters, query):
    for unit in tree:
        reply = demo_client.get(f"/api/v1/cases?unit={unit['code']}&{PERIOD}{query}&per_page=5")
        assert reply.status_code == 200, reply.json
        kpi = demo_client.get(f"/api/v1/units/{unit['code']}?{PERIOD}{query}").json["counts"]["accepted"]
        assert reply.json["total"] == kpi == _accepted(demo_store, unit["code"], filters)
        assert len(reply.json["cases"]) == min(5, kpi)


def _direct(store, code, order, limit, offset, extra=""):
    sql = text(f"""
        SELECT external_id FROM cases
        WHERE grid_code IN (SELECT descendant_code FROM unit_closure WHERE ancestor_code = :u)
          AND reported_at >= :s AND reported_at < :e {extra}
        ORDER BY {order} LIMIT :n OFFSET :o""")
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(sql, {"u": code, "s": PERIOD_OBJ.start, "e": PERIOD_OBJ.end,
                                                  "n": limit, "o": offset})]


@pytest.mark.parametrize("sort,order", [
    ("-reported_at", "reported_at DESC, id DESC"),
    ("reported_at", "reported_at ASC, id ASC"),
    ("deadline", "deadline ASC, id ASC"),
    ("-returned_count", "returned_count DESC, id DESC"),
    ("closed_at", "CASE WHEN closed_at IS NULL THEN 1 ELSE 0 END, closed_at ASC, id ASC"),
    ("-category", "category DESC, id DESC"),
])
def test_sorting_and_paging_agree_with_direct_sql(demo_client, demo_store, tree, sort, order):
    for unit in (tree[0], tree[2]):
        seen = []
        for page in (1, 2, 3):
            reply = demo_client.get(f"/api/v1/cases?unit={unit['code']}&{PERIOD}&sort={sort}"
                                    f"&page={page}&per_page=7")
            assert reply.status_code == 200
            got = [c["external_id"] for c in reply.json["cases"]]
            assert got == _direct(demo_store, unit["code"], order, 7, (page - 1) * 7)
            seen += got
        assert len(seen) == len(set(seen)) == min(21, reply.json["total"])


def test_status_overdue_and_text_filters(demo_client, demo_store, tree):
    city = tree[0]["code"]
    base = f"/api/v1/cases?unit={city}&{PERIOD}&per_page=500"
    open_rows = demo_client.get(base + "&status=受理,指派,处置,反馈").json
    assert all(c["status"] in vocab.OPEN_STATUSES for c in open_rows["cases"])
    assert open_rows["total"] == len(_direct(demo_store, city, "id", 10_000, 0,
                                             "AND status <> '核查办结'"))
    overdue = demo_client.get(base + "&overdue=1").json
    assert overdue["total"] > 0
    assert all(c["status"] != vocab.CLOSED and c["deadline"] < local_now().isoformat()
               for c in overdue["cases"])
    found = demo_client.get(base + "&q=邻里").json
    assert found["total"] > 0 and all("邻里" in c["description"] for c in found["cases"])
    grid = demo_client.get(f"/api/v1/cases?unit={tree[-1]['code']}&{PERIOD}").json["cases"][0]
    by_address = demo_client.get(base + f"&q={grid['grid_name']}").json
    assert by_address["total"] > 0 and all(c["grid_name"] == grid["grid_name"] for c in by_address["cases"])
    assert demo_client.get(base + "&q=100%25_不存在").json["total"] == 0  # % and _ are literal


@pytest.mark.parametrize("query,name", [
    ("per_page=501", "per_page"), ("per_page=0", "per_page"), ("per_page=abc", "per_page"),
    ("page=0", "page"), ("page=-3", "page"), ("page=x", "page"), ("sort=password", "sort"),
    ("sort=-nope", "sort"), ("status=丢失", "status"), ("overdue=maybe", "overdue"),
    ("category=天气", "category"), ("unit=nope", "nope"), ("q=" + "长" * 101, "q"),
])
def test_bad_case_list_parameters_are_400_naming_them(demo_client, query, name):
    reply = demo_client.get(f"/api/v1/cases?{query}")
    assert reply.status_code in (400, 404), reply.data
    assert name in reply.json["error"]


def test_a_page_past_the_end_is_empty_with_the_total(demo_client, tree):
    reply = demo_client.get(f"/api/v1/cases?unit={tree[-1]['code']}&{PERIOD}&page=9999&per_page=500")
    assert reply.status_code == 200 and reply.json["cases"] == [] and reply.json["total"] >= 0


# --- one case and its timeline -------------------------------------------------------------------


@pytest.fixture(params=["embedded", pytest.param("postgis", marks=pytest.mark.postgis)])
def empty_store(request):
    if request.param == "embedded":
        return request.getfixturevalue("empty_embedded")
    return request.getfixturevalue("empty_postgis")


def _twice_returned(store):
    tiny_city(store)
    at = [T0 + timedelta(hours=h) for h in (0, 0.5, 2, 20, 21, 23, 25, 40, 41, 44, 47, 60, 62)]
    steps = ["受理", "指派", "处置", "反馈", "退回", "指派", "处置", "反馈", "退回", "指派", "处置", "反馈",
             "核查办结"]
    frame = pd.DataFrame([dict(
        id=1, external_id="R0001", category="矛盾纠纷", subcategory="邻里", source="网格员上报",
        reported_at=T0, geom=shapely.to_wkb(shapely.Point(*WEST)), status=vocab.CLOSED,
        assigned_at=at[9], handled_at=at[10], responded_at=at[11], closed_at=at[12],
        deadline=T0 + timedelta(days=7), returned_count=2, description="两次退回的纠纷")])
    events = pd.DataFrame({"case_id": 1, "status": steps, "at": at,
                           "actor": ["综治中心", "综治中心", "网格员甲", "网格员甲", "综治中心"] * 2
                           + ["综治中心", "网格员乙", "综治中心"]})
    store.write_cases(frame, events)
    return at, steps


def test_timeline_shows_both_return_rounds(empty_store):
    at, steps = _twice_returned(empty_store)
    from app import create_app
    from dashboard.settings import Settings

    url = empty_store.engine.url.render_as_string(hide_password=False)
    client = create_app(Settings(db=url)).server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {grant(empty_store)}"
    reply = client.get("/api/v1/cases/R0001")
    assert reply.status_code == 200
    case = reply.json["case"]
    events = case["events"]
    assert [e["status"] for e in events] == steps
    assert [e["round"] for e in events] == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3]
    assert [e["at"] for e in events] == [t.isoformat() for t in at]
    assert events[0]["seconds"] == 1800 and events[0]["within_limit"] is True  # assigned in 30 min
    assert events[2]["seconds"] == 18 * 3600 and events[2]["within_limit"] is True
    late = [e for e in events if e["status"] == "受理"][0]
    assert late["limit_seconds"] == 3600
    assert events[-1]["status"] == "核查办结" and events[-1]["within_limit"] is True  # before the deadline
    assert case["returned_count"] == 2 and [u["level"] for u in case["units"]] == ["city", "district", "grid"]
    assert client.get("/api/v1/cases/NOPE").status_code == 404


# --- the loop --------------------------------------------------------------------------------------


def test_loop_funnel_adds_up_to_accepted(demo_client, demo_store, tree):
    for unit in tree[:3]:
        body = demo_client.get(f"/api/v1/units/{unit['code']}/loop?{PERIOD}").json
        accepted = _accepted(demo_store, unit["code"])
        assert body["cases"] == sum(body["stages"].values()) == accepted
        assert sum(m["cases"] for m in body["members"]) == accepted
        assert body["stage_times"]["受理"]["limit_hours"] == 1
        times = body["stage_times"]["处置"]
        assert times["median_hours"] <= times["p90_hours"]
        assert sum(body["resolved_levels"].values()) <= body["stages"]["核查办结"]
        assert body["returned_cases"] <= body["returns"]


# --- the ranking at any depth ---------------------------------------------------------------------


@pytest.mark.parametrize("level", ["street", "community", "grid"])
def test_ranking_at_any_depth_follows_the_metrics_direction(demo_client, tree, level):
    city = tree[0]["code"]
    body = demo_client.get(f"/api/v1/units/{city}/ranking?level={level}&metric=closure_rate"
                           f"&min_cases=5&limit=50&{PERIOD}").json
    rows = body["units"]
    assert rows and body["order"] == "worst"
    values = [r["value"] for r in rows]
    assert values == sorted(values)  # 办结率: the worst is the lowest
    assert all(r["accepted"] >= 5 for r in rows)
    first = demo_client.get(f"/api/v1/units/{rows[0]['code']}?{PERIOD}").json
    assert first["level"] == level
    assert first["kpis"]["closure_rate"]["value"] == pytest.approx(rows[0]["value"], abs=1e-6)
    assert first["counts"]["accepted"] == rows[0]["accepted"]
    overdue = demo_client.get(f"/api/v1/units/{city}/ranking?level={level}&metric=overdue"
                              f"&min_cases=0&{PERIOD}").json["units"]
    assert [r["value"] for r in overdue] == sorted((r["value"] for r in overdue), reverse=True)
    best = demo_client.get(f"/api/v1/units/{city}/ranking?level={level}&metric=closure_rate&order=best"
                           f"&min_cases=5&limit=50&{PERIOD}").json["units"]
    assert [r["value"] for r in best] == sorted((r["value"] for r in best), reverse=True)
    assert best[0]["value"] >= values[-1]


def test_ranking_min_cases_keeps_one_case_units_out(demo_client, tree):
    city = tree[0]["code"]
    loose = demo_client.get(f"/api/v1/units/{city}/ranking?level=grid&min_cases=0&limit=500&{PERIOD}").json
    strict = demo_client.get(f"/api/v1/units/{city}/ranking?level=grid&min_cases=20&limit=500&{PERIOD}").json
    assert strict["eligible"] < loose["eligible"] <= loose["considered"]
    assert {r["code"] for r in strict["units"]} == {r["code"] for r in loose["units"] if r["accepted"] >= 20}


def test_a_cold_request_asks_the_store_on_one_connection(demo_client, tree):
    """Every question of a request (the access check's chain, the data's moment, the rolled-up
    units, the ranking) on one connection from the pool: one checkout, one ping (app.py)."""
    import threading

    from sqlalchemy import event

    data = demo_client.application.config["CITYBRAIN_DATA"]
    checkouts = []
    me = threading.get_ident()  # not the background warm-up's (CITYBRAIN_WARM)

    def count(*_args):
        if threading.get_ident() == me:
            checkouts.append(1)

    event.listen(data.store.engine, "checkout", count)
    try:
        for query in (f"level=grid&min_cases=3&{PERIOD}", f"level=street&metric=overdue&{PERIOD}"):
            data.cache.clear()
            checkouts.clear()
            reply = demo_client.get(f"/api/v1/units/{tree[0]['code']}/ranking?{query}")
            assert reply.status_code == 200 and reply.json["units"]
            assert len(checkouts) == 1
    finally:
        event.remove(data.store.engine, "checkout", count)


@pytest.mark.parametrize("query,name", [
    ("level=district", "level"), ("metric=nope", "metric"), ("order=sideways", "order"),
    ("min_cases=-1", "min_cases"), ("min_cases=x", "min_cases"), ("limit=0", "limit"), ("limit=501", "limit"),
])
def test_bad_ranking_parameters_are_400(demo_client, tree, query, name):
    reply = demo_client.get(f"/api/v1/units/{tree[0]['code']}/ranking?{query}")
    assert reply.status_code == 400 and name in reply.json["error"]


# --- sudden rises ------------------------------------------------------------------------------------


def test_no_sudden_rise_on_the_demo_citys_ordinary_weeks(demo_store, tree):
    """480 moments, every three hours over sixty days, at the default settings."""
    data = FixedClock(demo_store, DEMO_END)
    moments = [(DEMO_END - timedelta(days=d)).replace(hour=h, minute=30)
               for d in range(60) for h in range(0, 24, 3)]
    assert len(moments) == 480
    for now in moments:
        assert data.rises(tree[0]["code"], now=now) == [], now


def test_the_issues_example_raises_an_alarm_at_1e_4_and_not_at_the_default():
    """The issue's words: 鹿坪村第二网格 24小时内矛盾纠纷 14 起，为近四周同期均值的 5 倍 (a mean of 2.8).
    Its p (7.6e-5) is common among a city's thousands of series, so the default (1e-6) keeps quiet
    and CITYBRAIN_RISE_P=1e-4 makes it an alarm."""
    default = StaffSettings.from_settings(Settings())
    assert default == StaffSettings()  # the service's own defaults are the settings'
    staff = dataclasses.replace(default, rise_p=1e-4)
    weeks = staff.rise_weeks
    assert default.rise_p < rises.rise_probability(14, round(2.8 * weeks), weeks) < staff.rise_p
    assert rises.reason("鹿坪村第二网格", "矛盾纠纷", 14, 2.8, weeks) == (
        "鹿坪村第二网格 24小时内矛盾纠纷 14 起，为近四周同期均值的 5 倍")
    # The same as window counts (3, 3, 3, 2 in the four weeks before: a mean of 2.75).
    counts = pd.DataFrame([("G", "矛盾纠纷", w, n) for w, n in enumerate((14, 3, 3, 3, 2))],
                          columns=["code", "category", "window", "n"])
    found = rises.find(counts, weeks=weeks, p=staff.rise_p, min_count=staff.rise_min_count)
    assert set(found["category"]) == {"矛盾纠纷", rises.ALL}, found  # the category, and all of them
    assert found["p"].iloc[0] == pytest.approx(7.63e-5, rel=1e-3)
    stronger = rises.find(counts.assign(n=counts["n"].where(counts["window"] > 0, 13)), weeks=weeks,
                          p=staff.rise_p, min_count=staff.rise_min_count)
    assert stronger.empty  # 13 against 2.75 is not unusual enough: the threshold is where it should be
    assert rises.find(counts, weeks=weeks, p=default.rise_p, min_count=default.rise_min_count).empty


@pytest.fixture(params=["embedded", pytest.param("postgis", marks=pytest.mark.postgis)])
def demo_copy(request, tmp_path):
    if request.param == "postgis":
        return request.getfixturevalue("postgis_demo_copy")
    source = request.getfixturevalue("embedded_demo")
    path = tmp_path / "copy.gpkg"
    shutil.copy(source.engine.url.database, path)
    return open_store(f"sqlite:///{path}")


def burst(grid: dict, shape, n: int, end: datetime, category: str = "矛盾纠纷") -> list[dict]:
    """``n`` disputes inside ``grid`` in the hours before ``end``, as POST /api/v1/cases records."""
    point = shape.representative_point()
    return [{"external_id": f"BURST{i:03d}", "category": category, "subcategory": "邻里",
             "source": "网格员上报", "status": "受理", "lon": point.x, "lat": point.y,
             "reported_at": (end - timedelta(minutes=40 * i + 5)).isoformat(timespec="seconds"),
             "description": f"突发纠纷 {i}"} for i in range(n)]


def test_a_burst_in_one_grid_raises_one_alarm(demo_copy):
    from app import create_app
    from dashboard.settings import Settings

    with demo_copy.engine.connect() as conn:
        city = queries.roots(conn)[0]
        grid = conn.execute(text("SELECT code, name FROM units WHERE level = 'grid' ORDER BY code")).first()
    shape = demo_copy.unit_shapes([grid.code]).geometry.iloc[0]
    url = demo_copy.engine.url.render_as_string(hide_password=False)
    client = create_app(Settings(db=url, writer_token="t")).server.test_client()
    reply = client.post("/api/v1/cases", data=json.dumps(burst({"code": grid.code}, shape, 14, DEMO_END)),
                        headers={"Authorization": "Bearer t"}, content_type="application/json")
    assert reply.status_code == 201, reply.json
    data = FixedClock(demo_copy, DEMO_END)
    alarms = data.rises(city["code"])
    assert len(alarms) == 1, alarms
    alarm = alarms[0]
    assert alarm["unit"]["code"] == grid.code and alarm["category"] == "矛盾纠纷" and alarm["count"] >= 14
    assert alarm["reason"].startswith(f"{grid.name} 24小时内矛盾纠纷 {alarm['count']} 起，为近四周同期")
    # Each unit on the way down shows it (the top's answer kept per minute, filtered to the unit);
    # a district beside it shows nothing.
    chain = data.ancestors(grid.code)
    assert [data.rises(u["code"]) for u in chain] == [alarms] * len(chain)
    beside = next(u["code"] for u in data.children(city["code"]) if u["code"] != chain[1]["code"])
    assert data.rises(beside) == []
    # The same burst a week later is in the baseline window, not the current one: no alarm.
    assert data.rises(city["code"], now=DEMO_END + timedelta(days=2)) == []


def test_demo_histories_go_round_the_loop_in_order(demo_store):
    """Every generated history steps 受理 → 指派 → 处置 → 反馈 → (退回 → 指派 …) → 核查办结."""
    allowed = {("受理", "指派"), ("指派", "处置"), ("处置", "反馈"), ("反馈", "退回"), ("反馈", "核查办结"),
               ("退回", "指派")}
    with demo_store.engine.connect() as conn:
        rows = conn.execute(text("SELECT case_id, status FROM case_events ORDER BY case_id, at, id")).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=["case_id", "status"])
    frame["next"] = frame.groupby("case_id")["status"].shift(-1)
    steps = set(zip(frame["status"], frame["next"].dropna().reindex(frame.index), strict=True))
    assert {s for s in steps if isinstance(s[1], str)} <= allowed
    assert ("反馈", "退回") in steps
