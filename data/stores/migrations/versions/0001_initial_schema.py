"""The initial schema: the tables of data/schema.py, GiST indexes, grid assignment for other writers.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Besides the tables this creates:

- the ``postgis`` extension, if missing;
- a GiST index on every geometry column (``gist_<table>_geom``);
- ``citybrain_assign_grid()``, a BEFORE INSERT OR UPDATE trigger on ``cases``, ``cameras`` and
  ``key_places``. Rows written by other programs with a point and no grid code get the grid that
  contains the point (the leaf unit intersecting it, the lowest code where leaves overlap: the
  rule of ``geo.assign.assign_points``); a row whose point moves while its grid code stays is
  assigned again. Every inserted or updated row gets ``updated_at = now()``, so the dashboard's
  data version sees writes it did not make.

Frozen: later changes to data/schema.py need a new revision, not an edit here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SRID = 4326
GEOMETRY_TABLES = ("units", "cases", "cameras", "key_places")
ASSIGNED_TABLES = ("cases", "cameras", "key_places")


class _Geometry(sa.types.UserDefinedType):
    cache_ok = True

    def __init__(self, geometry_type: str):
        self.geometry_type = geometry_type

    def get_col_spec(self, **kw):
        return f"geometry({self.geometry_type}, {SRID})"


def _updated_at():
    return sa.Column("updated_at", sa.DateTime(), server_default=sa.text("now()"), nullable=False)


ASSIGN_GRID_FUNCTION = """
CREATE FUNCTION citybrain_assign_grid() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
    IF NEW.geom IS NOT NULL AND (
        NEW.grid_code IS NULL
        OR (TG_OP = 'UPDATE' AND NEW.grid_code IS NOT DISTINCT FROM OLD.grid_code
            AND NEW.geom IS DISTINCT FROM OLD.geom)
    ) THEN
        NEW.grid_code := (
            SELECT u.code FROM units u
            WHERE ST_Intersects(u.geom, NEW.geom)
              AND NOT EXISTS (SELECT 1 FROM units c WHERE c.parent_code = u.code)
            ORDER BY u.code
            LIMIT 1
        );
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "units",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("area_km2", sa.Float(), nullable=True),
        sa.Column("staff_full", sa.Integer(), nullable=True),
        sa.Column("staff_part", sa.Integer(), nullable=True),
        sa.Column("geom", _Geometry("MultiPolygon"), nullable=True),
        _updated_at(),
        sa.ForeignKeyConstraint(["parent_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index(op.f("ix_units_parent_code"), "units", ["parent_code"], unique=False)
    op.create_index(op.f("ix_units_updated_at"), "units", ["updated_at"], unique=False)

    op.create_table(
        "cameras",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("geom", _Geometry("Point"), nullable=False),
        sa.Column("heading", sa.Float(), nullable=True),
        sa.Column("fov", sa.Float(), nullable=True),
        sa.Column("range_m", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=True),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        _updated_at(),
        sa.ForeignKeyConstraint(["grid_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_cameras_grid_code"), "cameras", ["grid_code"], unique=False)
    op.create_index(op.f("ix_cameras_updated_at"), "cameras", ["updated_at"], unique=False)

    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("subcategory", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("geom", _Geometry("Point"), nullable=True),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("responded_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("returned_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("resolved_level", sa.String(length=16), nullable=True),
        sa.Column("risk_level", sa.String(length=8), nullable=True),
        sa.Column("satisfaction", sa.String(length=8), nullable=True),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        _updated_at(),
        sa.ForeignKeyConstraint(["grid_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    op.create_index("ix_cases_grid_open", "cases", ["grid_code", "status", "deadline"], unique=False)
    op.create_index("ix_cases_grid_reported", "cases", ["grid_code", "reported_at"], unique=False)
    op.create_index(op.f("ix_cases_reported_at"), "cases", ["reported_at"], unique=False)
    op.create_index(op.f("ix_cases_updated_at"), "cases", ["updated_at"], unique=False)

    op.create_table(
        "key_places",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("geom", _Geometry("Geometry"), nullable=False),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        _updated_at(),
        sa.ForeignKeyConstraint(["grid_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_key_places_grid_code"), "key_places", ["grid_code"], unique=False)
    op.create_index(op.f("ix_key_places_updated_at"), "key_places", ["updated_at"], unique=False)

    op.create_table(
        "survey_indicators",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("unit_code", "indicator", "period_start"),
    )

    op.create_table(
        "unit_closure",
        sa.Column("ancestor_code", sa.String(length=32), nullable=False),
        sa.Column("descendant_code", sa.String(length=32), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ancestor_code"], ["units.code"]),
        sa.ForeignKeyConstraint(["descendant_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("ancestor_code", "descendant_code"),
    )
    op.create_index("ix_unit_closure_descendant", "unit_closure", ["descendant_code", "ancestor_code"],
                    unique=False)

    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_case_events_case_id"), "case_events", ["case_id"], unique=False)

    for table in GEOMETRY_TABLES:
        op.create_index(f"gist_{table}_geom", table, ["geom"], postgresql_using="gist")

    op.execute(ASSIGN_GRID_FUNCTION)
    for table in ASSIGNED_TABLES:
        op.execute(f"CREATE TRIGGER {table}_assign_grid BEFORE INSERT OR UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION citybrain_assign_grid()")


def downgrade() -> None:
    for table in ASSIGNED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_assign_grid ON {table}")
    op.execute("DROP FUNCTION IF EXISTS citybrain_assign_grid()")
    for table in ("case_events", "unit_closure", "survey_indicators", "key_places", "cases", "cameras",
                  "units"):
        op.drop_table(table)
    # The postgis extension stays: other schemas in the database may use it.
