"""The one schema for both stores (SQLAlchemy Core).

Geometry columns are WKB in Python. In PostGIS they are real ``geometry`` columns (SRID 4326);
in the embedded store they are GeoPackage geometry blobs, so QGIS and GeoPandas open the file.

Every case stores the code of the grid it lies in; ``unit_closure`` links each unit to all of its
ancestors, so every aggregate for any unit at any depth is one plain ``GROUP BY``.
"""

from __future__ import annotations

import struct

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    func,
    literal_column,
)
from sqlalchemy.types import TypeDecorator, UserDefinedType

from dashboard import vocab

SRID = 4326

metadata = MetaData()


class _PostGISGeometry(UserDefinedType):
    cache_ok = True

    def __init__(self, geometry_type: str):
        self.geometry_type = geometry_type

    def get_col_spec(self, **kw):
        return f"geometry({self.geometry_type}, {SRID})"

    def bind_expression(self, bindvalue):
        return func.ST_GeomFromWKB(bindvalue, SRID)

    def column_expression(self, col):
        # Typed, so rows hold bytes: an untyped function result comes back as a memoryview.
        return func.ST_AsBinary(col, type_=LargeBinary())


class Geometry(TypeDecorator):
    """A geometry column: WKB bytes in and out, whatever the store."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "Geometry"):
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostGISGeometry(self.geometry_type))
        return dialect.type_descriptor(LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name == "postgresql":
            return value
        return gpkg_blob(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            return bytes(value)
        return wkb_from_gpkg(value)


# GeoPackage geometry header: magic, version 0, flags (little-endian, no envelope), SRS id.
_GPKG_HEADER = b"GP\x00\x01" + struct.pack("<i", SRID)
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def gpkg_blob(wkb: bytes) -> bytes:
    """Wrap WKB in a GeoPackage geometry header."""
    return _GPKG_HEADER + bytes(wkb)


def wkb_from_gpkg(blob: bytes) -> bytes:
    """The WKB inside a GeoPackage geometry blob (any envelope, as other writers may add one)."""
    blob = bytes(blob)
    if blob[:2] != b"GP":
        return blob
    envelope = _ENVELOPE_BYTES[(blob[3] >> 1) & 0x07]
    return blob[8 + envelope :]


def _timestamps():
    return Column("updated_at", DateTime, nullable=False, server_default=func.now(), index=True)


units = Table(
    "units",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent_code", String(32), ForeignKey("units.code"), index=True),
    Column("population", Integer),
    Column("households", Integer),
    Column("area_km2", Float),
    Column("staff_full", Integer),
    Column("staff_part", Integer),
    Column("geom", Geometry("MultiPolygon")),
    # The unit's own kind where one level holds different things: 村 or 社区 (both `community`).
    Column("kind", String(16)),
    Column("houses", Integer),  # 人房楼: 房屋 (dwellings)
    Column("buildings", Integer),  # 人房楼: 楼栋
    _timestamps(),
)

# Each unit with itself (depth 0) and every ancestor (depth = steps up). Rebuilt with the units.
unit_closure = Table(
    "unit_closure",
    metadata,
    Column("ancestor_code", String(32), ForeignKey("units.code"), primary_key=True),
    Column("descendant_code", String(32), ForeignKey("units.code"), primary_key=True),
    Column("depth", Integer, nullable=False),
    Index("ix_unit_closure_descendant", "descendant_code", "ancestor_code"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("external_id", String(64), nullable=False, unique=True),
    Column("category", String(32), nullable=False),
    Column("subcategory", String(32)),
    Column("source", String(32), nullable=False),
    Column("reported_at", DateTime, nullable=False, index=True),
    Column("geom", Geometry("Point")),
    Column("grid_code", String(32), ForeignKey("units.code")),
    Column("status", String(16), nullable=False),
    Column("assigned_at", DateTime),
    Column("handled_at", DateTime),
    Column("responded_at", DateTime),
    Column("closed_at", DateTime),
    Column("deadline", DateTime),
    Column("returned_count", Integer, nullable=False, server_default="0"),
    Column("resolved_level", String(16)),
    Column("risk_level", String(8)),
    Column("satisfaction", String(8)),
    # How a dispute ended (化解成功 / 化解不成功 / 未化解): 化解率 counts 化解成功 only.
    Column("outcome", String(8)),
    Column("source_raw", String(64)),  # the feed's own word for the source (``source`` is its group)
    Column("department", String(64)),
    Column("description", Text),
    _timestamps(),
    Index("ix_cases_grid_reported", "grid_code", "reported_at"),
    Index("ix_cases_grid_open", "grid_code", "status", "deadline"),
    Index("ix_cases_reported_id", "reported_at", "id"),  # a case list's order: newest first, ties by id
)

# Open cases only (a small share of all): what "overdue now" and the alarms read.
_OPEN_CASE = literal_column("status IN (" + ", ".join(f"'{s}'" for s in vocab.OPEN_STATUSES) + ")")
Index("ix_cases_open_deadline", cases.c.grid_code, cases.c.deadline,
      sqlite_where=_OPEN_CASE, postgresql_where=_OPEN_CASE)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor", String(64)),
    Column("note", Text),
)

cameras = Table(
    "cameras",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("geom", Geometry("Point"), nullable=False),
    Column("heading", Float),
    Column("fov", Float),
    Column("range_m", Float),
    Column("status", String(16), nullable=False),
    Column("last_seen", DateTime),
    Column("owner", String(64)),
    Column("grid_code", String(32), ForeignKey("units.code"), index=True),
    Column("kind_raw", String(64)),  # the feed's own word (``kind`` is its group)
    _timestamps(),
)

key_places = Table(
    "key_places",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("geom", Geometry("Geometry"), nullable=False),
    Column("grid_code", String(32), ForeignKey("units.code"), index=True),
    Column("kind_raw", String(64)),  # the feed's own word (``kind`` is its group)
    _timestamps(),
)

survey_indicators = Table(
    "survey_indicators",
    metadata,
    Column("unit_code", String(32), ForeignKey("units.code"), primary_key=True),
    Column("indicator", String(32), primary_key=True),
    Column("period_start", DateTime, primary_key=True),
    Column("period_end", DateTime, nullable=False),
    Column("value", Float, nullable=False),
    Column("source", String(100)),
    _timestamps(),
)

# Facts about the data as a whole, by key: ``data_as_of`` (the moment an imported export was
# taken; overdue is counted as of it), ``live_since`` (the first live write after it).
store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text),
    _timestamps(),
)

# The grid workers' roster (专职/兼职网格员 and the 五员联动 roles), by the unit they serve.
grid_workers = Table(
    "grid_workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(64)),
    Column("role", String(16), nullable=False),  # the canonical group (dashboard.vocab.WORKER_ROLES)
    Column("role_raw", String(64)),
    Column("unit_code", String(32), ForeignKey("units.code"), nullable=False, index=True),
    _timestamps(),
)

# Sensitive topics held as counts per unit only (household risk assessments, special
# populations): an import aggregates its rows and never stores a household or a person.
sensitive_counts = Table(
    "sensitive_counts",
    metadata,
    Column("unit_code", String(32), ForeignKey("units.code"), primary_key=True),
    Column("topic", String(32), primary_key=True),  # household_risk | special_population
    Column("group_name", String(32), primary_key=True),  # 高风险户…, 留守儿童…
    Column("count", Integer, nullable=False),
    _timestamps(),
)

# Police cases (刑事 / 治安 with their 案由), from the police system; counted like cases.
police_cases = Table(
    "police_cases",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(8), nullable=False),  # 刑事 | 治安
    Column("cause", String(64)),  # 案由, the police system's own word
    Column("reported_at", DateTime, nullable=False),
    Column("geom", Geometry("Point")),
    Column("grid_code", String(32), ForeignKey("units.code")),
    _timestamps(),
    Index("ix_police_cases_grid_reported", "grid_code", "reported_at"),
)

# --- rollups (data/rollups.py keeps them equal to the cases; docs/ARCHITECTURE.md) --------------

# The units whose cases are rolled up: every unit above the grids (data/rollups.py MIN_DEPTH).
# Rebuilt with the unit closure.
rollup_units = Table(
    "rollup_units",
    metadata,
    Column("code", String(32), primary_key=True),
)

ROLLUP_COUNTS = (
    "accepted", "closed", "disputes", "disputes_resolved", "on_time", "revisited", "satisfied",
    "resolved", "resolved_local", "incidents",
)


def _rollup_counts() -> list[Column]:
    """A count column per ROLLUP_COUNTS name (new Column objects: each table needs its own)."""
    return [Column(name, Integer, nullable=False, server_default="0") for name in ROLLUP_COUNTS]

# Per rolled-up unit, day, category and source: the sums of every count of data.queries.CASE_COUNTS
# (a count column each; data/rollups.py adds them from the same expressions the raw path uses).
# What filtered questions read.
case_rollup = Table(
    "case_rollup",
    metadata,
    Column("unit_code", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("category", String(32), primary_key=True),
    Column("source", String(32), primary_key=True),
    *_rollup_counts(),
)

# The same per unit and day, all categories and sources together: what unfiltered questions (the
# wall screens, the first look) read, some forty times fewer rows.
case_rollup_day = Table(
    "case_rollup_day",
    metadata,
    Column("unit_code", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
    *_rollup_counts(),
)

# The same per unit and calendar month (``month``: its first day) for EVERY unit, grids included:
# what a ranking of every grid (or community) of a city reads, a row per unit and month instead of
# every case; the days at a period's edges come from case_rollup_day, or from the cases at grids.
case_rollup_month = Table(
    "case_rollup_month",
    metadata,
    Column("unit_code", String(32), primary_key=True),
    Column("month", Date, primary_key=True),
    *_rollup_counts(),
    Index("ix_case_rollup_month_month", "month"),  # a month of every grid of a city
)

# The same per unit and calendar year (``year``: 1 January): a year to date is one row per grid (and
# the months after it, not yet there, none).
case_rollup_year = Table(
    "case_rollup_year",
    metadata,
    Column("unit_code", String(32), primary_key=True),
    Column("year", Date, primary_key=True),
    *_rollup_counts(),
)

# What the rollups were built with (``signature``: a hash of their definition); a store whose
# signature differs from the code's is rebuilt (embedded) or answered from raw cases (PostGIS,
# until a migration rebuilds it).
rollup_state = Table(
    "rollup_state",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)

# Camera coverage kept per leaf unit (grid) and metric CRS (data/grid_coverage.py): its area, the
# part in view of an online camera, and the same for the area within reach of a key place. A unit
# above the grids sums its grids. ``signature`` is a digest of what the row was measured from (the
# grid's shape, the online cameras whose views touch it, the key places near it): only rows whose
# signature changed are measured again.
grid_coverage = Table(
    "grid_coverage",
    metadata,
    Column("epsg", Integer, primary_key=True),
    Column("code", String(32), primary_key=True),
    Column("signature", String(40), nullable=False),
    Column("area_m2", Float, nullable=False),
    Column("covered_m2", Float, nullable=False),
    Column("people_m2", Float, nullable=False),
    Column("people_covered_m2", Float, nullable=False),
)

# Per metric CRS: the token of the cameras, units and key places ``grid_coverage`` was last brought
# up to date with (data/grid_coverage.py ``inputs_token``).
coverage_state = Table(
    "coverage_state",
    metadata,
    Column("epsg", Integer, primary_key=True),
    Column("inputs", Text, nullable=False),
)

# Tables with a geometry column, registered as GeoPackage feature layers in the embedded store.
FEATURE_TABLES = {
    "units": "MULTIPOLYGON",
    "cases": "POINT",
    "cameras": "POINT",
    "key_places": "GEOMETRY",
    "police_cases": "POINT",
}

# --- who is looking (see data/access.py) --------------------------------------------------------
# No foreign key to ``units``: a demo city regenerated or units re-imported must not be blocked by
# the people scoped to them; the command line checks the unit when a person or token is added.

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("unit_code", String(32), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime, nullable=False, server_default=func.now()),
    Column("password_changed_at", DateTime, nullable=False, server_default=func.now()),
)

# Machine tokens: only a SHA-256 of the token is stored (tokens are 256 random bits).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("unit_code", String(32), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime),
)

# Append-only: nothing in the app updates or deletes a row; triggers refuse it in both stores.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("actor", String(80)),
    Column("address", String(64)),
    Column("action", String(32), nullable=False),
    Column("unit_code", String(32)),
    Column("object", Text),
    Column("result", String(16), nullable=False),
    Index("ix_audit_log_action_at", "action", "at"),
)

APPEND_ONLY_SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]

# Rows written before a column existed keep the meaning they had: before ``outcome``, a closed
# dispute counted as resolved (化解). The embedded store runs these when it adds the column; the
# PostGIS revision that adds it runs the same statement.
LEGACY_BACKFILL = {
    ("cases", "outcome"): "UPDATE cases SET outcome = '化解成功' "
                          "WHERE category = '矛盾纠纷' AND status = '核查办结' AND outcome IS NULL",
}
