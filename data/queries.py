"""Aggregates for any unit at any depth, written once in SQLAlchemy Core for both stores.

Every case carries its grid code; ``unit_closure`` maps a grid to each of its ancestors, so
"cases in unit U" is a join and "per child of U" is a ``GROUP BY`` over the same join. The counts
named here are what ``dashboard.indicators`` divides.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.engine import Connection

from dashboard import vocab
from dashboard.viewstate import Filters
from data.schema import cameras, cases, unit_closure, units
from data.sqlfuncs import day_of, seconds_between

CASE_COUNTS = (
    "accepted", "closed", "disputes", "disputes_resolved", "on_time",
    "revisited", "satisfied", "resolved", "resolved_local",
)
ALL_COUNTS = CASE_COUNTS + ("overdue", "cameras", "cameras_online", "population")

_UNIT_COLUMNS = (
    units.c.code, units.c.name, units.c.level, units.c.parent_code,
    units.c.population, units.c.households, units.c.area_km2,
)


# --- the hierarchy -------------------------------------------------------------------------------


def unit(conn: Connection, code: str) -> dict | None:
    row = conn.execute(select(*_UNIT_COLUMNS).where(units.c.code == code)).mappings().first()
    return dict(row) if row else None


def roots(conn: Connection) -> list[dict]:
    query = select(*_UNIT_COLUMNS).where(units.c.parent_code.is_(None)).order_by(units.c.code)
    return [dict(r) for r in conn.execute(query).mappings()]


def ancestors(conn: Connection, code: str) -> list[dict]:
    """The chain from the root down to ``code`` itself."""
    query = (
        select(*_UNIT_COLUMNS)
        .join(unit_closure, unit_closure.c.ancestor_code == units.c.code)
        .where(unit_closure.c.descendant_code == code)
        .order_by(unit_closure.c.depth.desc())
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def children(conn: Connection, code: str) -> list[dict]:
    query = select(*_UNIT_COLUMNS).where(units.c.parent_code == code).order_by(units.c.code)
    return [dict(r) for r in conn.execute(query).mappings()]


# --- aggregates ----------------------------------------------------------------------------------


def _count_if(condition, label):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).label(label)


def _case_count_columns(intervention_seconds: int):
    c = cases.c
    closed = c.status == vocab.CLOSED
    first_action = func.coalesce(c.assigned_at, c.handled_at)
    return [
        func.count(c.id).label("accepted"),
        _count_if(closed, "closed"),
        _count_if(c.category == vocab.DISPUTE, "disputes"),
        _count_if(and_(c.category == vocab.DISPUTE, closed), "disputes_resolved"),
        _count_if(seconds_between(c.reported_at, first_action) <= intervention_seconds, "on_time"),
        _count_if(c.satisfaction.isnot(None), "revisited"),
        _count_if(c.satisfaction.in_(vocab.SATISFIED), "satisfied"),
        _count_if(c.resolved_level.isnot(None), "resolved"),
        _count_if(c.resolved_level.in_(vocab.LOCAL_RESOLVED_LEVELS), "resolved_local"),
    ]


def _filtered(conditions: list, filters: Filters) -> list:
    if filters.categories:
        conditions.append(cases.c.category.in_(filters.categories))
    if filters.sources:
        conditions.append(cases.c.source.in_(filters.sources))
    return conditions


def _grouped(columns, table, code: str, by_children: bool, foreign_key, conditions):
    """``columns`` over ``table`` rows in unit ``code`` (one row), or per child of it."""
    group = unit_closure.c.ancestor_code.label("code")
    query = select(group, *columns).select_from(table).join(
        unit_closure, unit_closure.c.descendant_code == foreign_key
    )
    if by_children:
        query = query.join(units, units.c.code == unit_closure.c.ancestor_code).where(
            units.c.parent_code == code
        )
    else:
        query = query.where(unit_closure.c.ancestor_code == code)
    return query.where(*conditions).group_by(unit_closure.c.ancestor_code)


def counts(
    conn: Connection,
    *,
    unit_code: str,
    start: datetime,
    end: datetime,
    now: datetime,
    filters: Filters = Filters(),
    intervention_seconds: int = 3600,
    by_children: bool = False,
) -> pd.DataFrame:
    """Every count in ``ALL_COUNTS`` for the unit (one row) or for each of its children.

    Indexed by unit code; units with nothing to count get zeros, never a missing row.
    """
    if by_children:
        members = conn.execute(
            select(units.c.code, units.c.population)
            .where(units.c.parent_code == unit_code)
            .order_by(units.c.code)
        ).all()
    else:
        members = conn.execute(
            select(units.c.code, units.c.population).where(units.c.code == unit_code)
        ).all()
    frame = pd.DataFrame(
        {"population": [m.population for m in members]},
        index=pd.Index([m.code for m in members], name="code"),
        dtype="float64",
    )
    in_period = [cases.c.reported_at >= start, cases.c.reported_at < end]
    queries = [
        _grouped(_case_count_columns(intervention_seconds), cases, unit_code, by_children,
                 cases.c.grid_code, _filtered(in_period, filters)),
        _grouped([func.count(cases.c.id).label("overdue")], cases, unit_code, by_children,
                 cases.c.grid_code,
                 _filtered([cases.c.status.in_(vocab.OPEN_STATUSES), cases.c.deadline < now],
                           filters)),
        _grouped([func.count(cameras.c.id).label("cameras"),
                  _count_if(cameras.c.status == vocab.ONLINE, "cameras_online")],
                 cameras, unit_code, by_children, cameras.c.grid_code, []),
    ]
    for query in queries:
        part = pd.DataFrame(conn.execute(query).mappings().all())
        if not part.empty:
            frame = frame.join(part.set_index("code").astype("float64"), how="left")
    for name in ALL_COUNTS:
        if name not in frame:
            frame[name] = 0.0
    frame[list(ALL_COUNTS[:-1])] = frame[list(ALL_COUNTS[:-1])].fillna(0)
    return frame[list(ALL_COUNTS)]


def _in_unit(code: str):
    return cases.c.grid_code.in_(
        select(unit_closure.c.descendant_code).where(unit_closure.c.ancestor_code == code)
    )


def daily_counts(
    conn: Connection, *, unit_code: str, start: datetime, end: datetime, filters: Filters = Filters()
) -> pd.Series:
    """Cases reported per day, every day from ``start`` to ``end`` (exclusive) present."""
    day = day_of(cases.c.reported_at)
    query = (
        select(day.label("day"), func.count(cases.c.id).label("n"))
        .where(*_filtered([_in_unit(unit_code), cases.c.reported_at >= start,
                           cases.c.reported_at < end], filters))
        .group_by(day)
    )
    found = {r.day: r.n for r in conn.execute(query)}
    days = pd.date_range(start, end, inclusive="left", freq="D").strftime("%Y-%m-%d")
    return pd.Series([found.get(d, 0) for d in days], index=days, name="cases", dtype="int64")


def category_counts(
    conn: Connection, *, unit_code: str, start: datetime, end: datetime, filters: Filters = Filters()
) -> pd.Series:
    """Cases per category in the period, largest first."""
    query = (
        select(cases.c.category, func.count(cases.c.id).label("n"))
        .where(*_filtered([_in_unit(unit_code), cases.c.reported_at >= start,
                           cases.c.reported_at < end], filters))
        .group_by(cases.c.category)
        .order_by(func.count(cases.c.id).desc(), cases.c.category)
    )
    rows = conn.execute(query).all()
    return pd.Series([r.n for r in rows], index=[r.category for r in rows], name="cases", dtype="int64")


def recent_cases(
    conn: Connection, *, unit_code: str, start: datetime, end: datetime,
    filters: Filters = Filters(), limit: int = 50,
) -> list[dict]:
    """The newest cases in the unit and period, newest first, with their point as WKB."""
    c = cases.c
    query = (
        select(c.external_id, c.category, c.subcategory, c.source, c.reported_at, c.status,
               c.deadline, c.grid_code, c.description, c.geom)
        .where(*_filtered([_in_unit(unit_code), c.reported_at >= start, c.reported_at < end],
                          filters))
        .order_by(c.reported_at.desc(), c.external_id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def data_version(conn: Connection) -> str:
    """A cheap token that changes whenever cases, units or cameras change (index look-ups only)."""
    parts = [
        select(func.max(cases.c.id)).scalar_subquery(),
        select(func.max(cases.c.updated_at)).scalar_subquery(),
        select(func.max(units.c.updated_at)).scalar_subquery(),
        select(func.max(cameras.c.updated_at)).scalar_subquery(),
    ]
    row = conn.execute(select(*parts, literal(1))).one()
    return "|".join(str(v) for v in row[:-1])
