"""The store's time for one drill step at each level, straight through ``data.queries`` (no cache).

    python -m bench.drill STORE_URL [--runs 5] [--today 2026-11-20]

``STORE_URL`` is ``sqlite:///path/to/file.gpkg`` (or a plain file path) or ``postgresql://…``.
A drill step is what a click on the map costs the database: ``queries.counts(by_children=True)``
(every child's counts) plus ``queries.counts()`` (the unit's own), for the whole-day periods the
screens use: the last 30 days and this year up to ``--today`` (default: the day of the newest
case). The path goes city → district → street → community → grid, taking the middle child by
code at each level (as ``bench.api_drill`` does). One warm-up run, then the median of ``--runs``.

Prints JSON lines: one describing the store, then one per level and period.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date

from sqlalchemy import func, select

from dashboard.domain import Period
from data import queries
from data.schema import cases, units
from data.stores import open_store

PERIODS = ("30d", "year")


def drill_path(conn) -> list[dict]:
    """City to grid, the middle child by code at each level; each unit with its child count."""
    path, unit = [], queries.roots(conn)[0]
    while unit is not None:
        kids = queries.children(conn, code=unit["code"])
        path.append({**unit, "children": len(kids)})
        unit = kids[len(kids) // 2] if kids else None
    return path


def drill_step(store, code: str, period: Period, now) -> float:
    """Milliseconds for the children's counts and the unit's own, as one click needs them."""
    started = time.perf_counter()
    with store.engine.connect() as conn:
        for by_children in (True, False):
            queries.counts(conn, unit_code=code, start=period.start, end=period.end, now=now,
                           by_children=by_children)
    return (time.perf_counter() - started) * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="sqlite:///file.gpkg, a .gpkg path, or postgresql://…")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per step (median reported)")
    parser.add_argument("--today", type=date.fromisoformat, help="last day of the periods")
    args = parser.parse_args(argv)
    url = args.url if "://" in args.url else f"sqlite:///{args.url}"
    store = open_store(url)

    with store.engine.connect() as conn:
        newest = conn.execute(select(func.max(cases.c.reported_at))).scalar()
        n_cases = conn.execute(select(func.count()).select_from(cases)).scalar()
        n_units = conn.execute(select(func.count()).select_from(units)).scalar()
        path = drill_path(conn)
    if newest is None:
        raise SystemExit("the store has no cases: generate a city first (see bench/README.md)")
    today = args.today or newest.date()
    print(json.dumps({"bench": "drill_step", "store": store.kind, "url": store.engine.url.render_as_string(),
                      "cases": n_cases, "units": n_units, "today": today.isoformat(), "runs": args.runs}),
          flush=True)

    for unit in path:
        for key in PERIODS:
            period = Period.resolve(key, today=today)
            drill_step(store, unit["code"], period, newest)  # warm-up: connection, caches, plans
            times = [drill_step(store, unit["code"], period, newest) for _ in range(args.runs)]
            print(json.dumps({
                "bench": "drill_step", "store": store.kind, "level": unit["level"], "unit": unit["code"],
                "period": key, "children": unit["children"],
                "median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
            }, ensure_ascii=False), flush=True)
    store.engine.dispose()


if __name__ == "__main__":
    main()
