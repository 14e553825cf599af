"""Seed-true numbers (issue 11), on both stores, from hand-made ledgers shaped like a county's own
exports: Chinese headers, GCJ-02 points, the county's own status words.

Each test writes its small files in ``tmp_path``, imports them through ``citybrain import`` (or
``run_import``) into the hand-made tiny city (tests/factories.py), and reads the numbers back
through the JSON API, as a leader's screen would.
"""

from __future__ import annotations

import json
from datetime import datetime

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import inspect, select, text

from app import create_app, main
from dashboard import indicators, vocab
from dashboard.settings import Settings
from data import queries, schema
from data.ingest.importer import ImportOptions, ImportRejected, run_import
from data.stores import open_store
from geo.crs import wgs84_to_gcj02
from layouts import facts, figures, ranking
from tests.access import grant, login, person
from tests.factories import EAST, WEST, tiny_city

STORES = ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)]
GRID_WEST, GRID_EAST = "990102001001001", "990103001001001"
# 北区 990104: a district whose one grid covers only its western half.
NORTH = shapely.box(114.0, 30.01, 114.02, 30.02)
NORTH_GRID = shapely.box(114.0, 30.01, 114.01, 30.02)
NORTH_GAP = (114.015, 30.015)  # inside 北区, outside every grid


@pytest.fixture(params=STORES)
def store(request):
    store = request.getfixturevalue("empty_embedded" if request.param == "embedded" else "empty_postgis")
    tiny_city(store)
    yield store
    indicators.configure(rate_decimals=2, incident_categories=indicators.DEFAULT_INCIDENT_CATEGORIES)


