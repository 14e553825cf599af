"""Monthly and yearly rollups for every unit, and the case list's time-order index.

Revision ID: 0005_rollup_month
Revises: 0004_rollups
Create Date: 2026-11-27

- ``case_rollup_month`` and ``case_rollup_year``: per unit (every unit, grids included) and
  month, and per unit and year, the sums of the case counts (see data/rollups.py): a ranking of
  every grid of a city reads a row or two per grid.
  Kept by the same ``citybrain_rollup_*`` triggers as the daily rollups; ``data.rollups.ensure``
  re-creates them and rebuilds every rollup from the stored cases (the definition changed).
- ``ix_cases_reported_id``: (reported_at, id), the order of a case list (newest first, ties by
  id): a page of the city's cases reads fifty index entries, not a period's cases.
- with ``CITYBRAIN_CITUS`` on: both distributed by unit, co-located with
  ``case_rollup`` (data/stores/citus.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_rollup_month"
down_revision: str | Sequence[str] | None = "0004_rollups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("accepted", "closed", "disputes", "disputes_resolved", "on_time", "revisited", "satisfied",
          "resolved", "resolved_local", "incidents")


def upgrade() -> None:
    op.create_table(
        "case_rollup_month",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("unit_code", "month"),
    )
    op.create_index("ix_case_rollup_month_month", "case_rollup_month", ["month"], unique=False)
    op.create_table(
        "case_rollup_year",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("unit_code", "year"),
    )
    op.create_index("ix_cases_reported_id", "cases", ["reported_at", "id"], unique=False)

    from data import rollups
    from data.stores import citus

    citus.distribute(op.get_bind(), revision=revision)  # only with CITYBRAIN_CITUS on
    rollups.ensure(op.get_bind())


def downgrade() -> None:
    # The triggers name the new tables: they go, and the stored signature with them, so every
    # answer comes from the raw cases (slower, never wrong) until an upgrade rebuilds the rollups.
    for name in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS citybrain_rollup_{name} ON cases")
        op.execute(f"DROP FUNCTION IF EXISTS citybrain_rollup_{name}()")
    op.execute("DELETE FROM rollup_state WHERE key = 'signature'")
    op.drop_index("ix_cases_reported_id", table_name="cases")
    op.drop_table("case_rollup_year")
    op.drop_table("case_rollup_month")
