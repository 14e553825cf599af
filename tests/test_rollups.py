"""The rollups' contract, on both stores: every KPI read from ``case_rollup`` equals the same KPI
computed from the raw cases (random units at every level, random whole-day periods, random
filters), and the triggers keep the table equal to a rebuild from the cases whatever writes them
(a store's bulk insert, its upsert, plain SQL inserts, updates and deletes)."""

from __future__ import annotations

import random
import shutil
from datetime import datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select, text

from dashboard import vocab
from dashboard.domain import Filters
from dashboard.indicators import compute
from data import queries, rollups
from data.schema import case_rollup, cases, rollup_units, units
from data.stores import open_store
from tests.conftest import DEMO_END

FIRST_DAY = datetime(2025, 11, 1)


def _units_by_level(conn) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code, level in conn.execute(select(units.c.code, units.c.level)):
        out.setdefault(level, []).append(code)
    return {level: sorted(codes) for level, codes in out.items()}


def _random_period(rng) -> tuple[datetime, datetime]:
    span = (DEMO_END - FIRST_DAY).days
    first = FIRST_DAY + timedelta(days=rng.randrange(span))
    length = rng.choice([1, 7, 30, 90, 400])
    return first, first + timedelta(days=length)


def _random_filters(rng) -> Filters:
    cats = tuple(rng.sample(sorted(vocab.CATEGORIES), rng.choice([0, 0, 1, 3])))
    sources = tuple(rng.sample(vocab.SOURCES, rng.choice([0, 0, 1, 2])))
    return Filters(categories=cats, sources=sources)


def test_every_kpi_from_rollups_equals_the_same_kpi_from_raw_cases(demo_store):
    rng = random.Random(20261127)
    asked = rolled = 0
    with demo_store.engine.connect() as conn:
        assert rollups.usable(conn)
        units_rolled = rollups.rolled_codes(conn)
        seen = dict.fromkeys(("disputes_resolved", "revisited", "incidents"), 0.0)
        levels = _units_by_level(conn)
        picks = [code for level in vocab.LEVELS
                 for code in rng.sample(levels[level], min(3, len(levels[level])))]
        for code in picks * 3:
            start, end = _random_period(rng)
            filters = _random_filters(rng)
            for by_children in (False, True):
                kw = dict(unit_code=code, start=start, end=end, now=DEMO_END, filters=filters,
                          by_children=by_children)
                fast = queries.counts(conn, rolled=units_rolled, **kw)
                raw = queries.counts(conn, **kw)
                pd.testing.assert_frame_equal(fast, raw)
                for row in fast.index:
                    assert compute(fast.loc[row].to_dict()) == compute(raw.loc[row].to_dict())
                asked += 1
                answered = rollups.covered(conn, list(fast.index), start, end, 3600)
                rolled += answered
                if answered:
                    for name in seen:
                        seen[name] += fast[name].sum()
            kw = dict(unit_code=code, start=start, end=end, filters=filters)
            pd.testing.assert_series_equal(queries.category_counts(conn, rolled=units_rolled, **kw),
                                           queries.category_counts(conn, **kw))
            pd.testing.assert_series_equal(queries.daily_counts(conn, rolled=units_rolled, **kw),
                                           queries.daily_counts(conn, **kw))
        # The comparison is not vacuous: most of the questions above were answered by rollups,
        # and some with cases in them.
        assert rolled >= asked // 3
        # The counts of queries.case_count_columns (化解 by outcome, revisits, incidents) came from
        # the rollups too, not only the plain ones.
        assert all(n > 0 for n in seen.values()), seen
        assert conn.execute(select(case_rollup.c.accepted).limit(1)).scalar() > 0
        # A period that does not start at midnight, or another intervention limit: raw cases.
        assert not rollups.covered(conn, [picks[0]], FIRST_DAY + timedelta(hours=3), DEMO_END, 3600)
        assert not rollups.covered(conn, [picks[0]], FIRST_DAY, FIRST_DAY + timedelta(days=2), 1800)


def test_every_unit_above_the_grids_is_rolled_up(demo_store):
    with demo_store.engine.connect() as conn:
        rolled = {r.level for r in conn.execute(
            select(units.c.level).join(rollup_units, rollup_units.c.code == units.c.code))}
    assert rolled == {"city", "district", "street", "community"}