def _url(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _client(store, **settings):
    """A client of the app with a whole-city analyst token (tests/access.py)."""
    app = create_app(Settings(db=_url(store), **settings))
    client = app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {grant(store)}"
    return client


def _admin(client, store):
    """A client of the same app, logged in as an admin (``/healthz`` details are theirs)."""
    admin = client.application.test_client()
    person(store, "tests-admin", role="admin")
    login(admin, "tests-admin")
    return admin


def _write(tmp_path, name: str, header: str, rows: list[str]):
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _gcj(point) -> tuple[float, float]:
    lon, lat = wgs84_to_gcj02(*point)
    return float(lon), float(lat)


def _cli(store, *args) -> int:
    return main(["import", *map(str, args), "--db", _url(store), "--quiet"])


def _unit(client, code, query="period=custom&from=2026-03-01&to=2026-03-31"):
    reply = client.get(f"/api/v1/units/{code}?{query}")
    assert reply.status_code == 200, reply.json
    return reply.json


LEDGER = "事件编号,事件类型,来源,上报时间,办理状态,调处结果,满意度,经度,纬度"


def _ledger_row(i, *, outcome="调解成功", status="已办结", satisfaction="", at=WEST,
                time="2026-03-02 09:00", kind="矛盾纠纷-邻里", source="人民调解委员会"):
    lon, lat = _gcj(at)
    return f"M{i:05d},{kind},{source},{time},{status},{outcome},{satisfaction},{lon:.7f},{lat:.7f}"


def _import_ledger(store, tmp_path, rows, *extra):
    path = _write(tmp_path, "ledger.csv", LEDGER, rows)
    code = _cli(store, "cases", path, "--crs", "gcj02", "--map-status", "已办结=核查办结",
                "--map-status", "在办=处置", "--split", "category,subcategory=事件类型:-", *extra)
    assert code == 0


# --- 化解率: an outcome, not a status -------------------------------------------------------------


def test_resolution_rate_counts_successful_mediations_not_closed_ones(store, tmp_path, capsys):
    rows = [_ledger_row(i) for i in range(1932)]
    rows += [_ledger_row(1932 + i, outcome="调解不成功") for i in range(25)]
    _import_ledger(store, tmp_path, rows)
    kpis = _unit(_client(store), "990102")["kpis"]
    resolution, closure = kpis["resolution_rate"], kpis["closure_rate"]
    assert (resolution["numerator"], resolution["denominator"]) == (1932, 1957)
    assert resolution["value"] == 1932 / 1957  # the exact ratio, never rounded
    assert resolution["display"] == "98.72%"
    assert closure["display"] == "100%"  # every failed mediation is closed all the same
    assert "调解不成功" in resolution["definition"]
    # The source was an open word: kept as it came, grouped as 人民调解.
    with store.engine.connect() as conn:
        row = conn.execute(select(schema.cases.c.source, schema.cases.c.source_raw,
                                  schema.cases.c.outcome, schema.cases.c.subcategory)
                           .where(schema.cases.c.external_id == "M01940")).one()
    assert tuple(row) == ("人民调解", "人民调解委员会", vocab.NOT_RESOLVED, "邻里")


def test_displayed_decimals_are_a_setting(store, tmp_path):
    _import_ledger(store, tmp_path, [_ledger_row(i) for i in range(97)]
                   + [_ledger_row(97 + i, outcome="调解不成功") for i in range(3)])
    assert _unit(_client(store), "990102")["kpis"]["resolution_rate"]["display"] == "97.00%"
    one = _unit(_client(store, rate_decimals=1), "990102")["kpis"]["resolution_rate"]
    assert one["display"] == "97.0%" and one["value"] == 0.97


# --- 满意率: 未回访 is no revisit ---------------------------------------------------------------


def test_satisfaction_leaves_not_revisited_out_of_the_denominator(store, tmp_path):
    answers = ["满意", "基本满意", "不满意", "未回访", "", "不回访"]
    rows = [_ledger_row(i, satisfaction=a) for i, a in enumerate(answers)]
    # 不回访 is this county's word: mapped to nothing, it is missing, not an empty answer.
    _import_ledger(store, tmp_path, rows, "--map", "satisfaction:不回访=")
    kpis = _unit(_client(store), "990102")["kpis"]["satisfaction_rate"]
    assert (kpis["numerator"], kpis["denominator"]) == (2, 3)
    assert kpis["display"] == "66.67%"
    with store.engine.connect() as conn:
        stored = conn.execute(select(schema.cases.c.satisfaction).order_by(schema.cases.c.external_id))
        assert stored.scalars().all() == ["满意", "基本满意", "不满意", None, None, None]


# --- things outside every grid, records that belong to a unit ------------------------------------


def _north(store):
    frame = gpd.GeoDataFrame(
        [{"code": "990104", "name": "北区", "level": "district", "parent_code": "990100"},
         {"code": "990104001001001", "name": "北区第一网格", "level": "grid", "parent_code": "990104"}],
        geometry=[NORTH, NORTH_GRID], crs=4326)
    store.write_units(frame)


def test_things_outside_every_grid_count_at_the_lowest_unit_containing_them(store, tmp_path):
    _north(store)
    lon, lat = _gcj(NORTH_GAP)
    cams = _write(tmp_path, "cams.csv", "设备编号,设备类型,在线状态,经度,纬度",
                  [f"K1,半球,在线,{lon},{lat}", f"K2,枪机,在线,{_gcj(WEST)[0]},{_gcj(WEST)[1]}"])
    assert _cli(store, "cameras", cams, "--crs", "gcj02") == 0
    _import_ledger(store, tmp_path, [_ledger_row(1, at=NORTH_GAP), _ledger_row(2, at=WEST)])
    client = _client(store)
    north, city = _unit(client, "990104")["counts"], _unit(client, "990100")["counts"]
    assert north["cameras"] == 1 and north["accepted"] == 1
    assert city["cameras"] == 2 and city["accepted"] == 2  # nothing vanishes from the totals
    assert _unit(client, "990104001001001")["counts"]["cameras"] == 0
    assert "outside_grid" not in client.get("/healthz").json  # an analyst: status only
    outside = _admin(client, store).get("/healthz").json["outside_grid"]
    assert outside["cameras"] == {"above_grid": 1, "no_unit": 0}
    assert outside["cases"] == {"above_grid": 1, "no_unit": 0}


def test_import_summary_reports_rows_outside_every_grid(store, tmp_path, capsys):
    _north(store)
    path = _write(tmp_path, "places.csv", "编号,名称,类型,经度,纬度",
                  [f"P1,城北派出所,派出所,{NORTH_GAP[0]},{NORTH_GAP[1]}", "P2,远方,鹰眼,100.0,20.0"])
    report = run_import(store, "places", path, ImportOptions(crs="4326"))
    assert (report.outside_grid, report.no_unit) == (2, 1)
    summary = report.summary()
    assert "counted at the lowest unit containing it: 2" in summary
    assert "counted nowhere): 1" in summary
    assert "鹰眼（1）" in summary  # the unmapped word, once
    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.key_places.c.id, schema.key_places.c.kind,
                                   schema.key_places.c.kind_raw, schema.key_places.c.grid_code)
                            .order_by(schema.key_places.c.id)).all()
    assert [tuple(r) for r in rows] == [("P1", "政法机构", "派出所", "990104"), ("P2", "其他", "鹰眼", None)]


