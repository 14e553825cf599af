"""Rollups: per unit, day, category and source, the sums of every case count, kept equal to the cases.

``case_rollup`` holds, for each unit in ``rollup_units`` (every unit above the grids),
each day, category and source, the sum of every count in :data:`CASE_COUNTS` over the cases
reported that day in that unit (``case_rollup_day`` the same per unit and day). A city-year answer
then reads a few tens of thousands of rows, not every case. ``case_rollup_month`` and
``case_rollup_year`` hold the same per unit and month, and per unit and year, for every unit,
grids included: a ranking of every grid of a city over a year reads a row or two per grid, and
the edge days of its period from ``case_rollup_day`` (above the grids) or the cases
(:func:`data.queries.level_counts`). Both stores keep them equal to the cases with triggers, so
other programs writing cases directly (INSERT, UPDATE, DELETE, COPY) cannot make them drift:

- PostGIS: statement-level triggers with transition tables (one ``INSERT … SELECT … GROUP BY`` per
  statement however many rows it wrote, so a bulk COPY pays one aggregate, not a call per row);
- the embedded store: row triggers (SQLite has no statement triggers); an update subtracts the
  old row before it is written and adds the new one after.

The count expressions are the ones the raw path uses (:func:`data.queries.case_count_columns`), so the two
cannot disagree. Counts that cannot be summed over days ("overdue now", the camera counts) are not
here: ``data.queries`` answers them from a partial index on open cases and from ``cameras``.

Changing a count (a new column, a new formula) changes the definition's :func:`signature`. The
embedded store rebuilds on open; on PostGIS add an Alembic revision that adds any new column and
calls :func:`ensure` (which re-creates the triggers and rebuilds). Until then ``usable`` is false
and every answer comes from the raw cases: slower, never wrong.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time

from sqlalchemy import column, func, inspect, literal_column, select, table
from sqlalchemy.engine import Connection

from data import queries
from data.schema import (
    ROLLUP_COUNTS,
    case_rollup,
    case_rollup_day,
    case_rollup_month,
    case_rollup_year,
    cases,
    rollup_state,
    rollup_units,
    unit_closure,
    units,
)
from data.sqlfuncs import date_of, month_of, year_of

CASE_COUNTS = ROLLUP_COUNTS
assert CASE_COUNTS == queries.CASE_COUNTS, "data/schema.py ROLLUP_COUNTS must follow queries.CASE_COUNTS"
# The intervention limit the rollups' ``on_time`` uses (the default of
# CITYBRAIN_INTERVENTION_MINUTES); another limit is answered from the raw cases, and so is another
# choice of incident categories.
INTERVENTION_SECONDS = queries.ROLLUP_INTERVENTION_SECONDS
KEY = ("unit_code", "day", "category", "source")
# A unit is rolled up when it has no grid closer than this many steps down: every unit above the
# grids (a street's click reads its communities' rows; a grid's own cases are read directly).
MIN_DEPTH = 1
# Each rollup table, its key columns, its time grain (``day`` or ``month``) and whether it holds
# every unit (grids included) or only those of ``rollup_units``.
TABLES = (
    (case_rollup, KEY, "day", False),
    (case_rollup_day, ("unit_code", "day"), "day", False),
    (case_rollup_month, ("unit_code", "month"), "month", True),
    (case_rollup_year, ("unit_code", "year"), "year", True),
)

_TRIGGER_COLUMNS = ("grid_code", "reported_at", "category", "source", "status", "outcome",
                    "assigned_at", "handled_at", "satisfaction", "resolved_level")


def _delta(src, sign: int, *where, detail: bool = True, grain: str = "day", every_unit: bool = False):
    """The rollup rows (with ``sign``) of the case rows in ``src`` that pass ``where``: per unit,
    day (or month: ``grain``), category and source (``detail``) or per unit and day; for the units
    of ``rollup_units``, or for every unit (``every_unit``)."""
    counts = queries.case_count_columns(INTERVENTION_SECONDS, queries.INCIDENT_CATEGORIES, src.c)
    if sign != 1:
        counts = [(col.element * sign).label(col.name) for col in counts]
    when = {"day": date_of, "month": month_of, "year": year_of}[grain](src.c.reported_at)
    keys = [unit_closure.c.ancestor_code, when] + ([src.c.category, src.c.source] if detail else [])
    query = (select(*keys, *counts).select_from(src)
             .join(unit_closure, unit_closure.c.descendant_code == src.c.grid_code))
    if not every_unit:
        query = query.join(rollup_units, rollup_units.c.code == unit_closure.c.ancestor_code)
    return (
        query.where(src.c.grid_code.isnot(None), *where)
        .group_by(*keys)
        .order_by(*keys)  # one lock order for every writer: concurrent writers do not deadlock
    )


def _target_delta(target, src, sign: int, *where):
    """:func:`_delta` for one of :data:`TABLES`."""
    _, keys, grain, every_unit = next(t for t in TABLES if t[0] is target)
    return _delta(src, sign, *where, detail=len(keys) == len(KEY), grain=grain, every_unit=every_unit)


def _insert(dialect: str, target):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(target)


def _upsert_one(dialect, target, keys, src, sign: int, *where) -> str:
    delta = _target_delta(target, src, sign, *where)
    stmt = _insert(dialect.name, target).from_select(list(keys + CASE_COUNTS), delta)
    stmt = stmt.on_conflict_do_update(
        index_elements=[target.c[k] for k in keys],
        set_={n: target.c[n] + stmt.excluded[n] for n in CASE_COUNTS},
    )
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _upsert_sql(dialect, src, sign: int, *where) -> str:
    """The statements that add (``sign`` 1) or take away (-1) the ``src`` rows in every rollup."""
    return ";\n  ".join(_upsert_one(dialect, target, keys, src, sign, *where)
                        for target, keys, *_ in TABLES)


def _transition(name: str):
    return table(name, *(column(c.name, c.type) for c in cases.c if c.name != "geom"))


def _pg_ddl(dialect) -> list[str]:
    new, old = _transition("new_rows"), _transition("old_rows")
    bodies = {
        "insert": ("INSERT", "NEW TABLE AS new_rows", [_upsert_sql(dialect, new, 1)]),
        "update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                   [_upsert_sql(dialect, old, -1), _upsert_sql(dialect, new, 1)]),
        "delete": ("DELETE", "OLD TABLE AS old_rows", [_upsert_sql(dialect, old, -1)]),
    }
    ddl = []
    for name, (event, referencing, statements) in bodies.items():
        fn = f"citybrain_rollup_{name}"
        body = ";\n  ".join(statements)
        ddl += [
            f"CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
            f"BEGIN\n  {body};\n  RETURN NULL;\nEND\n$f$",
            f"DROP TRIGGER IF EXISTS {fn} ON cases",
            f"CREATE TRIGGER {fn} AFTER {event} ON cases REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()",
        ]
    ddl += [
        "CREATE OR REPLACE FUNCTION citybrain_rollup_truncate() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
        "BEGIN\n  " + "".join(f"DELETE FROM {t.name};\n  " for t, *_ in TABLES) + "RETURN NULL;\nEND\n$f$",
        "DROP TRIGGER IF EXISTS citybrain_rollup_truncate ON cases",
        "CREATE TRIGGER citybrain_rollup_truncate AFTER TRUNCATE ON cases "
        "FOR EACH STATEMENT EXECUTE FUNCTION citybrain_rollup_truncate()",
    ]
    return ddl


def _sqlite_ddl(dialect) -> list[str]:
    of = ", ".join(_TRIGGER_COLUMNS)
    specs = {
        "insert": ("AFTER INSERT", "NEW", 1),
        "update_old": (f"BEFORE UPDATE OF {of}", "OLD", -1),
        "update_new": (f"AFTER UPDATE OF {of}", "NEW", 1),
        "delete": ("BEFORE DELETE", "OLD", -1),
    }
    ddl = []
    for name, (when, row, sign) in specs.items():
        trigger = f"citybrain_rollup_{name}"
        body = _upsert_sql(dialect, cases, sign, cases.c.id == literal_column(f"{row}.id"))
        ddl += [f"DROP TRIGGER IF EXISTS {trigger}",
                f"CREATE TRIGGER {trigger} {when} ON cases FOR EACH ROW BEGIN\n  {body};\nEND"]
    return ddl


class bulk_insert:
    """``with bulk_insert(conn, frame_ids):`` around a bulk insert of cases into the embedded
    store: the row trigger is off inside, and the new rows are added in one statement on leaving
    (in the same transaction, so no reader sees them apart). ``ids``: the ids the rows bring,
    or None when the store numbers them (then they are those above the highest id before)."""

    def __init__(self, conn: Connection, ids=None):
        self.conn, self.ids = conn, ids

    def __enter__(self):
        self.active = self.conn.dialect.name == "sqlite" and usable(self.conn)
        if self.active:
            self.before = self.conn.execute(select(func.coalesce(func.max(cases.c.id), 0))).scalar()
            self.conn.exec_driver_sql("DROP TRIGGER IF EXISTS citybrain_rollup_insert")
        return self

    def __exit__(self, kind, *_):
        if not self.active or kind is not None:
            return
        if self.ids is None:
            where = cases.c.id > self.before
        else:
            self.conn.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS _rollup_ids (id INTEGER PRIMARY KEY)")
            self.conn.exec_driver_sql("DELETE FROM _rollup_ids")
            self.conn.exec_driver_sql("INSERT OR IGNORE INTO _rollup_ids VALUES (?)",
                                      [(int(i),) for i in self.ids])
            where = cases.c.id.in_(select(literal_column("id")).select_from(table("_rollup_ids")))
        for target, keys, *_ in TABLES:
            self.conn.exec_driver_sql(_upsert_one(self.conn.dialect, target, keys, cases, 1, where))
        ddl = _definition(self.conn.dialect)[0]
        trigger = "CREATE TRIGGER citybrain_rollup_insert "
        self.conn.exec_driver_sql(next(d for d in ddl if d.startswith(trigger)))


_CACHE: dict[str, tuple[list[str], str]] = {}


def _definition(dialect) -> tuple[list[str], str]:
    """The trigger DDL for the dialect and the signature of the whole definition."""
    if dialect.name not in _CACHE:
        ddl = _pg_ddl(dialect) if dialect.name == "postgresql" else _sqlite_ddl(dialect)
        rebuild = "\n".join(str(_target_delta(t, cases, 1).compile(
            dialect=dialect, compile_kwargs={"literal_binds": True})) for t, *_ in TABLES)
        rebuild += ",".join(str(t.c) for t, *_ in TABLES) + f"; min depth {MIN_DEPTH}"
        digest = hashlib.sha1("\n".join([*ddl, rebuild]).encode()).hexdigest()[:16]
        _CACHE[dialect.name] = (ddl, digest)
    return _CACHE[dialect.name]


def signature(conn: Connection) -> str:
    return _definition(conn.dialect)[1]


def stored_signature(conn: Connection) -> str | None:
    return conn.execute(select(rollup_state.c.value).where(rollup_state.c.key == "signature")).scalar()


def usable(conn: Connection) -> bool:
    """The stored rollups were built by this definition (else answer from the raw cases)."""
    return stored_signature(conn) == signature(conn)


def ensure(conn: Connection) -> bool:
    """Install the triggers and rebuild when the stored definition differs; whether it did.

    Runs in the caller's transaction (a migration's, or the embedded store's create_schema).
    Does nothing while a rollup table is missing: an earlier revision runs with this code before
    the revision that adds the table, which calls it again.
    """
    if usable(conn):
        return False
    if not all(inspect(conn).has_table(target.name) for target, *_ in TABLES):
        return False
    ddl, digest = _definition(conn.dialect)
    for statement in ddl:
        conn.exec_driver_sql(statement)
    rebuild(conn)
    conn.execute(rollup_state.delete().where(rollup_state.c.key == "signature"))
    conn.execute(rollup_state.insert().values(key="signature", value=digest))
    return True


def rebuild(conn: Connection) -> None:
    """Recompute which units are rolled up and all their rows from the cases (after the unit
    closure changed, or a new definition)."""
    leaves = select(units.c.code).where(units.c.code.not_in(
        select(units.c.parent_code).where(units.c.parent_code.isnot(None))))
    rolled = (
        select(unit_closure.c.ancestor_code)
        .where(unit_closure.c.descendant_code.in_(leaves))
        .group_by(unit_closure.c.ancestor_code)
        .having(func.min(unit_closure.c.depth) >= MIN_DEPTH)
    )
    for target, *_ in TABLES:
        conn.execute(target.delete())
    conn.execute(rollup_units.delete())
    conn.execute(rollup_units.insert().from_select(["code"], rolled))
    for target, keys, *_ in TABLES:
        delta = _target_delta(target, cases, 1)
        conn.execute(target.insert().from_select(list(keys + CASE_COUNTS), delta))
    if conn.dialect.name == "postgresql":
        for name in [t.name for t, *_ in TABLES] + ["rollup_units"]:
            conn.exec_driver_sql(f"ANALYZE {name}")


def whole_days(start: datetime, end: datetime) -> bool:
    """Whether a period starts and ends at midnight (the rollups hold whole days)."""
    return start.time() == time(0) and end.time() == time(0)


def rolled_codes(conn: Connection) -> frozenset[str]:
    """The units the rollups answer for (none when they were built by another definition); one
    statement."""
    stored = select(rollup_state.c.value).where(rollup_state.c.key == "signature").scalar_subquery()
    return frozenset(conn.execute(select(rollup_units.c.code).where(stored == signature(conn))).scalars())


def covered(conn: Connection, codes, start: datetime, end: datetime, intervention_seconds: int,
            rolled: frozenset[str] | None = None) -> bool:
    """Whether the rollups answer the period counts of every unit in ``codes``; ``rolled``: what
    :func:`rolled_codes` answered, when the caller keeps it (else asked here, one round trip)."""
    if intervention_seconds != INTERVENTION_SECONDS or not whole_days(start, end) or not codes:
        return False
    if rolled is not None:
        return all(code in rolled for code in codes)
    stored = select(rollup_state.c.value).where(rollup_state.c.key == "signature").scalar_subquery()
    found = (select(func.count()).select_from(rollup_units)
             .where(rollup_units.c.code.in_(list(codes))).scalar_subquery())
    row = conn.execute(select(stored, found)).one()  # one round trip
    return row[0] == signature(conn) and row[1] == len(set(codes))
