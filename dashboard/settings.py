"""The one settings object: every knob is an environment variable with a default and a help text.

The README's configuration table is generated from ``SETTINGS`` (``python -m dashboard.settings``)
and a test fails when the two drift apart.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path


def _setting(env: str, default, help: str):
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Settings:
    """Runtime configuration. Build with :meth:`from_env`; tests pass values directly."""

    db: str = _setting(
        "CITYBRAIN_DB",
        "",
        "Database URL (`postgresql://user:pass@host/db`) or a file path for the embedded store. "
        "Empty: `<CITYBRAIN_DATA_DIR>/citybrain.gpkg`.",
    )
    data_dir: str = _setting(
        "CITYBRAIN_DATA_DIR", "var", "Directory for the embedded store and other local files."
    )
    host: str = _setting("HOST", "127.0.0.1", "Address the server listens on.")
    port: int = _setting("PORT", 8050, "Port the server listens on.")
    refresh_seconds: int = _setting(
        "CITYBRAIN_REFRESH_SECONDS",
        30,
        "How often open screens check for new data. A check with no change sends nothing.",
    )
    intervention_minutes: int = _setting(
        "CITYBRAIN_INTERVENTION_MINUTES",
        60,
        "The intervention limit for 按时介入率 (一小时介入 by default).",
    )
    timezone: str = _setting(
        "CITYBRAIN_TIMEZONE",
        "Asia/Shanghai",
        "The zone that case times are recorded in (they are stored without one).",
    )
    rate_decimals: int = _setting(
        "CITYBRAIN_RATE_DECIMALS",
        2,
        "Decimals shown for rates on KPI cards, rankings and exports (98.72%). The API always "
        "returns the exact ratio and both counts.",
    )
    incident_categories: str = _setting(
        "CITYBRAIN_INCIDENT_CATEGORIES",
        "刑事,治安",
        "What 万人发案率 counts (comma-separated): cases of these categories and police cases of "
        "these kinds.",
    )
    as_of: str = _setting(
        "CITYBRAIN_AS_OF",
        "auto",
        "The moment overdue is counted at: `auto` (the export time recorded by the last import, "
        "until a live write arrives; else now), `now`, or a fixed `YYYY-MM-DDTHH:MM`.",
    )
    tile_url: str = _setting(
        "CITYBRAIN_TILE_URL",
        "",
        "Optional XYZ raster tile URL on the intranet (`http://tiles.local/{z}/{x}/{y}.png`). "
        "Empty: no base map, nothing is fetched.",
    )
    tile_file: str = _setting(
        "CITYBRAIN_TILE_FILE",
        "",
        "A local MBTiles file of raster tiles (png, jpg, webp) served by the app as the base map "
        "(`/tiles/{z}/{x}/{y}`); it takes the place of `CITYBRAIN_TILE_URL`. Empty: none.",
    )
    base_features: str = _setting(
        "CITYBRAIN_BASE_FEATURES",
        "",
        "A local GeoJSON file of rivers and main roads drawn under the units (property `kind`: "
        "`water` or `road`). Empty: `<CITYBRAIN_DATA_DIR>/basemap.geojson` when it exists "
        "(`citybrain demo` writes one for the demo city).",
    )
    tile_attribution: str = _setting(
        "CITYBRAIN_TILE_ATTRIBUTION", "", "Attribution text shown for the tile layer."
    )
    targets: str = _setting(
        "CITYBRAIN_TARGETS",
        "",
        "Targets of the rates, which anchor their map colours (below target red, above calm): "
        "`closure_rate=98%,satisfaction_rate=95%`. Unnamed rates keep their defaults (办结率 98%, "
        "化解率 95%, 按时介入率 95%, 满意率 95%, 视频在线率 95%, 矛盾不上交率 90%).",
    )
    alarm_sound: bool = _setting(
        "CITYBRAIN_ALARM_SOUND", False, "Sound a short tone on the wall screen when a new alarm appears."
    )
    cache_type: str = _setting(
        "CITYBRAIN_CACHE_TYPE",
        "SimpleCache",
        "Flask-Caching backend: `SimpleCache` (one process, in memory: the least recently used "
        "answers dropped past `CITYBRAIN_CACHE_ENTRIES`), `RedisCache` or `FileSystemCache` "
        "(shared by several workers).",
    )
    cache_entries: int = _setting(
        "CITYBRAIN_CACHE_ENTRIES",
        20000,
        "Most answers the in-memory cache (`SimpleCache`) keeps; a click adds about twenty, a few "
        "KB each.",
    )
    cache_url: str = _setting(
        "CITYBRAIN_CACHE_URL",
        "",
        "Redis URL for `RedisCache`, or a directory for `FileSystemCache`.",
    )
    cache_seconds: int = _setting(
        "CITYBRAIN_CACHE_SECONDS", 600, "How long an aggregate stays cached (keys carry the data version)."
    )
    query_timeout_seconds: float = _setting(
        "CITYBRAIN_QUERY_TIMEOUT_SECONDS",
        20,
        "Longest a database statement of the screens and the API may run; then it is stopped, the "
        "screen says 查询超时 and the API answers 503. `0`: no limit. Imports and the demo run "
        "without it.",
    )
    threads: int = _setting(
        "CITYBRAIN_THREADS",
        8,
        "Request threads of the production server (`citybrain serve`, waitress): a refresh tick "
        "never waits behind a slow render while one is free. With gunicorn, its `--threads`.",
    )
    workers: int = _setting(
        "CITYBRAIN_WORKERS",
        1,
        "Server processes. `citybrain serve` (waitress) runs one; more need gunicorn "
        "(`gunicorn -c gunicorn.conf.py`, Linux) and a shared cache (`FileSystemCache` or `RedisCache`).",
    )
    warm: bool = _setting(
        "CITYBRAIN_WARM",
        True,
        "After each data change, compute the city, its districts and the tour stops in the background, "
        "so wall screens never wait for a cold query.",
    )
    citus: bool = _setting(
        "CITYBRAIN_CITUS",
        False,
        "`citybrain db upgrade` on a Citus coordinator: make units reference tables and distribute the "
        "rollups (README \"Past one machine\"). Off: plain PostgreSQL.",
    )
    debug: bool = _setting(
        "CITYBRAIN_DEBUG", False,
        "Dash debug mode (never on a wall screen; refused unless HOST is a loopback address).",
    )
    writer_token: str = _setting(
        "CITYBRAIN_WRITER_TOKEN",
        "",
        "Token that other systems send as `Authorization: Bearer …` to `POST /api/v1/cases`. "
        "Legacy: a `writer` token (`citybrain tokens add NAME --role writer`) does the same and can be "
        "revoked.",
    )
    secret_key: str = _setting(
        "CITYBRAIN_SECRET_KEY",
        "",
        "Key that signs session cookies. Empty: one is generated once into "
        "`<CITYBRAIN_DATA_DIR>/secret_key` (give every worker the same key).",
    )
    session_hours: int = _setting("CITYBRAIN_SESSION_HOURS", 12, "A person's login lasts this long.")
    display_days: int = _setting(
        "CITYBRAIN_DISPLAY_DAYS", 365,
        "A wall screen logged in by its display token link stays logged in this long "
        "(until the token is revoked).",
    )
    login_max_failures: int = _setting(
        "CITYBRAIN_LOGIN_MAX_FAILURES", 5,
        "Failed logins for one name or from one address within the window; more attempts get 429.",
    )
    login_window_minutes: int = _setting(
        "CITYBRAIN_LOGIN_WINDOW_MINUTES", 15, "The window for counting failed logins and failed tokens."
    )
    token_max_failures: int = _setting(
        "CITYBRAIN_TOKEN_MAX_FAILURES", 20,
        "Failed bearer tokens from one address within the window; more requests get 429.",
    )
    auth_header: str = _setting(
        "CITYBRAIN_AUTH_HEADER", "",
        "Optional SSO: the header a reverse proxy sets to the logged-in user's name (e.g. `X-Remote-User`), "
        "trusted only from `CITYBRAIN_TRUSTED_PROXIES`. The name must be a user here (role and unit).",
    )
    trusted_proxies: str = _setting(
        "CITYBRAIN_TRUSTED_PROXIES", "",
        "Comma-separated addresses of reverse proxies whose `X-Forwarded-For`, `X-Forwarded-Proto` and SSO "
        "header are believed.",
    )

    # --- limits (see README "Limits"; checked in dashboard/limits.py) ---------------------------
    max_body_bytes: int = _setting(
        "CITYBRAIN_MAX_BODY_BYTES", 5_000_000,
        "Largest request body accepted (bytes); a larger one answers 413 (Flask `MAX_CONTENT_LENGTH`).",
    )
    max_batch: int = _setting(
        "CITYBRAIN_MAX_BATCH", 1000, "Most cases one `POST /api/v1/cases` may carry."
    )
    max_description_chars: int = _setting(
        "CITYBRAIN_MAX_DESCRIPTION_CHARS", 2000,
        "Longest case `description` accepted by ingest and import (characters).",
    )
    max_heat_cells: int = _setting(
        "CITYBRAIN_MAX_HEAT_CELLS", 20_000,
        "Most heat cells one unit may be cut into: a smaller cell size is raised to what the unit's "
        "area allows.",
    )
    max_tour_seconds: int = _setting(
        "CITYBRAIN_MAX_TOUR_SECONDS", 3600, "Longest tour (轮播) interval, in seconds (the shortest is 5)."
    )
    min_year: int = _setting("CITYBRAIN_MIN_YEAR", 2000, "Earliest year a date or case time may have.")
    max_year: int = _setting("CITYBRAIN_MAX_YEAR", 2100, "Latest year a date or case time may have.")
    expensive_per_client: int = _setting(
        "CITYBRAIN_EXPENSIVE_PER_CLIENT", 2,
        "Requests to expensive endpoints (heat, coverage, exports) one client may have running at "
        "once; more answer 429.",
    )
    stage_limit_hours: str = _setting(
        "CITYBRAIN_STAGE_LIMIT_HOURS",
        "指派=24,处置=72,反馈=48",
        "Hours a case may stay at each closed-loop stage before the timeline marks it late (受理 uses "
        "the intervention limit; 核查办结 must come before the case's own deadline).",
    )
    rise_p: float = _setting(
        "CITYBRAIN_RISE_P",
        1e-6,
        "Sudden-rise alarm: raised when a unit's count in the last 24 hours is this unlikely against "
        "its own counts in the same hours of the previous weeks (exact test of two Poisson rates). "
        "At 1e-6 the demo city (thousands of units × categories tested every hour) raises no chance "
        "alarm in ordinary weeks; 14 cases against a mean of 2.8 (p = 7.6e-5) need 1e-4, which "
        "raises about five chance alarms in eight weeks on the scale-1 demo city.",
    )
    rise_min_count: int = _setting(
        "CITYBRAIN_RISE_MIN_COUNT", 8, "Sudden-rise alarm: the fewest cases in 24 hours that can raise one."
    )
    rise_weeks: int = _setting(
        "CITYBRAIN_RISE_WEEKS", 4, "Sudden-rise alarm: how many previous weeks make the baseline."
    )
    overdue_order: str = _setting(
        "CITYBRAIN_OVERDUE_ORDER",
        "most_overdue",
        "Order of overdue cases in the alarm list: `most_overdue` (longest past the deadline first) "
        "or `newest` (most recently reported first).",
    )
    rank_min_cases: int = _setting(
        "CITYBRAIN_RANK_MIN_CASES",
        10,
        "Ranking below the children (all streets, communities or grids): units with fewer cases in "
        "the period are left out, so that one case does not top the list.",
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Read every setting from ``environ`` (default ``os.environ``); ``overrides`` win."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.type, raw, f.metadata["env"])
        values.update(overrides)
        return cls(**values)

    @property
    def incident_category_list(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.incident_categories.split(",") if c.strip())

    @property
    def base_features_path(self) -> Path:
        """Where the base features are read from (and where ``citybrain demo`` writes them)."""
        return Path(self.base_features or Path(self.data_dir) / "basemap.geojson")

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL of the configured store."""
        return database_url(self.db or str(Path(self.data_dir) / "citybrain.gpkg"))