def test_unit_attached_records_count_in_their_unit_and_its_ancestors(store, tmp_path):
    path = _write(tmp_path, "qihu.csv", "事件编号,类别,来源,上报时间,状态,所属单位编码,所属单位",
                  ["Q1,企业诉求,企呼我为,2026-03-03 10:00,受理,990102,",
                   "Q2,企业诉求,企呼我为,2026-03-03 11:00,受理,,东区",
                   f"Q3,企业诉求,企呼我为,2026-03-03 12:00,受理,{GRID_WEST},"])
    assert _cli(store, "cases", path) == 0
    client = _client(store)
    west, east, city = (_unit(client, c)["counts"]["accepted"] for c in ("990102", "990103", "990100"))
    assert (west, east, city) == (2, 1, 3)
    assert _unit(client, GRID_WEST)["counts"]["accepted"] == 1  # Q1 is the district's, not the grid's
    children = client.get("/api/v1/units/990100/children?period=custom&from=2026-03-01&to=2026-03-31")
    assert [c["kpis"]["accepted"]["value"] for c in children.json["children"]] == [2, 1]
    # Live ingest: ``unit_code`` names the unit of a record without a point (``grid_code`` must
    # still be a grid); with a point, the point decides.
    live = _client(store, writer_token="t")
    body = [{"external_id": "Q4", "category": "企业诉求", "source": "企呼我为", "status": "受理",
             "reported_at": "2026-03-04T10:00:00", "unit_code": "990103"},
            {"external_id": "Q5", "category": "企业诉求", "source": "企呼我为", "status": "受理",
             "reported_at": "2026-03-04T11:00:00", "unit_code": "990103", "lon": WEST[0], "lat": WEST[1]}]
    reply = live.post("/api/v1/cases", data=json.dumps(body), content_type="application/json",
                      headers={"Authorization": "Bearer t"})
    assert reply.status_code == 201, reply.json
    with store.engine.connect() as conn:
        stored = dict(conn.execute(select(schema.cases.c.external_id, schema.cases.c.grid_code)
                                   .where(schema.cases.c.external_id.in_(["Q4", "Q5"]))).all())
    assert stored == {"Q4": "990103", "Q5": GRID_WEST}


def test_a_unit_name_must_name_one_unit(store, tmp_path):
    path = _write(tmp_path, "bad.csv", "事件编号,类别,来源,上报时间,状态,所属单位",
                  ["Q1,企业诉求,企业,2026-03-03 10:00,受理,南区"])
    with pytest.raises(ImportRejected, match="no unit is named '南区'"):
        run_import(store, "cases", path)


@pytest.mark.postgis
def test_external_insert_outside_every_grid_counts_at_its_district(empty_postgis):
    tiny_city(empty_postgis)
    _north(empty_postgis)
    with empty_postgis.engine.begin() as conn:
        code = conn.execute(text(
            "INSERT INTO cameras (id, kind, geom, status) VALUES ('EXT', '球机', "
            "ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'online') RETURNING grid_code"),
            {"x": NORTH_GAP[0], "y": NORTH_GAP[1]}).scalar()
    points = [shapely.to_wkb(shapely.Point(*NORTH_GAP))]
    assert code == "990104" == empty_postgis.assign_grids(points)[0]


# --- overdue as of the data's own moment; years on dates ---------------------------------------------


