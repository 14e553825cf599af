"""Time to compute camera coverage for the demo city, and for ten times its cameras, per store.

    python -m bench.coverage [--pg postgresql://…] [--scale 1] [--runs 3] [--dir /tmp]

Generates the demo city (seed 7, ``--scale``, ending 2026-11-20 15:30) into a fresh embedded file
in ``--dir`` and, with ``--pg``, into that PostGIS database (it must be empty: the city is
written there). Then, for each store, times what the coverage view asks of it at the city and at
its first district (``Store.coverage_facts``: views, union, per-district areas, cases and key
places in blind spots; plus the summary and the greedy suggestions), for the last 30 days, with
no cache. Then it adds nine jittered copies of every camera (ten times the cameras) and times
again. One warm-up run, then the median of ``--runs``.

Prints JSON lines: one per store, camera count and unit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select

from data import queries, schema
from data.coverage import coverage_summary
from data.demo.generator import Progress, generate
from data.stores import open_store
from geo.coverage import metric_epsg

END = datetime(2026, 11, 20, 15, 30)


def measure(store, code: str, runs: int) -> dict:
    start, end = END - timedelta(days=30), END
    with store.engine.connect() as conn:
        members = queries.member_codes(conn, code)
    c = store.unit_shapes([code]).geometry.iloc[0].centroid
    epsg = metric_epsg(c.x, c.y)

    def once():
        t = time.perf_counter()
        facts = store.coverage_facts(unit_code=code, members=members, start=start, end=end, epsg=epsg)
        with store.engine.connect() as conn:
            cams = queries.counts(conn, unit_code=code, start=start, end=end, now=end, by_children=True)
        summary = coverage_summary(facts, cams, epsg)
        return time.perf_counter() - t, summary, len(facts.views)

    once()
    results = [once() for _ in range(runs)]
    seconds = statistics.median(r[0] for r in results)
    total = results[-1][1]["total"]
    return {"seconds": round(seconds, 3), "min_seconds": round(min(r[0] for r in results), 3),
            "cameras_in_reach": results[-1][2], "covered_share": round(total["covered_share"], 5),
            "blind_cases": total["blind_cases"], "cases": total["cases"],
            "uncovered_places": total["uncovered_places"], "key_places": total["key_places"]}


def add_camera_copies(store, copies: int = 9, seed: int = 11) -> int:
    """Nine jittered copies of every camera (within ~300 m, any heading): ten times the cameras."""
    with store.engine.connect() as conn:
        cams = pd.DataFrame(conn.execute(select(schema.cameras)).mappings().all())
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(1, copies + 1):
        pts = shapely.from_wkb(cams["geom"].to_numpy())
        xy = shapely.get_coordinates(pts) + rng.normal(0, 0.003, (len(cams), 2))
        frame = cams.drop(columns=["grid_code"]).copy()
        frame["id"] = [f"{i}-{k}" for i in cams["id"]]
        frame["geom"] = shapely.to_wkb(shapely.points(xy))
        frame["heading"] = rng.uniform(0, 360, len(cams)).round(1)
        frames.append(frame)
    extra = pd.concat(frames, ignore_index=True)
    extra["grid_code"] = store.assign_grids(extra["geom"].to_numpy())
    store.write_table(schema.cameras, extra)
    store.checkpoint()
    return len(cams) + len(extra)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="an empty PostGIS database to benchmark too")
    parser.add_argument("--scale", type=float, default=1.0, help="demo city size (default 1)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the embedded file goes")
    args = parser.parse_args(argv)

    path = Path(args.dir) / f"bench_coverage_{args.scale:g}.gpkg"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    urls = [f"sqlite:///{path}"] + ([args.pg] if args.pg else [])
    for url in urls:
        store = open_store(url)
        store.create_schema()
        with open(os.devnull, "w") as quiet:
            generate(store, seed=7, scale=args.scale, end=END, progress=Progress(quiet))
        with store.engine.connect() as conn:
            city = queries.roots(conn)[0]["code"]
            district = queries.children(conn, city)[0]["code"]
        for times in (1, 10):
            if times == 10:
                cameras = add_camera_copies(store)
            else:
                with store.engine.connect() as conn:
                    cameras = len(conn.execute(select(schema.cameras.c.id)).all())
            for level, code in (("city", city), ("district", district)):
                figures = measure(store, code, args.runs)
                print(json.dumps({"store": store.kind, "scale": args.scale, "cameras": cameras,
                                  "times_cameras": times, "unit": code, "level": level,
                                  "period_days": 30, **figures}, ensure_ascii=False), flush=True)
        store.engine.dispose()


if __name__ == "__main__":
    main()
