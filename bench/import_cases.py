"""Bulk import speed: ``citybrain import cases`` of a CSV with N cases, into each store.

    python -m bench.import_cases --rows 1000000 [--postgis postgresql://user@host/db] [--reimport]

Writes a city of 400 grids (a GeoJSON) and N cases (CSV, lon/lat, the columns of a grid
platform's export) into ``--out`` (default bench/out), imports the units and then the cases into
a fresh embedded GeoPackage and, with ``--postgis``, into that database (which must be empty: its
schema is migrated first). Prints one JSON object per store: seconds and rows per second for the
whole import (read, map, validate, convert, assign grids, upsert, history events), and with
``--reimport`` the same file again (every row compared, nothing written).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import vocab
from data.ingest.importer import ImportOptions, run_import
from data.stores import open_store

X0, Y0, SIDE, N = 114.0, 30.0, 0.01, 20  # 20 × 20 grids of about 1 km


def make_files(out: Path, rows: int, seed: int = 7) -> tuple[Path, Path]:
    units = [{"code": "990100", "name": "基准市", "level": "city", "parent_code": None,
              "geometry": shapely.box(X0, Y0, X0 + N * SIDE, Y0 + N * SIDE)}]
    for i in range(N):
        for j in range(N):
            units.append({"code": f"990100{i:03d}{j:03d}", "name": f"网格{i}-{j}", "level": "grid",
                          "parent_code": "990100",
                          "geometry": shapely.box(X0 + i * SIDE, Y0 + j * SIDE, X0 + (i + 1) * SIDE,
                                                  Y0 + (j + 1) * SIDE)})
    units_path = out / "bench-units.geojson"
    gpd.GeoDataFrame(units, crs=4326).to_file(units_path, driver="GeoJSON")

    rng = np.random.default_rng(seed)
    categories = list(vocab.CATEGORIES)
    reported = pd.Timestamp(datetime(2026, 1, 1)) + pd.to_timedelta(rng.integers(0, 300 * 86400, rows), "s")
    status = rng.choice(vocab.STATUSES, rows)
    closed = status == vocab.CLOSED
    frame = pd.DataFrame({
        "id": [f"B{i:08d}" for i in range(rows)],
        "category": rng.choice(categories, rows),
        "subcategory": "其他",
        "source": rng.choice(vocab.SOURCES, rows),
        "reported_at": reported.strftime("%Y-%m-%d %H:%M:%S"),
        "status": status,
        "closed_at": np.where(closed, (reported + pd.Timedelta(hours=30)).strftime("%Y-%m-%d %H:%M:%S"), ""),
        "deadline": (reported + pd.Timedelta(days=5)).strftime("%Y-%m-%d %H:%M:%S"),
        "department": "综治中心",
        "lon": np.round(X0 + rng.random(rows) * N * SIDE, 6),
        "lat": np.round(Y0 + rng.random(rows) * N * SIDE, 6),
    })
    cases_path = out / f"bench-cases-{rows}.csv"
    frame.to_csv(cases_path, index=False)
    return units_path, cases_path


def run(url: str, store_kind: str, units_path: Path, cases_path: Path, rows: int, reimport: bool) -> dict:
    store = open_store(url)
    store.create_schema()
    if not store.is_empty():
        raise SystemExit(f"{url}: the store must be empty")
    quiet = ImportOptions(crs="4326")
    run_import(store, "units", units_path, quiet)
    started = time.perf_counter()
    report = run_import(store, "cases", cases_path, quiet)
    seconds = time.perf_counter() - started
    result = {"bench": "import_cases", "store": store_kind, "rows": rows, "seconds": round(seconds, 1),
              "rows_per_second": round(rows / seconds), "inserted": report.result.inserted,
              "events": report.result.events, "outside_grid": report.outside_grid}
    if reimport:
        started = time.perf_counter()
        again = run_import(store, "cases", cases_path, quiet)
        seconds = time.perf_counter() - started
        result.update(reimport_seconds=round(seconds, 1), reimport_rows_per_second=round(rows / seconds),
                      reimport_unchanged=again.result.unchanged)
    store.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--postgis", help="URL of an empty PostGIS database")
    parser.add_argument("--reimport", action="store_true", help="also time importing the same file again")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    units_path, cases_path = make_files(out, args.rows)
    gpkg = out / "bench-import.gpkg"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{gpkg}{suffix}").unlink(missing_ok=True)
    targets = [(f"sqlite:///{gpkg.resolve()}", "embedded")]
    if args.postgis:
        targets.append((args.postgis, "postgis"))
    for url, kind in targets:
        result = run(url, kind, units_path, cases_path, args.rows, args.reimport)
        print(json.dumps(result, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