def test_overdue_counts_as_of_the_export_not_the_clock(store, tmp_path):
    path = _write(tmp_path, "export.csv", "事件编号,类别,来源,上报时间,状态,办理时限,经度,纬度", [
        f"E1,城市管理,网格员,2024-03-01 09:00,处置,2024-03-05 09:00,{WEST[0]},{WEST[1]}",
        f"E2,城市管理,网格员,2024-03-09 09:00,处置,2024-03-20 09:00,{WEST[0]},{WEST[1]}",
        f"E3,城市管理,网格员,2024-03-10 17:30,受理,2024-03-30 09:00,{EAST[0]},{EAST[1]}"])
    report = run_import(store, "cases", path, ImportOptions(crs="4326"))
    assert report.as_of == "2024-03-10T17:30:00"
    client = _client(store, writer_token="t")
    assert _admin(client, store).get("/healthz").json["as_of"] == "2024-03-10T17:30"
    assert _unit(client, "990100")["as_of"] == "2024-03-10T17:30"
    assert _unit(client, "990100")["counts"]["overdue"] == 1  # E1 only; the clock would say 3
    data = client.application.config["CITYBRAIN_DATA"]
    alarms = data.alarms("990100")
    tags = [li.children[0].children[0].children for li in ranking.alarms(alarms, data.as_of()).children]
    assert tags == ["超期5天"]  # not 超期900天
    assert ranking.case_time(alarms[0]["reported_at"], data.as_of().year) == "03-01 09:00"
    assert ranking.case_time(alarms[0]["reported_at"], 2026) == "2024-03-01 09:00"
    # A live write makes the store live: overdue is counted against the clock from then on.
    body = {"external_id": "L1", "category": "城市管理", "source": "12345热线", "status": "受理",
            "reported_at": "2024-03-11T09:00:00", "lon": WEST[0], "lat": WEST[1]}
    assert client.post("/api/v1/cases", data=json.dumps(body), content_type="application/json",
                       headers={"Authorization": "Bearer t"}).status_code == 201
    assert _unit(client, "990100")["counts"]["overdue"] == 3
    fixed = _client(store, as_of="2024-03-06T00:00")
    assert _unit(fixed, "990100")["counts"]["overdue"] == 1


def test_staff_answers_count_at_the_datas_moment_like_the_kpis(store, tmp_path):
    """A city whose data ended in the past (an export of 2024-03-10 17:30): the case list, the
    loop, the ranking, the alarms and the feed count overdue and "recent" at that moment, as the
    KPIs do; the clock (two years on) would call all three open cases overdue and the feed empty."""
    path = _write(tmp_path, "export.csv", "事件编号,类别,来源,上报时间,状态,办理时限,经度,纬度", [
        f"E1,城市管理,网格员,2024-03-01 09:00,处置,2024-03-05 09:00,{WEST[0]},{WEST[1]}",
        f"E2,城市管理,网格员,2024-03-09 09:00,处置,2024-03-20 09:00,{WEST[0]},{WEST[1]}",
        f"E3,城市管理,网格员,2024-03-10 17:30,受理,2024-03-30 09:00,{EAST[0]},{EAST[1]}"])
    run_import(store, "cases", path, ImportOptions(crs="4326"))
    client = _client(store)
    window = "period=custom&from=2024-03-01&to=2024-03-10"
    assert _unit(client, "990100", window)["counts"]["overdue"] == 1
    listed = client.get(f"/api/v1/cases?unit=990100&{window}&overdue=1").json
    assert [c["external_id"] for c in listed["cases"]] == ["E1"]
    loop = client.get(f"/api/v1/units/990100/loop?{window}").json
    assert sum(loop["overdue"].values()) == 1, loop["overdue"]
    ranked = client.get(f"/api/v1/units/990100/ranking?level=grid&metric=overdue&min_cases=0&{window}").json
    assert {u["code"]: u["value"] for u in ranked["units"]} == {GRID_WEST: 1, GRID_EAST: 0}
    alarms = client.get(f"/api/v1/units/990100/alarms?{window}").json
    assert alarms["now"].startswith("2024-03-10T17:30")
    assert [a["reason"] for a in alarms["alarms"]] == ["城市管理 处置，超期5天"]
    data = client.application.config["CITYBRAIN_DATA"]
    assert [c["external_id"] for c in data.feed("990100")] == ["E3", "E2"]  # the week before 03-10
    events = client.get("/api/v1/cases/E2").json["case"]["events"]  # open: its stage lasts until 03-10
    assert [e["seconds"] for e in events if e["ongoing"]] == [(32 * 60 + 30) * 60], events


