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
from sqlalchemy import func, literal_column, select, text

from dashboard import vocab
from dashboard.domain import Filters
from dashboard.indicators import compute
from data import queries, rollups
from data.schema import case_rollup, case_rollup_month, case_rollup_year, cases, rollup_units, units
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


def _random_level_period(rng) -> tuple[datetime, datetime]:
    """Whole-day periods of every shape the monthly rollups split differently: within a month,
    across month ends (edges added and taken away), starting or ending on the first of a month,
    a year, and ending after the newest case."""
    span = (DEMO_END - FIRST_DAY).days
    first = FIRST_DAY + timedelta(days=rng.randrange(span))
    if rng.random() < 0.25:
        first = first.replace(day=1)
    length = rng.choice([1, 5, 16, 30, 45, 61, 120, 365])
    return first, first + timedelta(days=length)


def _level_answers(conn, rolled, *, unit_code, level, start, end, filters):
    kw = dict(unit_code=unit_code, level=level, start=start, end=end, now=DEMO_END, filters=filters,
              parts=("cases",))
    return queries.level_counts(conn, rolled=rolled, **kw), queries.level_counts(conn, **kw)


def test_rankings_at_every_depth_from_rollups_equal_the_raw_cases(demo_store):
    """Every unit of a level below a unit (grids included), as the ranking asks: the monthly
    rollups with the edge days from the daily ones or the cases equal the raw cases, for random
    units, levels, periods and filters."""
    rng = random.Random(20261128)
    with demo_store.engine.connect() as conn:
        rolled = rollups.rolled_codes(conn)
        assert rolled
        levels = _units_by_level(conn)
        depth = {level: i for i, level in enumerate(vocab.LEVELS)}
        asked = with_cases = 0
        for _ in range(40):
            above = rng.choice([lv for lv in vocab.LEVELS if lv != "grid"])
            code = rng.choice(levels[above])
            level = rng.choice([lv for lv in vocab.LEVELS if depth[lv] > depth[above]])
            start, end = _random_level_period(rng)
            filters = _random_filters(rng) if rng.random() < 0.3 else Filters()
            fast, raw = _level_answers(conn, rolled, unit_code=code, level=level, start=start, end=end,
                                       filters=filters)
            pd.testing.assert_frame_equal(fast, raw)
            asked += 1
            with_cases += bool(raw["accepted"].sum())
        # The city's grids over a year ending after the newest case (the benchmark's question).
        city = levels["city"][0]
        fast, raw = _level_answers(conn, rolled, unit_code=city, level="grid", start=datetime(2026, 1, 1),
                                   end=datetime(2026, 11, 28), filters=Filters())
        pd.testing.assert_frame_equal(fast, raw)
        assert raw["accepted"].sum() > 0 and (raw["disputes_resolved"] > 0).any()
        assert with_cases >= asked // 2
        # The monthly and yearly rollups hold the grids themselves, not only the units above them.
        for table in (case_rollup_month, case_rollup_year):
            grid_rows = conn.execute(select(func.count()).select_from(table)
                                     .where(table.c.unit_code.in_(levels["grid"]))).scalar()
            assert grid_rows > 0, table.name


def _pandas_ranking(frame: pd.DataFrame, ind, ascending: bool, min_cases: int, limit: int) -> dict:
    """The ranking as it was computed before it moved into the database: from every unit's counts."""
    frame = frame.reset_index()
    num = frame[ind.numerator].astype("float64")
    if ind.denominator is None:
        value = num
    else:
        den = frame[ind.denominator].astype("float64")
        value = (num / den.where(den > 0)) * ind.scale
    frame = frame.assign(value=value)
    eligible = frame[(frame["accepted"] >= min_cases) & frame["value"].notna()]
    eligible = eligible.assign(key=eligible["value"] if ascending else -eligible["value"])
    top = eligible.sort_values(["key", "accepted", "code"], ascending=[True, False, True]).head(limit)
    return {"rows": [{"code": r.code, "name": r.name, "parent_code": r.parent_code,
                      "accepted": int(r.accepted), "value": float(r.value)} for r in top.itertuples()],
            "considered": len(frame), "eligible": len(eligible)}


