"""Importing files and live ingest, on both stores: every error class, upsert semantics, round trips.

Each test builds its small files in ``tmp_path``; the stores start as the hand-made tiny city
(tests/factories.py) or empty.
"""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select

from app import create_app, main
from dashboard.settings import Settings
from data import queries, schema
from data.ingest.importer import ImportOptions, ImportRejected, run_import
from geo.crs import distance_m, wgs84_to_gcj02
from tests.factories import EAST, WEST, tiny_city

STORES = ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)]
TABLES = (schema.units, schema.unit_closure, schema.cases, schema.case_events, schema.cameras,
          schema.key_places)
HEADER = "id,category,source,reported_at,status,lon,lat\n"


@pytest.fixture(params=STORES)
def store(request):
    store = request.getfixturevalue("empty_embedded" if request.param == "embedded" else "empty_postgis")
    tiny_city(store)
    return store


def snapshot(store) -> dict:
    """Row counts and newest change of every table the importer writes."""
    with store.engine.connect() as conn:
        out = {t.name: conn.execute(select(func.count()).select_from(t)).scalar() for t in TABLES}
        for t in (schema.units, schema.cases, schema.cameras):
            out[f"{t.name}.updated_at"] = conn.execute(select(func.max(t.c.updated_at))).scalar()
        out["events.max_id"] = conn.execute(select(func.max(schema.case_events.c.id))).scalar()
    return out


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def cases_csv(tmp_path, *rows: str, name="cases.csv"):
    return write(tmp_path, name, HEADER + "".join(r + "\n" for r in rows))


def row(i, *, category="治安", status="受理", at=WEST, time="2026-03-02 09:00", source="网格员上报"):
    return f"C{i},{category},{source},{time},{status},{at[0]},{at[1]}"


def units_geojson(tmp_path, features, name="units.geojson"):
    frame = gpd.GeoDataFrame([f[0] for f in features], geometry=[f[1] for f in features], crs=4326)
    path = tmp_path / name
    frame.to_file(path, driver="GeoJSON")
    return path


def rejected(store, kind, path, **options) -> str:
    """Import that must fail; the message, after checking that nothing was written."""
    before = snapshot(store)
    with pytest.raises(ImportRejected) as info:
        run_import(store, kind, path, ImportOptions(**{"crs": "4326", **options}))
    assert snapshot(store) == before, "a rejected import wrote something"
    return str(info.value)


def stored_case(store, external_id):
    with store.engine.connect() as conn:
        query = select(schema.cases).where(schema.cases.c.external_id == external_id)
        return conn.execute(query).mappings().one()


def events_of(store, external_id):
    c, e = schema.cases, schema.case_events
    with store.engine.connect() as conn:
        return [r.status for r in conn.execute(
            select(e.c.status).join(c, c.c.id == e.c.case_id).where(c.c.external_id == external_id)
            .order_by(e.c.at, e.c.id))]


# --- every error class: the message names the record and the field, and nothing is written -------


def test_empty_geometry_is_refused(store, tmp_path):
    path = units_geojson(tmp_path, [({"code": "990102001001002", "name": "空网格", "level": "grid",
                                      "parent_code": "990102"}, shapely.Polygon())])
    message = rejected(store, "units", path)
    assert "row 1 (990102001001002)" in message and "field geometry" in message and "empty" in message


def test_self_intersecting_ring_is_repaired_and_reported(store, tmp_path):
    bow_tie = shapely.Polygon([(114.0, 30.0), (114.01, 30.01), (114.01, 30.0), (114.0, 30.01), (114.0, 30.0)])
    path = units_geojson(tmp_path, [({"code": "990102001001002", "name": "蝴蝶网格", "level": "grid",
                                      "parent_code": "990102"}, bow_tie)])
    report = run_import(store, "units", path, ImportOptions(crs="4326"))
    assert report.repaired == 1 and report.result.inserted == 1
    warning = str(report.warnings[0])
    assert "repaired with make_valid" in warning and "990102001001002" in warning
    shape = store.unit_shapes(["990102001001002"]).geometry.iloc[0]
    assert shape.is_valid and shape.geom_type == "MultiPolygon"


def test_wrong_geometry_type_is_refused(store, tmp_path):
    path = units_geojson(tmp_path, [({"code": "990104", "name": "点区", "level": "district",
                                      "parent_code": "990100"}, shapely.Point(114.0, 30.0))])
    message = rejected(store, "units", path)
    assert "row 1 (990104)" in message and "wrong geometry type Point" in message