# --- 同比 for any period, "—" where last year's data does not reach -------------------------------------


def test_year_on_year_across_a_year_boundary(store, tmp_path):
    rows = [_ledger_row(i, time="2024-12-28 09:00") for i in range(4)]  # last year's window
    rows += [_ledger_row(10 + i, time="2026-01-03 09:00") for i in range(5)]  # this window
    rows += [_ledger_row(20, time="2025-12-30 09:00"), _ledger_row(21, time="2024-12-20 08:00")]
    _import_ledger(store, tmp_path, rows)
    client = _client(store)
    window = "period=custom&from=2025-12-20&to=2026-01-10&compare=yoy"
    answer = _unit(client, "990102", window)
    compared = answer["comparison"]
    assert compared["label"] == "同比" and compared["covered"]
    assert (compared["period"]["from"], compared["period"]["to"]) == ("2024-12-20", "2025-01-10")
    assert answer["counts"]["accepted"] == 6 and compared["kpis"]["accepted"]["value"] == 5
    assert compared["kpis"]["accepted"]["change"] == 20.0
    assert compared["kpis"]["accepted"]["change_display"] == "+20.00%"
    # A window whose dates a year earlier start before the data does: "—", not a 20% change.
    early = _unit(client, "990102", "period=custom&from=2025-12-19&to=2026-01-10&compare=yoy")
    assert not early["comparison"]["covered"]
    assert early["comparison"]["kpis"]["accepted"] == {"value": None, "display": "—", "change": None,
                                                        "change_display": "—"}
    assert client.get("/api/v1/units/990102?compare=weekly").status_code == 400


# --- villages and communities, 人房楼, grid workers ------------------------------------------------


def test_villages_and_communities_keep_their_kind_and_profile_sums_up(store, tmp_path):
    frame = gpd.GeoDataFrame(
        [{"编码": "990102001", "名称": "江村", "层级": "村", "上级编码": "990102"},
         {"编码": "990102002", "名称": "江苑社区", "层级": "社区", "上级编码": "990102"},
         {"编码": "990102003", "名称": "河村", "层级": "行政村", "上级编码": "990102"}],
        geometry=[shapely.box(114.0, 30.0, 114.005, 30.005), shapely.box(114.005, 30.0, 114.01, 30.005),
                  shapely.box(114.0, 30.005, 114.01, 30.01)], crs=4326)
    path = tmp_path / "villages.geojson"
    frame.to_file(path, driver="GeoJSON")
    assert _cli(store, "units", path, "--map-level", "行政村=村") == 0
    stats = _write(tmp_path, "renfanglou.csv", "区划代码,实有人口,实有户数,实有房屋,楼栋数",
                   ["990102001,1200,400,420,60", "990102002,3000,1100,1150,25", "990102003,800,,300,"])
    assert _cli(store, "stats", stats) == 0
    roster = _write(tmp_path, "roster.csv", "工号,姓名,岗位,所属网格", [
        f"W1,张三,专职,{GRID_WEST}", f"W2,李四,兼职网格员,{GRID_WEST}", f"W3,王五,社区民警,{GRID_WEST}",
        f"W4,赵六,兼职,{GRID_EAST}"])
    assert _cli(store, "workers", roster) == 0
    _import_ledger(store, tmp_path, [_ledger_row(i) for i in range(6)])
    answer = _unit(_client(store), "990102")
    assert answer["unit"]["households"] is None  # the district's own figure: none given
    profile = answer["profile"]
    assert profile["units_below"] == {"grid": 1, "村": 2, "社区": 1}
    assert profile["totals"] == {"population": 20_000, "households": 1500, "houses": 1870,
                                 "buildings": 85}  # its own population; the rest summed up
    assert profile["grid_workers"] == {"专职网格员": 1, "兼职网格员": 1, "网格警长": 1}
    assert profile["cases_per_grid_worker"] == 3.0  # 6 cases, 2 grid workers (the 民警 is not one)


# --- sensitive topics: aggregates only --------------------------------------------------------------


