"""First load on the wire: what a browser downloads to show the city the first time, and again.

Serves the app with the production server (waitress, compression on) on a free local port, opens
``/`` in headless Chromium, waits until the page is idle, and prints one JSON line: requests,
bytes on the wire (headers + encoded bodies), the largest responses, and the same for a second
visit in the same browser (what the cache headers save).

    python -m bench.first_load var/citybrain.gpkg     # or a postgresql:// URL
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time

from dashboard.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings: Settings):
    from waitress.server import create_server

    from app import create_app

    app = create_app(settings)
    server = create_server(app.server, host="127.0.0.1", port=settings.port, threads=settings.threads)
    threading.Thread(target=server.run, daemon=True).start()
    return server


def _visit(page, url: str) -> dict:
    seen = []
    page.on("requestfinished", lambda r: seen.append(r))
    started = time.perf_counter()
    page.goto(url, wait_until="networkidle")
    page.wait_for_selector(".js-plotly-plot, .dash-graph", timeout=60_000)
    page.wait_for_load_state("networkidle")
    elapsed = time.perf_counter() - started
    rows = []
    for r in seen:
        sizes = r.sizes()
        response = r.response()
        rows.append({"url": r.url.split("?")[0].replace(url.rstrip("/"), ""),
                     "wire": sizes["responseBodySize"] + sizes["responseHeadersSize"],
                     "encoding": (response.headers.get("content-encoding") if response else None),
                     "status": response.status if response else None})
    page.remove_listener("requestfinished", page.listeners("requestfinished")[0]) \
        if hasattr(page, "listeners") else None
    rows.sort(key=lambda row: -row["wire"])
    return {"requests": len(rows), "bytes": sum(r["wire"] for r in rows), "until_idle_s": round(elapsed, 2),
            "largest": rows[:6]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="embedded file or database URL")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from bench._auth import bench_token
    from tests.browser import CHROMIUM, LAUNCH_ARGS, VIEWPORT

    settings = Settings(db=args.db, port=_free_port())
    server = _serve(settings)  # (the embedded store's schema is made here)
    token = bench_token(args.db)
    url = f"http://127.0.0.1:{settings.port}/"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(viewport=VIEWPORT,
                                      extra_http_headers={"Authorization": f"Bearer {token}"})
        first = _visit(context.new_page(), url)
        again = _visit(context.new_page(), url)
        browser.close()
    server.close()
    print(json.dumps({"bench": "first_load", "db": args.db, "first": first, "again": again},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