def test_the_ranking_in_the_database_equals_the_ranking_of_the_raw_counts(demo_store):
    """``level_ranking`` (rollups, ordered and cut in SQL) equals ranking every unit's raw counts in
    pandas: random units, levels, metrics, directions, minimum volumes and periods."""
    from dashboard.indicators import INDICATORS

    rng = random.Random(20261129)
    known = set(queries.ALL_COUNTS) | {None}
    metrics = [k for k, ind in INDICATORS.items() if {ind.numerator, ind.denominator} <= known]
    with demo_store.engine.connect() as conn:
        rolled = rollups.rolled_codes(conn)
        levels = _units_by_level(conn)
        depth = {level: i for i, level in enumerate(vocab.LEVELS)}
        ranked = 0
        for i in range(30):
            above = rng.choice([lv for lv in vocab.LEVELS if lv != "grid"])
            code = rng.choice(levels[above])
            level = rng.choice([lv for lv in vocab.LEVELS if depth[lv] > depth[above]])
            ind = INDICATORS[metrics[i % len(metrics)]]
            start, end = _random_level_period(rng)
            filters = _random_filters(rng) if rng.random() < 0.2 else Filters()
            ascending, min_cases = rng.random() < 0.5, rng.choice([0, 1, 3, 10])
            limit = rng.choice([1, 5, 50])
            needed = {ind.numerator, ind.denominator}
            parts = ("cases", *(["overdue"] if "overdue" in needed else []),
                     *(["cameras"] if needed & {"cameras", "cameras_online"} else []))
            kw = dict(unit_code=code, level=level, start=start, end=end, now=DEMO_END, filters=filters,
                      parts=parts)
            fast = queries.level_ranking(conn, rolled=rolled, numerator=ind.numerator,
                                         denominator=ind.denominator, scale=float(ind.scale),
                                         ascending=ascending, min_cases=min_cases, limit=limit, **kw)
            assert fast == _pandas_ranking(queries.level_counts(conn, **kw), ind, ascending, min_cases, limit)
            ranked += bool(fast["rows"])
        assert ranked >= 10


def _rank(conn, rolled, *, code, level="grid", metric="closure_rate", start, end, min_cases=10, limit=20,
          ascending=True) -> tuple[dict, dict]:
    """``level_ranking`` from the rollups, and the same ranking of every unit's raw counts."""
    from dashboard.indicators import INDICATORS

    ind = INDICATORS[metric]
    kw = dict(unit_code=code, level=level, start=start, end=end, now=DEMO_END, filters=Filters(),
              parts=("cases",))
    fast = queries.level_ranking(conn, rolled=rolled, numerator=ind.numerator, denominator=ind.denominator,
                                 scale=float(ind.scale), ascending=ascending, min_cases=min_cases,
                                 limit=limit, **kw)
    return fast, _pandas_ranking(queries.level_counts(conn, **kw), ind, ascending, min_cases, limit)


def test_the_city_grid_ranking_of_the_benchmark_equals_the_raw_counts(demo_store):
    """The benchmark's questions (every grid of the city, the last 30 days and this year up to the
    newest case, each rate both ways, with and without the root given): the grids' own rows, read
    without a list of every grid, rank as the raw counts do."""
    with demo_store.engine.connect() as conn:
        rolled = rollups.rolled_codes(conn)
        city = conn.execute(select(units.c.code).where(units.c.parent_code.is_(None))).scalar()
        last = DEMO_END.replace(hour=0, minute=0, second=0) + timedelta(days=1)
        for start in (last - timedelta(days=30), datetime(last.year, 1, 1)):
            for metric in ("closure_rate", "resolution_rate", "satisfaction_rate"):
                for ascending in (True, False):
                    fast, raw = _rank(conn, rolled, code=city, metric=metric, start=start, end=last,
                                      min_cases=3, ascending=ascending)
                    assert fast == raw, (metric, start)
                    assert fast["rows"] and fast["considered"] == len(_units_by_level(conn)["grid"])
        given = queries.level_ranking(conn, rolled=rolled, unit_code=city, level="grid", start=start,
                                      end=last, now=DEMO_END, numerator="closed", denominator="accepted",
                                      scale=1.0, ascending=True, min_cases=3, limit=20, root=True)
        assert given == _rank(conn, rolled, code=city, start=start, end=last, min_cases=3)[1]


