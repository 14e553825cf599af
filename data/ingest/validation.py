"""Validation rules for imported records: each names the record (row number and id) and the field.

A rule looks at a whole column at once (a million rows take seconds, not minutes) and adds one
:class:`Problem` per bad value to a :class:`Problems` list. Errors reject their row; warnings
(a repaired polygon, a point outside every grid) keep it and are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
        parsed = to_local_times(raw.where(present, None), timezone)
        bad = present & parsed.isna().to_numpy()
        problems.add(bad, column, lambda i, raw=raw: f"无法解析的时间 unparseable time {raw.iloc[i]!r} "
                     "(use YYYY-MM-DD HH:MM[:SS])")
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
                  minimum: float | None = 0) -> None:
    """Parse numeric columns in place; text that is not a number (or below ``minimum``) is an error."""
    for column in columns:
        if column not in frame:
            continue
        raw = frame[column]
        present = ~_blank(raw)
        parsed = pd.to_numeric(raw.where(present, None), errors="coerce")
        bad = present & parsed.isna().to_numpy()
        if integer:
            bad |= present & parsed.notna().to_numpy() & (parsed.fillna(0) % 1 != 0).to_numpy()
        if minimum is not None:
            bad |= parsed.notna().to_numpy() & (parsed.fillna(minimum) < minimum).to_numpy()
        kind = "整数 a whole number" if integer else "数值 a number"
        floor = "" if minimum is None else f" ≥ {minimum:g}"
        problems.add(bad, column, lambda i, raw=raw, kind=kind, floor=floor: f"应为{kind}{floor}, "
                     f"got {raw.iloc[i]!r}")
        frame[column] = parsed.astype("Int64") if integer and not bad.any() else parsed


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
