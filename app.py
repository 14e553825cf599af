"""CityBrain: build the app (``create_app``), and the ``citybrain`` command line.

This is the one module that wires callbacks. Nothing is created at import time: gunicorn uses
the factory (``gunicorn 'app:create_server()'``), tests build their own app with their own store.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from pathlib import Path

import dash
from flask_caching import Cache
from sqlalchemy.exc import SQLAlchemyError

from callbacks import api, auth, cases, compare, coverage, exports, heat, loop, router, staff, wallscreen
from dashboard import indicators, limits, strings
from dashboard.settings import LOOPBACK, Settings, database_url, mask_logged_urls, mask_url, settings_table
from data import access_cli
from data.access import Accounts
from data.service import CityData, StaffSettings
from data.stores import open_store
from data.tiles import MBTiles

ASSETS = Path(__file__).resolve().parent / "dashboard" / "assets"


def create_app(settings: Settings | None = None) -> dash.Dash:
    """The Dash app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    limits.configure(settings)  # the bounds every input is checked against (README "Limits")
    if settings.db_url.startswith("sqlite"):
        # Schema setup (a rollup rebuild after a new definition included) is no screen's question:
        # on a store without the query time limit, which is then closed.
        setup = open_store(settings.db_url)
        try:
            setup.create_schema()
        finally:
            setup.engine.dispose()
    store = open_store(settings.db_url, query_timeout=settings.query_timeout_seconds)
    app = dash.Dash(
        __name__,
        title=strings.APP_TITLE,
        assets_folder=str(ASSETS),
        serve_locally=True,  # scripts from this server, never a CDN
        update_title=None,
        compress=False,
    )
    _http(app.server)
    cache = Cache(app.server, config=_cache_config(settings))
    indicators.configure(rate_decimals=settings.rate_decimals,
                         incident_categories=settings.incident_category_list)
    data = CityData(store, cache, intervention_minutes=settings.intervention_minutes,
                    timezone=settings.timezone, cache_seconds=settings.cache_seconds,
                    as_of=settings.as_of, incident_categories=settings.incident_category_list,
                    staff=StaffSettings.from_settings(settings), warm=settings.warm,
                    warm_minutes=settings.warm)
    # The page router sets app.layout (the shell) and app.validation_layout (every view).
    router.register(app, settings)
    # Callbacks get the service through the access check for each request's principal.
    scoped = auth.request_data(data)
    wallscreen.register(app, scoped, settings)
    heat.register(app, scoped, settings)
    coverage.register(app, scoped, settings)
    cases.register(app, scoped, settings)
    staff.register(app, scoped)
    loop.register(app, scoped, settings)
    compare.register(app, scoped, settings)
    api.register(app, data, writer_token=settings.writer_token,
                 tiles=MBTiles(settings.tile_file) if settings.tile_file else None)
    exports.register(app, data, settings)
    # Last: the CSP holds the hash of every inline script.
    auth.register(app, Accounts.beside(settings.db_url, store.engine), settings)
    app.server.config["CITYBRAIN_DATA"] = data
    _one_connection_per_request(app.server, data)
    return app


def _one_connection_per_request(server, data: CityData) -> None:
    """Every question a request asks of the store on one connection, taken at its first question
    and given back when the request ends (docs/ARCHITECTURE.md, "The way a click travels")."""
    from flask import g

    @server.before_request
    def _open():
        g.citybrain_session = data.session()
        g.citybrain_session.__enter__()

    @server.teardown_request
    def _close(_exc):
        session = g.pop("citybrain_session", None)
        if session is not None:
            session.__exit__(None, None, None)


# --- HTTP: compression and cache headers (docs/ARCHITECTURE.md) ---------------------------------

_YEAR = 365 * 24 * 3600
# Versioned URLs: Dash's fingerprinted scripts, /assets/…?m=<mtime>, the favicon's ?v=<version>.
_STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/_favicon.ico")


class _CompressedStatic:
    """Flask-Compress's cache: keeps the compressed bytes of versioned static files (so plotly.js
    is compressed once per process, not per request), and nothing else."""

    def __init__(self):
        self._store: dict[str, bytes] = {}

    def get(self, key: str):
        return self._store.get(key)

    def set(self, key: str, value: bytes):
        if not key.endswith(";"):  # dynamic answers have no key
            self._store[key] = value


def _compress_key(request) -> str:
    versioned = request.path.startswith(_STATIC_PREFIXES) and request.query_string
    return request.full_path if versioned or "/_dash-component-suites/" in request.path else ""


