"""Camera coverage kept per grid: ``grid_coverage`` and ``coverage_state``.

Revision ID: 0006_coverage
Revises: 0005_rollup_month
Create Date: 2026-11-27

- ``grid_coverage``: per metric CRS and leaf unit (grid), its area, the part in view of an online
  camera, the same within reach of a key place, and the signature of what it was measured from;
- ``coverage_state``: per metric CRS, the token of the cameras, units and key places the rows were
  last brought up to date with.

Both are filled on first use by ``data.grid_coverage.refresh`` (measured in the unit's UTM zone),
and only the grids whose cameras, shape or key places changed are measured again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_coverage"
down_revision: str | Sequence[str] | None = "0005_rollup_month"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grid_coverage",
        sa.Column("epsg", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.String(length=40), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("covered_m2", sa.Float(), nullable=False),
        sa.Column("people_m2", sa.Float(), nullable=False),
        sa.Column("people_covered_m2", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("epsg", "code"),
    )
    op.create_table(
        "coverage_state",
        sa.Column("epsg", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("epsg"),
    )


def downgrade() -> None:
    op.drop_table("coverage_state")
    op.drop_table("grid_coverage")
