"""Validation rules for imported records: each names the record (row number and id) and the field.

A rule looks at a whole column at once (a million rows take seconds, not minutes) and adds one
:class:`Problem` per bad value to a :class:`Problems` list. Errors reject their row; warnings
(a repaired polygon, a point outside every grid) keep it and are reported.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import String, Text

from dashboard import limits
from data.ingest.values import plain
from geo import repair
from geo.crs import SourceCRS, implausible

ERROR, WARNING = "error", "warning"
_SHOWN_CHOICES = 12


@dataclass(frozen=True)
class Problem:
    row: int  # 1-based record number in the file (or position in an API batch)
    record: str | None  # the record's id or code, when it has one
    field: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        who = f"第 {self.row} 条 row {self.row}" + (f" ({self.record})" if self.record else "")
        kind = "错误 error" if self.severity == ERROR else "提示 warning"
        return f"{kind}: {who}, 字段 field {self.field}: {self.message}"

    def as_dict(self) -> dict:
        return {"row": self.row, "id": self.record, "field": self.field, "message": self.message,
                "severity": self.severity}


@dataclass
class Problems:
    """Problems found in one frame; ``ids`` labels each row (its code or external id)."""

    ids: pd.Series
    rows: np.ndarray  # the 1-based record number of each position
    items: list[Problem] = field(default_factory=list)

    @classmethod
    def for_frame(cls, frame: pd.DataFrame, id_column: str, first_row: int = 1) -> Problems:
        ids = frame[id_column] if id_column in frame else pd.Series([None] * len(frame), index=frame.index)
        ids = pd.Series(plain(ids), dtype=object)
        return cls(ids=ids, rows=np.arange(first_row, first_row + len(frame)))

    def add(self, mask, field_name: str, message, severity: str = ERROR) -> None:
        """One problem per True in ``mask``; ``message`` is text or a function of the position."""
        for i in np.flatnonzero(np.asarray(mask, dtype=bool)):
            text = message(i) if callable(message) else message
            record = self.ids.iloc[i]
            self.items.append(Problem(int(self.rows[i]), None if record is None else str(record),
                                      field_name, text, severity))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == WARNING]

    def bad_positions(self) -> np.ndarray:
        """Positions (0-based) of rows with at least one error."""
        rows = sorted({p.row for p in self.errors})
        return np.asarray(rows, dtype=int) - int(self.rows[0]) if len(self.rows) else np.asarray([], int)


def _blank(series: pd.Series) -> np.ndarray:
    return np.array([v is None or (isinstance(v, str) and not v.strip()) for v in plain(series)], dtype=bool)


def required(frame: pd.DataFrame, columns, problems: Problems) -> None:
    """Columns that every record must fill."""
    for column in columns:
        if column not in frame:
            problems.add(np.ones(len(frame), bool), column, "缺少必填字段 required field is missing "
                         "(map it with --field)")
        else:
            problems.add(_blank(frame[column]), column, "必填字段为空 required value is empty")


def duplicates(frame: pd.DataFrame, column: str, problems: Problems) -> None:
    """A code or id may appear once in a file."""
    if column not in frame:
        return
    values = frame[column]
    dup = values.duplicated(keep=False).to_numpy() & values.notna().to_numpy()
    if dup.any():
        first = {}
        for i in np.flatnonzero(dup):
            first.setdefault(values.iloc[i], int(problems.rows[i]))
        problems.add(dup, column, lambda i: f"编码重复 duplicate code {values.iloc[i]!r} "
                     f"(first at row {first[values.iloc[i]]})")


def vocabulary(frame: pd.DataFrame, column: str, allowed, problems: Problems, *, option: str) -> None:
    """Values must come from the controlled vocabulary; the message names the mapping option."""
    if column not in frame:
        return
    values = frame[column]
    present = ~_blank(values)
    bad = present & ~values.isin(list(allowed)).to_numpy()
    shown = "、".join(list(allowed)[:_SHOWN_CHOICES])
    problems.add(bad, column, lambda i: f"未知取值 unknown {column} {values.iloc[i]!r}; "
                 f"可选 allowed: {shown}; 可用 {option} {values.iloc[i]}=… 映射 (map it)")


def parse_times(frame: pd.DataFrame, columns, problems: Problems, timezone: str) -> None:
    """Parse time columns in place (naive local time); unparseable values are errors."""
    for column in columns:
        if column not in frame:
            continue
        raw = frame[column]
        present = ~_blank(raw)
        # A number is not a time: 1700000000 would be read as nanoseconds after 1970.
        numeric = np.array([not isinstance(v, str | datetime | date) and v is not None
                            for v in plain(raw)], dtype=bool) & present
        problems.add(numeric, column, lambda i, raw=raw: f"应为日期时间文本 must be a date-time text such "
                     f"as 2026-03-02 09:00 (not a number), got {raw.iloc[i]!r}")
        parsed = to_local_times(raw.where(present & ~numeric, None), timezone)
        bad = present & ~numeric & parsed.isna().to_numpy()
        problems.add(bad, column, lambda i, raw=raw: f"无法解析的时间 unparseable time {raw.iloc[i]!r} "
                     "(use YYYY-MM-DD HH:MM[:SS])")
        lo, hi = limits.current().min_year, limits.current().max_year
        years = parsed.dt.year.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            far = parsed.notna().to_numpy() & ((years < lo) | (years > hi))
        problems.add(far, column, lambda i, raw=raw, lo=lo, hi=hi: f"年份超出 {lo}–{hi} year outside "
                     f"{lo}–{hi}: {raw.iloc[i]!r}")
        parsed[far] = pd.NaT
        frame[column] = parsed


def to_local_times(values: pd.Series, timezone: str) -> pd.Series:
    """Times as naive local datetimes; zone-aware values are converted to ``timezone``."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        text = pd.Series([v.strip() if isinstance(v, str) else v for v in plain(values)],
                         index=values.index, dtype=object)
        try:
            parsed = pd.to_datetime(text, errors="coerce")
            retry = parsed.isna() & text.notna()
            if retry.any():
                again = pd.to_datetime(text[retry], errors="coerce", format="mixed")
                if getattr(again.dt, "tz", None) is not None or getattr(parsed.dt, "tz", None) is not None:
                    raise ValueError("mixed zones")
                parsed = parsed.astype("datetime64[ns]")
                parsed[retry] = again
        except (ValueError, TypeError):
            parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
    return parsed.astype("datetime64[us]")