def _http(server) -> None:
    """Compress what goes out (scripts, styles, pages, Dash answers, JSON) and let browsers keep
    versioned files for a year."""
    from flask import request
    from flask_compress import Compress

    server.config.update(
        COMPRESS_ALGORITHM=["br", "gzip"], COMPRESS_LEVEL=6, COMPRESS_BR_LEVEL=5,
        COMPRESS_MIN_SIZE=500, COMPRESS_CACHE_BACKEND=_CompressedStatic,
        COMPRESS_CACHE_KEY=_compress_key, COMPRESS_STREAMS=False,
        COMPRESS_EVALUATE_CONDITIONAL_REQUEST=False,  # no ETag answers (304) to per-user pages
    )
    Compress(server)

    @server.before_request
    def _static_etag():
        # Flask-Compress sends an unversioned file's ETag as "<tag>:br"; Dash compares the
        # browser's If-None-Match with "<tag>" itself, so plotly.js (loaded from an unversioned
        # URL) was sent again on every visit instead of a 304.
        tag = request.environ.get("HTTP_IF_NONE_MATCH", "")
        if request.path.startswith(_STATIC_PREFIXES) and re.fullmatch(r'"[^"]+:(br|gzip)"', tag):
            request.environ["HTTP_IF_NONE_MATCH"] = tag.rsplit(":", 1)[0] + '"'

    @server.after_request
    def _cache_headers(response):  # runs before Flask-Compress's (registered later, runs first)
        if response.status_code != 200 or not request.path.startswith(_STATIC_PREFIXES):
            return response
        if response.is_streamed:  # Flask's static files: read them so they can be compressed
            response.direct_passthrough = False
            response.make_sequence()
        if request.args.get("m") or request.args.get("v"):
            response.cache_control.no_cache = None
            response.cache_control.public = True
            response.cache_control.max_age = _YEAR
            response.cache_control.immutable = True
        return response


def create_server(settings: Settings | None = None):
    """The Flask server, for WSGI servers such as gunicorn."""
    return create_app(settings).server


def _cache_config(settings: Settings) -> dict:
    config = {"CACHE_TYPE": settings.cache_type, "CACHE_DEFAULT_TIMEOUT": settings.cache_seconds}
    if settings.cache_type == "SimpleCache":  # least recently used dropped (data/memory_cache.py)
        config |= {"CACHE_TYPE": "data.memory_cache.lru_cache", "CACHE_THRESHOLD": settings.cache_entries}
    elif settings.cache_type == "RedisCache":
        config["CACHE_REDIS_URL"] = settings.cache_url
    elif settings.cache_type == "FileSystemCache":
        config["CACHE_DIR"] = settings.cache_url or str(Path(settings.data_dir) / "cache")
    return config


# --- command line --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="citybrain", description=strings.APP_TITLE)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate the demo city into a store")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument("--scale", type=float, default=1.0,
                      help="size factor: 1 = 2,000 grids and 200,000 cases (default 1)")
    demo.add_argument("--db", help="database URL or embedded file (default: CITYBRAIN_DB)")
    demo.add_argument("--end", help="last moment of the data, YYYY-MM-DDTHH:MM (default: now)")
    demo.add_argument("--replace", action="store_true",
                      help="delete an existing embedded file first")

    serve = commands.add_parser("serve", help="serve the dashboard (production server: waitress)")
    serve.add_argument("--demo-if-empty", action="store_true",
                       help="generate the demo city first when the store has no units")
    serve.add_argument("--dev", action="store_true",
                       help="Dash's development server instead (debugging; one request at a time)")

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"], help="create or upgrade the schema")
    db.add_argument("--db", help="database URL (default: CITYBRAIN_DB)")

    commands.add_parser("settings", help="print every setting with its default and meaning")

    _add_import_parser(commands)
    access_cli.add_parsers(commands)
    _add_brief_parser(commands)

    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "demo":
        return _demo(settings, args)
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "import":
        return _import(settings, args)
    if args.command == "brief":
        return _brief(settings, args)
    if args.command == "db":
        return _db_upgrade(database_url(args.db) if args.db else settings.db_url)
    if args.command in ("users", "tokens", "audit"):
        store = _open(database_url(args.db) if args.db else settings.db_url)
        return access_cli.run(Accounts(store.engine), args)
    print(settings_table())
    return 0