@pytest.mark.parametrize("writable_store", ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)],
                         indirect=True)
def test_a_grid_ranking_where_the_grids_are_not_the_leaves_still_lists_only_grids(writable_store):
    """The fast grid ranking reads the rows of the units nothing is rolled up into (the leaves);
    when a leaf is not a grid (here a grid relabelled a community) it must notice and rank the
    grids alone, as the raw counts do."""
    store = writable_store
    with store.engine.connect() as conn:
        city = conn.execute(select(units.c.code).where(units.c.parent_code.is_(None))).scalar()
        start, end = datetime(2026, 1, 1), DEMO_END.replace(hour=0, minute=0, second=0)
        rolled = rollups.rolled_codes(conn)
        fast, _raw = _rank(conn, rolled, code=city, start=start, end=end, min_cases=1, limit=1,
                           ascending=False)
        first = fast["rows"][0]["code"]
    with store.engine.begin() as conn:
        conn.execute(units.update().where(units.c.code == first).values(level="community"))
    with store.engine.connect() as conn:
        fast, raw = _rank(conn, rolled, code=city, start=start, end=end, min_cases=1, limit=5,
                          ascending=False)
    assert fast == raw
    assert first not in {r["code"] for r in fast["rows"]}


def test_period_plan_adds_up_to_the_period_with_few_rows_and_short_edges():
    plan, t = queries.period_plan, datetime
    # This year to a day after the newest case: the year's row, minus December (no rows yet).
    assert plan(t(2026, 1, 1), t(2026, 11, 28)) == [
        ("year", t(2026, 1, 1), t(2027, 1, 1), 1), ("month", t(2026, 12, 1), t(2027, 1, 1), -1),
        ("days", t(2026, 11, 28), t(2026, 12, 1), -1)]
    assert plan(t(2026, 10, 29), t(2026, 11, 28)) == [
        ("month", t(2026, 11, 1), t(2026, 12, 1), 1), ("days", t(2026, 10, 29), t(2026, 11, 1), 1),
        ("days", t(2026, 11, 28), t(2026, 12, 1), -1)]
    assert plan(t(2026, 3, 10), t(2026, 3, 20)) == [("days", t(2026, 3, 10), t(2026, 3, 20), 1)]
    assert plan(t(2026, 3, 20), t(2026, 6, 10)) == [
        ("month", t(2026, 4, 1), t(2026, 6, 1), 1), ("days", t(2026, 3, 20), t(2026, 4, 1), 1),
        ("days", t(2026, 6, 1), t(2026, 6, 10), 1)]
    # Every piece adds up to the period, day by day, and no edge is longer than about half a month.
    for start in (t(2025, 12, 31), t(2026, 2, 14), t(2026, 2, 15), t(2025, 1, 1), t(2024, 7, 9)):
        for days in (1, 15, 31, 59, 200, 365, 800):
            end = start + timedelta(days=days)
            counted = {}
            for grain, lo, hi, sign in plan(start, end):
                day = lo
                while day < hi:
                    counted[day] = counted.get(day, 0) + sign
                    day += timedelta(days=1)
                assert grain != "days" or (hi - lo).days <= 16 or (lo, hi) == (start, end)
            assert {d for d, n in counted.items() if n} == {start + timedelta(days=i) for i in range(days)}
            assert all(n in (0, 1) for n in counted.values())


def test_every_unit_above_the_grids_is_rolled_up(demo_store):
    with demo_store.engine.connect() as conn:
        rolled = {r.level for r in conn.execute(
            select(units.c.level).join(rollup_units, rollup_units.c.code == units.c.code))}
    assert rolled == {"city", "district", "street", "community"}


def _table(conn, target=case_rollup) -> pd.DataFrame:
    """The rows of a rollup table that hold anything, in key order."""
    keys = next(k for t, k, *_ in rollups.TABLES if t is target)
    cols = [target.c[k] for k in keys + rollups.CASE_COUNTS]
    rows = conn.execute(select(*cols).where(target.c.accepted != 0).order_by(*cols[:len(keys)])).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(keys + rollups.CASE_COUNTS))