def test_coordinates_implausible_for_the_crs_are_refused(store, tmp_path):
    path = cases_csv(tmp_path, row(1), row(2, at=(30.005, 114.005)))  # latitude and longitude swapped
    message = rejected(store, "cases", path)
    assert "row 2 (C2)" in message and "implausible for EPSG:4326" in message
    path = cases_csv(tmp_path, row(3), name="far.csv")
    assert "implausible for EPSG:4547" in rejected(store, "cases", path, crs="4547")


def test_duplicate_codes_are_refused(store, tmp_path):
    path = cases_csv(tmp_path, row(1), row(2), row(1, status="指派"))
    message = rejected(store, "cases", path)
    assert "row 3 (C1), 字段 field external_id: 编码重复 duplicate code 'C1' (first at row 1)" in message


def test_unknown_parent_is_refused(store, tmp_path):
    path = units_geojson(tmp_path, [({"code": "990109001", "name": "孤儿街道", "level": "street",
                                      "parent_code": "990109"}, shapely.box(114.0, 30.0, 114.01, 30.01))])
    message = rejected(store, "units", path)
    assert "row 1 (990109001)" in message and "field parent_code" in message
    assert "unknown parent '990109'" in message


def test_a_cycle_in_the_hierarchy_is_refused(store, tmp_path):
    # The city made a child of its own district: 990100 → 990102 → 990100.
    path = units_geojson(tmp_path, [({"code": "990100", "name": "测试市", "level": "city",
                                      "parent_code": "990102"}, shapely.box(114.0, 30.0, 114.02, 30.01))])
    message = rejected(store, "units", path)
    assert "row 1 (990100)" in message and "cycle in the hierarchy" in message and "990102" in message


def test_unparseable_times_are_refused(store, tmp_path):
    path = cases_csv(tmp_path, row(1), row(2, time="上周三"))
    message = rejected(store, "cases", path)
    assert "row 2 (C2), 字段 field reported_at: 无法解析的时间 unparseable time '上周三'" in message


def test_unknown_category_and_status_are_refused_and_can_be_mapped(store, tmp_path):
    path = cases_csv(tmp_path, row(1, category="纠纷"), row(2, status="已办结"))
    message = rejected(store, "cases", path)
    assert "row 1 (C1), 字段 field category: 未知取值 unknown category '纠纷'" in message
    assert "--map-category 纠纷=" in message
    assert "row 2 (C2), 字段 field status: 未知取值 unknown status '已办结'" in message
    report = run_import(store, "cases", path, ImportOptions(crs="4326",
        values={"category": {"纠纷": "矛盾纠纷"}, "status": {"已办结": "核查办结"}}))
    assert report.result.inserted == 2
    assert stored_case(store, "C1")["category"] == "矛盾纠纷"
    assert stored_case(store, "C2")["status"] == "核查办结"


def test_points_outside_every_grid_are_kept_flagged_and_counted(store, tmp_path):
    path = cases_csv(tmp_path, row(1), row(2, at=(114.5, 30.5)))
    report = run_import(store, "cases", path, ImportOptions(crs="4326"))
    assert report.outside_grid == 1 and report.result.inserted == 2
    assert "row 2 (C2)" in str(report.warnings[0]) and "outside every grid" in str(report.warnings[0])
    assert stored_case(store, "C2")["grid_code"] is None
    assert stored_case(store, "C1")["grid_code"] == "990102001001001"


# --- nothing half-written; upsert semantics -------------------------------------------------------


def test_skip_invalid_lands_good_rows_and_writes_rejects(store, tmp_path):
    path = cases_csv(tmp_path, row(1), row(2, category="不存在"), row(3, at=EAST))
    rejects = tmp_path / "bad.csv"
    report = run_import(store, "cases", path,
                        ImportOptions(crs="4326", skip_invalid=True, rejects=str(rejects)))
    assert report.result.inserted == 2 and report.rejected == 1
    bad = pd.read_csv(rejects, dtype=str)
    assert bad[["_row", "_field", "id"]].values.tolist() == [["2", "category", "C2"]]
    assert "unknown category '不存在'" in bad["_reason"][0]


def test_dry_run_reports_without_writing(store, tmp_path):
    before = snapshot(store)
    report = run_import(store, "cases", cases_csv(tmp_path, row(1), row(2)),
                        ImportOptions(crs="4326", dry_run=True))
    assert report.result.inserted == 2 and report.result.events == 2 and not report.written
    assert snapshot(store) == before


