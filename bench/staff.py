"""Server time of the staff endpoints, cold (cache cleared) and warm.

    python -m bench.staff [--db bench/out/demo-1.gpkg] [--runs 5] [--today 2026-11-27]

- a page of ``GET /api/v1/cases`` (50 rows, newest first) for the city and for one grid (the
  middle grid by code), for the last 30 days and for this year up to ``--today`` (default: the
  day of the newest case);
- ``GET /api/v1/units/<city>/ranking?level=grid`` (every grid of the city ranked by 办结率,
  worst first, at least 10 cases), for the same periods.

"cold" clears the answer cache first (the first request after a data change), "warm" repeats it.
Prints one JSON object per measurement: median and minimum milliseconds over ``--runs``, the
median CPU time of this process for the cold request (the server's Python side, without the
database's), and the load average (on a shared machine the wall clock counts others' work too).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import date

from sqlalchemy import func, select

from app import create_app
from dashboard.domain import Period
from dashboard.settings import Settings
from data.access import Accounts
from data.schema import cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="bench/out/demo-1.gpkg", help="store URL or embedded file")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--today", type=date.fromisoformat, help="last day of the periods")
    args = parser.parse_args()
    # No background warm-up: started by the first version read, it would run beside the first
    # measurements (seconds at scale 10) and count in their time and CPU.
    app = create_app(Settings(db=args.db, warm=False))
    client = app.server.test_client()
    data = app.server.config["CITYBRAIN_DATA"]
    # A city-wide analyst token for this run only (revoked at the end): the API answers no one else.
    accounts = Accounts(data.store.engine)
    name = f"bench-staff-{int(time.time())}"
    token = accounts.add_token(name, "analyst", accounts.root_code())
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with data.store.engine.connect() as conn:
        newest = conn.execute(select(func.max(cases.c.reported_at))).scalar()
    today = args.today or newest.date()
    periods = {}
    for key in ("30d", "year"):
        period = Period.resolve(key, today=today)
        periods[key] = f"from={period.first.isoformat()}&to={period.last.isoformat()}"
    try:
        _run(client, data, args.runs, periods)
    finally:
        accounts.revoke_token(name)
        data.store.engine.dispose()


def _run(client, data, runs: int, periods: dict[str, str]) -> None:
    city = client.get("/api/v1/units").json["units"][0]["code"]
    grid = city
    while kids := client.get(f"/api/v1/units/{grid}/children").json["children"]:
        grid = kids[len(kids) // 2]["code"]

    cases = "/api/v1/cases?unit={unit}&{period}&per_page=50&sort=-reported_at"
    ranking = "/api/v1/units/{unit}/ranking?level=grid&metric=closure_rate&min_cases=10&{period}"
    for name, template, unit in (("cases_page_city", cases, city), ("cases_page_grid", cases, grid),
                                 ("ranking_grid_depth_city", ranking, city)):
        for period, query in periods.items():
            url = template.format(unit=unit, period=query)
            cold, cpu, warm = [], [], []
            for _ in range(runs):
                data.cache.clear()
                wall, used = _time(client, url)
                cold.append(wall)
                cpu.append(used)
                warm.append(_time(client, url)[0])
            print(json.dumps({
                "bench": name, "store": data.store.kind, "unit": unit, "period": period,
                "cold_ms": round(statistics.median(cold), 1), "cold_min_ms": round(min(cold), 1),
                "cold_cpu_ms": round(statistics.median(cpu), 1),
                "warm_ms": round(statistics.median(warm), 1), "url": url,
                "load": [round(x, 2) for x in os.getloadavg()],
            }, ensure_ascii=False), flush=True)


def _time(client, url: str) -> tuple[float, float]:
    """Wall and CPU milliseconds of one request."""
    started, cpu = time.perf_counter(), time.process_time()
    reply = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    used = (time.process_time() - cpu) * 1000
    assert reply.status_code == 200, (url, reply.json)
    return elapsed, used


if __name__ == "__main__":
    main()