def database_url(db: str) -> str:
    """A database URL for ``db``, which is a URL already or a path to the embedded file."""
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


LOOPBACK = ("127.0.0.1", "localhost", "::1")
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.-]*://[^:/@\s]*:)\S*@")  # to the last @: over, never under


_URL_SECRET = re.compile(r"(?P<head>[?&](?:token|once)=)[^&\s\"']+")


def mask_url(text: str) -> str:
    """``text`` with every password in a URL (``scheme://user:password@host``) and every login
    token in a query (``?token=…``, ``?once=…``) replaced by ***."""
    return _URL_SECRET.sub(r"\g<head>***", _URL_PASSWORD.sub(r"\g<head>***@", str(text)))


class _MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_url(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_logged_urls() -> None:
    """Mask database passwords in every log line: a filter on the root logger's handlers (a
    default one is set up when there is none)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    for handler in root.handlers:
        if not any(isinstance(f, _MaskingFilter) for f in handler.filters):
            handler.addFilter(_MaskingFilter())


def _parse(type_name: str, raw: str, env: str):
    if type_name in ("int", int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{env}={raw!r} is not a whole number") from None
    if type_name in ("float", float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{env}={raw!r} is not a number") from None
    if type_name in ("bool", bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    return raw


def settings_table() -> str:
    """The README's configuration table, in Markdown."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for f in fields(Settings):
        default = f.default if f.default != "" else "(empty)"
        rows.append(f"| `{f.metadata['env']}` | `{default}` | {f.metadata['help']} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
