"""The few SQL expressions whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement):
    """Seconds from the first timestamp to the second (NULL when either is NULL), to the millisecond.

    SQLite keeps times to the millisecond and its ``julianday`` difference carries float noise
    (600 s comes out as 599.99996 or 600.00004), so both stores round to milliseconds: a case
    handled exactly at the limit counts the same on both.
    """

    type = Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"ROUND((julianday({end}) - julianday({start})) * 86400.0, 3)"


@compiles(seconds_between, "postgresql")
def _seconds_pg(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    # date_part gives float8 (EXTRACT gives numeric, slower to sum over many rows).
    return f"(round(date_part('epoch', {end} - {start}) * 1000) / 1000)"


class day_of(FunctionElement):
    """The calendar day of a timestamp, as 'YYYY-MM-DD' text on both stores."""

    type = String()
    inherit_cache = True
    name = "day_of"


@compiles(day_of, "sqlite")
def _day_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(day_of, "postgresql")
def _day_pg(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"



class hour_of(FunctionElement):
    """The hour of day (0–23) of a timestamp, as an integer on both stores."""

    type = Integer()
    inherit_cache = True
    name = "hour_of"


@compiles(hour_of, "sqlite")
def _hour_sqlite(element, compiler, **kw):
    return f"CAST(strftime('%H', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(hour_of, "postgresql")
def _hour_pg(element, compiler, **kw):
    return f"CAST(date_part('hour', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


class date_of(FunctionElement):
    """The calendar day of a timestamp as a date (what ``case_rollup.day`` holds on each store)."""

    type = Date()
    inherit_cache = True
    name = "date_of"


@compiles(date_of, "sqlite")
def _date_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(date_of, "postgresql")
def _date_pg(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS date)"


class month_of(FunctionElement):
    """The first day of a timestamp's month as a date (what ``case_rollup_month.month`` holds)."""

    type = Date()
    inherit_cache = True
    name = "month_of"


@compiles(month_of, "sqlite")
def _month_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


@compiles(month_of, "postgresql")
def _month_pg(element, compiler, **kw):
    return f"CAST(date_trunc('month', {compiler.process(element.clauses, **kw)}) AS date)"


class year_of(FunctionElement):
    """The first day of a timestamp's year as a date (what ``case_rollup_year.year`` holds)."""

    type = Date()
    inherit_cache = True
    name = "year_of"


@compiles(year_of, "sqlite")
def _year_sqlite(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)}, 'start of year')"


@compiles(year_of, "postgresql")
def _year_pg(element, compiler, **kw):
    return f"CAST(date_trunc('year', {compiler.process(element.clauses, **kw)}) AS date)"
