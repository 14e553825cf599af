"""The API's time for one drill step (children + KPIs) at each level, cold and warm.

    python -m bench.api_drill [--db bench/out/demo-1.gpkg] [--runs 5]

A drill step is what the screen asks for when a unit is clicked: ``GET /api/v1/units/<code>`` and
``GET /api/v1/units/<code>/children`` for the last 30 days and for the year. "cold" clears the
aggregate cache first (the first screen to ask after a data change); "warm" is every other screen.
Prints one JSON object per level and period: median milliseconds over ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from app import create_app
from bench._auth import bench_token
from dashboard.settings import Settings

PERIODS = {"30d": "from=2026-10-22&to=2026-11-20", "year": "from=2026-01-01&to=2026-11-20"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="bench/out/demo-1.gpkg", help="store URL or embedded file")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = create_app(Settings(db=args.db))
    client = app.server.test_client()
    # The API answers no one else: a city-wide analyst token (bench/_auth.py).
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {bench_token(args.db)}"
    data = app.server.config["CITYBRAIN_DATA"]

    code = client.get("/api/v1/units").json["units"][0]["code"]
    path = [code]
    while kids := client.get(f"/api/v1/units/{path[-1]}/children").json["children"]:
        path.append(kids[len(kids) // 2]["code"])

    for code in path:
        level = client.get(f"/api/v1/units/{code}").json["level"]
        for name, query in PERIODS.items():
            cold, warm = [], []
            for _ in range(args.runs):
                data.cache.clear()
                cold.append(_step(client, code, query))
                warm.append(_step(client, code, query))
            print(json.dumps({
                "bench": "api_drill_step", "store": data.store.kind, "level": level, "unit": code,
                "period": name, "cold_ms": round(statistics.median(cold), 1),
                "warm_ms": round(statistics.median(warm), 1),
            }, ensure_ascii=False), flush=True)


def _step(client, code: str, query: str) -> float:
    started = time.perf_counter()
    for url in (f"/api/v1/units/{code}?{query}", f"/api/v1/units/{code}/children?{query}"):
        reply = client.get(url)
        assert reply.status_code == 200, reply.json
    return (time.perf_counter() - started) * 1000


if __name__ == "__main__":
    main()
