"""Click-to-paint of a drill step on the wall screen, in headless Chromium.

    python -m bench.click_to_paint STORE [--clicks 10] [--size 1920x1080] [--period 30d]

``STORE`` is an embedded file or a database URL holding a city (``citybrain demo``). The app is
served on a free local port (the page logs in with the browser tests' analyst token,
``tests/access.py``); the page opens the city, then, ``--clicks`` times: a mouse click on a
district's name on the map (no hover first), and the time until the map has painted that
district's streets (MapLibre has rendered every street polygon in its colour, and the names are
written); then back to the city by the breadcrumb (not timed). Each click goes to the next
district in turn, so most answers come from the shared cache after the first round, as on a wall
with many screens. Prints one JSON line: median, min, max and every click in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from dashboard.settings import Settings, database_url
from tests.access import BROWSER_TOKEN
from tests.browser import CHROMIUM, LAUNCH_ARGS, serve

# Ready when the map shows exactly ``codes`` in the values trace, every one painted, and wall.js
# has fitted it and written the names.
READY_JS = """(codes) => {
  const gd = document.querySelector('#unit-map .js-plotly-plot');
  const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot.map;
  if (!map || !map.loaded() || !gd._fullData || gd._fullData.length < 2) return false;
  const shown = [...gd._fullData[1].locations].sort();
  if (JSON.stringify(shown) !== JSON.stringify([...codes].sort())) return false;
  const layer = 'plotly-trace-layer-' + gd._fullData[1].uid + '-fill';
  if (!map.getLayer(layer)) return false;
  const rendered = map.queryRenderedFeatures({layers: [layer]});
  const drawn = new Set(rendered.map((f) => JSON.stringify(f.properties.ct)));
  const labels = gd.querySelectorAll('.map-labels .map-label');
  return drawn.size === codes.length && labels.length === codes.length;
}"""

LABEL_JS = """(code) => {
  const label = document.querySelector(`#unit-map .map-label[data-code="${code}"]`);
  if (!label || label.style.visibility !== 'visible') return null;
  const box = label.getBoundingClientRect();
  return {x: box.left + box.width / 2, y: box.bottom + 3};
}"""


def run(store: str, clicks: int, size: tuple[int, int], period: str) -> dict:
    from playwright.sync_api import sync_playwright

    from data import queries
    from data.stores import open_store

    engine = open_store(database_url(store)).engine
    with engine.connect() as conn:
        city = queries.roots(conn)[0]
        districts = [{**d, "kids": [k["code"] for k in queries.children(conn, d["code"])]}
                     for d in queries.children(conn, city["code"])]
    engine.dispose()
    times = []
    with serve(Settings(db=store, refresh_seconds=3600)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": size[0], "height": size[1]},
                                extra_http_headers={"Authorization": f"Bearer {BROWSER_TOKEN}"})
        page.goto(f"{base}/?period={period}")
        city_codes = [d["code"] for d in districts]
        for i in range(clicks):
            page.wait_for_function(READY_JS, arg=city_codes, timeout=60_000)
            district = districts[i % len(districts)]
            spot = page.wait_for_function(LABEL_JS, arg=district["code"], timeout=10_000).json_value()
            start = time.perf_counter()
            page.mouse.click(spot["x"], spot["y"])
            page.wait_for_function(READY_JS, arg=district["kids"], timeout=60_000, polling="raf")
            times.append(round((time.perf_counter() - start) * 1000))
            page.locator("#breadcrumb a.crumb").first.click()
        browser.close()
    return {"benchmark": "click_to_paint", "size": f"{size[0]}x{size[1]}", "period": period,
            "clicks": clicks, "median_ms": statistics.median(times), "min_ms": min(times),
            "max_ms": max(times), "all_ms": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store")
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--period", default="30d")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    print(json.dumps(run(args.store, args.clicks, (width, height), args.period)))


if __name__ == "__main__":
    main()
