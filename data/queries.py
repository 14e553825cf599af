"""Aggregates for any unit at any depth, written once in SQLAlchemy Core for both stores.

Every case carries its grid code; ``unit_closure`` maps a grid to each of its ancestors, so
"cases in unit U" is a join and "per child of U" is a ``GROUP BY`` over the same join. The counts
named here are what ``dashboard.indicators`` divides.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection

from dashboard import vocab
from dashboard.domain import CaseQuery, Filters, HeatFilters
from data.schema import (
    cameras,
    case_events,
    case_rollup,
    case_rollup_day,
    case_rollup_month,
    case_rollup_year,
    cases,
    grid_workers,
    key_places,
    police_cases,
    rollup_units,
    sensitive_counts,
    store_meta,
    survey_indicators,
    unit_closure,
    units,
)
from data.sqlfuncs import day_of, hour_of, seconds_between

CASE_COUNTS = (
    "accepted", "closed", "disputes", "disputes_resolved", "on_time",
    "revisited", "satisfied", "resolved", "resolved_local", "incidents",
)
ALL_COUNTS = CASE_COUNTS + ("overdue", "cameras", "cameras_online", "population")
# What 万人发案率 counts by default: 刑事 + 治安 (cases of these categories and police cases of
# these kinds); ``CITYBRAIN_INCIDENT_CATEGORIES`` changes it.
INCIDENT_CATEGORIES = ("刑事", "治安")
# The rollups (data/rollups.py) hold the counts of ``case_count_columns`` for this intervention
# limit (the default of CITYBRAIN_INTERVENTION_MINUTES) and ``INCIDENT_CATEGORIES``; any other
# setting is answered from the raw cases.
ROLLUP_INTERVENTION_SECONDS = 3600

_UNIT_COLUMNS = (
    units.c.code, units.c.name, units.c.level, units.c.parent_code, units.c.kind,
    units.c.population, units.c.households, units.c.houses, units.c.buildings, units.c.area_km2,
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


def case_count_columns(intervention_seconds: int,
                       incident_categories: tuple[str, ...] = INCIDENT_CATEGORIES, c=None):
    """The per-case counts of ``CASE_COUNTS`` as SQL sums: the one statement of each rule.

    - 化解 is an outcome, not a status: a dispute counts as resolved only when its ``outcome`` is
      化解成功 (a mediation that failed is closed, 办结, but not resolved);
    - a revisit (回访) is a satisfaction answer from the vocabulary: 未回访 and blanks are not;
    - ``incidents`` (万人发案率's numerator) are cases of ``incident_categories``.

    ``c``: the case columns to count over (default ``cases.c``; the rollups' triggers pass their
    transition tables', so the rollups and the raw path share every rule).
    """
    c = cases.c if c is None else c
    closed = c.status == vocab.CLOSED
    first_action = func.coalesce(c.assigned_at, c.handled_at)
    return [
        func.count(c.id).label("accepted"),
        _count_if(closed, "closed"),
        _count_if(c.category == vocab.DISPUTE, "disputes"),
        _count_if(and_(c.category == vocab.DISPUTE, c.outcome == vocab.RESOLVED), "disputes_resolved"),
        _count_if(seconds_between(c.reported_at, first_action) <= intervention_seconds, "on_time"),
        _count_if(c.satisfaction.in_(vocab.SATISFACTIONS), "revisited"),
        _count_if(c.satisfaction.in_(vocab.SATISFIED), "satisfied"),
        _count_if(c.resolved_level.isnot(None), "resolved"),
        _count_if(c.resolved_level.in_(vocab.LOCAL_RESOLVED_LEVELS), "resolved_local"),
        _count_if(c.category.in_(incident_categories or ("",)), "incidents"),
    ]


def overdue_condition(now: datetime):
    """Open and past its deadline at ``now`` (the data's own moment: ``CityData.as_of``)."""
    return and_(cases.c.status.in_(vocab.OPEN_STATUSES), cases.c.deadline < now)


def _filtered(conditions: list, filters: Filters, table=cases) -> list:
    if filters.categories:
        conditions.append(table.c.category.in_(filters.categories))
    if filters.sources:
        conditions.append(table.c.source.in_(filters.sources))
    return conditions


def _grouped(columns, table, codes: list[str], foreign_key, conditions, *, direct: bool = False):
    """``columns`` over the ``table`` rows inside each unit of ``codes``, one row per unit.

    The codes are literals, not a join on ``parent_code``: the planner then sees how many grids
    each one holds (PostgreSQL's most-common-values statistics) and scans cases in bulk for a
    district instead of probing the index once per grid. ``direct``: only the rows attached to
    the unit itself (outside every grid below it, or naming the unit in their record).
    """
    if direct:
        return (select(foreign_key.label("code"), *columns).select_from(table)
                .where(foreign_key.in_(codes), *conditions).group_by(foreign_key))
    return (
        select(unit_closure.c.ancestor_code.label("code"), *columns)
        .select_from(table)
        .join(unit_closure, unit_closure.c.descendant_code == foreign_key)
        .where(unit_closure.c.ancestor_code.in_(codes), *conditions)
        .group_by(unit_closure.c.ancestor_code)
    )


def _members(conn: Connection, unit_code: str, by_children: bool) -> list[str]:
    where = units.c.parent_code == unit_code if by_children else units.c.code == unit_code
    return list(conn.execute(select(units.c.code).where(where).order_by(units.c.code)).scalars())


def _overdue_query(codes: list[str], now: datetime, filters: Filters, direct: bool):
    return _grouped([func.count(cases.c.id).label("overdue")], cases, codes, cases.c.grid_code,
                    _filtered([overdue_condition(now)], filters), direct=direct)


def overdue_counts(conn: Connection, *, unit_code: str, now: datetime, filters: Filters = Filters(),
                   by_children: bool = False, direct: bool = False, own: bool = False) -> pd.Series:
    """The ``overdue`` count of :func:`counts` alone (same members, same index, ``own`` too): it
    moves with ``now``, the period's counts do not."""
    codes = _members(conn, unit_code, by_children)
    own = own and by_children
    parts = ([_overdue_query(codes, now, filters, direct)] if codes else []) + (
        [_overdue_query([unit_code], now, filters, True)] if own else [])
    statement = parts[0] if len(parts) == 1 else union_all(*parts) if parts else None
    found = dict(conn.execute(statement).all()) if statement is not None else {}
    index = codes + ([unit_code] if own else [])
    return pd.Series([float(found.get(c, 0)) for c in index], index=pd.Index(index, name="code"),
                     name="overdue", dtype="float64")


def whole_days(start: datetime, end: datetime) -> bool:
    """Whether a period starts and ends at midnight (the rollups hold whole days)."""
    return start.time() == time(0) and end.time() == time(0)


def rollups_answer(codes, start: datetime, end: datetime, rolled: frozenset, *,
                   intervention_seconds: int = ROLLUP_INTERVENTION_SECONDS,
                   incident_categories: tuple[str, ...] = INCIDENT_CATEGORIES) -> bool:
    """Whether the rollups hold the period counts of every unit in ``codes``. ``rolled``: the
    units they answer for (``data.rollups.rolled_codes``; empty when built by another definition)."""
    return (bool(codes) and intervention_seconds == ROLLUP_INTERVENTION_SECONDS
            and tuple(incident_categories) == INCIDENT_CATEGORIES and whole_days(start, end)
            and all(code in rolled for code in codes))


def _rollup_source(filters: Filters):
    return case_rollup if filters.categories or filters.sources else case_rollup_day


def counts(
    conn: Connection,
    *,
    unit_code: str,
    start: datetime,
    end: datetime,
    now: datetime | None,
    filters: Filters = Filters(),
    intervention_seconds: int = 3600,
    by_children: bool = False,
    incident_categories: tuple[str, ...] = INCIDENT_CATEGORIES,
    direct: bool = False,
    rolled: frozenset = frozenset(),
    own: bool = False,
) -> pd.DataFrame:
    """Every count in ``ALL_COUNTS`` for the unit (one row) or for each of its children.

    Indexed by unit code; units with nothing to count get zeros, never a missing row. ``now`` is
    the moment overdue is counted at. Police cases of ``incident_categories`` add to
    ``incidents`` (unfiltered by case category or source: they have neither). ``direct``: only
    rows attached to the unit itself, not to a unit below it (a parent's total is its children's
    sums plus these). ``own`` (with ``by_children``): those direct rows of the unit too, as one
    more row under the unit's own code, read in the same statements as the children's (each
    statement a ``UNION ALL``: one pass per table for a click, not two). ``rolled``: the units the
    rollups answer for; the period's case counts come from them when they hold the answer
    (``rollups_answer``), else from the cases. ``now`` None: no overdue count (zeros;
    ``overdue_counts`` answers it on its own, as the clock moves).
    """
    members = _member_rows(conn, unit_code, by_children)
    own = own and by_children
    codes = [m.code for m in members]
    if not codes and not own:
        return pd.DataFrame({"population": []}, index=pd.Index([], name="code"),
                            dtype="float64").reindex(columns=list(ALL_COUNTS))
    if own:
        members = [*members, SimpleNamespace(code=unit_code, population=None)]

    def both(make):  # the children's part, and with ``own`` the unit's direct rows in one statement
        parts = ([make(codes, direct)] if codes else []) + ([make([unit_code], True)] if own else [])
        return parts[0] if len(parts) == 1 else union_all(*parts)

    def period(part: list[str], part_direct: bool):
        if not part_direct and rollups_answer(part, start, end, rolled,
                                              intervention_seconds=intervention_seconds,
                                              incident_categories=incident_categories):
            r = _rollup_source(filters)
            return (
                select(r.c.unit_code.label("code"), *(func.sum(r.c[n]).label(n) for n in CASE_COUNTS))
                .where(*_filtered([r.c.unit_code.in_(part), r.c.day >= start.date(), r.c.day < end.date()],
                                  filters, case_rollup))
                .group_by(r.c.unit_code)
            )
        columns = {c.name: c for c in case_count_columns(intervention_seconds, incident_categories)}
        return _grouped([columns[n] for n in CASE_COUNTS], cases, part, cases.c.grid_code,
                        _filtered([cases.c.reported_at >= start, cases.c.reported_at < end], filters),
                        direct=part_direct)

    statements = [
        both(period),
        *([] if now is None else [both(lambda part, d: _overdue_query(part, now, filters, d))]),
        both(lambda part, d: _grouped([func.count(cameras.c.id).label("cameras"),
                                       _count_if(cameras.c.status == vocab.ONLINE, "cameras_online")],
                                      cameras, part, cameras.c.grid_code, [], direct=d)),
    ]
    if incident_categories and not filters.categories and not filters.sources:
        p = police_cases.c
        statements.append(both(lambda part, d: _grouped(
            [func.count(p.id).label("police_incidents")], police_cases, part, p.grid_code,
            [p.reported_at >= start, p.reported_at < end, p.kind.in_(incident_categories)], direct=d)))
    found: dict[str, dict] = {}
    for statement in statements:
        for row in conn.execute(statement).mappings():
            values = found.setdefault(row["code"], {})
            for name, value in row.items():
                if name != "code" and value is not None:
                    values[name] = values.get(name, 0.0) + float(value)
    index = [m.code for m in members]
    columns = {name: [found.get(c, {}).get(name, 0.0) for c in index] for name in ALL_COUNTS[:-1]}
    police = [found.get(c, {}).get("police_incidents", 0.0) for c in index]
    columns["incidents"] = [a + b for a, b in zip(columns["incidents"], police, strict=True)]
    columns["population"] = [m.population for m in members]
    return pd.DataFrame(columns, index=pd.Index(index, name="code"), dtype="float64")


def _member_rows(conn: Connection, unit_code: str, by_children: bool) -> list:
    where = units.c.parent_code == unit_code if by_children else units.c.code == unit_code
    return conn.execute(select(units.c.code, units.c.population).where(where).order_by(units.c.code)).all()


def _in_unit(code: str):
    return cases.c.grid_code.in_(
        select(unit_closure.c.descendant_code).where(unit_closure.c.ancestor_code == code)
    )


def daily_counts(
    conn: Connection, *, unit_code: str, start: datetime, end: datetime, filters: Filters = Filters(),
    rolled: frozenset = frozenset(),
) -> pd.Series:
    """Cases reported per day, every day from ``start`` to ``end`` (exclusive) present."""
    if rollups_answer([unit_code], start, end, rolled):
        r = _rollup_source(filters).c
        query = (
            select(r.day, func.sum(r.accepted).label("n"))
            .where(*_filtered([r.unit_code == unit_code, r.day >= start.date(), r.day < end.date()],
                              filters, case_rollup))
            .group_by(r.day)
        )
        found = {f"{row.day:%Y-%m-%d}": int(row.n) for row in conn.execute(query)}
    else:
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
    conn: Connection, *, unit_code: str, start: datetime, end: datetime, filters: Filters = Filters(),
    rolled: frozenset = frozenset(),
) -> pd.Series:
    """Cases per category in the period, largest first."""
    if rollups_answer([unit_code], start, end, rolled):
        r = case_rollup.c
        n = func.sum(r.accepted)
        query = (
            select(r.category, n.label("n"))
            .where(*_filtered([r.unit_code == unit_code, r.day >= start.date(), r.day < end.date()],
                              filters, case_rollup))
            .group_by(r.category)
            .having(n > 0)
            .order_by(n.desc(), r.category)
        )
    else:
        query = (
            select(cases.c.category, func.count(cases.c.id).label("n"))
            .where(*_filtered([_in_unit(unit_code), cases.c.reported_at >= start,
                               cases.c.reported_at < end], filters))
            .group_by(cases.c.category)
            .order_by(func.count(cases.c.id).desc(), cases.c.category)
        )
    rows = conn.execute(query).all()
    return pd.Series([int(r.n) for r in rows], index=[r.category for r in rows], name="cases",
                     dtype="int64")


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
    newest_first: bool = False,
) -> list[dict]:
    """Open cases that need a leader's eye now: past their deadline, or high-risk disputes.

    Overdue first (the most overdue first, or the newest first with ``newest_first``), then the
    newest high-risk disputes.
    """
    c = cases.c
    overdue = c.deadline < now  # ``now``: the data's own moment (``CityData.as_of``)
    high_risk = and_(c.category == vocab.DISPUTE, c.risk_level == vocab.RISK_LEVELS[-1])
    query = (
        select(c.external_id, c.category, c.subcategory, c.status, c.reported_at, c.deadline,
               c.risk_level, c.grid_code, c.description)
        .where(*_filtered([_in_unit(unit_code), c.status.in_(vocab.OPEN_STATUSES),
                           or_(overdue, high_risk)], filters))
        .order_by(case((overdue, 0), else_=1), *([] if newest_first else [c.deadline]),
                  c.reported_at.desc(), c.external_id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


# The parts of :func:`data_version`, in order (a cache keyed by some of them outlives the others).
VERSION_PARTS = ("cases", "cases_updated", "units", "cameras", "case_events", "store_meta",
                 "survey_indicators", "grid_workers", "sensitive_counts", "police_cases")


def data_version(conn: Connection) -> str:
    """A cheap token that changes whenever cases, units or cameras change (index look-ups only):
    the :data:`VERSION_PARTS` joined by ``|``."""
    parts = [
        select(func.max(cases.c.id)).scalar_subquery(),
        select(func.max(cases.c.updated_at)).scalar_subquery(),
        select(func.max(units.c.updated_at)).scalar_subquery(),
        select(func.max(cameras.c.updated_at)).scalar_subquery(),
        select(func.max(case_events.c.id)).scalar_subquery(),  # a status change appends one
        *(select(func.max(t.c.updated_at)).scalar_subquery()
          for t in (store_meta, survey_indicators, grid_workers, sensitive_counts, police_cases)),
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


# --- the data's own moment, coverage in time, things outside every grid ---------------------------


def meta(conn: Connection, key: str) -> str | None:
    """A value of ``store_meta`` (``data_as_of``…), None when not recorded."""
    return conn.execute(select(store_meta.c.value).where(store_meta.c.key == key)).scalar()


def data_since(conn: Connection) -> datetime | None:
    """The earliest case report time: before it, the store holds no data to compare with."""
    return conn.execute(select(func.min(cases.c.reported_at))).scalar()


def outside_grid(conn: Connection) -> dict[str, int]:
    """Per table: rows counted at a unit above the grids (outside every grid, or attached to a
    unit by their record) and rows in no unit at all."""
    parents = select(units.c.parent_code).where(units.c.parent_code.isnot(None))
    out = {}
    for table in (cases, cameras, key_places, police_cases):
        g = table.c.grid_code
        row = conn.execute(select(_count_if(g.in_(parents), "above"),
                                  _count_if(g.is_(None), "nowhere"))).one()
        out[table.name] = {"above_grid": int(row.above), "no_unit": int(row.nowhere)}
    return out


# --- the unit's profile: 人房楼, kinds of units below it, grid workers --------------------------


PROFILE_FIELDS = ("population", "households", "houses", "buildings")


def unit_profile(conn: Connection, code: str) -> dict:
    """人房楼 (a unit's own figure, else the sum of its children's, recursively), how many units of
    each level and kind lie below it (行政村 and 社区 apart), and its grid workers by role."""
    c = units.c
    rows = conn.execute(
        select(c.code, c.parent_code, c.level, c.kind, *(c[f] for f in PROFILE_FIELDS))
        .join(unit_closure, unit_closure.c.descendant_code == c.code)
        .where(unit_closure.c.ancestor_code == code)).mappings().all()
    kids: dict[str, list] = {}
    by_code = {r["code"]: r for r in rows}
    for r in rows:
        if r["code"] != code:
            kids.setdefault(r["parent_code"], []).append(r["code"])

    def total(unit_code: str, name: str):
        own = by_code[unit_code][name]
        if own is not None:
            return int(own)
        parts = [total(k, name) for k in kids.get(unit_code, ())]
        parts = [p for p in parts if p is not None]
        return sum(parts) if parts else None

    below: dict[str, int] = {}
    for r in rows:
        if r["code"] != code:
            label = r["kind"] or r["level"]
            below[label] = below.get(label, 0) + 1
    workers = dict(conn.execute(
        select(grid_workers.c.role, func.count())
        .join(unit_closure, unit_closure.c.descendant_code == grid_workers.c.unit_code)
        .where(unit_closure.c.ancestor_code == code)
        .group_by(grid_workers.c.role)).all())
    return {"totals": {f: total(code, f) for f in PROFILE_FIELDS} if code in by_code else {},
            "units_below": dict(sorted(below.items())),
            "grid_workers": {role: int(n) for role, n in sorted(workers.items())}}


# --- sensitive topics: counts per unit, summed up the hierarchy, never a row -----------------------


def sensitive_totals(conn: Connection, *, codes: list[str]) -> dict[str, dict[str, dict[str, int]]]:
    """``{unit: {topic: {group: count}}}`` for each unit of ``codes`` (everything below it)."""
    s = sensitive_counts.c
    query = (
        select(unit_closure.c.ancestor_code, s.topic, s.group_name, func.sum(s.count))
        .join(unit_closure, unit_closure.c.descendant_code == s.unit_code)
        .where(unit_closure.c.ancestor_code.in_(codes))
        .group_by(unit_closure.c.ancestor_code, s.topic, s.group_name)
        .order_by(unit_closure.c.ancestor_code, s.topic, s.group_name)
    )
    out: dict = {code: {} for code in codes}
    for unit_code, topic, group, n in conn.execute(query):
        out[unit_code].setdefault(topic, {})[group] = int(n)
    return out


# --- surveys: a series per unit ----------------------------------------------------------------------


def survey_series(conn: Connection, *, code: str) -> dict:
    """The unit's survey values per indicator, oldest first; where the unit has none, its nearest
    ancestor's (``unit_code`` says whose)."""
    s = survey_indicators.c
    chain = [r.ancestor_code for r in conn.execute(
        select(unit_closure.c.ancestor_code).where(unit_closure.c.descendant_code == code)
        .order_by(unit_closure.c.depth))]
    rows = conn.execute(select(s.unit_code, s.indicator, s.period_start, s.period_end, s.value, s.source)
                        .where(s.unit_code.in_(chain))
                        .order_by(s.indicator, s.period_start)).mappings().all()
    out = {}
    for indicator in dict.fromkeys(r["indicator"] for r in rows):
        mine = [r for r in rows if r["indicator"] == indicator]
        owner = next(u for u in chain if any(r["unit_code"] == u for r in mine))
        out[indicator] = {"unit_code": owner, "points": [
            {"from": r["period_start"].date().isoformat(), "to": r["period_end"].date().isoformat(),
             "value": float(r["value"]), "source": r["source"]}
            for r in mine if r["unit_code"] == owner]}
    return out


# --- police cases by kind and 案由 ------------------------------------------------------------------


def police_counts(conn: Connection, *, unit_code: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Police cases in the unit and period per ``kind`` and ``cause`` (案由): columns kind, cause, n."""
    p = police_cases.c
    query = (
        select(p.kind, func.coalesce(p.cause, "").label("cause"), func.count(p.id).label("n"))
        .join(unit_closure, unit_closure.c.descendant_code == p.grid_code)
        .where(unit_closure.c.ancestor_code == unit_code, p.reported_at >= start, p.reported_at < end)
        .group_by(p.kind, func.coalesce(p.cause, ""))
    )
    frame = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=["kind", "cause", "n"])
    return frame.astype({"n": "int64"})


def police_since(conn: Connection) -> datetime | None:
    """The earliest police case: before it, no police data to compare with."""
    return conn.execute(select(func.min(police_cases.c.reported_at))).scalar()


# --- the case list, one case and its history (/api/v1/cases, /cases) -----------------------------

CASE_LIST_COLUMNS = (
    "external_id", "category", "subcategory", "source", "status", "reported_at", "assigned_at",
    "handled_at", "responded_at", "closed_at", "deadline", "returned_count", "resolved_level",
    "risk_level", "satisfaction", "department", "grid_code", "description",
)


def _case_conditions(unit_code: str, start: datetime, end: datetime, query: CaseQuery, now: datetime):
    """The rows of a case list: the same unit, period and filters as 受理, then the list's own."""
    c = cases.c
    conditions = _filtered([_in_unit(unit_code), c.reported_at >= start, c.reported_at < end],
                           query.filters)
    if query.statuses:
        conditions.append(c.status.in_(query.statuses))
    if query.overdue:
        conditions += [c.status.in_(vocab.OPEN_STATUSES), c.deadline < now]
    if query.text:
        pattern = "%" + query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(c.description.like(pattern, escape="\\"),
                              units.c.name.like(pattern, escape="\\")))
    return conditions


def case_total(conn: Connection, *, unit_code: str, start: datetime, end: datetime, query: CaseQuery,
               now: datetime, rolled: frozenset = frozenset()) -> int:
    """How many cases :func:`case_page` pages through. Without status, overdue or text filters it
    is the unit's 受理 for the period and filters, read from the rollups when they hold it."""
    plain = not (query.statuses or query.overdue or query.text)
    if plain and rollups_answer([unit_code], start, end, rolled):
        r = _rollup_source(query.filters)
        total = select(func.coalesce(func.sum(r.c.accepted), 0)).where(*_filtered(
            [r.c.unit_code == unit_code, r.c.day >= start.date(), r.c.day < end.date()],
            query.filters, case_rollup))
        return int(conn.execute(total).scalar_one())
    conditions = _case_conditions(unit_code, start, end, query, now)
    source = cases.outerjoin(units, units.c.code == cases.c.grid_code) if query.text else cases
    return int(conn.execute(select(func.count()).select_from(source).where(*conditions)).scalar_one())


def case_page(conn: Connection, *, unit_code: str, start: datetime, end: datetime, query: CaseQuery,
              now: datetime, rolled: frozenset = frozenset()) -> dict:
    """``{"total": N, "cases": [...]}``: one page of the unit's cases, sorted and cut by the database.

    ``q`` searches the description and the address (the name of the case's grid: cases carry a
    point, not a street address). Ties in the sort column are broken by ``id`` so pages never
    overlap or skip a row. ``total``: :func:`case_total` (``rolled``: the units the rollups answer
    for).
    """
    c = cases.c
    conditions = _case_conditions(unit_code, start, end, query, now)
    total = case_total(conn, unit_code=unit_code, start=start, end=end, query=query, now=now,
                       rolled=rolled)
    column = c[query.sort]
    order = [column.desc() if query.descending else column.asc(),
             c.id.desc() if query.descending else c.id.asc()]
    if column.nullable and query.sort not in ("reported_at",):
        order.insert(0, column.is_(None))  # empty values last, in either direction, on both stores
    rows = conn.execute(
        select(*(c[name] for name in CASE_LIST_COLUMNS), units.c.name.label("grid_name"))
        .select_from(cases.outerjoin(units, units.c.code == c.grid_code))
        .where(*conditions).order_by(*order).offset(query.offset).limit(query.per_page)
    ).mappings().all()
    return {"total": int(total), "cases": [dict(r) for r in rows]}


def case_detail(conn: Connection, external_id: str) -> dict | None:
    """One case with its point (WKB), grid and the chain of units above it, and its ``events`` in
    time order."""
    c = cases.c
    row = conn.execute(
        select(c.id, *(c[name] for name in CASE_LIST_COLUMNS), c.geom, units.c.name.label("grid_name"))
        .select_from(cases.outerjoin(units, units.c.code == c.grid_code))
        .where(c.external_id == external_id)
    ).mappings().first()
    if row is None:
        return None
    found = dict(row)
    e = case_events.c
    found["events"] = [dict(r) for r in conn.execute(
        select(e.status, e.at, e.actor, e.note).where(e.case_id == found.pop("id"))
        .order_by(e.at, e.id)).mappings()]
    found["units"] = ancestors(conn, found["grid_code"]) if found["grid_code"] else []
    return found


def feed_cases(conn: Connection, *, unit_code: str, since: datetime, limit: int = 20) -> list[dict]:
    """The newest cases in the unit reported since ``since`` (the wall screen's 滚动播报)."""
    c = cases.c
    query = (
        select(c.external_id, c.category, c.subcategory, c.status, c.reported_at, c.grid_code,
               c.description, units.c.name.label("grid_name"))
        .select_from(cases.outerjoin(units, units.c.code == c.grid_code))
        .where(_in_unit(unit_code), c.reported_at >= since)
        .order_by(c.reported_at.desc(), c.id.desc()).limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


# --- the closed loop (/api/v1/units/<code>/loop, /loop) -------------------------------------------

# Each stage and the status time that ends it: a case "at 受理" waits for 指派, and so on.
STAGE_ENDS = (
    (vocab.ACCEPTED, "reported_at", "assigned_at"),
    (vocab.ASSIGNED, "assigned_at", "handled_at"),
    (vocab.HANDLING, "handled_at", "responded_at"),
    (vocab.RESPONDED, "responded_at", "closed_at"),
)


def loop_members(conn: Connection, *, members: list[str], start: datetime, end: datetime,
                 now: datetime, filters: Filters = Filters()) -> pd.DataFrame:
    """Per member unit and status of the cases reported in the period: how many, how many past
    their deadline now, how many were returned and how often. Columns ``code``, ``status``,
    ``cases``, ``overdue``, ``returned_cases``, ``returns``."""
    c = cases.c
    overdue = and_(c.status.in_(vocab.OPEN_STATUSES), c.deadline < now)
    query = (
        select(unit_closure.c.ancestor_code.label("code"), c.status, func.count(c.id).label("cases"),
               _count_if(overdue, "overdue"), _count_if(c.returned_count > 0, "returned_cases"),
               func.coalesce(func.sum(c.returned_count), 0).label("returns"))
        .join(unit_closure, unit_closure.c.descendant_code == c.grid_code)
        .where(unit_closure.c.ancestor_code.in_(members),
               *_filtered([c.reported_at >= start, c.reported_at < end], filters))
        .group_by(unit_closure.c.ancestor_code, c.status)
    )
    frame = pd.DataFrame(conn.execute(query).mappings().all(),
                         columns=["code", "status", "cases", "overdue", "returned_cases", "returns"])
    return frame.astype({k: "int64" for k in ("cases", "overdue", "returned_cases", "returns")})


def loop_stage_seconds(conn: Connection, *, unit_code: str, start: datetime, end: datetime,
                       filters: Filters = Filters()) -> pd.DataFrame:
    """Seconds each case of the period spent in each stage it has finished (NaN where not), one
    column per stage: what the medians and 90th percentiles are taken over."""
    c = cases.c
    columns = [seconds_between(c[begin], c[finish]).label(stage) for stage, begin, finish in STAGE_ENDS]
    query = select(*columns).where(*_filtered([_in_unit(unit_code), c.reported_at >= start,
                                                c.reported_at < end], filters))
    return pd.DataFrame(conn.execute(query).all(), columns=[s for s, _, _ in STAGE_ENDS], dtype="float64")


def resolved_levels(conn: Connection, *, unit_code: str, start: datetime, end: datetime,
                    filters: Filters = Filters()) -> dict[str, int]:
    """Cases of the period resolved at each level (矛盾不上交: 网格 … 市), every level present."""
    c = cases.c
    query = (
        select(c.resolved_level, func.count(c.id))
        .where(*_filtered([_in_unit(unit_code), c.reported_at >= start, c.reported_at < end,
                           c.resolved_level.isnot(None)], filters))
        .group_by(c.resolved_level)
    )
    found = dict(conn.execute(query).all())
    return {level: int(found.get(level, 0)) for level in vocab.RESOLVED_LEVELS}


# --- worst places at any depth (/api/v1/units/<code>/ranking) -------------------------------------


def period_plan(start: datetime, end: datetime) -> list[tuple[str, datetime, datetime, int]]:
    """A whole-day period as signed pieces ``(grain, from, to, sign)`` that add up to it: whole
    years (``year``) and months (``month``) of the monthly and yearly rollups, and ``days`` at the
    edges, each added (1) or taken away (-1).

    Each end moves to the nearest first of a month, so an edge holds at most about half a month of
    days (and an end after the newest case usually holds none); a period no longer than its edges
    is one piece of days. The months of a calendar year are its year row minus the months left out
    when that is fewer rows (1 January to today: the year, minus the months still to come, which
    hold no rows yet).
    """
    def nearest(moment: datetime) -> datetime:
        first = moment.replace(day=1)
        after = _next_month(first)
        return first if moment - first <= after - moment else after

    a, b = nearest(start), nearest(end)
    edges = []
    if a != start:
        edges.append(("days", a, start, -1) if a < start else ("days", start, a, 1))
    if b != end:
        edges.append(("days", b, end, 1) if b < end else ("days", end, b, -1))
    if a >= b or sum((hi - lo).days for _, lo, hi, _ in edges) >= (end - start).days:
        return [("days", start, end, 1)]  # no whole month, or its edges as long as the period itself
    pieces = []
    for year in range(a.year, (b - timedelta(days=1)).year + 1):
        first, after = datetime(year, 1, 1), datetime(year + 1, 1, 1)
        lo, hi = max(a, first), min(b, after)
        months = (hi.year - lo.year) * 12 + hi.month - lo.month
        if months == 12:
            pieces.append(("year", first, after, 1))
        elif 1 + (12 - months) < months:
            pieces.append(("year", first, after, 1))
            pieces += [("month", x, y, -1) for x, y in ((first, lo), (hi, after)) if x < y]
        else:
            pieces.append(("month", lo, hi, 1))
    return pieces + edges


def _next_month(first: datetime) -> datetime:
    return (first + timedelta(days=32)).replace(day=1)


def _signed(columns, sign: int):
    return [(col.element * sign).label(col.name) if sign != 1 else col for col in columns]


def _level_period_rollups(level: str, scope, start: datetime, end: datetime,
                          names: tuple[str, ...] = CASE_COUNTS, grouped: bool = True):
    """The period's case counts of the units ``scope(column)`` keeps (those of ``level`` among them
    are kept by the caller) from the yearly and monthly rollups, the edge days from the daily ones
    (above the grids) or the cases (grids): one statement, one row per unit with cases; ``names``:
    the counts to sum. ``grouped`` False: the pieces' rows as they are (a unit in several), for a
    caller that sums them itself."""
    parts = []
    for grain, lo, hi, sign in period_plan(start, end):
        if grain in ("year", "month"):
            r = (case_rollup_year if grain == "year" else case_rollup_month).c
            signed = ((literal(sign) * r[n]).label(n) if sign != 1 else r[n] for n in names)
            parts.append(select(r.unit_code.label("code"), *signed)
                         .where(*scope(r.unit_code), r[grain] >= lo.date(), r[grain] < hi.date()))
        elif level != "grid":
            d = case_rollup_day.c
            signed = ((literal(sign) * d[n]).label(n) for n in names)
            parts.append(select(d.unit_code.label("code"), *signed)
                         .where(*scope(d.unit_code), d.day >= lo.date(), d.day < hi.date()))
        else:
            counts = [col for col in case_count_columns(ROLLUP_INTERVENTION_SECONDS, INCIDENT_CATEGORIES)
                      if col.name in names]
            # integer, like the rollups' columns: a sum over bigint is PostgreSQL's numeric sum (slow)
            counts = [cast(col, Integer).label(col.name) for col in _signed(counts, sign)]
            parts.append(select(cases.c.grid_code.label("code"), *counts)
                         .where(*scope(cases.c.grid_code), cases.c.reported_at >= lo,
                                cases.c.reported_at < hi)
                         .group_by(cases.c.grid_code))
    if not grouped:
        return union_all(*parts) if len(parts) > 1 else parts[0]
    both = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    # bigint, not PostgreSQL's numeric sum of bigints (Decimals: slow to fetch and convert)
    sums = (cast(func.sum(both.c[i + 1]), BigInteger).label(n) for i, n in enumerate(names))
    return select(both.c.code, *sums).group_by(both.c.code)


def _level_parts(conn: Connection, *, unit_code: str, level: str, start: datetime, end: datetime,
                 now: datetime, filters: Filters, intervention_seconds: int, parts: tuple[str, ...],
                 rolled: frozenset, names: tuple[str, ...], grouped: bool = True,
                 root: bool | None = None):
    """``(members, {part: query})`` of :func:`level_counts`: the units of ``level`` below
    ``unit_code`` (code, name, parent_code, population), and each part's counts by ``code``
    (``grouped`` False: the period's counts may come in several rows per unit, to be summed).
    ``root``: whether ``unit_code`` is the one root (asked when None)."""
    below = select(unit_closure.c.descendant_code).where(unit_closure.c.ancestor_code == unit_code)
    if root is None:
        roots = select(units.c.code).where(units.c.parent_code.is_(None)).limit(2)
        root = conn.execute(roots).scalars().all() == [unit_code]

    def under(col):  # the one root has everything under it: no look-up of every unit below
        return [] if root else [col.in_(below)]

    level_codes = select(units.c.code).where(units.c.level == level, *under(units.c.code))
    members = select(units.c.code, units.c.name, units.c.parent_code, units.c.population).where(
        units.c.level == level, *under(units.c.code))
    if level == "grid":
        key, joined, cam_key, cam_joined = cases.c.grid_code, cases, cameras.c.grid_code, cameras
        scope = under(cases.c.grid_code)
        cam_scope = under(cameras.c.grid_code)
    else:
        link = unit_closure.alias("link")
        key = link.c.ancestor_code
        joined = cases.join(link, link.c.descendant_code == cases.c.grid_code)
        cam_key = key
        cam_joined = cameras.join(link, link.c.descendant_code == cameras.c.grid_code)
        scope = cam_scope = [key.in_(level_codes)]
    in_period = [cases.c.reported_at >= start, cases.c.reported_at < end]
    c = cases.c
    exact = bool(rolled) and intervention_seconds == ROLLUP_INTERVENTION_SECONDS and whole_days(start, end)
    if exact and level != "grid":  # every unit of the level rolled up (else the raw cases)
        unrolled = select(func.count()).select_from(units).where(
            units.c.level == level, *under(units.c.code), units.c.code.not_in(select(rollup_units.c.code)))
        exact = conn.execute(unrolled).scalar() == 0
    if exact and not filters.categories and not filters.sources:
        # Grids: every unit below (the members' join keeps the grids), no per-grid level check.
        scoped = under if level == "grid" else lambda col: [col.in_(level_codes)]
        period = _level_period_rollups(level, scoped, start, end, names, grouped=grouped)
    elif exact and level != "grid":
        r = case_rollup.c
        period = (select(r.unit_code.label("code"), *(func.sum(r[n]).label(n) for n in names))
                  .where(*_filtered([r.unit_code.in_(level_codes), r.day >= start.date(),
                                     r.day < end.date()], filters, case_rollup))
                  .group_by(r.unit_code))
    else:
        counted = [col for col in case_count_columns(intervention_seconds, INCIDENT_CATEGORIES)
                   if col.name in names]
        period = (select(key.label("code"), *counted)
                  .select_from(joined).where(*scope, *_filtered(list(in_period), filters)).group_by(key))
    queries = {
        "cases": period,
        "overdue": select(key.label("code"), func.count(c.id).label("overdue")).select_from(joined)
        .where(*scope, *_filtered([c.status.in_(vocab.OPEN_STATUSES), c.deadline < now], filters))
        .group_by(key),
        "cameras": select(cam_key.label("code"), func.count(cameras.c.id).label("cameras"),
                          _count_if(cameras.c.status == vocab.ONLINE, "cameras_online"))
        .select_from(cam_joined).where(*cam_scope).group_by(cam_key),
    }
    return members, {p: queries[p] for p in parts}


def level_counts(conn: Connection, *, unit_code: str, level: str, start: datetime, end: datetime,
                 now: datetime, filters: Filters = Filters(), intervention_seconds: int = 3600,
                 parts: tuple[str, ...] = ("cases", "overdue", "cameras"),
                 rolled: frozenset = frozenset(), names: tuple[str, ...] = CASE_COUNTS) -> pd.DataFrame:
    """The counts in ``ALL_COUNTS`` for each unit of ``level`` below ``unit_code`` (all of them, at
    any depth), indexed by code, with ``name`` and ``parent_code``. Units with nothing get zeros.

    ``parts`` chooses the queries: ``cases`` (the period's case counts), ``overdue`` (open past
    the deadline now), ``cameras``; a count whose part is left out is zero (a ranking by one
    indicator asks only for its part). At grid level the cases group by their own grid code;
    above it by the ancestor link. ``rolled``: the units the daily rollups answer for
    (``data.rollups.rolled_codes``, empty when they were built by another definition): with it the
    period's case counts come from the rollups when they are exact (whole days, the rollups'
    limit; no filters: the yearly and monthly rollups, edge days from the daily ones or the cases;
    category or source filters above the grids: the daily rollups by category and source).
    ``names``: the period's case counts to count (the others are zero: a ranking needs two or three).
    """
    members, queries = _level_parts(conn, unit_code=unit_code, level=level, start=start, end=end, now=now,
                                    filters=filters, intervention_seconds=intervention_seconds,
                                    parts=parts, rolled=rolled, names=names)
    rows = conn.execute(members.order_by(units.c.code)).all()
    frame = pd.DataFrame([tuple(m) for m in rows], columns=["code", "name", "parent_code", "population"])
    frame = frame.set_index("code").astype({"population": "float64"})
    if frame.empty:
        return frame.reindex(columns=["name", "parent_code", *ALL_COUNTS])
    for query in queries.values():
        result = conn.execute(query)  # plain tuples (pandas probes a Row slowly): 20,000 grids a city
        part = pd.DataFrame([tuple(r) for r in result.all()], columns=list(result.keys()))
        if not part.empty:
            frame = frame.join(part.set_index("code").astype("float64"), how="left")
    for name in ALL_COUNTS:
        if name not in frame:
            frame[name] = 0.0
    frame[list(ALL_COUNTS[:-1])] = frame[list(ALL_COUNTS[:-1])].fillna(0)
    return frame[["name", "parent_code", *ALL_COUNTS]]


def level_ranking(conn: Connection, *, unit_code: str, level: str, start: datetime, end: datetime,
                  now: datetime, numerator: str, denominator: str | None, scale: float, ascending: bool,
                  min_cases: int, limit: int, filters: Filters = Filters(), intervention_seconds: int = 3600,
                  parts: tuple[str, ...] = ("cases",), rolled: frozenset = frozenset(),
                  names: tuple[str, ...] = CASE_COUNTS, root: bool | None = None) -> dict:
    """The units of ``level`` below ``unit_code`` ranked by ``numerator / denominator * scale``
    (``numerator`` alone without a denominator; no value where the denominator is zero or empty),
    in the database: only the ``limit`` first rows leave it. The counts are :func:`level_counts`'s
    (same parts, same rollups); a unit takes part with at least ``min_cases`` cases and a value.
    Ties by more cases, then code. ``{"rows": [{code, name, parent_code, accepted, value}],
    "considered": N, "eligible": M}``. ``root``: whether ``unit_code`` is the one root (asked
    when None)."""
    members, queries = _level_parts(conn, unit_code=unit_code, level=level, start=start, end=end, now=now,
                                    filters=filters, intervention_seconds=intervention_seconds,
                                    parts=parts, rolled=rolled, names=names, grouped=False, root=root)
    subs = [q.subquery(name) for name, q in queries.items()]
    counted = [col.name for sub in subs for col in sub.c if col.name != "code"]
    # A unit without a row has every count zero: it can only take part with no denominator and no
    # minimum volume. Otherwise, at grid level, when the grids are exactly the units nothing is
    # rolled up into (the leaves: checked in the same statement), the rows of the units not in
    # ``rollup_units`` are the members': no list of members to add to every part's rows.
    # (A unit's population is the member list's: a metric per head needs it.)
    from_rows = {numerator, denominator} - {None} <= set(counted)
    if level == "grid" and rolled and from_rows and (denominator is not None or min_cases > 0):
        found = _leaf_ranking(conn, subs, counted, members, level=level, numerator=numerator,
                              denominator=denominator, scale=scale, ascending=ascending,
                              min_cases=min_cases, limit=limit)
        if found is not None:
            return found
    return _member_ranking(conn, subs, counted, members, numerator=numerator, denominator=denominator,
                           scale=scale, ascending=ascending, min_cases=min_cases, limit=limit)


def _integers(sub, counted) -> list:
    """``sub``'s counts in the order of ``counted`` (zero where it has none) as integers: summed,
    PostgreSQL's bigint would take its numeric sum (several times slower over 20,000 grids)."""
    return [cast(sub.c[n], Integer).label(n) if n in sub.c else literal(0).label(n) for n in counted]


def _rank_value(agg, numerator: str, denominator: str | None, scale: float):
    """``numerator / denominator * scale`` over ``agg``'s counts (a missing count is zero), in
    floating point, no value where the denominator is zero: as ``dashboard.indicators`` computes."""
    def count(name):
        return agg.c[name] if name in agg.c else literal(0)

    value = cast(count(numerator), Float)
    if denominator is not None:
        value = value / func.nullif(cast(count(denominator), Float), 0, type_=Float) * literal(scale, Float)
    return count("accepted"), value


def _rank_order(c, ascending: bool) -> list:
    return [c.value.asc() if ascending else c.value.desc(), c.accepted.desc(), c.code]


def _ranked_rows(found) -> list[dict]:
    return [{"code": f.code, "name": f.name, "parent_code": f.parent_code, "accepted": int(f.accepted),
             "value": float(f.value)} for f in found]


def _leaf_ranking(conn: Connection, subs, counted, members, *, level, numerator, denominator, scale,
                  ascending, min_cases, limit) -> dict | None:
    """:func:`level_ranking` from the parts' rows of the leaf units alone (no member list), or None
    when the units of ``level`` are not exactly the leaves (then the caller adds the members)."""
    every = union_all(*(select(sub.c.code, *_integers(sub, counted)) for sub in subs)).subquery("every")
    agg = (select(every.c.code, *(cast(func.sum(every.c[n]), BigInteger).label(n) for n in counted))
           .where(every.c.code.not_in(select(rollup_units.c.code)))
           .group_by(every.c.code).subquery("agg"))
    accepted, value = _rank_value(agg, numerator, denominator, scale)
    ranked = select(agg.c.code, accepted.label("accepted"), value.label("value")).subquery("ranked")
    r = ranked.c
    top = (select(r.code, r.accepted, r.value, func.count().over().label("n_eligible"))
           .where(r.accepted >= min_cases, r.value.isnot(None))
           .order_by(*_rank_order(r, ascending)).limit(limit).subquery("top"))
    # How many members there are, and whether any unit is a grid but not a leaf or the reverse.
    # One pass over the units: ``members`` selects from ``units`` alone, so its condition counts them.
    is_leaf = units.c.code.not_in(select(rollup_units.c.code))
    mismatched = or_(and_(units.c.level == level, ~is_leaf), and_(units.c.level != level, is_leaf))
    facts = select(func.coalesce(func.sum(case((members.whereclause, 1), else_=0)), 0).label("considered"),
                   func.coalesce(func.sum(case((mismatched, 1), else_=0)), 0).label("mismatched")
                   ).select_from(units).subquery("facts")
    t = top.c
    named = select(t.code, t.accepted, t.value, t.n_eligible, units.c.name, units.c.parent_code).join(
        units, units.c.code == t.code).subquery("named")
    n = named.c
    found = conn.execute(select(facts.c.considered, facts.c.mismatched, n.code, n.name, n.parent_code,
                                n.accepted, n.value, n.n_eligible)
                         .select_from(facts.outerjoin(named, literal(True)))
                         .order_by(*_rank_order(n, ascending))).all()
    if found[0].mismatched:
        return None
    rows = [f for f in found if f.code is not None]
    return {"rows": _ranked_rows(rows), "considered": int(found[0].considered),
            "eligible": int(rows[0].n_eligible) if rows else 0}


def _member_ranking(conn: Connection, subs, counted, members, *, numerator, denominator, scale, ascending,
                    min_cases, limit) -> dict:
    """:func:`level_ranking` over the members (with zeros) and every part's rows."""
    # One aggregate over the members (with zeros) and every part's rows, no join: the members are
    # what HAVING keeps; names and parents are joined to the few rows that leave.
    mem = members.subquery("members")
    rows = [select(mem.c.code, literal(1).label("member"), mem.c.population,
                   *(literal(0).label(n) for n in counted))]
    for sub in subs:
        rows.append(select(sub.c.code, literal(0), null(), *_integers(sub, counted)))
    every = union_all(*rows).subquery("every")
    agg = (select(every.c.code, func.max(every.c.population).label("population"),
                  *(cast(func.sum(every.c[n]), BigInteger).label(n) for n in counted))
           .group_by(every.c.code).having(func.max(every.c.member) == 1).subquery("agg"))
    accepted, value = _rank_value(agg, numerator, denominator, scale)
    eligible = and_(accepted >= min_cases, value.isnot(None))
    ranked = select(agg.c.code, accepted.label("accepted"), value.label("value"),
                    case((eligible, 1), else_=0).label("eligible")).subquery("ranked")
    r = ranked.c
    top = (select(r.code, r.accepted, r.value, r.eligible, func.count().over().label("considered"),
                  func.sum(r.eligible).over().label("n_eligible"))
           .order_by(r.eligible.desc(), *_rank_order(r, ascending)).limit(limit).subquery("top"))
    t = top.c
    found = conn.execute(select(t.code, units.c.name, units.c.parent_code, t.accepted, t.value, t.eligible,
                                t.considered, t.n_eligible)
                         .join(units, units.c.code == t.code)
                         .order_by(t.eligible.desc(), *_rank_order(t, ascending))).all()
    return {"rows": _ranked_rows(f for f in found if f.eligible),
            "considered": int(found[0].considered) if found else 0,
            "eligible": int(found[0].n_eligible or 0) if found else 0}


# --- sudden rises (the alarm list) ----------------------------------------------------------------


def window_counts(conn: Connection, *, unit_code: str, now: datetime, hours: int = 24, weeks: int = 4,
                  ) -> pd.DataFrame:
    """Cases per unit at every depth below (and including) ``unit_code``, per category, in the last
    ``hours`` before ``now`` (window 0) and in the same hours 1…``weeks`` weeks earlier.

    Columns ``code``, ``category``, ``window``, ``n``; only non-zero rows. The windows are a few
    days of cases in all: each is one range scan of the time index (only the unit's grids), and
    the counts are added up the hierarchy in the same statement through the closure, rather than
    by probing every grid of a city.
    """
    c = cases.c
    span = timedelta(hours=hours)
    parts = []
    for w in range(weeks + 1):
        start = now - timedelta(weeks=w) - span
        parts.append(select(c.grid_code, c.category, literal(w).label("window"))
                     .where(c.reported_at >= start, c.reported_at < start + span, c.grid_code.isnot(None),
                            _in_unit(unit_code)))
    windows = union_all(*parts).subquery("windows")
    up = unit_closure.alias("up")
    below = select(unit_closure.c.descendant_code).where(unit_closure.c.ancestor_code == unit_code)
    n = func.count()
    query = (
        select(up.c.ancestor_code, windows.c.category, windows.c.window, n.label("n"))
        .select_from(windows.join(up, up.c.descendant_code == windows.c.grid_code))
        .where(up.c.ancestor_code.in_(below))
        .group_by(up.c.ancestor_code, windows.c.category, windows.c.window)
        .order_by(up.c.ancestor_code, windows.c.category, windows.c.window)
    )
    # Plain tuples: pandas probing each SQLAlchemy row for attributes cost more than the query.
    frame = pd.DataFrame([tuple(r) for r in conn.execute(query)], columns=["code", "category", "window", "n"])
    return frame.astype({"window": "int64", "n": "int64"}) if len(frame) else frame


def units_by_code(conn: Connection, codes) -> dict[str, dict]:
    """The named units (with their level), by code."""
    codes = list(codes)
    found = {}
    for i in range(0, len(codes), 900):
        for r in conn.execute(select(*_UNIT_COLUMNS).where(units.c.code.in_(codes[i:i + 900]))).mappings():
            found[r["code"]] = dict(r)
    return found


def ancestor_links(conn: Connection, codes) -> pd.DataFrame:
    """``ancestor_code``, ``descendant_code``, ``depth`` for every unit in ``codes``."""
    codes = list(codes)
    rows = []
    for i in range(0, len(codes), 900):
        rows += conn.execute(select(unit_closure.c.ancestor_code, unit_closure.c.descendant_code,
                                    unit_closure.c.depth)
                             .where(unit_closure.c.descendant_code.in_(codes[i:i + 900]))).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["ancestor_code", "descendant_code", "depth"])
