"""Coverage kept per grid (data/grid_coverage.py), on both stores: the stored answer equals a
measure from scratch, and a camera change measures again exactly the grids its views touch.

The reference here is measured from scratch in the test: one union of every online view (not per
grid), each grid's area under it summed up the hierarchy; and the store's own from-scratch path
(``Store.coverage_facts``) for cases, key places, the views in reach and the blind spots.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import shapely
from flask_caching.backends import SimpleCache
from sqlalchemy import delete, func, select, update

from dashboard.domain import Period
from data import grid_coverage, queries, schema
from data.service import CityData
from data.stores import open_store
from geo import coverage as geo_cov
from tests.conftest import DEMO_END

EPSG = 32650
START, END = DEMO_END - timedelta(days=30), DEMO_END
STORES = ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)]
# Grids tile their parents only up to slivers along the outlines (the demo's are ~0.03% of a
# district's area): coverage in a sliver outside every grid is not counted by the stored sums.
SLIVER_SHARE = 1e-3


@pytest.fixture
def embedded_copy(embedded_demo, tmp_path):
    path = tmp_path / "copy.gpkg"
    shutil.copy(embedded_demo.engine.url.database, path)
    store = open_store(f"sqlite:///{path}")
    yield store
    store.engine.dispose()


def _store(request, name: str, copy: bool = False):
    return request.getfixturevalue(f"{name}_copy" if copy and name == "embedded"
                                   else f"{name}_demo_copy" if copy else f"{name}_demo")


def _levels(store) -> dict[str, str]:
    with store.engine.connect() as conn:
        code, out = queries.roots(conn)[0]["code"], {}
        while code:
            out[queries.unit(conn, code)["level"]] = code
            kids = queries.children(conn, code)
            code = kids[len(kids) // 2]["code"] if kids else None
    return out


def _reference(store, members) -> pd.DataFrame:
    """Per member, from scratch: the sums over its grids of the area in view of one union of every
    online view, and of the area within reach of any key place (and in view)."""
    with store.engine.connect() as conn:
        cams = grid_coverage.read_cameras(conn, EPSG)
        codes, grids, _ = grid_coverage._leaves(conn, EPSG)
        places = grid_coverage._metric(conn.execute(select(schema.key_places.c.geom)).scalars().all(), EPSG)
        closure = pd.DataFrame(conn.execute(select(schema.unit_closure.c.ancestor_code,
                                                   schema.unit_closure.c.descendant_code)).all(),
                               columns=["member", "code"])
    online = cams[cams["status"] == "online"]
    cover = geo_cov.union(grid_coverage.views_of(online))
    zone = geo_cov.union(shapely.buffer(shapely.point_on_surface(places), grid_coverage.PEOPLE_RADIUS_M))
    near = shapely.intersection(grids, zone)
    leaves = pd.DataFrame({"code": codes, "covered_m2": shapely.area(shapely.intersection(grids, cover)),
                           "people_m2": shapely.area(near),
                           "people_covered_m2": shapely.area(shapely.intersection(near, cover))})
    merged = closure[closure["member"].isin(members)].merge(leaves, on="code")
    return merged.groupby("member")[["covered_m2", "people_m2", "people_covered_m2"]].sum().reindex(members)


def _stored(store, code):
    with store.engine.begin() as conn:
        members = queries.member_codes(conn, code)
        store.lock_coverage(conn)
        grid_coverage.refresh(conn, EPSG)
    with store.engine.connect() as conn:
        return members, grid_coverage.stored_facts(conn, unit_code=code, members=members, start=START,
                                                   end=END, epsg=EPSG)


def _rows(store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(schema.grid_coverage).where(
            schema.grid_coverage.c.epsg == EPSG).order_by(schema.grid_coverage.c.code)).mappings().all())


@pytest.mark.parametrize("store_name", STORES)
@pytest.mark.parametrize("level", ["city", "district", "street", "grid"])
def test_the_stored_coverage_equals_a_measure_from_scratch(request, store_name, level):
    store = _store(request, store_name)
    _assert_as_from_scratch(store, _levels(store)[level], level)


def _assert_as_from_scratch(store, code, level):
    members, stored = _stored(store, code)
    scratch = store.coverage_facts(unit_code=code, members=members, start=START, end=END, epsg=EPSG)
    ref = _reference(store, members)

    np.testing.assert_allclose(stored.members["covered_m2"], ref["covered_m2"], rtol=1e-9, atol=1e-6)
    assert stored.people_m2 == pytest.approx(ref["people_m2"].sum(), rel=1e-9, abs=1e-6)
    assert stored.people_covered_m2 == pytest.approx(ref["people_covered_m2"].sum(), rel=1e-9, abs=1e-6)
    assert 0 < stored.people_covered_m2 < stored.people_m2 or level not in ("city", "district")
    # Against the store's own path: the same areas, and the same covered area but for the slivers.
    np.testing.assert_allclose(stored.members["area_m2"], scratch.members["area_m2"], rtol=1e-9)
    np.testing.assert_allclose(stored.members["covered_m2"], scratch.members["covered_m2"],
                               rtol=SLIVER_SHARE, atol=1.0)
    assert stored.members["covered_m2"].sum() > 0 or level not in ("city", "district")
    # Cases and key places in view: exactly the same ones.
    for name, column in (("cases", "blind"), ("places", "covered")):
        a = getattr(stored, name).sort_values(["id", "member"]).reset_index(drop=True)
        b = getattr(scratch, name).sort_values(["id", "member"]).reset_index(drop=True)
        assert list(a["id"]) == list(b["id"]) and list(a["member"]) == list(b["member"])
        assert list(a[column].astype(bool)) == list(b[column].astype(bool)), name
        np.testing.assert_allclose(a[["x", "y"]].to_numpy(float), b[["x", "y"]].to_numpy(float), atol=1e-6)
    blind = stored.cases["blind"]
    assert blind.any() and not blind.all() or level not in ("city", "district")
    assert sorted(stored.views["id"]) == sorted(scratch.views["id"])
    # Few cameras: the shapes are there to draw, and the blind spots are the same.
    assert len(stored.views) <= grid_coverage.DRAW_LIMIT and "wkb" in stored.views
    assert shapely.from_wkb(stored.blind_wkb).symmetric_difference(
        shapely.from_wkb(scratch.blind_wkb)).area < 1e-8


def _touched(store, views) -> set[str]:
    """The grids the given metric views touch."""
    with store.engine.connect() as conn:
        codes, grids, _ = grid_coverage._leaves(conn, EPSG)
    hit = shapely.STRtree(grids).query(np.asarray(views, dtype=object), predicate="intersects")[1]
    return {codes[i] for i in hit}


def _view(store, camera_id):
    with store.engine.connect() as conn:
        cams = grid_coverage.read_cameras(conn, EPSG)
    return grid_coverage.views_of(cams[cams["id"] == camera_id])[0]


@pytest.mark.parametrize("store_name", STORES)
def test_a_camera_change_measures_again_only_the_grids_it_touches(request, store_name):
    store = _store(request, store_name, copy=True)
    cams = schema.cameras
    with store.engine.begin() as conn:
        first = grid_coverage.refresh(conn, EPSG)  # the demo's first request may have built it
        assert first is None or len(first) >= 50
        assert grid_coverage.refresh(conn, EPSG) is None  # nothing changed: nothing measured
        rows = conn.execute(select(cams).where(cams.c.status == "online")
                            .order_by(cams.c.id)).mappings().all()
    moved, gone, dimmed, model = rows[3], rows[10], rows[20], dict(rows[30])
    stamp = iter(datetime(2100, 1, 1) + timedelta(seconds=k) for k in range(100))

    def change(statement, *, before, after_id=None):
        with store.engine.begin() as conn:
            conn.execute(statement)
        after = [_view(store, after_id)] if after_id else []
        with store.engine.begin() as conn:
            measured = grid_coverage.refresh(conn, EPSG)
        assert set(measured) == _touched(store, before + after) and 0 < len(measured) < 20

    # Move a camera ~150 m east: the grids of its old view and of its new one.
    point = shapely.from_wkb(moved["geom"])
    old = _view(store, moved["id"])
    change(update(cams).where(cams.c.id == moved["id"]).values(
        geom=shapely.to_wkb(shapely.Point(point.x + 0.0015, point.y)), updated_at=next(stamp)),
        before=[old], after_id=moved["id"])
    # Add one (a dome next to another camera), remove one, take one offline.
    point = shapely.from_wkb(model["geom"])
    model.update(id="added-1", fov=360.0, range_m=80.0, updated_at=next(stamp),
                 geom=shapely.to_wkb(shapely.Point(point.x + 0.0007, point.y)))
    change(cams.insert().values(**model), before=[], after_id="added-1")
    change(delete(cams).where(cams.c.id == gone["id"]), before=[_view(store, gone["id"])])
    change(update(cams).where(cams.c.id == dimmed["id"]).values(status="offline", updated_at=next(stamp)),
           before=[_view(store, dimmed["id"])])

    # The rows kept up to date change by change equal the rows measured all again.
    incremental = _rows(store)
    with store.engine.begin() as conn:
        conn.execute(delete(schema.grid_coverage))
        conn.execute(delete(schema.coverage_state))
        assert len(grid_coverage.refresh(conn, EPSG)) == len(incremental)
    pd.testing.assert_frame_equal(incremental, _rows(store))
    for level, code in _levels(store).items():
        _assert_as_from_scratch(store, code, level)


@pytest.mark.parametrize("store_name", STORES)
def test_the_service_answer_follows_a_camera_change(request, store_name):
    """A dome camera put on an uncovered key place: the next answer (a new data version) sees the
    place in view; without measuring its grids again the stored sums would not move."""
    store = _store(request, store_name, copy=True)
    data = CityData(store, SimpleCache())
    street = _levels(store)["street"]
    period = Period("custom", START.date(), END.date() - timedelta(days=1))
    before = data.coverage(street, period)
    place = next(p for m in before["members"] for p in m["uncovered_place_list"])
    with store.engine.connect() as conn:
        model = dict(conn.execute(select(schema.cameras).limit(1)).mappings().one())
    model.update(id="on-the-place", fov=360.0, range_m=60.0, status="online", updated_at=datetime(2100, 1, 1),
                 geom=shapely.to_wkb(shapely.Point(place["lon"], place["lat"])))
    store.write_table(schema.cameras, pd.DataFrame([model]))
    data.version(fresh=True)
    after = data.coverage(street, period)

    assert after["total"]["uncovered_places"] == before["total"]["uncovered_places"] - 1
    assert after["total"]["covered_share"] > before["total"]["covered_share"]
    members = [m["code"] for m in after["members"]]
    ref = _reference(store, members)
    got = pd.DataFrame(after["members"]).set_index("code")
    np.testing.assert_allclose(got["area_km2"] - got["blind_km2"], ref["covered_m2"] / 1e6, rtol=1e-9)
    assert after["total"]["people_share"] == pytest.approx(
        ref["people_covered_m2"].sum() / ref["people_m2"].sum(), rel=1e-9)


def test_the_warm_up_measures_a_camera_change_before_anyone_asks(embedded_copy):
    data = CityData(embedded_copy, SimpleCache(), warm=True)

    def warmed(count):
        deadline = time.monotonic() + 120
        while len(data.warmed) < count:
            assert time.monotonic() < deadline, "the cache was not warmed"
            time.sleep(0.05)

    def up_to_date() -> bool:
        with embedded_copy.engine.connect() as conn:
            state = conn.execute(select(schema.coverage_state.c.inputs)
                                 .where(schema.coverage_state.c.epsg == EPSG)).scalar()
            return state == grid_coverage.inputs_token(conn)

    data.version()
    warmed(1)
    assert up_to_date()
    cams = schema.cameras
    with embedded_copy.engine.begin() as conn:
        conn.execute(update(cams).where(cams.c.id == conn.execute(select(func.min(cams.c.id))).scalar())
                     .values(status="offline", updated_at=datetime(2100, 1, 1)))
    assert not up_to_date()
    data.version(fresh=True)
    warmed(2)
    assert up_to_date()


def test_the_map_never_asks_to_draw_more_views_than_the_answer_carries():
    from layouts.coverage import VIEW_LIMIT

    assert VIEW_LIMIT <= grid_coverage.DRAW_LIMIT
