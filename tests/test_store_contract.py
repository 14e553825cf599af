"""One contract, two stores: the same demo city in the embedded GeoPackage and in PostGIS must give
the same answers, and those answers must agree with facts checked independently.

``pair`` tests compare the stores with each other; ``store`` tests check each store on its own.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select

from dashboard import vocab
from dashboard.domain import Filters, Period
from data import queries
from data.schema import case_events, cases, unit_closure, units
from tests.conftest import DEMO_END
from tests.factories import EAST, T0, WEST, case, tiny_city, write_cases

# Whole-day periods, as the screens ask for them (start, exclusive end).
PERIODS = {
    key: (period.start, period.end)
    for key, period in (
        (key, Period.resolve(key, "2000-01-01", DEMO_END.date().isoformat(), today=DEMO_END.date()))
        for key in ("today", "7d", "30d", "year", "custom")
    )
}
PERIODS["all"] = PERIODS.pop("custom")
FILTERS = {
    "none": Filters(),
    "disputes": Filters(categories=(vocab.DISPUTE,)),
    "hotline+app": Filters(sources=("12345热线", "群众随手拍")),
}
STORES = ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(params=STORES)
def store(request):
    return request.getfixturevalue(f"{request.param}_demo")


@pytest.fixture
def pair(embedded_demo, postgis_demo):
    return embedded_demo, postgis_demo


@pytest.fixture(params=STORES)
def empty_store(request):
    return request.getfixturevalue("empty_embedded" if request.param == "embedded" else "empty_postgis")


def ask(store, fn, **kwargs):
    with store.engine.connect() as conn:
        return fn(conn, **kwargs)


def both(pair, fn, **kwargs):
    return [ask(s, fn, **kwargs) for s in pair]


@pytest.fixture(scope="module")
def drill_path(embedded_demo) -> dict[str, str]:
    """One unit at every level: the city, then down through its busiest children to a grid."""
    path, code = {}, ask(embedded_demo, queries.roots)[0]["code"]
    while code is not None:
        path[ask(embedded_demo, queries.unit, code=code)["level"]] = code
        kids = ask(embedded_demo, queries.counts, unit_code=code, start=PERIODS["all"][0],
                   end=PERIODS["all"][1], now=DEMO_END, by_children=True)
        code = kids["accepted"].idxmax() if len(kids) else None
    assert list(path) == list(vocab.LEVELS)
    return path


LEVELS = list(vocab.LEVELS)


# --- the two stores agree -------------------------------------------------------------------------


def test_same_hierarchy(pair, drill_path):
    assert both(pair, queries.roots)[0] == both(pair, queries.roots)[1]
    for code in drill_path.values():
        for fn in (queries.unit, queries.ancestors, queries.children):
            embedded, postgis = both(pair, fn, code=code)
            assert embedded == postgis, (fn.__name__, code)
    chain = ask(pair[1], queries.ancestors, code=drill_path["grid"])
    assert [u["code"] for u in chain] == list(drill_path.values())


@pytest.mark.parametrize("period", PERIODS)
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("by_children", [False, True], ids=["unit", "children"])
def test_same_counts(pair, drill_path, level, period, by_children):
    start, end = PERIODS[period]
    embedded, postgis = both(pair, queries.counts, unit_code=drill_path[level], start=start, end=end,
                             now=DEMO_END, by_children=by_children)
    pd.testing.assert_frame_equal(embedded, postgis)
    if by_children and level == "grid":
        assert embedded.empty  # a grid has no children: an empty frame, not an error
    elif period != "today":  # today's few cases need not reach the chosen community or grid
        assert embedded["accepted"].sum() > 0


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("level", ["city", "street", "grid"])
def test_same_counts_with_filters_and_intervention_limit(pair, drill_path, level, filters):
    for minutes in (10, 60, 240):
        embedded, postgis = both(pair, queries.counts, unit_code=drill_path[level], start=PERIODS["year"][0],
                                 end=PERIODS["year"][1], now=DEMO_END, filters=FILTERS[filters],
                                 intervention_seconds=minutes * 60, by_children=level != "grid")
        pd.testing.assert_frame_equal(embedded, postgis)


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("level", LEVELS)
def test_same_daily_and_category_counts(pair, drill_path, level, filters):
    for period in ("30d", "year"):
        start, end = PERIODS[period]
        kwargs = dict(unit_code=drill_path[level], start=start, end=end, filters=FILTERS[filters])
        daily = both(pair, queries.daily_counts, **kwargs)
        pd.testing.assert_series_equal(*daily)
        categories = both(pair, queries.category_counts, **kwargs)
        pd.testing.assert_series_equal(*categories)


@pytest.mark.parametrize("level", LEVELS)
def test_same_recent_cases(pair, drill_path, level):
    for period in ("7d", "year"):
        start, end = PERIODS[period]
        embedded, postgis = both(pair, queries.recent_cases, unit_code=drill_path[level], start=start,
                                 end=end, limit=40)
        assert embedded == postgis
        assert embedded, "the busiest path has recent cases at every level"


def test_same_unit_geometry(pair):
    codes = [c for (c,) in ask(pair[0], lambda conn: conn.execute(select(units.c.code)).all())]
    embedded, postgis = (s.unit_shapes(codes) for s in pair)
    assert len(embedded) == len(postgis) == len(codes)
    assert list(embedded["code"]) == list(postgis["code"]) == sorted(codes)
    assert shapely.equals_exact(embedded.geometry.to_numpy(), postgis.geometry.to_numpy(), 0).all()
    for level in LEVELS:
        level_codes = [c for (c,) in ask(pair[1], lambda conn, lv=level: conn.execute(
            select(units.c.code).where(units.c.level == lv)).all())]
        assert len(pair[0].unit_shapes(level_codes)) == len(pair[1].unit_shapes(level_codes)) > 0
    assert len(pair[1].unit_shapes(["no-such-unit"])) == 0


def _test_points(store) -> tuple[np.ndarray, list]:
    """Case points, a point inside each grid, shared corners and edges of grids, and points off the map."""
    with store.engine.connect() as conn:
        case_points = [r.geom for r in conn.execute(select(cases.c.geom).order_by(cases.c.id).limit(500))]
        grid_codes = [r.code for r in conn.execute(
            select(units.c.code).where(units.c.level == "grid").order_by(units.c.code))]
    grids = store.unit_shapes(grid_codes)
    inside = shapely.point_on_surface(grids.geometry.to_numpy())
    # Vertices of grid outlines: most are shared by two or three grids (the tie rule decides).
    vertices = shapely.points(np.vstack([shapely.get_coordinates(g)[:3] for g in grids.geometry[:60]]))
    # Midpoints of outline edges.
    edges = [shapely.line_interpolate_point(g.boundary, 0.3, normalized=True) for g in grids.geometry[:60]]
    outside = [shapely.Point(0, 0), shapely.Point(114.30, 10.0)]
    points = np.concatenate([shapely.from_wkb(case_points), inside, vertices, edges, outside])
    return shapely.to_wkb(points), list(grids["code"])


def test_same_grid_assignment(pair):
    points, _ = _test_points(pair[0])
    embedded, postgis = (s.assign_grids(points) for s in pair)
    assert list(embedded) == list(postgis)
    assert embedded[-1] is None and embedded[-2] is None
    assert len(pair[1].assign_grids([])) == 0


def test_same_case_history(pair):
    with pair[0].engine.connect() as conn:
        first = select(cases.c.id).order_by(cases.c.id).limit(5)
        returned = conn.execute(first.where(cases.c.returned_count > 0)).scalars().all()
        open_ = conn.execute(first.where(cases.c.status != vocab.CLOSED)).scalars().all()
    assert returned and open_
    columns = [case_events.c.status, case_events.c.at, case_events.c.actor, case_events.c.note]
    for case_id in [1, 2, 3, *returned, *open_]:
        query = select(*columns).where(case_events.c.case_id == case_id).order_by(case_events.c.at,
                                                                                 case_events.c.id)
        embedded, postgis = ([tuple(r) for r in ask(s, lambda conn, q=query: conn.execute(q).all())]
                             for s in pair)
        assert embedded == postgis
        assert embedded[0][0] == vocab.ACCEPTED
    for case_id in returned:
        query = select(case_events.c.status).where(case_events.c.case_id == case_id)
        statuses = ask(pair[1], lambda conn, q=query: conn.execute(q).scalars().all())
        assert vocab.RETURNED in statuses


def test_same_table_sizes(pair):
    from data import schema

    for table in (units, schema.unit_closure, cases, case_events, schema.cameras, schema.key_places,
                  schema.survey_indicators):
        sizes = [ask(s, lambda conn, t=table: conn.execute(select(func.count()).select_from(t)).scalar())
                 for s in pair]
        assert sizes[0] == sizes[1] > 0, table.name


# --- each store on its own: facts checked independently -----------------------------------------


@pytest.mark.parametrize("period", ["30d", "year"])
def test_children_add_up_to_their_parent(store, drill_path, period):
    start, end = PERIODS[period]
    summed = [c for c in queries.ALL_COUNTS if c != "population"]
    for level in LEVELS[:-1]:
        code = drill_path[level]
        own = ask(store, queries.counts, unit_code=code, start=start, end=end, now=DEMO_END)
        kids = ask(store, queries.counts, unit_code=code, start=start, end=end, now=DEMO_END,
                   by_children=True)
        assert list(kids.index) == sorted(kids.index)
        pd.testing.assert_series_equal(kids[summed].sum(), own.loc[code, summed], check_names=False)
        assert own.loc[code, "population"] == kids["population"].sum()  # the demo's units are sums


def test_counts_match_the_rows(store):
    """Per-grid and city-wide counts against the raw case rows, counted in pandas."""
    start, end = PERIODS["30d"]
    with store.engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(select(cases.c.grid_code, cases.c.reported_at, cases.c.category,
                                                cases.c.status, cases.c.deadline)).all())
        city = queries.roots(conn)[0]["code"]
        some_grids = conn.execute(select(units.c.code).where(units.c.level == "grid")
                                  .order_by(units.c.code).limit(25)).scalars().all()
        per_grid = {g: queries.counts(conn, unit_code=g, start=start, end=end, now=DEMO_END)
                    for g in some_grids}
        whole = queries.counts(conn, unit_code=city, start=start, end=end, now=DEMO_END)
    in_period = rows[(rows.reported_at >= start) & (rows.reported_at < end)]
    assert rows.grid_code.notna().all()
    assert whole.loc[city, "accepted"] == len(in_period) > 0
    assert whole.loc[city, "disputes"] == (in_period.category == vocab.DISPUTE).sum()
    overdue = rows.status.isin(vocab.OPEN_STATUSES) & (rows.deadline < DEMO_END)
    assert whole.loc[city, "overdue"] == overdue.sum()
    for grid, frame in per_grid.items():
        assert frame.loc[grid, "accepted"] == (in_period.grid_code == grid).sum()


def test_daily_and_category_counts_match_counts(store, drill_path):
    start, end = PERIODS["30d"]
    for level in ("city", "street", "grid"):
        code = drill_path[level]
        accepted = ask(store, queries.counts, unit_code=code, start=start, end=end, now=DEMO_END).loc[code,
                                                                                                     "accepted"]
        daily = ask(store, queries.daily_counts, unit_code=code, start=start, end=end)
        categories = ask(store, queries.category_counts, unit_code=code, start=start, end=end)
        assert len(daily) == 30 and daily.sum() == categories.sum() == accepted
        assert list(categories) == sorted(categories, reverse=True)


def test_grid_assignment_facts(store):
    points, grid_codes = _test_points(store)
    assigned = store.assign_grids(points)
    n_grids = len(grid_codes)
    # A point on the surface of each grid lies in that grid (the demo's grids do not overlap).
    inside = assigned[500:500 + n_grids]
    assert list(inside) == grid_codes
    # Shared vertices and edges go to the lowest code among the grids touching them (brute force);
    # an edge point that rounding puts in a hairline gap between grids goes to the deepest unit
    # containing it (the lowest code among equals), as the PostGIS trigger does.
    grids = store.unit_shapes(grid_codes)
    with store.engine.connect() as conn:
        depth = dict(conn.execute(select(unit_closure.c.descendant_code, func.count())
                                  .group_by(unit_closure.c.descendant_code)).all())
        parents = {r[0] for r in conn.execute(select(units.c.parent_code).distinct()) if r[0]}
    inner = store.unit_shapes(sorted(parents))
    on_edges = shapely.from_wkb(points[500 + n_grids:-2])
    ties = 0
    for point, code in zip(on_edges, assigned[500 + n_grids:-2], strict=True):
        touching = sorted(grids.code[grids.geometry.intersects(point)])
        if touching:
            assert code == touching[0]
        else:
            holders = sorted(inner.code[inner.geometry.intersects(point)], key=lambda c: (-depth[c], c))
            assert code == (holders[0] if holders else None)
        ties += len(touching) > 1
    assert ties > 20
    assert list(assigned[-2:]) == [None, None]


def test_recent_cases_are_newest_first_with_points(store, drill_path):
    start, end = PERIODS["30d"]
    recent = ask(store, queries.recent_cases, unit_code=drill_path["street"], start=start, end=end, limit=20)
    assert len(recent) == 20
    times = [r["reported_at"] for r in recent]
    assert times == sorted(times, reverse=True)
    assert all(shapely.from_wkb(r["geom"]).geom_type == "Point" for r in recent)
    lineage = {r["grid_code"]: [u["code"] for u in ask(store, queries.ancestors, code=r["grid_code"])]
               for r in recent}
    assert all(drill_path["street"] in chain for chain in lineage.values())


def test_data_version_is_cheap_and_stable(store):
    first, second = ask(store, queries.data_version), ask(store, queries.data_version)
    assert first == second and first.split("|")[0] == str(ask(
        store, lambda conn: conn.execute(select(func.max(cases.c.id))).scalar()))


# --- writing: what goes in comes out the same on both stores --------------------------------------


def test_written_rows_read_back_the_same(empty_store):
    tiny_city(empty_store)
    tricky = "含\t制表符\n换行\\反斜杠 'quote' \"dq\" \r end"
    rows = [case(1, at=WEST), case(2, at=EAST, category=vocab.DISPUTE, status=vocab.CLOSED,
                                    satisfaction="满意", resolved_level="网格"),
            case(3, at=(120.0, 40.0)), case(4, at=WEST, reported=T0 + timedelta(hours=1)),
            # Assigned exactly at the one-hour limit (on time), and 0.6 s past it (late).
            case(5, at=EAST, assigned_after=60), case(6, at=EAST, assigned_after=60.01)]
    rows[0]["description"] = tricky
    rows[3]["description"] = ""
    write_cases(empty_store, rows)
    empty_store.checkpoint()
    with empty_store.engine.connect() as conn:
        got = {r.external_id: r for r in conn.execute(select(cases).order_by(cases.c.id))}
        recent = queries.recent_cases(conn, unit_code="990100", start=T0, end=T0 + timedelta(days=1))
        by_child = queries.counts(conn, unit_code="990100", start=T0, end=T0 + timedelta(days=1),
                                  now=T0 + timedelta(days=30), by_children=True)
    assert got["T0001"].description == tricky
    assert got["T0004"].description == ""
    assert got["T0002"].description is None
    assert [got[f"T000{i}"].grid_code for i in range(1, 5)] == ["990102001001001", "990103001001001", None,
                                                               "990102001001001"]
    assert got["T0001"].reported_at == T0 and got["T0001"].assigned_at is None
    assert shapely.from_wkb(got["T0002"].geom).equals(shapely.Point(*EAST))
    assert [r["external_id"] for r in recent] == ["T0004", "T0001", "T0002", "T0005", "T0006"]  # not T0003
    assert by_child["accepted"].to_dict() == {"990102": 2.0, "990103": 3.0}
    assert by_child["on_time"].to_dict() == {"990102": 0.0, "990103": 1.0}
    assert by_child.loc["990103", "satisfied"] == 1 and by_child.loc["990103", "resolved_local"] == 1