def parse_numbers(frame: pd.DataFrame, columns, problems: Problems, *, integer: bool,
                  minimum: float | None = 0, maximum: float | None = None) -> None:
    """Parse numeric columns in place; text that is not a number, a true/false, a non-finite
    value, or one below ``minimum`` or beyond ``maximum`` (default: what an INTEGER column holds)
    is an error."""
    maximum = float(limits.current().max_integer) if maximum is None else maximum
    for column in columns:
        if column not in frame:
            continue
        raw = frame[column]
        present = ~_blank(raw)
        flags = np.array([isinstance(v, bool | np.bool_) for v in plain(raw)], dtype=bool)
        parsed = pd.to_numeric(raw.where(present & ~flags, None), errors="coerce").astype(float)
        bad = present & (flags | parsed.isna().to_numpy())
        numbers = parsed.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad |= present & ~np.isnan(numbers) & ~np.isfinite(numbers)
            if integer:
                bad |= present & np.isfinite(numbers) & (np.mod(numbers, 1) != 0)
            if minimum is not None:
                bad |= np.isfinite(numbers) & (numbers < minimum)
            bad |= np.isfinite(numbers) & (np.abs(numbers) > maximum)
        kind = "整数 a whole number" if integer else "数值 a number"
        floor = "" if minimum is None else f" ≥ {minimum:g}"
        problems.add(bad, column, lambda i, raw=raw, kind=kind, floor=floor: f"应为{kind}{floor} 且不超过 "
                     f"{maximum:g} (at most {maximum:g}), got {raw.iloc[i]!r}")
        parsed[bad] = np.nan
        frame[column] = parsed.astype("Int64") if integer else parsed


def geometries(geoms, kind: str, crs: SourceCRS, problems: Problems, *, optional: bool = False):
    """Check and repair geometries (already converted to storage lon/lat); the repaired array."""
    fixed, status = repair.check(geoms, kind)
    expected = {"polygon": "面 Polygon/MultiPolygon", "point": "点 Point",
                "any": "点或面 Point or Polygon"}[kind]
    if not optional:
        problems.add(status == repair.MISSING, "geometry", "缺少几何 geometry is missing")
    problems.add(status == repair.EMPTY, "geometry", "几何为空 geometry is empty")
    problems.add(status == repair.WRONG_TYPE, "geometry",
                 lambda i: f"几何类型错误 wrong geometry type {fixed[i].geom_type}, expected {expected}")
    problems.add(status == repair.UNREPAIRABLE, "geometry",
                 "几何无效且无法修复 invalid geometry, cannot repair")
    problems.add(status == repair.REPAIRED, "geometry",
                 "几何无效，已修复 invalid geometry (e.g. a self-intersecting ring) repaired with make_valid",
                 severity=WARNING)
    usable = np.isin(status, [repair.OK, repair.REPAIRED])
    far = usable & implausible(fixed, crs)
    problems.add(far, "geometry", lambda i: f"坐标超出 {crs.label} 的合理范围 coordinates implausible for "
                 f"{crs.label} (bounds {_bounds_text(fixed[i])}; swapped lon/lat or wrong --crs?)")
    fixed = fixed.copy()
    fixed[~usable | far] = None
    return fixed


def _bounds_text(geom) -> str:
    x0, y0, x1, y1 = geom.bounds
    return f"{x0:.6g},{y0:.6g}" if (x0, y0) == (x1, y1) else f"{x0:.6g},{y0:.6g} – {x1:.6g},{y1:.6g}"


