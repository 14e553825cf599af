"""The demo city has the shape and the patterns of a real one, and is the same for a seed."""

import hashlib
import io
import math
import sqlite3
from contextlib import closing
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import select

from dashboard import vocab
from data import schema
from data.demo.generator import DemoSize, Progress, generate
from data.stores import open_store
from tests.conftest import DEMO_END, DEMO_SCALE


def _frame(store, table) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(table)).mappings().all())


@pytest.fixture(scope="module")
def units(embedded_demo):
    frame = _frame(embedded_demo, schema.units)
    frame["geometry"] = shapely.from_wkb(frame.pop("geom"))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)


@pytest.fixture(scope="module")
def cases(embedded_demo):
    return _frame(embedded_demo, schema.cases)


def test_sizes_follow_the_scale(units, cases):
    size = DemoSize.at_scale(DEMO_SCALE)
    counts = units.level.value_counts()
    assert counts["city"] == 1
    assert counts["district"] == size.districts
    assert counts["street"] == size.streets
    assert counts["community"] == size.communities
    assert counts["grid"] == size.grids
    assert 0.97 * size.cases <= len(cases) <= size.cases  # cases after the end moment are dropped


def test_default_size_is_the_issue_s_city():
    size = DemoSize.at_scale(1)
    assert (size.districts, size.streets, size.grids) == (6, 60, 2000)
    assert (size.cases, size.cameras, size.places) == (200_000, 4_000, 1_500)


def test_children_tile_their_parent_and_extend_its_code(units):
    by_code = units.set_index("code")
    for parent_code, kids in units.dropna(subset=["parent_code"]).groupby("parent_code"):
        parent = by_code.loc[parent_code]
        assert all(k.startswith(parent_code[: len(parent_code) - 2]) for k in kids.code)
        union = shapely.union_all(kids.geometry.to_numpy())
        # Areas in degrees² are fine for comparing shapes with each other.
        assert math.isclose(union.area, parent.geometry.area, rel_tol=1e-6), parent_code
        assert math.isclose(shapely.area(kids.geometry.to_numpy()).sum(), parent.geometry.area,
                            rel_tol=1e-6)
        assert kids.population.sum() == parent.population
        assert kids.name.is_unique


def test_codes_follow_the_national_lengths(units):
    lengths = units.groupby("level").code.agg(lambda c: set(c.str.len()))
    assert lengths["district"] == {6} and lengths["street"] == {9}
    assert lengths["community"] == {12} and lengths["grid"] == {15}


def test_names_are_chinese(units):
    assert units.name.str.fullmatch(r"[\u4e00-\u9fff]+").all()
    assert units[units.level == "street"].name.str.endswith(("街道", "镇")).all()
    assert units[units.level == "grid"].name.str.endswith("网格").all()


def test_every_case_lies_in_its_grid(embedded_demo, cases, units):
    assert cases.grid_code.notna().all()
    grids = units.set_index("code").geometry
    sample = cases.sample(300, random_state=1)
    points = shapely.from_wkb(sample.geom)
    assert all(grids[g].covers(p) for g, p in zip(sample.grid_code, points, strict=True))


def test_the_closed_loop_looks_real(cases):
    closed = (cases.status == vocab.CLOSED).mean()
    assert 0.975 <= closed <= 0.995
    assert (cases.returned_count > 0).mean() > 0.01
    open_late = (cases.status != vocab.CLOSED) & (cases.deadline < DEMO_END)
    assert open_late.sum() > 0
    delay = (cases.assigned_at - cases.reported_at).dt.total_seconds() / 60
    assert 0.8 < (delay <= 60).mean() < 0.95  # most within the one-hour limit, not all
    closed_rows = cases[cases.status == vocab.CLOSED]
    assert (closed_rows.closed_at >= closed_rows.responded_at).all()
    assert (cases.assigned_at.dropna() >= cases.reported_at[cases.assigned_at.notna()]).all()
    assert set(cases.status) <= set(vocab.STATUSES)


