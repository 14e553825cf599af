"""Time to compute camera coverage for the demo city with more and more cameras, per store: the
from-scratch path and the service's stored per-grid path (data/grid_coverage.py), cold and warm.

    python -m bench.coverage [--pg postgresql://…] [--scale 1] [--times 1 10 12.5] [--runs 3]
                             [--dir /tmp] [--reuse] [--no-scratch]

Generates the demo city (seed 7, ``--scale``, ending 2026-11-20 15:30) into a fresh embedded file
in ``--dir`` and, with ``--pg``, into that PostGIS database (it must be empty: the city is
written there; ``--reuse`` keeps a city already there). Then, for each ``--times`` (increasing),
it adds jittered copies of the cameras up to that many times the city's own, and times at the
city and at its first district, for the last 30 days:

- ``scratch_s``: ``Store.coverage_facts`` plus the summary, no cache (the path before the stored
  coverage: one union of every view);
- ``build_s``: measuring every grid from nothing (the first request after the upgrade);
- ``cold_process_s``: ``CityData.coverage`` in a fresh service (nothing in memory, rows up to date);
- ``cold_s``: the same service with its cache cleared (as after a new case: the cameras unchanged);
- ``cold_camera_s``: after one camera moved (its grids measured again, the cameras read again);
- ``warm_s``: the cached answer.

``*_cpu_s`` is this process's CPU time for the same (the database's own work on PostGIS not
included). Medians of ``--runs``. Prints JSON lines, with the load average.
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
from flask_caching.backends import SimpleCache
from sqlalchemy import delete, func, select, update

from dashboard.domain import Period
from data import queries, schema
from data.coverage import coverage_summary
from data.demo.generator import Progress, generate
from data.service import CityData
from data.stores import open_store
from geo.coverage import metric_epsg

END = datetime(2026, 11, 20, 15, 30)
# The last 30 whole days, as the service is asked for them (the period's start and end).
PERIOD = Period("custom", (END - timedelta(days=30)).date(), END.date() - timedelta(days=1))
START, END = PERIOD.start, PERIOD.end


def _timed(fn) -> tuple[float, float, object]:
    t, c = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - t, time.process_time() - c, value


def _median(samples: list[tuple[float, float, object]]) -> tuple[float, float]:
    return (round(statistics.median(s[0] for s in samples), 3),
            round(statistics.median(s[1] for s in samples), 3))


def scratch(store, code: str, runs: int) -> dict:
    """The from-scratch path: views, one union, areas, cases and places, summary."""
    with store.engine.connect() as conn:
        members = queries.member_codes(conn, code)
    c = store.unit_shapes([code]).geometry.iloc[0].centroid
    epsg = metric_epsg(c.x, c.y)

    def once():
        facts = store.coverage_facts(unit_code=code, members=members, start=START, end=END, epsg=epsg)
        with store.engine.connect() as conn:
            cams = queries.counts(conn, unit_code=code, start=START, end=END, now=END, by_children=True)
        return coverage_summary(facts, cams, epsg)["total"]

    samples = [_timed(once) for _ in range(runs)]
    seconds, cpu = _median(samples)
    total = samples[-1][2]
    return {"scratch_s": seconds, "scratch_cpu_s": cpu, "covered_share": round(total["covered_share"], 6),
            "blind_cases": total["blind_cases"], "uncovered_places": total["uncovered_places"]}


def move_a_camera(store, k: int) -> None:
    """Move one camera ~50 m east (stamped newer than every row, so the change is seen)."""
    cams = schema.cameras
    with store.engine.begin() as conn:
        cid, geom = conn.execute(select(cams.c.id, cams.c.geom).order_by(cams.c.id)
                                 .offset(k).limit(1)).one()
        p = shapely.from_wkb(geom)
        conn.execute(update(cams).where(cams.c.id == cid).values(
            geom=shapely.to_wkb(shapely.Point(p.x + 0.0005, p.y)),
            updated_at=datetime(2100, 1, 1) + timedelta(seconds=time.time() % 1e6)))


def service(store, code: str, runs: int) -> dict:
    period = PERIOD
    data = CityData(store, SimpleCache(threshold=10_000))
    out = {}

    def ask():
        return data.coverage(code, period)

    out["cold_process_s"], out["cold_process_cpu_s"] = _median(
        [_timed(lambda: CityData(store, SimpleCache()).coverage(code, period)) for _ in range(runs)])
    ask()
    cold = []
    for _ in range(runs):
        data.cache.clear()
        cold.append(_timed(ask))
    out["cold_s"], out["cold_cpu_s"] = _median(cold)
    moved = []
    for k in range(runs):
        move_a_camera(store, 100 + k)
        data.version(fresh=True)
        moved.append(_timed(ask))
    out["cold_camera_s"], out["cold_camera_cpu_s"] = _median(moved)
    out["warm_s"], out["warm_cpu_s"] = _median([_timed(ask) for _ in range(max(runs, 5))])
    total = ask()["total"]
    out.update(service_covered_share=round(total["covered_share"], 6),
               service_blind_cases=total["blind_cases"], service_uncovered_places=total["uncovered_places"],
               cameras_in_reach=len(ask()["views"]))
    return out


def build(store, code: str) -> dict:
    """Every grid measured from nothing (the rows deleted), through the service."""
    with store.engine.begin() as conn:
        conn.execute(delete(schema.grid_coverage))
        conn.execute(delete(schema.coverage_state))
    period = PERIOD
    seconds, cpu, _ = _timed(lambda: CityData(store, SimpleCache()).coverage(code, period))
    return {"build_s": round(seconds, 3), "build_cpu_s": round(cpu, 3)}


def grow_cameras(store, target: int, seed: int = 11) -> int:
    """Jittered copies (within ~300 m, any heading) of the city's own cameras until ``target``."""
    with store.engine.connect() as conn:
        cams = pd.DataFrame(conn.execute(select(schema.cameras)).mappings().all())
    own = cams[~cams["id"].str.contains("-")].reset_index(drop=True)
    need = target - len(cams)
    if need <= 0:
        return len(cams)
    rng = np.random.default_rng(seed + len(cams))
    pick = own.iloc[np.arange(need) % len(own)].reset_index(drop=True)
    rounds = len(cams) // len(own)
    pts = shapely.from_wkb(pick["geom"].to_numpy())
    extra = pick.drop(columns=["grid_code"]).copy()
    extra["id"] = [f"{i}-{rounds + k // len(own)}" for k, i in enumerate(pick["id"])]
    xy = shapely.get_coordinates(pts) + rng.normal(0, 0.003, (need, 2))
    extra["geom"] = shapely.to_wkb(shapely.points(xy))
    extra["heading"] = rng.uniform(0, 360, need).round(1)
    extra["updated_at"] = datetime.now()
    extra["grid_code"] = store.assign_grids(extra["geom"].to_numpy())
    store.write_table(schema.cameras, extra)
    store.checkpoint()
    return target


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="an empty PostGIS database to benchmark too")
    parser.add_argument("--scale", type=float, default=1.0, help="demo city size (default 1)")
    parser.add_argument("--times", type=float, nargs="+", default=[1, 10],
                        help="camera counts, as multiples of the city's own (default 1 10)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (median reported)")
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the embedded file goes")
    parser.add_argument("--reuse", action="store_true", help="keep a city already generated there")
    parser.add_argument("--no-scratch", action="store_true", help="skip the from-scratch path")
    parser.add_argument("--no-build", action="store_true", help="skip measuring every grid anew")
    args = parser.parse_args(argv)

    path = Path(args.dir) / f"bench_coverage_{args.scale:g}.gpkg"
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    urls = [f"sqlite:///{path}"] + ([args.pg] if args.pg else [])
    for url in urls:
        store = open_store(url)
        store.create_schema()
        if store.is_empty():
            with open(os.devnull, "w") as quiet:
                generate(store, seed=7, scale=args.scale, end=END, progress=Progress(quiet))
        with store.engine.connect() as conn:
            city = queries.roots(conn)[0]["code"]
            district = queries.children(conn, city)[0]["code"]
            own = conn.execute(select(func.count()).select_from(schema.cameras)
                               .where(~schema.cameras.c.id.contains("-"))).scalar()
        for times in sorted(args.times):
            cameras = grow_cameras(store, int(round(own * times)))
            for level, code in (("city", city), ("district", district)):
                figures = {} if args.no_scratch else scratch(store, code, 1)
                if not args.no_build and level == "city":
                    figures.update(build(store, code))
                figures.update(service(store, code, args.runs))
                print(json.dumps({"store": store.kind, "scale": args.scale, "cameras": cameras,
                                  "times_cameras": times, "unit": code, "level": level, "period_days": 30,
                                  **figures, "load_average": round(os.getloadavg()[0], 2)},
                                 ensure_ascii=False), flush=True)
        store.engine.dispose()


if __name__ == "__main__":
    main()
