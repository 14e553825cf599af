"""Load: a hundred wall screens refreshing every 30 s while ten analysts drill, on one server.

    python -m bench.load DB [--screens 100] [--analysts 10] [--seconds 120] [--threads 8]
                            [--url http://host:port]

Starts ``citybrain serve`` (waitress, ``--threads``) on ``DB`` unless ``--url`` names a running
server. The requests are the browser's own: headless Chromium opens the wall screen once and the
Dash requests it sends are recorded (the refresh tick, the render of a unit, the unit's
boundaries); then plain threads replay them over HTTP:

- each screen sends the tick every 30 s (staggered), as an open screen does (``tick``);
- each analyst, every 1–3 s, clicks a unit: a random walk up and down the hierarchy with a random
  period (today, 7 days, 30 days, this year), so most clicks are cold (``drill``), and fetches its
  boundaries (``geometry``).

Prints one JSON line: requests, errors, p50/p95/max milliseconds per kind, the server's CPU
seconds over the run and per request (Linux), and the load average at the end (the machine may
be shared: note it with the figures); then a line with the drills by level and period.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERIODS = ("today", "7d", "30d", "year")
LEVELS = ("city", "district", "street", "community", "grid")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HEADERS: dict[str, str] = {}  # Authorization: a real analyst token (bench/_auth.py)


def _get(url: str, timeout: float = 60):
    with urllib.request.urlopen(urllib.request.Request(url, headers=HEADERS), timeout=timeout) as r:
        return r.status, r.read()


def _post(url: str, body: bytes, timeout: float = 120):
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={**HEADERS, "Content-Type": "application/json",
                                              "Accept-Encoding": "gzip, br"})
    with urllib.request.urlopen(request, timeout=timeout) as r:
        return r.status, r.read()


def start_server(db: str, threads: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    # Screens' own interval short, so the recording sees a tick soon; the replay keeps 30 s.
    env = {**os.environ, "CITYBRAIN_DB": db, "PORT": str(port), "CITYBRAIN_THREADS": str(threads),
           "CITYBRAIN_REFRESH_SECONDS": "3", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "import app, sys; sys.exit(app.main(['serve']))"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            _get(url + "/healthz", timeout=5)
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the server did not start") from None
            time.sleep(0.5)


def capture(url: str, code: str) -> dict:
    """The Dash requests a wall screen sends: the tick's body and the render's (for ``code``)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM, LAUNCH_ARGS, VIEWPORT

    seen: list[tuple[str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page(viewport=VIEWPORT, extra_http_headers=HEADERS)
        page.on("request", lambda r: seen.append((r.url, r.post_data or "")) if r.method == "POST" else None)
        page.goto(f"{url}/?unit={code}", wait_until="networkidle", timeout=120_000)
        page.wait_for_timeout(2000)
        # the tick: an Interval fires it; wait for it if it has not yet
        deadline = time.monotonic() + 90
        while not any('"n_intervals","value"' in body for _, body in seen):
            if time.monotonic() > deadline:
                break
            page.wait_for_timeout(500)
        browser.close()
    posts = [(u, body) for u, body in seen if "_dash-update-component" in u]
    render = next(p for p in posts if f"unit={code}" in p[1] and "breadcrumb.children" in p[1])
    tick = next((p for p in posts if '"n_intervals","value"' in p[1] and "data-version" in p[1]), None)
    return {"render": render, "tick": tick}


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``; None elsewhere): on a
    shared machine the server's own CPU per request says more than the wall clock."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.log: list[dict] = []  # every request: when it started, what, how long (``--log``)

    def timed(self, kind: str, fn, also: str | None = None, unit: str | None = None):
        """Time ``fn`` as ``kind`` (and as ``also``, a finer breakdown printed apart)."""
        at = time.time()
        started = time.perf_counter()
        try:
            status, _ = fn()
            ok = status == 200 or status == 204
        except Exception:
            ok = False
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.log.append({"at": round(at, 3), "kind": also or kind, "ms": round(elapsed, 1), "ok": ok,
                             **({"unit": unit} if unit else {})})
            for name in (kind, also) if also else (kind,):
                self.times.setdefault(name, []).append(elapsed)
                if not ok:
                    self.errors[name] = self.errors.get(name, 0) + 1

    def summary(self) -> dict:
        out = {}
        for kind, times in sorted(self.times.items()):
            times = sorted(times)
            out[kind] = {"n": len(times), "errors": self.errors.get(kind, 0),
                         "p50_ms": round(statistics.median(times), 1),
                         "p95_ms": round(times[min(len(times) - 1, int(len(times) * 0.95))], 1),
                         "max_ms": round(times[-1], 1)}
        return out


def units_tree(url: str) -> tuple[str, dict[str, list[str]], dict[str, str]]:
    """The root, each unit's children and each unit's parent, through the JSON API."""
    root = json.loads(_get(url + "/api/v1/units")[1])["units"][0]["code"]
    children: dict[str, list[str]] = {}
    parents: dict[str, str] = {}
    frontier = [root]
    depth = 0
    while frontier and depth < 4:  # city, districts, streets, communities: grids come on demand
        nxt = []
        for code in frontier:
            answer = json.loads(_get(f"{url}/api/v1/units/{code}/children?period=today")[1])
            kids = [k["code"] for k in answer["children"]]
            children[code] = kids
            for k in kids:
                parents[k] = code
            nxt += kids if depth < 2 else kids[:2]
        frontier, depth = nxt, depth + 1
    return root, children, parents


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", help="embedded file or postgresql:// URL")
    parser.add_argument("--url", help="a running server instead of starting one")
    parser.add_argument("--screens", type=int, default=100)
    parser.add_argument("--analysts", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", help="write every request (start time, kind, ms) as JSON lines here")
    args = parser.parse_args(argv)
    from bench._auth import bench_token

    HEADERS["Authorization"] = f"Bearer {bench_token(args.db)}"
    proc = None
    url = args.url
    if url is None:
        proc, url = start_server(args.db, args.threads)
    try:
        root, children, parents = units_tree(url)
        bodies = capture(url, root)
        stats = Stats()
        stop = time.monotonic() + args.seconds
        rng = random.Random(args.seed)

        def screen(offset: float):
            time.sleep(offset)
            while time.monotonic() < stop:
                if bodies["tick"]:
                    where, tick = bodies["tick"]
                    stats.timed("tick", lambda w=where, t=tick: _post(w, t.encode()))
                time.sleep(30)

        def depth(code: str) -> int:
            return 0 if code not in parents else 1 + depth(parents[code])

        def analyst(seed: int):
            local = random.Random(seed)
            code = root
            while time.monotonic() < stop:
                kids = children.get(code, [])
                if kids and local.random() < 0.7:
                    code = local.choice(kids)
                elif code in parents:
                    code = parents[code]
                period = local.choice(PERIODS)
                search = f"?unit={code}&period={period}" if period != "30d" else f"?unit={code}"
                where, body = bodies["render"]
                body = body.replace(f"?unit={root}", search).encode()
                stats.timed("drill", lambda w=where, b=body: _post(w, b),
                            also=f"drill.{LEVELS[depth(code)]}.{period}", unit=code)
                stats.timed("geometry", lambda c=code: _get(f"{url}/geo/{c}.geojson"))
                time.sleep(local.uniform(1, 3))

        threads = [threading.Thread(target=screen, args=(rng.uniform(0, 30),), daemon=True)
                   for _ in range(args.screens)]
        threads += [threading.Thread(target=analyst, args=(args.seed * 100 + i,), daemon=True)
                    for i in range(args.analysts)]
        cpu_before = cpu_seconds(proc.pid) if proc else None
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(0.0, stop - time.monotonic()) + 130)
        cpu = cpu_seconds(proc.pid) if proc else None
        summary = stats.summary()
        finer = {k: summary.pop(k) for k in list(summary) if k.startswith("drill.")}
        requests = sum(kind["n"] for kind in summary.values())
        server = {} if cpu is None or cpu_before is None else {
            "server_cpu_s": round(cpu - cpu_before, 1),
            "server_cpu_ms_per_request": round((cpu - cpu_before) * 1000 / max(requests, 1), 1)}
        print(json.dumps({"bench": "load", "db": args.db, "screens": args.screens,
                          "analysts": args.analysts, "seconds": args.seconds, "threads": args.threads,
                          "tick_captured": bool(bodies["tick"]), **summary, **server,
                          "load_average": [round(v, 2) for v in os.getloadavg()]},
                         ensure_ascii=False), flush=True)
        print(json.dumps({"bench": "load_drills", **finer}, ensure_ascii=False), flush=True)
        if args.log:
            rows = sorted(stats.log, key=lambda r: r["at"])
            Path(args.log).write_text("".join(json.dumps(r) + "\n" for r in rows))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
