"""Server time of the staff endpoints, cold (cache cleared) and warm.

    python -m bench.staff [--db bench/out/demo-1.gpkg] [--runs 5]

- a page of ``GET /api/v1/cases`` (50 rows, newest first) for the city and for one grid (the
  middle grid by code), for the last 30 days of the demo city and for the year;
- ``GET /api/v1/units/<city>/ranking?level=grid`` (every grid of the city ranked by 办结率,
  worst first, at least 10 cases), for the same periods.

"cold" clears the answer cache first (the first request after a data change), "warm" repeats it.
Prints one JSON object per measurement: median and minimum milliseconds over ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from app import create_app
from dashboard.settings import Settings
from data.access import Accounts

PERIODS = {"30d": "from=2026-10-22&to=2026-11-20", "year": "from=2026-01-01&to=2026-11-20"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="bench/out/demo-1.gpkg", help="store URL or embedded file")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = create_app(Settings(db=args.db))
    client = app.server.test_client()
    data = app.server.config["CITYBRAIN_DATA"]
    # A city-wide analyst token for this run only (revoked at the end): the API answers no one else.
    accounts = Accounts(data.store.engine)
    name = f"bench-staff-{int(time.time())}"
    token = accounts.add_token(name, "analyst", accounts.root_code())
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    try:
        _run(client, data, args.runs)
    finally:
        accounts.revoke_token(name)
        data.store.engine.dispose()


def _run(client, data, runs: int) -> None:
    city = client.get("/api/v1/units").json["units"][0]["code"]
    grid = city
    while kids := client.get(f"/api/v1/units/{grid}/children").json["children"]:
        grid = kids[len(kids) // 2]["code"]

    cases = "/api/v1/cases?unit={unit}&{period}&per_page=50&sort=-reported_at"
    ranking = "/api/v1/units/{unit}/ranking?level=grid&metric=closure_rate&min_cases=10&{period}"
    for name, template, unit in (("cases_page_city", cases, city), ("cases_page_grid", cases, grid),
                                 ("ranking_grid_depth_city", ranking, city)):
        for period, query in PERIODS.items():
            url = template.format(unit=unit, period=query)
            cold, warm = [], []
            for _ in range(runs):
                data.cache.clear()
                cold.append(_time(client, url))
                warm.append(_time(client, url))
            print(json.dumps({
                "bench": name, "store": data.store.kind, "unit": unit, "period": period,
                "cold_ms": round(statistics.median(cold), 1), "cold_min_ms": round(min(cold), 1),
                "warm_ms": round(statistics.median(warm), 1), "url": url,
            }, ensure_ascii=False), flush=True)


def _time(client, url: str) -> float:
    started = time.perf_counter()
    reply = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert reply.status_code == 200, (url, reply.json)
    return elapsed


if __name__ == "__main__":
    main()
