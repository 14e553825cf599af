"""Aggregates for any unit at any depth, written once in SQLAlchemy Core for both stores.

Every case carries its grid code; ``unit_closure`` maps a grid to each of its ancestors, so
"cases in unit U" is a join and "per child of U" is a ``GROUP BY`` over the same join. The counts
named here are what ``dashboard.indicators`` divides.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Connection

from dashboard import vocab
from dashboard.domain import Filters, HeatFilters
from data.schema import cameras, case_events, cases, key_places, unit_closure, units
from data.sqlfuncs import day_of, hour_of, seconds_between

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


def _grouped(columns, table, codes: list[str], foreign_key, conditions):
    """``columns`` over the ``table`` rows inside each unit of ``codes``, one row per unit.

    The codes are literals, not a join on ``parent_code``: the planner then sees how many grids
    each one holds (PostgreSQL's most-common-values statistics) and scans cases in bulk for a
    district instead of probing the index once per grid.
    """
    return (
        select(unit_closure.c.ancestor_code.label("code"), *columns)
        .select_from(table)
        .join(unit_closure, unit_closure.c.descendant_code == foreign_key)
        .where(unit_closure.c.ancestor_code.in_(codes), *conditions)
        .group_by(unit_closure.c.ancestor_code)
    )


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
    if frame.empty:
        return frame.reindex(columns=list(ALL_COUNTS))
    codes = list(frame.index)
    in_period = [cases.c.reported_at >= start, cases.c.reported_at < end]
    queries = [
        _grouped(_case_count_columns(intervention_seconds), cases, codes, cases.c.grid_code,
                 _filtered(in_period, filters)),
        _grouped([func.count(cases.c.id).label("overdue")], cases, codes, cases.c.grid_code,
                 _filtered([cases.c.status.in_(vocab.OPEN_STATUSES), cases.c.deadline < now],
                           filters)),
        _grouped([func.count(cameras.c.id).label("cameras"),
                  _count_if(cameras.c.status == vocab.ONLINE, "cameras_online")],
                 cameras, codes, cameras.c.grid_code, []),
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


def alarm_cases(
    conn: Connection, *, unit_code: str, now: datetime, filters: Filters = Filters(), limit: int = 30,
) -> list[dict]:
    """Open cases that need a leader's eye now: past their deadline, or high-risk disputes.

    Most overdue first, then the newest high-risk disputes.
    """
    c = cases.c
    overdue = c.deadline < now
    high_risk = and_(c.category == vocab.DISPUTE, c.risk_level == vocab.RISK_LEVELS[-1])
    query = (
        select(c.external_id, c.category, c.subcategory, c.status, c.reported_at, c.deadline,
               c.risk_level, c.grid_code, c.description)
        .where(*_filtered([_in_unit(unit_code), c.status.in_(vocab.OPEN_STATUSES),
                           or_(overdue, high_risk)], filters))
        .order_by(case((overdue, 0), else_=1), c.deadline, c.reported_at.desc(), c.external_id)
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
        select(func.max(case_events.c.id)).scalar_subquery(),  # a status change appends one
    ]
    return "|".join(str(v) for v in conn.execute(select(*parts)).one())


# --- the heatmap and coverage views: which rows; the stores do the geometry -----------------------
#
# These return ``Select`` statements, not rows: each store adds its own geometry columns (WKB for
# Shapely in the embedded store, ``ST_Transform`` to metres in PostGIS) to the same selection.


def member_codes(conn: Connection, code: str) -> list[str]:
    """The units a view of ``code`` is split into: its children, or the unit itself at a grid."""
    kids = [r.code for r in conn.execute(
        select(units.c.code).where(units.c.parent_code == code).order_by(units.c.code))]
    return kids or [code]


def dispute_cases(unit_code: str, start: datetime, end: datetime, heat: HeatFilters = HeatFilters()):
    """Disputes (矛盾纠纷) reported in the unit and period that pass the heatmap's filters:
    ``id`` and ``reported_at``, only cases with a point."""
    c = cases.c
    conditions = [_in_unit(unit_code), c.reported_at >= start, c.reported_at < end,
                  c.category == vocab.DISPUTE, c.geom.isnot(None)]
    if heat.subcategories:
        conditions.append(c.subcategory.in_(heat.subcategories))
    if heat.sources:
        conditions.append(c.source.in_(heat.sources))
    if heat.statuses:
        conditions.append(c.status.in_(heat.statuses))
    if heat.hours is not None:
        first, last = heat.hours
        hour = hour_of(c.reported_at)
        conditions.append(hour.between(first, last) if first <= last else (hour >= first) | (hour <= last))
    return select(c.id, c.reported_at).where(*conditions)


def member_cases(members: list[str], start: datetime, end: datetime):
    """Every case with a point reported in the period, with the ``member`` unit it lies in."""
    return (
        select(cases.c.id, unit_closure.c.ancestor_code.label("member"))
        .join(unit_closure, unit_closure.c.descendant_code == cases.c.grid_code)
        .where(unit_closure.c.ancestor_code.in_(members), cases.c.reported_at >= start,
               cases.c.reported_at < end, cases.c.geom.isnot(None))
    )


def member_key_places(members: list[str]):
    """Every key place with the ``member`` unit it lies in (by its grid)."""
    k = key_places.c
    return (
        select(k.id, k.name, k.kind, unit_closure.c.ancestor_code.label("member"))
        .join(unit_closure, unit_closure.c.descendant_code == k.grid_code)
        .where(unit_closure.c.ancestor_code.in_(members))
    )


def cases_by_id(conn: Connection, ids, limit: int = 50, unit_code: str | None = None) -> list[dict]:
    """The given cases, newest first (a heat cell's list); only those in ``unit_code`` if given."""
    c = cases.c
    conditions = [c.id.in_([int(i) for i in ids])]
    if unit_code is not None:
        conditions.append(_in_unit(unit_code))
    query = (
        select(c.external_id, c.category, c.subcategory, c.source, c.reported_at, c.status,
               c.grid_code, c.description)
        .where(*conditions)
        .order_by(c.reported_at.desc(), c.external_id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def dispute_member_counts(conn: Connection, *, members: list[str], unit_code: str, start: datetime,
                          end: datetime, heat: HeatFilters = HeatFilters()) -> dict[str, int]:
    """Disputes passing the heatmap's filters per member unit (every member present)."""
    picked = dispute_cases(unit_code, start, end, heat).with_only_columns(cases.c.id).subquery()
    query = (
        select(unit_closure.c.ancestor_code, func.count(cases.c.id))
        .join(unit_closure, unit_closure.c.descendant_code == cases.c.grid_code)
        .where(unit_closure.c.ancestor_code.in_(members), cases.c.id.in_(select(picked.c.id)))
        .group_by(unit_closure.c.ancestor_code)
    )
    found = dict(conn.execute(query).all())
    return {m: int(found.get(m, 0)) for m in members}