def test_reimporting_the_same_file_changes_nothing(store, tmp_path):
    path = cases_csv(tmp_path, row(1), row(2, status="核查办结", at=EAST), row(3, at=(114.5, 30.5)))
    first = run_import(store, "cases", path, ImportOptions(crs="4326"))
    assert first.result.inserted == 3
    before = snapshot(store)
    again = run_import(store, "cases", path, ImportOptions(crs="4326"))
    result = again.result
    assert (result.inserted, result.updated, result.unchanged, result.events) == (0, 0, 3, 0)
    assert snapshot(store) == before


def test_a_changed_record_updates_and_a_status_change_appends_history(store, tmp_path):
    run_import(store, "cases", cases_csv(tmp_path, row(1), row(2)), ImportOptions(crs="4326"))
    assert events_of(store, "C1") == ["受理"]
    version = _version(store)
    changed = cases_csv(tmp_path, row(1, status="指派"), row(2, category="城市管理"), name="changed.csv")
    report = run_import(store, "cases", changed, ImportOptions(crs="4326"))
    assert (report.result.updated, report.result.unchanged, report.result.events) == (2, 0, 1)
    assert events_of(store, "C1") == ["受理", "指派"] and events_of(store, "C2") == ["受理"]
    assert stored_case(store, "C2")["category"] == "城市管理"
    assert _version(store) != version


def test_units_one_level_at_a_time_rebuild_links_and_assign_waiting_cases(store, tmp_path):
    # A case east of the city lies in no unit yet; then a new district arrives, then its grid.
    far = (114.025, 30.005)
    run_import(store, "cases", cases_csv(tmp_path, row(1, at=far)), ImportOptions(crs="4326"))
    assert stored_case(store, "C1")["grid_code"] is None
    square = shapely.box(114.02, 30.0, 114.03, 30.01)
    districts = units_geojson(tmp_path, [({"区划代码": "990104", "名称": "新区"}, square)],
                              name="districts.geojson")
    report = run_import(store, "units", districts, ImportOptions(crs="4326", level="区", parent="990100"))
    assert report.result.inserted == 1 and report.result.reassigned == 1
    assert stored_case(store, "C1")["grid_code"] == "990104"  # the leaf, until its grids come
    grids = units_geojson(tmp_path, [({"GID": "990104001001001", "NAME": "新区第一网格", "UP": "990104"},
                                      shapely.box(114.02, 30.0, 114.03, 30.01))], name="grids.geojson")
    report = run_import(store, "units", grids, ImportOptions(crs="4326",
        level="grid", fields={"code": "GID", "name": "NAME", "parent_code": "UP"}))
    assert report.result.inserted == 1 and report.result.reassigned == 1
    assert stored_case(store, "C1")["grid_code"] == "990104001001001"
    with store.engine.connect() as conn:
        chain = [u["code"] for u in queries.ancestors(conn, "990104001001001")]
    assert chain == ["990100", "990104", "990104001001001"]


def test_round_trip_export_and_reimport_changes_nothing(store, tmp_path):
    run_import(store, "cases", cases_csv(tmp_path, row(1), row(2, status="处置", at=EAST)),
               ImportOptions(crs="4326"))
    with store.engine.connect() as conn:
        unit_rows = pd.DataFrame(conn.execute(select(schema.units)).mappings().all())
        case_rows = pd.DataFrame(conn.execute(select(schema.cases)).mappings().all())
    units_out = gpd.GeoDataFrame(unit_rows.drop(columns=["geom", "updated_at"]),
                                 geometry=shapely.from_wkb(unit_rows["geom"].tolist()), crs=4326)
    cases_out = gpd.GeoDataFrame(case_rows.drop(columns=["geom", "id", "updated_at"]),
                                 geometry=shapely.from_wkb(case_rows["geom"].tolist()), crs=4326)
    units_out.to_file(tmp_path / "export.gpkg", layer="units")
    cases_out.to_file(tmp_path / "export.gpkg", layer="cases")
    before = snapshot(store)
    units_report = run_import(store, "units", tmp_path / "export.gpkg", ImportOptions(layer="units"))
    cases_report = run_import(store, "cases", tmp_path / "export.gpkg", ImportOptions(layer="cases"))
    assert units_report.result.unchanged == 5 and cases_report.result.unchanged == 2
    assert units_report.result.updated == cases_report.result.updated == 0
    assert snapshot(store) == before


def test_gcj02_file_lands_where_it_should(store, tmp_path):
    # A case recorded on an AMap screen: its GCJ-02 point is several hundred metres off WGS84.
    gcj = wgs84_to_gcj02(*WEST)
    run_import(store, "cases", cases_csv(tmp_path, row(1, at=gcj)), ImportOptions(crs="gcj02"))
    point = shapely.from_wkb(stored_case(store, "C1")["geom"])
    assert distance_m(point.x, point.y, *WEST) < 0.01
    assert 300 < distance_m(point.x, point.y, *gcj) < 800
    assert stored_case(store, "C1")["grid_code"] == "990102001001001"