def test_household_risk_and_special_populations_are_stored_as_counts_only(store, tmp_path):
    households = _write(tmp_path, "risk.csv", "户编号,户主姓名,身份证号,风险等级,所属网格", [
        f"H1,甲,420100190001010011,高风险,{GRID_WEST}", f"H2,乙,420100190001010022,中风险,{GRID_WEST}",
        f"H3,丙,420100190001010033,高,{GRID_EAST}", f"H4,丁,420100190001010044,低风险户,{GRID_EAST}"])
    report = run_import(store, "household-risk", households)
    assert set(report.ignored_columns) == {"户编号", "户主姓名", "身份证号"}
    people = _write(tmp_path, "special.csv", "人群类别,人数,所属村社",
                    ["留守儿童,12,西区", "留守儿童,3,东区"])
    assert _cli(store, "special-populations", people) == 0
    reply = _client(store).get("/api/v1/units/990100/sensitive").json
    assert reply["totals"] == {"household_risk": {"中风险户": 1, "低风险户": 1, "高风险户": 2},
                               "special_population": {"留守儿童": 15}}
    assert [c["totals"]["household_risk"] for c in reply["children"]] == [
        {"中风险户": 1, "高风险户": 1}, {"低风险户": 1, "高风险户": 1}]
    # Nothing that names a household reached the store.
    columns = {c["name"] for c in inspect(store.engine).get_columns("sensitive_counts")}
    assert columns == {"unit_code", "topic", "group_name", "count", "updated_at"}
    body = json.dumps(reply, ensure_ascii=False)
    assert "H1" not in body and "甲" not in body and "4201001900" not in body
    # A district's viewer sees its own district's counts, and nothing of another's.
    west = _client(store)
    west.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {grant(store, 'west', 'viewer', '990102')}"
    assert west.get("/api/v1/units/990102/sensitive").json["totals"]["household_risk"] == {
        "中风险户": 1, "高风险户": 1}
    assert west.get("/api/v1/units/990103/sensitive").status_code == 403
    assert west.get("/api/v1/units/990100/sensitive").status_code == 403


# --- surveys and police cases --------------------------------------------------------------------------


def test_surveys_import_as_a_series_per_unit(store, tmp_path):
    path = _write(tmp_path, "surveys.csv", "区划代码,指标,年度,得分,来源", [
        "990100,群众安全感,2022,94.5,省统计局", "990100,群众安全感,2023,96.1,省统计局",
        "990100,群众安全感,2024,97.8,省统计局", "990100,群众安全感,2025,98.98,省统计局",
        "990102,执法满意度,2025,0.93,区政法委"])
    assert _cli(store, "surveys", path) == 0
    assert _cli(store, "surveys", path) == 0  # idempotent
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM survey_indicators")).scalar() == 5
    west = _client(store).get("/api/v1/units/990102/surveys").json["surveys"]
    safety = west["群众安全感"]
    assert safety["unit_code"] == "990100"  # the district has none of its own: the city's
    assert [p["value"] for p in safety["points"]] == pytest.approx([0.945, 0.961, 0.978, 0.9898])
    assert safety["points"][-1]["from"] == "2025-01-01" and safety["points"][-1]["to"] == "2025-12-31"
    assert west["执法满意度"]["unit_code"] == "990102"
    twice = _write(tmp_path, "twice.csv", "区划代码,指标,年度,得分", ["990100,群众安全感,2025,98",
                                                                 "990100,群众安全感,2025,97"])
    with pytest.raises(ImportRejected, match="the same unit, indicator and period appear twice"):
        run_import(store, "surveys", twice)