def hierarchy(frame: pd.DataFrame, stored_parents: dict, problems: Problems) -> None:
    """Every parent must exist (in the file or the store), and the hierarchy must have no cycle."""
    if "code" not in frame or "parent_code" not in frame:
        return
    codes, parents = plain(frame["code"]), plain(frame["parent_code"])
    parent_of = dict(stored_parents)
    parent_of.update({c: p for c, p in zip(codes, parents, strict=True) if c is not None})
    known = set(parent_of)
    unknown = np.array([p is not None and p not in known for p in parents], dtype=bool)
    problems.add(unknown, "parent_code", lambda i: f"上级单元不存在 unknown parent {parents[i]!r} "
                 "(not in this file nor in the store)")
    in_cycle = {}
    for code in set(c for c in codes if c is not None):
        trail, node = [], code
        while node is not None and node not in trail and node not in in_cycle:
            trail.append(node)
            node = parent_of.get(node)
        if node is not None and node in trail:
            loop = trail[trail.index(node):]
            for member in loop:
                in_cycle[member] = " → ".join(loop + [node])
    mask = np.array([c in in_cycle for c in codes], dtype=bool)
    problems.add(mask, "parent_code", lambda i: f"层级存在循环 cycle in the hierarchy: {in_cycle[codes[i]]}")


def text_fields(frame: pd.DataFrame, table, problems: Problems) -> None:
    """Text no longer than its column allows (the schema's ``String(n)``; ``description`` and other
    ``Text`` columns: ``CITYBRAIN_MAX_DESCRIPTION_CHARS``) and free of NUL characters, checked
    before writing so both stores refuse the same records."""
    for column in frame.columns:
        if column not in table.c or not isinstance(table.c[column].type, String | Text):
            continue
        type_ = table.c[column].type
        most = type_.length if type_.length else limits.current().max_description_chars
        values = plain(frame[column])
        nul = np.array([isinstance(v, str) and "\x00" in v for v in values], dtype=bool)
        problems.add(nul, column, "含 NUL 字符 holds a NUL character (\\u0000)")
        lengths = np.array([len(v) if isinstance(v, str) else 0 for v in values])
        problems.add(lengths > most, column, lambda i, lengths=lengths, most=most:
                     f"过长 too long: {lengths[i]:,} 字符 characters, at most {most:,}")


def projected_degrees(raw_geoms, crs: SourceCRS, problems: Problems) -> np.ndarray:
    """Coordinates that look like degrees in a projected CRS (metres): an error, since they would
    land near the projection's origin. The mask of such rows."""
    geoms = np.asarray(raw_geoms, dtype=object)
    mask = np.zeros(len(geoms), dtype=bool)
    if crs.geographic or len(geoms) == 0:
        return mask
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if present.any():
        b = shapely.bounds(geoms[present])
        with np.errstate(invalid="ignore"):
            mask[present] = ((np.abs(b[:, [0, 2]]) <= 180).all(axis=1)
                             & (np.abs(b[:, [1, 3]]) <= 90).all(axis=1))
    problems.add(mask, "geometry", lambda i: f"坐标像是经纬度 coordinates look like degrees "
                 f"({_bounds_text(geoms[i])}) but {crs.label} is in metres; use crs 4326 (or --crs 4326)")
    return mask


def grid_codes(frame: pd.DataFrame, points, levels: dict, parents: set, contains, problems: Problems) -> None:
    """A record's ``grid_code`` must name a grid (a unit with no children) and, with a point, the
    grid the point lies in. ``contains(codes, points)`` says, per pair, whether the named grid
    holds the point (within a few centimetres, for points on a shared edge)."""
    if "grid_code" not in frame:
        return
    codes = plain(frame["grid_code"])
    named = np.array([c is not None and c in levels for c in codes], dtype=bool)
    not_grid = named & np.array([c in parents for c in codes], dtype=bool)
    problems.add(not_grid, "grid_code", lambda i: f"{codes[i]!r} 不是网格 is a {levels[codes[i]]} unit, "
                 "not a "
                 "grid (a unit with no children): give the grid's code, or leave grid_code empty and "
                 "send the point")
    points = np.asarray(points, dtype=object)
    check = named & ~not_grid & ~shapely.is_missing(points)
    if not check.any():
        return
    idx = np.flatnonzero(check)
    inside = np.asarray(contains([codes[i] for i in idx], points[idx]), dtype=bool)
    wrong = np.zeros(len(frame), dtype=bool)
    wrong[idx[~inside]] = True
    problems.add(wrong, "grid_code", lambda i: f"点不在网格 {codes[i]} 内 the point lies outside grid_code "
                 f"{codes[i]!r}: send the grid the point is in, or omit grid_code (it is found from the "
                 "point)")


def finite_number(value) -> bool:
    """A JSON number that is a real, finite number (true/false are not numbers)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
