"""CityBrain: build the app (``create_app``), and the ``citybrain`` command line.

This is the one module that wires callbacks. Nothing is created at import time: gunicorn uses
the factory (``gunicorn 'app:create_server()'``), tests build their own app with their own store.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

import dash
from flask_caching import Cache

from callbacks import api, wallscreen
from dashboard import strings
from dashboard.settings import Settings, database_url, settings_table
from data.service import CityData
from data.store import open_store
from layouts.page import wall_screen

ASSETS = Path(__file__).resolve().parent / "dashboard" / "assets"


def create_app(settings: Settings | None = None) -> dash.Dash:
    """The Dash app for ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    store = open_store(settings.db_url)
    if store.kind == "embedded":
        store.create_schema()
    app = dash.Dash(
        __name__,
        title=strings.APP_TITLE,
        assets_folder=str(ASSETS),
        serve_locally=True,  # scripts from this server, never a CDN
        update_title=None,
        compress=False,
    )
    app.server.json.ensure_ascii = False  # the API answers in readable Chinese
    cache = Cache(app.server, config=_cache_config(settings))
    data = CityData(store, cache, intervention_minutes=settings.intervention_minutes,
                    timezone=settings.timezone, cache_seconds=settings.cache_seconds)
    app.layout = wall_screen(settings.refresh_seconds, settings.timezone)
    wallscreen.register(app, data, settings)
    api.register(app, data)
    app.server.config["CITYBRAIN_DATA"] = data
    return app


def create_server(settings: Settings | None = None):
    """The Flask server, for WSGI servers such as gunicorn."""
    return create_app(settings).server


def _cache_config(settings: Settings) -> dict:
    config = {"CACHE_TYPE": settings.cache_type, "CACHE_DEFAULT_TIMEOUT": settings.cache_seconds}
    if settings.cache_type == "RedisCache":
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

    serve = commands.add_parser("serve", help="serve the dashboard (development server)")
    serve.add_argument("--demo-if-empty", action="store_true",
                       help="generate the demo city first when the store has no units")

    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"], help="create or upgrade the schema")
    db.add_argument("--db", help="database URL (default: CITYBRAIN_DB)")

    commands.add_parser("settings", help="print every setting with its default and meaning")

    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if args.command == "demo":
        return _demo(settings, args)
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "db":
        return _db_upgrade(database_url(args.db) if args.db else settings.db_url)
    print(settings_table())
    return 0


def _demo(settings: Settings, args) -> int:
    from data.demo import Progress, generate

    url = database_url(args.db) if args.db else settings.db_url
    if args.replace and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    end = datetime.fromisoformat(args.end) if args.end else None
    return _generate(url, seed=args.seed, scale=args.scale, end=end, progress=Progress(), generate=generate)


def _generate(url: str, *, generate, **kwargs) -> int:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = open_store(url)
    store.create_schema()
    try:
        size = generate(store, **kwargs)
    except ValueError as exc:
        print(f"citybrain demo: {exc}", file=sys.stderr)
        return 2
    print(f"演示城市已生成：{size.grids:,} 网格，{size.cases:,} 件事件 → {url}", file=sys.stderr)
    return 0


def _serve(settings: Settings, args) -> int:
    if args.demo_if_empty:
        url = settings.db_url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        store = open_store(url)
        store.create_schema()
        if store.is_empty():
            from data.demo import Progress, generate

            print("首次运行：正在生成演示城市…", file=sys.stderr)
            generate(store, progress=Progress())
        store.engine.dispose()
    app = create_app(settings)
    print(f"CityBrain: http://{settings.host}:{settings.port}/", file=sys.stderr)
    app.run(host=settings.host, port=settings.port, debug=settings.debug)
    return 0


def _db_upgrade(url: str) -> int:
    from data.migrations import upgrade

    upgrade(url)
    print(f"数据库结构已是最新 schema up to date: {url}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