def test_daily_and_weekly_rhythm(cases):
    hours = cases.reported_at.dt.hour.value_counts()
    assert hours[[9, 10, 14, 15]].mean() > 5 * hours[[2, 3, 4]].mean()
    days = cases.reported_at.dt.normalize().value_counts()
    weekday = days[days.index.day_of_week < 5].mean()
    weekend = days[days.index.day_of_week >= 5].mean()
    assert weekday > 1.15 * weekend


def test_disputes_gather_near_markets(embedded_demo, cases):
    places = _frame(embedded_demo, schema.key_places)
    markets = shapely.from_wkb(places[places.kind == "农贸市场"].geom)
    near = shapely.union_all(shapely.buffer(markets, 0.006))  # ~600 m
    def share(category):
        pts = shapely.from_wkb(cases[cases.category == category].geom)
        return shapely.contains(near, pts).mean()
    assert share(vocab.DISPUTE) > 1.5 * share("民生服务")


def test_cameras_mostly_online_and_uneven(embedded_demo):
    cams = _frame(embedded_demo, schema.cameras)
    online = (cams.status == vocab.ONLINE).mean()
    assert 0.9 <= online <= 0.98
    per_grid = cams.grid_code.value_counts()
    assert per_grid.max() >= 4 * max(per_grid.median(), 1)  # dense centre, thin outskirts
    assert set(cams.kind) == {"枪机", "球机", "人脸", "车牌"} <= set(vocab.CAMERA_KINDS)


def test_surveys_and_events_exist(embedded_demo, cases):
    surveys = _frame(embedded_demo, schema.survey_indicators)
    assert set(surveys.indicator) == set(vocab.SURVEY_INDICATORS)
    assert surveys.value.between(0.8, 1).all()
    events = _frame(embedded_demo, schema.case_events)
    per_case = events.groupby("case_id").size()
    assert per_case.min() >= 1 and per_case.mean() > 4
    first = events.sort_values("at").groupby("case_id").status.first()
    assert (first == vocab.ACCEPTED).all()


def test_the_file_is_a_geopackage_that_geopandas_opens(embedded_demo, units, tmp_path):
    # GDAL brings its own SQLite: two SQLite libraries on one WAL file in one process release
    # each other's locks and can corrupt it, so GDAL reads a consistent copy (SQLite's backup).
    path = str(tmp_path / "copy.gpkg")
    with closing(sqlite3.connect(embedded_demo.engine.url.database)) as source, \
            closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
    layers = set(gpd.list_layers(path).name)
    assert {"units", "cases", "cameras", "key_places"} <= layers
    read = gpd.read_file(path, layer="units")
    assert len(read) == len(units) and read.crs.to_epsg() == 4326
    assert read.geometry.geom_type.eq("MultiPolygon").all()


def _digest(store) -> str:
    h = hashlib.sha256()
    for table in (schema.units, schema.cases, schema.case_events, schema.cameras, schema.key_places):
        frame = _frame(store, table).drop(columns=["updated_at"], errors="ignore")
        h.update(repr(frame.to_dict("list")).encode())
    return h.hexdigest()


def test_same_seed_same_city_other_seed_other_city(tmp_path):
    quiet = Progress(io.StringIO())
    digests = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        store = open_store(f"sqlite:///{tmp_path / name}.gpkg")
        store.create_schema()
        generate(store, seed=seed, scale=0.01, end=datetime(2026, 1, 10, 8, 0), progress=quiet)
        digests.append(_digest(store))
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_refuses_a_store_that_has_data(embedded_demo):
    with pytest.raises(ValueError, match="不为空|已有数据"):
        generate(embedded_demo, scale=0.01, progress=Progress(io.StringIO()))


def test_progress_is_shown():
    out = io.StringIO()
    Progress(out).step("写入事件 1/2")
    assert "写入事件 1/2" in out.getvalue() and "s]" in out.getvalue()


def test_bad_scale():
    with pytest.raises(ValueError, match="scale"):
        DemoSize.at_scale(0)
    assert np.isfinite(DemoSize.at_scale(0.001).cases)
