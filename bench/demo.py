"""How long the demo generator takes and how big its file is, at several scales.

    python -m bench.demo [--scales 0.1,0.5,1] [--out bench/out]

Prints one JSON object per scale: seconds, cases, cases per second, file size in MB.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from datetime import datetime
from pathlib import Path

from data.demo.generator import Progress, generate
from data.stores import open_store


def run(scale: float, out: Path) -> dict:
    path = out / f"demo-{scale:g}.gpkg"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = open_store(f"sqlite:///{path.resolve()}")
    store.create_schema()
    started = time.perf_counter()
    size = generate(store, seed=7, scale=scale, end=datetime(2026, 11, 20, 15, 30),
                    progress=Progress(io.StringIO()))
    seconds = time.perf_counter() - started
    store.engine.dispose()
    return {
        "bench": "demo_generator", "store": "embedded", "scale": scale, "grids": size.grids,
        "cases": size.cases, "seconds": round(seconds, 2),
        "cases_per_second": round(size.cases / seconds), "file_mb": round(path.stat().st_size / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="0.1,0.5,1")
    parser.add_argument("--out", default="bench/out")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for scale in (float(s) for s in args.scales.split(",")):
        print(json.dumps(run(scale, out), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
