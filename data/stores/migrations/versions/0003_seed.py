"""Seed-true numbers and the data the seeds talk about (issue 11).

Revision ID: 0003_seed
Revises: 0002_auth
Create Date: 2026-11-27

- ``cases.outcome`` (化解成功 / 化解不成功 / 未化解: 化解率 counts 化解成功 only) and
  ``cases.source_raw``; ``cameras.kind_raw`` and ``key_places.kind_raw`` (the feed's own words,
  kept beside their canonical group);
- ``units.kind`` (村 / 社区 …), ``units.houses`` and ``units.buildings`` (人房楼);
- ``survey_indicators.updated_at``; the tables ``store_meta``, ``grid_workers``,
  ``sensitive_counts`` (counts per unit only) and ``police_cases``;
- ``citybrain_assign_grid()`` replaced: a point outside every grid gets the lowest unit whose
  polygon contains it (deepest first, then the lowest code), the rule of
  ``Store.assign_grids`` on both stores; the trigger also runs on ``police_cases``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_seed"
down_revision: str | Sequence[str] | None = "0002_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SRID = 4326


class _Geometry(sa.types.UserDefinedType):
    cache_ok = True

    def __init__(self, geometry_type: str):
        self.geometry_type = geometry_type

    def get_col_spec(self, **kw):
        return f"geometry({self.geometry_type}, {SRID})"


def _updated_at():
    return sa.Column("updated_at", sa.DateTime(), server_default=sa.text("now()"), nullable=False)


# Leaves first (the lowest code where leaves overlap), then, for a point outside every leaf, the
# deepest unit containing it (the lowest code among equals).
ASSIGN_GRID_FUNCTION = """
CREATE OR REPLACE FUNCTION citybrain_assign_grid() RETURNS trigger
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
            ORDER BY EXISTS (SELECT 1 FROM units c WHERE c.parent_code = u.code),
                     (SELECT count(*) FROM unit_closure a WHERE a.descendant_code = u.code) DESC,
                     u.code
            LIMIT 1
        );
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$
"""

OLD_ASSIGN_GRID_FUNCTION = """
CREATE OR REPLACE FUNCTION citybrain_assign_grid() RETURNS trigger
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
    op.add_column("units", sa.Column("kind", sa.String(length=16), nullable=True))
    op.add_column("units", sa.Column("houses", sa.Integer(), nullable=True))
    op.add_column("units", sa.Column("buildings", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("outcome", sa.String(length=8), nullable=True))
    # Rows from before the column keep their meaning: a closed dispute counted as resolved.
    op.execute("UPDATE cases SET outcome = '化解成功' "
               "WHERE category = '矛盾纠纷' AND status = '核查办结' AND outcome IS NULL")
    op.add_column("cases", sa.Column("source_raw", sa.String(length=64), nullable=True))
    op.add_column("cameras", sa.Column("kind_raw", sa.String(length=64), nullable=True))
    op.add_column("key_places", sa.Column("kind_raw", sa.String(length=64), nullable=True))
    op.add_column("survey_indicators", _updated_at())
    op.create_index(op.f("ix_survey_indicators_updated_at"), "survey_indicators", ["updated_at"],
                    unique=False)

    op.create_table(
        "store_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        _updated_at(),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_store_meta_updated_at"), "store_meta", ["updated_at"], unique=False)

    op.create_table(
        "grid_workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("role_raw", sa.String(length=64), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        _updated_at(),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_grid_workers_unit_code"), "grid_workers", ["unit_code"], unique=False)
    op.create_index(op.f("ix_grid_workers_updated_at"), "grid_workers", ["updated_at"], unique=False)

    op.create_table(
        "sensitive_counts",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("group_name", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _updated_at(),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("unit_code", "topic", "group_name"),
    )
    op.create_index(op.f("ix_sensitive_counts_updated_at"), "sensitive_counts", ["updated_at"],
                    unique=False)

    op.create_table(
        "police_cases",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("cause", sa.String(length=64), nullable=True),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("geom", _Geometry("Point"), nullable=True),
        sa.Column("grid_code", sa.String(length=32), nullable=True),
        _updated_at(),
        sa.ForeignKeyConstraint(["grid_code"], ["units.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_police_cases_grid_reported", "police_cases", ["grid_code", "reported_at"],
                    unique=False)
    op.create_index(op.f("ix_police_cases_updated_at"), "police_cases", ["updated_at"], unique=False)
    op.create_index("gist_police_cases_geom", "police_cases", ["geom"], postgresql_using="gist")

    op.execute(ASSIGN_GRID_FUNCTION)
    op.execute("CREATE TRIGGER police_cases_assign_grid BEFORE INSERT OR UPDATE ON police_cases "
               "FOR EACH ROW EXECUTE FUNCTION citybrain_assign_grid()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS police_cases_assign_grid ON police_cases")
    op.execute(OLD_ASSIGN_GRID_FUNCTION)
    for table in ("police_cases", "sensitive_counts", "grid_workers", "store_meta"):
        op.drop_table(table)
    op.drop_index(op.f("ix_survey_indicators_updated_at"), table_name="survey_indicators")
    op.drop_column("survey_indicators", "updated_at")
    op.drop_column("key_places", "kind_raw")
    op.drop_column("cameras", "kind_raw")
    op.drop_column("cases", "source_raw")
    op.drop_column("cases", "outcome")
    for column in ("buildings", "houses", "kind"):
        op.drop_column("units", column)
