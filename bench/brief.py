"""How long a briefing pack takes and how big it is: a district's pack, PPTX and PDF.

    python -m bench.brief [--db bench/out/demo-1.gpkg] [--unit CODE] [--out bench/out]

Runs ``citybrain brief`` in this process three times: the PPTX alone (the first also starts
Chromium for the charts), the PDF alone, and both from one pack (``--out a.pptx --out b.pdf``,
its charts drawn once). Every run starts with an empty aggregate cache, as a scheduled job does.
The demo city (scale 1, ``bench.demo``) is generated first when the file is missing. Prints one
JSON object per run: seconds, megabytes, slides. Target: under 20 s for a district's pack.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
from pathlib import Path

from app import main as citybrain
from data.stores import open_store

FIRST, LAST = "2026-10-22", "2026-11-20"


def district(db: str) -> dict:
    """The middle district (by code) of the city in ``db``."""
    from data import queries

    store = open_store(f"sqlite:///{Path(db).resolve()}" if "://" not in db else db)
    with store.engine.connect() as conn:
        kids = queries.children(conn, queries.roots(conn)[0]["code"])
    store.engine.dispose()
    return kids[len(kids) // 2]


def run(db: str, unit: dict, outs: list[Path]) -> dict:
    args = ["brief", "--unit", unit["code"], "--from", FIRST, "--to", LAST, "--db", db]
    for out in outs:
        args += ["--out", str(out)]
    log = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stderr(log):
        status = citybrain(args)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"citybrain brief failed: {log.getvalue()}")
    return {"bench": "brief_pack", "unit": unit["code"], "name": unit["name"],
            "formats": "+".join(o.suffix[1:] for o in outs), "seconds": round(seconds, 2),
            **{f"{o.suffix[1:]}_mb": round(o.stat().st_size / 2**20, 2) for o in outs},
            "slides": 10}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="bench/out/demo-1.gpkg", help="store URL or embedded file")
    parser.add_argument("--unit", help="unit code (default: the city's middle district)")
    parser.add_argument("--out", default="bench/out", help="where the packs are written")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if "://" not in args.db and not Path(args.db).exists():
        from bench.demo import run as generate

        print(json.dumps(generate(1.0, Path(args.db).parent), ensure_ascii=False), flush=True)
    unit = {"code": args.unit, "name": ""} if args.unit else district(args.db)
    for outs in ([out / "brief.pptx"], [out / "brief.pdf"], [out / "both.pptx", out / "both.pdf"]):
        print(json.dumps(run(args.db, unit, outs), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