def test_police_cases_by_kind_and_cause_with_year_on_year(store, tmp_path):
    rows = []
    for i in range(349):
        rows.append(f"J{i},刑事案件,盗窃,2025-03-0{1 + i % 9} 10:00,,{WEST[0]},{WEST[1]}")
    for i in range(286):
        rows.append(f"K{i},刑事案件,盗窃,2026-03-0{1 + i % 9} 10:00,,{WEST[0]},{WEST[1]}")
    rows += ["Z1,治安案件,殴打他人,2026-03-02 22:00,西区,,", "Z2,治安案件,赌博,2026-03-03 22:00,东区,,"]
    path = _write(tmp_path, "police.csv", "警情编号,案件类别,案由,发案时间,辖区,经度,纬度", rows)
    assert _cli(store, "police", path, "--crs", "4326") == 0
    client = _client(store)
    answer = client.get("/api/v1/units/990100/police?period=custom&from=2026-03-01&to=2026-03-31").json
    assert answer["covered"]
    kinds = {k["kind"]: k for k in answer["kinds"]}
    assert kinds["刑事"]["count"] == 286 and kinds["刑事"]["last_year"] == 349
    assert kinds["刑事"]["yoy_display"] == "-18.05%"
    assert kinds["治安"]["yoy_display"] == "—"  # none last year: no percentage
    # 万人发案率 counts 刑事 + 治安 (police cases here) per 10,000 residents.
    kpi = _unit(client, "990100")["kpis"]["cases_per_10k"]
    assert kpi["numerator"] == 288 and kpi["value"] == pytest.approx(288 / 30_000 * 10_000)
    only_crime = _unit(_client(store, incident_categories="刑事"), "990100")["kpis"]["cases_per_10k"]
    assert only_crime["numerator"] == 286 and "刑事" in only_crime["definition"]


# --- importer friction ------------------------------------------------------------------------------------


def test_constant_fields_and_ignored_columns(store, tmp_path, capsys):
    path = _write(tmp_path, "mediation.csv", "编号,上报时间,状态,调解结果,备注,经度,纬度",
                  [f"R1,2026-03-02 09:00,受理,调解中,无,{WEST[0]},{WEST[1]}"])
    assert _cli(store, "cases", path, "--crs", "4326", "--set", "category=矛盾纠纷",
                "--set", "source=人民调解") == 0
    out = capsys.readouterr().out
    assert "ignored column: 备注" in out
    with store.engine.connect() as conn:
        row = conn.execute(select(schema.cases.c.category, schema.cases.c.source,
                                  schema.cases.c.outcome)).one()
    assert tuple(row) == ("矛盾纠纷", "人民调解", vocab.PENDING)
    assert _cli(store, "cases", path, "--crs", "4326", "--set", "catgory=矛盾纠纷") == 2  # a typo
    assert "unknown field(s) for cases: catgory" in capsys.readouterr().err


def test_mapped_levels_chain_and_grids_need_a_parent(store, tmp_path, capsys):
    streets = gpd.GeoDataFrame([{"编码": "990102009", "名称": "江北办事处", "层级": "办事处",
                                 "上级编码": "990102"}],
                               geometry=[shapely.box(114.0, 30.0, 114.001, 30.001)], crs=4326)
    path = tmp_path / "streets.geojson"
    streets.to_file(path, driver="GeoJSON")
    assert _cli(store, "units", path, "--map-level", "办事处=街道") == 0
    with store.engine.connect() as conn:
        assert queries.unit(conn, "990102009")["level"] == "street"
    grids = gpd.GeoDataFrame([{"GRID_ID": "990102009001", "GRID_NAME": "孤网格"}],
                             geometry=[shapely.box(114.0, 30.0, 114.0005, 30.0005)], crs=4326)
    path = tmp_path / "grids.geojson"
    grids.to_file(path, driver="GeoJSON")
    options = ImportOptions(level="grid", fields={"code": "GRID_ID", "name": "GRID_NAME"})
    with pytest.raises(ImportRejected, match="grid 需要上级单元 needs a parent"):
        run_import(store, "units", path, options)
    options.parent = "990102009"
    assert run_import(store, "units", path, options).result.inserted == 1


def test_legend_stays_inside_zero_to_one_hundred_per_cent():
    assert figures.colour_range(1.0, 1.0, "rate") == (0.99, 1.0)
    assert figures.colour_range(0.0, 0.0, "rate") == (0.0, 0.01)
    assert figures.colour_range(3, 3, "count") == (3, 4)
    assert figures.rate_ticks(0.985, 0.999)["tickformat"] == ".1%"  # not "99% 99% 99%"
    assert figures.rate_ticks(0.9985, 0.9999)["tickformat"] == ".2%"
    assert figures.rate_ticks(0.6, 1.0)["tickformat"] == ".0%"
    rows = [{"code": "a", "closure_rate": 1.0}, {"code": "b", "closure_rate": 1.0}]
    _z, _text, scale = figures._values("closure_rate", rows, None)  # a fixed scale: dashboard/scales.py
    assert 0 <= scale.zmin < scale.zmax <= 1