def _rebuilt(conn, target=case_rollup) -> pd.DataFrame:
    keys = next(k for t, k, *_ in rollups.TABLES if t is target)
    frame = pd.DataFrame([tuple(r) for r in conn.execute(rollups._target_delta(target, cases, 1))],
                         columns=list(keys + rollups.CASE_COUNTS))
    return frame[frame["accepted"] != 0].reset_index(drop=True)


def _assert_in_step(store):
    """Every rollup table equals a rebuild from the cases."""
    with store.engine.connect() as conn:
        for target, *_ in rollups.TABLES:
            kept, rebuilt = _table(conn, target), _rebuilt(conn, target)
            assert len(kept) > 0, target.name
            pd.testing.assert_frame_equal(kept, rebuilt, check_dtype=False, obj=target.name)


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


def _break_the_monthly_rollups(conn) -> None:
    """Replace the insert trigger by one that forgets the monthly and yearly rollups (a deliberate
    bug)."""
    dialect = conn.dialect
    kept = [(t, keys) for t, keys, *_ in rollups.TABLES if t not in (case_rollup_month, case_rollup_year)]
    if dialect.name == "postgresql":
        new = rollups._transition("new_rows")
        body = ";\n  ".join(rollups._upsert_one(dialect, t, keys, new, 1) for t, keys in kept)
        conn.exec_driver_sql("CREATE OR REPLACE FUNCTION citybrain_rollup_insert() RETURNS trigger "
                             f"LANGUAGE plpgsql AS $f$\nBEGIN\n  {body};\n  RETURN NULL;\nEND\n$f$")
    else:
        row = cases.c.id == literal_column("NEW.id")
        body = ";\n  ".join(rollups._upsert_one(dialect, t, keys, cases, 1, row) for t, keys in kept)
        conn.exec_driver_sql("DROP TRIGGER citybrain_rollup_insert")
        conn.exec_driver_sql(f"CREATE TRIGGER citybrain_rollup_insert AFTER INSERT ON cases FOR EACH ROW "
                             f"BEGIN\n  {body};\nEND")


@pytest.mark.parametrize("writable_store", ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)],
                         indirect=True)
def test_the_grid_ranking_contract_catches_a_broken_trigger(writable_store):
    """Cases written into one grid by plain SQL: with the triggers intact the grid ranking from the
    rollups still equals the raw cases; with a trigger that forgets the monthly rollups, the same
    comparison fails (the contract is not vacuous)."""
    store = writable_store
    with store.engine.connect() as conn:
        city = conn.execute(select(units.c.code).where(units.c.parent_code.is_(None))).scalar()
        grid = conn.execute(select(units.c.code).where(units.c.level == "grid").order_by(units.c.code)
                            .limit(1)).scalar()
    start, end = datetime(2026, 3, 1), datetime(2026, 9, 1)
    insert = text("INSERT INTO cases (external_id, category, source, reported_at, grid_code, status)"
                  " VALUES (:id, :cat, :src, :at, :grid, :status)")

    def write(prefix: str) -> None:
        with store.engine.begin() as conn:
            conn.execute(insert, [{"id": f"{prefix}-{i}", "cat": vocab.DISPUTE, "src": vocab.SOURCES[0],
                                   "at": datetime(2026, 5, 14, 9) + timedelta(days=i), "grid": grid,
                                   "status": vocab.CLOSED} for i in range(12)])

    def compare() -> pd.DataFrame:
        with store.engine.connect() as conn:
            fast, raw = _level_answers(conn, rollups.rolled_codes(conn), unit_code=city, level="grid",
                                       start=start, end=end, filters=Filters())
        pd.testing.assert_frame_equal(fast, raw)
        return raw

    before = compare()
    write("OK")
    assert compare().loc[grid, "accepted"] == before.loc[grid, "accepted"] + 12
    with store.engine.begin() as conn:
        _break_the_monthly_rollups(conn)
    write("BROKEN")
    with pytest.raises(AssertionError):
        compare()
    with pytest.raises(AssertionError):
        _assert_in_step(store)
