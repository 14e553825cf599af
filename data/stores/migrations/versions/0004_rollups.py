"""Rollups (case_rollup, case_rollup_day, rollup_units, rollup_state) with their triggers, and a
partial index on
open cases.

Revision ID: 0004_rollups
Revises: 0003_seed
Create Date: 2026-11-27

- ``case_rollup``: per rolled-up unit, day, category and source, the sums of the case counts
  (see data/rollups.py), and ``case_rollup_day`` the same per unit and day only;
  ``rollup_units``: which units are rolled up; ``rollup_state``: the
  signature of the definition the rows were built with.
- ``citybrain_rollup_*``: statement-level triggers on ``cases`` (insert, update, delete, truncate)
  that keep ``case_rollup`` equal to the cases whoever writes them; created, and the rows built
  from the stored cases, by ``data.rollups.ensure``. A later change of a count needs a new revision
  that adds its column and calls ``ensure`` again.
- with ``CITYBRAIN_CITUS`` on (a Citus coordinator): reference and distributed tables, see
  data/stores/citus.py; off (the default), nothing of Citus runs.
- ``ix_cases_open_deadline``: (grid_code, deadline) of open cases only, for "overdue now" and the
  alarms.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_rollups"
down_revision: str | Sequence[str] | None = "0003_seed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTS = ("accepted", "closed", "disputes", "disputes_resolved", "on_time", "revisited", "satisfied",
          "resolved", "resolved_local", "incidents")
OPEN_STATUSES = ("受理", "指派", "处置", "反馈")


def upgrade() -> None:
    op.create_table(
        "rollup_units",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "case_rollup",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("unit_code", "day", "category", "source"),
    )
    op.create_table(
        "case_rollup_day",
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in COUNTS),
        sa.PrimaryKeyConstraint("unit_code", "day"),
    )
    op.create_table(
        "rollup_state",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    where = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"
    op.create_index("ix_cases_open_deadline", "cases", ["grid_code", "deadline"], unique=False,
                    postgresql_where=sa.text(where))

    from data import rollups
    from data.stores import citus

    rollups.ensure(op.get_bind())
    citus.distribute(op.get_bind())  # only with CITYBRAIN_CITUS on (README "Past one machine")


def downgrade() -> None:
    for name in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS citybrain_rollup_{name} ON cases")
        op.execute(f"DROP FUNCTION IF EXISTS citybrain_rollup_{name}()")
    op.drop_index("ix_cases_open_deadline", table_name="cases")
    op.drop_table("rollup_state")
    op.drop_table("case_rollup_day")
    op.drop_table("case_rollup")
    op.drop_table("rollup_units")