def _table(conn) -> pd.DataFrame:
    """The rollup rows that hold anything, in key order."""
    cols = [case_rollup.c[k] for k in rollups.KEY + rollups.CASE_COUNTS]
    rows = conn.execute(select(*cols).where(case_rollup.c.accepted != 0)
                        .order_by(*cols[:4])).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(rollups.KEY + rollups.CASE_COUNTS))


def _rebuilt(conn) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in conn.execute(rollups._delta(cases, 1))],
                         columns=list(rollups.KEY + rollups.CASE_COUNTS))
    return frame[frame["accepted"] != 0].reset_index(drop=True)


def _assert_in_step(store):
    with store.engine.connect() as conn:
        kept, rebuilt = _table(conn), _rebuilt(conn)
    assert len(kept) > 0
    pd.testing.assert_frame_equal(kept, rebuilt, check_dtype=False)


@pytest.fixture
def writable_store(request, tmp_path):
    """A private copy of the demo city on each store."""
    if request.param == "postgis":
        yield request.getfixturevalue("postgis_demo_copy")
        return
    source = request.getfixturevalue("embedded_demo")
    source.checkpoint()
    path = tmp_path / "copy.gpkg"
    shutil.copy(source.engine.url.database, path)
    store = open_store(f"sqlite:///{path}")
    yield store
    store.engine.dispose()


@pytest.mark.parametrize("writable_store", ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)],
                         indirect=True)
def test_triggers_keep_rollups_equal_to_the_cases_whoever_writes(writable_store):
    store = writable_store
    _assert_in_step(store)
    with store.engine.connect() as conn:
        streets = [r.code for r in conn.execute(select(units.c.code).where(units.c.level == "grid")
                                                .order_by(units.c.code).limit(3))]
        some = conn.execute(select(cases.c.id, cases.c.external_id).order_by(cases.c.id).limit(400)).all()
    grid_a, grid_b = streets[0], streets[-1]
    day = DEMO_END - timedelta(days=2)
    # Plain SQL, as another system would write: insert one, insert many in one statement.
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO cases (external_id, category, source, reported_at, grid_code, status,"
                          " assigned_at, satisfaction, resolved_level) VALUES ('R-1', :cat, :src, :at,"
                          " :grid, :closed, :at, '满意', '网格')"),
                     {"cat": vocab.DISPUTE, "src": vocab.SOURCES[0], "at": day, "grid": grid_a,
                      "closed": vocab.CLOSED})
        conn.execute(text("INSERT INTO cases (external_id, category, source, reported_at, grid_code, status)"
                          " SELECT 'R-2-' || external_id, category, source, reported_at, :grid, status"
                          " FROM cases WHERE id <= :last"), {"grid": grid_b, "last": some[99].id})
    _assert_in_step(store)
    # Updates that move cases between units, days, categories and statuses; and deletes.
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET grid_code = :grid, category = :cat WHERE id BETWEEN :a AND :b"),
                     {"grid": grid_a, "cat": "治安", "a": some[100].id, "b": some[150].id})
        conn.execute(text("UPDATE cases SET status = :closed, resolved_level = '市'"
                          " WHERE id BETWEEN :a AND :b"),
                     {"closed": vocab.CLOSED, "a": some[151].id, "b": some[200].id})
        conn.execute(text("UPDATE cases SET reported_at = :at WHERE id BETWEEN :a AND :b"),
                     {"at": day, "a": some[201].id, "b": some[220].id})
        conn.execute(text("DELETE FROM case_events WHERE case_id BETWEEN :a AND :b"),
                     {"a": some[300].id, "b": some[399].id})
        conn.execute(text("DELETE FROM cases WHERE id BETWEEN :a AND :b"),
                     {"a": some[300].id, "b": some[399].id})
    _assert_in_step(store)
    # The store's own paths: the bulk insert and the upsert of an import.
    with store.engine.connect() as conn:
        frame = pd.DataFrame([dict(r) for r in conn.execute(
            select(cases).where(cases.c.id.between(some[0].id, some[250].id))).mappings()])
    bulk = frame.drop(columns=["id"]).assign(external_id="B-" + frame["external_id"])
    with store.engine.begin() as conn:
        store._bulk_insert(conn, cases, bulk)
    _assert_in_step(store)
    changed = bulk.head(120).assign(status=vocab.CLOSED, category="信访")
    with store.engine.begin() as conn:
        store.upsert_cases(conn, pd.concat([changed, bulk.head(130).assign(
            external_id="N-" + bulk["external_id"])]), now=DEMO_END)
    _assert_in_step(store)