def test_cameras_and_places_import(store, tmp_path):
    cams = write(tmp_path, "cams.csv", "设备编号,类型,在线状态,经度,纬度,方向\n"
                 "K1,球机,在线,114.005,30.005,90\nK2,枪机,离线,114.015,30.005,\n")
    report = run_import(store, "cameras", cams, ImportOptions(crs="4326"))
    assert report.result.inserted == 2
    places = write(tmp_path, "places.csv", "id,name,kind,wkt\nP1,第一小学,学校,\"POLYGON ((114.001 30.001, "
                   "114.002 30.001, 114.002 30.002, 114.001 30.001))\"\n")
    assert run_import(store, "places", places, ImportOptions(crs="4326")).result.inserted == 1
    with store.engine.connect() as conn:
        statuses = conn.execute(select(schema.cameras.c.status).order_by(schema.cameras.c.id)).scalars()
        assert statuses.all() == ["online", "offline"]
        assert conn.execute(select(schema.key_places.c.grid_code)).scalar() == "990102001001001"


def test_cli_import(store, tmp_path, capsys):
    url = store.engine.url.render_as_string(hide_password=False)
    path = cases_csv(tmp_path, row(1), row(2, category="纠纷"))
    assert main(["import", "cases", str(path), "--db", url, "--crs", "4326", "--quiet"]) == 1
    assert "unknown category '纠纷'" in capsys.readouterr().err
    mapped = ["--map-category", "纠纷=矛盾纠纷", "--quiet"]
    assert main(["import", "cases", str(path), "--db", url, "--crs", "4326", *mapped]) == 0
    assert "inserted 2" in capsys.readouterr().out


def _version(store):
    with store.engine.connect() as conn:
        return queries.data_version(conn)


# --- live ingest: POST /api/v1/cases ---------------------------------------------------------------


def _client(store, token="s3cret"):
    url = store.engine.url.render_as_string(hide_password=False)
    return create_app(Settings(db=url, writer_token=token)).server.test_client()


def _case(i, **overrides):
    body = {"external_id": f"A{i}", "category": "矛盾纠纷", "subcategory": "邻里", "source": "12345热线",
            "reported_at": "2026-03-02T09:00:00+08:00", "status": "受理", "lon": WEST[0], "lat": WEST[1]}
    return {**body, **overrides}


def _post(client, body, token="s3cret", query=""):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post(f"/api/v1/cases{query}", data=json.dumps(body), headers=headers,
                       content_type="application/json")


def test_ingest_needs_the_writer_token(store):
    # No writer token configured: the legacy token value is just a wrong token (401).
    assert _post(_client(store, token=""), _case(1)).status_code == 401
    client = _client(store)
    assert _post(client, _case(1), token=None).status_code == 401
    assert _post(client, _case(1), token="wrong").status_code == 401
    assert snapshot(store)["cases"] == 0


def test_ingest_validates_and_is_idempotent(store):
    client = _client(store)
    version = _version(store)
    response = _post(client, _case(1))
    assert response.status_code == 201 and response.get_json()["inserted"] == 1
    assert _version(store) != version  # an open screen sees it on its next tick
    assert stored_case(store, "A1")["reported_at"].isoformat() == "2026-03-02T09:00:00"
    again = _post(client, _case(1))
    assert again.status_code == 200 and again.get_json()["unchanged"] == 1
    moved = _post(client, {"cases": [_case(1, status="指派", assigned_at="2026-03-02 09:20")]})
    assert moved.get_json()["updated"] == 1 and events_of(store, "A1") == ["受理", "指派"]


def test_ingest_rejects_a_bad_batch_unless_partial(store):
    client = _client(store)
    batch = [_case(1), _case(2, category="打架"), _case(3, reported_at="not a time")]
    before = snapshot(store)
    response = _post(client, batch)
    assert response.status_code == 400 and snapshot(store) == before
    errors = response.get_json()["errors"]
    found = {(e["row"], e["id"], e["field"]) for e in errors}
    assert found == {(2, "A2", "category"), (3, "A3", "reported_at")}
    partial = _post(client, batch, query="?partial=true")
    assert partial.status_code == 201
    assert (partial.get_json()["inserted"], partial.get_json()["rejected"]) == (1, 2)
    assert _post(client, {"not": "a case"}).status_code == 400
