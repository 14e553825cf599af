"""A map click's server work, cold, at every level, for one or more cities side by side (growth).

    python -m bench.click URL [URL …] [--runs 3] [--today 2026-11-27]

For each store (``sqlite:///file.gpkg``, a .gpkg path, or ``postgresql://…``), along the path
city → district → street → community → grid (the middle child by code) and for the last 30 days
and this year, each run on a fresh cache (nothing warm but the connection pool):

- ``kpis_ms``: what the issue's first row measures: the unit's KPIs and its children's values
  through ``CityData`` (``kpis`` + ``children_kpis``);
- ``click_ms``: everything the wall screen asks for on a click: those, the previous period's KPIs,
  the trend, the categories, the alarms and the newest cases;
- ``raw_sql_ms``: the same numbers as ``kpis_ms`` straight from the cases, no rollups, no cache
  (``queries.counts(use_rollups=False)`` for the children and the unit: the old path);
- ``rollup_sql_ms``: the bare statements the fast path runs for those numbers (children's period
  counts from the rollups, overdue from the open-cases index, cameras), through the driver with
  no pandas and no cache: the fastest SQL for them that we know, the floor for ``kpis_ms``.

Median of ``--runs`` after one warm-up of the connection. Prints one JSON line per store, level
and period, then a summary line per level and period with every store side by side.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date, timedelta

from flask import Flask
from flask_caching import Cache
from sqlalchemy import func, select

from bench.drill import PERIODS, drill_path
from dashboard.domain import Period
from data import queries
from data.schema import cases, units
from data.service import CityData
from data.stores import open_store


def previous(period: Period) -> Period:
    return Period("custom", period.first - timedelta(days=period.days), period.first - timedelta(days=1))


def _service(store, now, code) -> CityData:
    """A service on a fresh cache, with what every click of a data version shares already asked
    (the version, the rolled-up units, the unit and its children, the data's moment): the
    aggregates start cold."""
    data = CityData(store, Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}))
    data.now = lambda: now
    with data.session():
        data.version()
        data._rolled()
        data.unit(code)
        data.children(code)
        data.data_since()
        data.as_of()
    return data


def kpis_step(store, code, period, now) -> float:
    data = _service(store, now, code)
    started = time.perf_counter()
    with data.session():
        data.kpis(code, period)
        data.children_kpis(code, period)
    return (time.perf_counter() - started) * 1000


def click_step(store, code, period, now) -> float:
    data = _service(store, now, code)
    started = time.perf_counter()
    with data.session():  # as the render callback asks
        data.kpis(code, period)
        data.kpis(code, previous(period))
        data.children_kpis(code, period)
        data.trend(code, period.last)
        data.categories(code, period)
        data.alarms(code)
        data.recent_cases(code, period)
    return (time.perf_counter() - started) * 1000


def raw_sql_step(store, code, period, now) -> float:
    started = time.perf_counter()
    with store.engine.connect() as conn:
        for by_children in (True, False):
            queries.counts(conn, unit_code=code, start=period.start, end=period.end, now=now,
                           by_children=by_children)  # no ``rolled``: from the cases
    return (time.perf_counter() - started) * 1000


def rollup_sql_step(store, code, period, now) -> float:
    """The fast path's statements, compiled once, run bare."""
    with store.engine.connect() as conn:
        kids = conn.execute(select(func.count()).where(units.c.parent_code == code)).scalar()
        statements = _fast_statements(conn, code, bool(kids), period, now)
        started = time.perf_counter()
        for sql in statements:
            conn.exec_driver_sql(sql).all()
        return (time.perf_counter() - started) * 1000


def _fast_statements(conn, code, by_children: bool, period, now) -> list[str]:
    """The SQL text of the fast path's three statements for the unit's children (or the unit at a
    grid), captured while it runs once: the period counts (from the rollups where they answer,
    else the cases: a community's grids are not rolled up), overdue from the open cases, the
    cameras. The member look-ups and the police incidents are left out: the floor is lower."""
    seen: list[str] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM police_cases" not in statement and not statement.startswith("SELECT units.code"):
            seen.append(_cursor.mogrify(statement, parameters).decode() if hasattr(_cursor, "mogrify")
                        else _inline(statement, parameters))

    from sqlalchemy import event

    from data import rollups

    rolled = rollups.rolled_codes(conn)
    event.listen(conn, "before_cursor_execute", capture)
    queries.counts(conn, unit_code=code, start=period.start, end=period.end, now=None,
                   by_children=by_children, rolled=rolled)
    queries.overdue_counts(conn, unit_code=code, now=now, by_children=by_children)
    event.remove(conn, "before_cursor_execute", capture)
    return seen


def _inline(statement: str, parameters) -> str:
    for value in parameters or ():
        text = repr(value) if isinstance(value, int | float) else f"'{value}'"
        statement = statement.replace("?", text, 1)
    return statement


STEPS = {"kpis_ms": kpis_step, "click_ms": click_step, "raw_sql_ms": raw_sql_step,
         "rollup_sql_ms": rollup_sql_step}


def run_store(url: str, runs: int, today: date | None) -> list[dict]:
    store = open_store(url if "://" in url else f"sqlite:///{url}")
    with store.engine.connect() as conn:
        newest = conn.execute(select(func.max(cases.c.reported_at))).scalar()
        n_cases = conn.execute(select(func.count()).select_from(cases)).scalar()
        path = drill_path(conn)
    today = today or newest.date()
    rows = []
    for unit in path:
        for key in PERIODS:
            period = Period.resolve(key, today=today)
            row = {"bench": "click", "store": store.kind, "cases": n_cases, "level": unit["level"],
                   "unit": unit["code"], "children": unit["children"], "period": key}
            for name, step in STEPS.items():
                step(store, unit["code"], period, newest)  # warm-up: pool, plans, page cache
                row[name] = round(statistics.median(step(store, unit["code"], period, newest)
                                                    for _ in range(runs)), 1)
            row["raw_over_kpis"] = round(row["raw_sql_ms"] / max(row["kpis_ms"], 0.1), 1)
            row["kpis_over_rollup_sql"] = round(row["kpis_ms"] / max(row["rollup_sql_ms"], 0.1), 1)
            print(json.dumps(row, ensure_ascii=False), flush=True)
            rows.append(row)
    store.engine.dispose()
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+", help="stores, smallest city first")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--today", type=date.fromisoformat)
    args = parser.parse_args(argv)
    results = [run_store(url, args.runs, args.today) for url in args.urls]
    for i, row in enumerate(results[0]):
        side = {"bench": "click_growth", "level": row["level"], "period": row["period"],
                "cases": [r[i]["cases"] for r in results],
                "kpis_ms": [r[i]["kpis_ms"] for r in results],
                "click_ms": [r[i]["click_ms"] for r in results],
                "raw_sql_ms": [r[i]["raw_sql_ms"] for r in results]}
        print(json.dumps(side, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