def test_data_version_moves_when_the_new_tables_change(store, tmp_path):
    with store.engine.connect() as conn:
        before = queries.data_version(conn)
    path = _write(tmp_path, "special.csv", "人群类别,人数,所属单位编码", ["留守儿童,2,990102"])
    assert _cli(store, "special-populations", path) == 0
    with store.engine.connect() as conn:
        assert queries.data_version(conn) != before


def test_the_demo_has_failed_mediations(embedded_demo):
    with embedded_demo.engine.connect() as conn:
        city = queries.roots(conn)[0]["code"]
        row = queries.counts(conn, unit_code=city, start=datetime(2025, 1, 1),
                             end=datetime(2026, 12, 1), now=datetime(2026, 11, 20)).iloc[0]
    assert 0 < row.disputes_resolved < row.disputes
    assert 0.95 < row.disputes_resolved / row.disputes < 0.995
    with embedded_demo.engine.connect() as conn:
        kinds = queries.unit_profile(conn, city)["units_below"]
    assert kinds["村"] > 0 and kinds["社区"] > 0 and kinds["镇"] > 0 and kinds["街道"] > 0


def test_the_readme_examples_import_into_the_demo_city(embedded_demo, tmp_path, capsys):
    """Every ``citybrain import … docs/examples/…`` line of the README, run as written."""
    import shlex
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    embedded_demo.checkpoint()
    copy = tmp_path / "demo.gpkg"
    shutil.copy(embedded_demo.engine.url.database, copy)
    readme = (root / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    commands = [shlex.split(line.strip()) for line in readme.splitlines()
                if line.strip().startswith("citybrain import") and "docs/examples/" in line]
    assert len(commands) >= 9
    for command in commands:
        args = [str(root / a) if a.startswith("docs/examples/") else a for a in command[1:]]
        assert main([*args, "--db", str(copy), "--quiet"]) == 0, command
        first = capsys.readouterr().out
        assert "inserted 0," not in first or "updated 0," not in first, command  # it landed
        assert main([*args, "--db", str(copy), "--quiet"]) == 0, command  # again: nothing changes
        again = capsys.readouterr().out
        assert "inserted 0," in again and "updated 0," in again, (command, again)
    store = open_store(f"sqlite:///{copy}")
    with store.engine.connect() as conn:
        profile = queries.unit_profile(conn, "990102001001")
        assert profile["totals"]["houses"] == 1160
        assert queries.sensitive_totals(conn, codes=["990102001"])["990102001"][vocab.SPECIAL_POPULATION]
    store.engine.dispose()


def test_the_wall_screen_shows_the_seeds_data_as_aggregates(store, tmp_path):
    from flask import Flask
    from flask_caching import Cache

    from dashboard.domain import Period
    from data.service import CityData

    households = _write(tmp_path, "risk.csv", "户编号,户主姓名,风险等级,所属网格",
                        [f"H1,甲,高风险,{GRID_WEST}", f"H2,乙,高风险,{GRID_EAST}"])
    assert run_import(store, "household-risk", households).result.inserted == 2
    surveys = _write(tmp_path, "s.csv", "区划代码,指标,年度,得分", ["990100,群众安全感,2024,97.8",
                                                                "990100,群众安全感,2025,98.98"])
    assert run_import(store, "surveys", surveys).result.inserted == 2
    data = CityData(store, Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    period = Period.resolve("custom", "2026-03-01", "2026-03-31", today=datetime(2026, 3, 31).date())
    panel = facts.facts(data.profile("990100", period), data.surveys("990100"),
                        data.police_summary("990100", period), data.sensitive("990100")["990100"])
    shown = {f.children[0].children: (f.children[1].children, f.title) for f in panel.children}
    assert shown["人口"] == ("30,000", "常住人口（本级未填报时为下级之和）")
    assert shown["群众安全感"] == ("98.98%", "97.80% → 98.98%（2024–2025）")
    assert shown["高风险户"][0] == "2"
    assert "甲" not in repr(panel) and "H1" not in repr(panel)