def _open(url: str):
    """The store at ``url`` with its schema in place (the embedded file's folder made if needed)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = open_store(url)
    store.create_schema()
    return store


def _demo(settings: Settings, args) -> int:
    from data.demo.generator import Progress, generate

    url = database_url(args.db) if args.db else settings.db_url
    if args.replace and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    end = datetime.fromisoformat(args.end) if args.end else None
    try:
        size = generate(_open(url), seed=args.seed, scale=args.scale, end=end, progress=Progress())
    except ValueError as exc:
        print(f"citybrain demo: {exc}", file=sys.stderr)
        return 2
    print(f"演示城市已生成：{size.grids:,} 网格，{size.cases:,} 件事件 → {mask_url(url)}", file=sys.stderr)
    from data.demo.basemap import write_base_features

    path = write_base_features(open_store(url), settings.base_features_path)
    print(f"底图要素（河流、主干道）→ {path}", file=sys.stderr)
    return 0


def _serve(settings: Settings, args) -> int:
    if settings.debug and settings.host not in LOOPBACK:
        print(f"citybrain serve: 调试模式只能在本机地址运行 debug mode only on a loopback address, "
              f"not HOST={settings.host}", file=sys.stderr)
        return 2
    mask_logged_urls()
    store = _open(settings.db_url)
    if args.demo_if_empty and store.is_empty():
        from data.demo.basemap import write_base_features
        from data.demo.generator import Progress, generate

        print("首次运行：正在生成演示城市…", file=sys.stderr)
        generate(store, progress=Progress())
        write_base_features(store, settings.base_features_path)
    base = f"http://{'127.0.0.1' if settings.host in ('0.0.0.0', '::') else settings.host}:{settings.port}"
    first = access_cli.first_run(Accounts(store.engine))
    store.engine.dispose()
    if first:
        print(f"首次运行：已创建管理员 admin，密码 first run: user admin, password {first[0]}\n"
              f"一次性登录链接 one-time login link:\n    {auth.login_link(base, first[1])}", file=sys.stderr)
    app = create_app(settings)
    print(f"CityBrain: {base}/", file=sys.stderr)
    if args.dev:
        app.run(host=settings.host, port=settings.port, debug=settings.debug,
                request_handler=auth.QuietRequestHandler)
        return 0
    from waitress import serve

    # Threads: the store and the cache release the GIL while they wait, so a 2 ms refresh tick
    # is answered while another thread renders a cold drill step. Waitress logs no request lines.
    serve(app.server, host=settings.host, port=settings.port, threads=settings.threads,
          connection_limit=max(100, 20 * settings.threads), channel_timeout=120, ident="citybrain")
    return 0


def _add_import_parser(commands) -> None:
    from data.ingest.importer import KINDS

    imp = commands.add_parser(
        "import", help="import units, cases, cameras, key places, 人房楼 stats, grid workers, household "
                       "risk, special populations, surveys or police cases from a file (upsert, one "
                       "transaction)",
        description="GeoJSON, GeoPackage, Shapefile or CSV (lon/lat or WKT columns). Re-importing a file "
                    "changes nothing; a changed record updates; a status change appends to the history.")
    imp.add_argument("kind", choices=list(KINDS))
    imp.add_argument("file")
    imp.add_argument("--db", help="database URL or embedded file (default: CITYBRAIN_DB)")
    imp.add_argument("--crs", help="the file's coordinates: EPSG code (4326, 4490, 4547…), gcj02 or bd09 "
                                   "(default: the file's own CRS, else 4326)")
    imp.add_argument("--field", action="append", default=[], metavar="FIELD=COLUMN",
                     help="which file column holds a field, e.g. --field code=GRID_ID (repeatable)")
    imp.add_argument("--map", action="append", default=[], metavar="FIELD:FROM=TO",
                     help="map a value of any field, e.g. --map risk_level:高风险=高 (repeatable)")
    for name in ("category", "status", "source", "level", "kind"):
        imp.add_argument(f"--map-{name}", action="append", default=[], metavar="FROM=TO",
                         help=f"map a {name} value to the store's vocabulary (repeatable)")
    imp.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                     help="the same value for every row that has none, e.g. --set category=矛盾纠纷 "
                          "(repeatable)")
    imp.add_argument("--split", action="append", default=[], metavar="F1,F2=COLUMN:SEP",
                     help="split a combined column, e.g. --split category,subcategory=事件类型:- "
                          "(repeatable)")
    imp.add_argument("--as-of", help="cases: when the export was taken, YYYY-MM-DDTHH:MM (default: the "
                                     "newest time in the file); overdue is counted at it")
    imp.add_argument("--level", help="units: the level of every row (city, district, street, grid…)")
    imp.add_argument("--parent", help="units: the parent code of every row that names none")
    imp.add_argument("--layer", help="the layer of a GeoPackage with several")
    imp.add_argument("--encoding", help="text encoding of a CSV or Shapefile (e.g. gb18030)")
    imp.add_argument("--lon", help="CSV: the longitude (x) column")
    imp.add_argument("--lat", help="CSV: the latitude (y) column")
    imp.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    imp.add_argument("--skip-invalid", action="store_true",
                     help="land the good rows; write the bad ones with reasons to the reject file")
    imp.add_argument("--rejects", help="reject file (CSV; default FILE.rejects.csv)")
    imp.add_argument("--quiet", action="store_true", help="no progress lines")


def _import(settings: Settings, args) -> int:
    from data.ingest.importer import ImportOptions, ImportRejected, Progress, run_import
    from data.ingest.mapping import parse_pairs, parse_splits

    try:
        values = parse_pairs(args.map, with_field=True)
        for name in ("category", "status", "source", "level", "kind"):
            values.setdefault(name, {}).update(parse_pairs(getattr(args, f"map_{name}"))[""])
        options = ImportOptions(
            crs=args.crs, fields=parse_pairs(args.field)[""], values=values, layer=args.layer,
            encoding=args.encoding, lon=args.lon, lat=args.lat, level=args.level, parent=args.parent,
            dry_run=args.dry_run, skip_invalid=args.skip_invalid, rejects=args.rejects,
            timezone=settings.timezone, actor=f"import:{Path(args.file).name}",
            constants=parse_pairs(args.set)[""], splits=parse_splits(args.split), as_of=args.as_of)
        url = database_url(args.db) if args.db else settings.db_url
        store = _open(url)
        report = run_import(store, args.kind, args.file, options,
                            Progress(stream=None if args.quiet else sys.stderr))
    except ImportRejected as exc:
        print(f"citybrain import: {exc}", file=sys.stderr)
        if exc.report.rejects_file:
            print(f"拒绝的行及原因 rejected rows with reasons: {exc.report.rejects_file}", file=sys.stderr)
        return 1
    except (ValueError, OSError) as exc:
        print(f"citybrain import: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        print(f"citybrain import: 数据库错误，未写入 database error, nothing written: {first}",
              file=sys.stderr)
        return 3
    for problem in report.warnings[:20]:
        print(problem, file=sys.stderr)
    print(report.summary())
    return 0


def _add_brief_parser(commands) -> None:
    brief = commands.add_parser(
        "brief", help="write the briefing pack (PPTX and/or PDF) for a unit and period",
        description="The pack the screen's 简报 button gives, for scheduled jobs. Several --out write "
                    "the same pack in several formats (its charts are drawn once).")
    brief.add_argument("--unit", required=True, help="unit code (e.g. a district's 6-digit code)")
    brief.add_argument("--period", choices=["today", "7d", "30d", "year"], help="default: 30d")
    brief.add_argument("--from", dest="first", metavar="YYYY-MM-DD", help="first day (with --to)")
    brief.add_argument("--to", dest="last", metavar="YYYY-MM-DD", help="last day (with --from)")
    brief.add_argument("--category", action="append", default=[], help="case category (repeatable)")
    brief.add_argument("--source", action="append", default=[], help="case source (repeatable)")
    brief.add_argument("--metric", help="the map's indicator (default: accepted)")
    brief.add_argument("--db", help="database URL or embedded file (default: CITYBRAIN_DB)")
    brief.add_argument("--out", action="append", required=True, metavar="FILE.pptx|FILE.pdf")


def _brief(settings: Settings, args) -> int:
    from urllib.parse import urlencode

    from cachelib import SimpleCache

    if args.period and (args.first or args.last):
        print("citybrain brief: --period 与 --from/--to 只能选一种", file=sys.stderr)
        return 2
    query = {"period": args.period, "from": args.first, "to": args.last, "metric": args.metric,
             "category": ",".join(args.category), "source": ",".join(args.source)}
    query = urlencode({k: v for k, v in query.items() if v}, safe=",")
    formats = [Path(out).suffix.lower().lstrip(".") for out in args.out]
    store = open_store(database_url(args.db) if args.db else settings.db_url)
    data = CityData(store, SimpleCache(), intervention_minutes=settings.intervention_minutes,
                    timezone=settings.timezone, cache_seconds=settings.cache_seconds)
    try:
        for fmt in formats:
            exports.write_pack(None, fmt, check_only=True)
        question = exports.ask(data, args.unit, query)
        pack = exports.briefing(data, question)
        for out, fmt in zip(args.out, formats, strict=True):
            body = exports.write_pack(pack, fmt)
            Path(out).write_bytes(body)
            exports.audit("brief", question.code, question.period, fmt, accounts=Accounts(store.engine))
            print(f"{out}: {len(pack.slides)} 页, {len(body) / 1e6:.1f} MB", file=sys.stderr)
    except (ValueError, LookupError, RuntimeError) as exc:
        print(f"citybrain brief: {exc}", file=sys.stderr)
        return 2
    finally:
        store.engine.dispose()
    return 0


def _db_upgrade(url: str) -> int:
    from data.stores import upgrade

    upgrade(url)
    print(f"数据库结构已是最新 schema up to date: {mask_url(url)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
