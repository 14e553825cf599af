"""Bringing a city's own files in: read (``read``), map fields and values (``mapping``), convert
coordinates, validate (``validation``), upsert (``upsert``, through the store).

``run_import(store, kind, path, options)`` is what ``citybrain import units|cases|cameras|places``
runs; ``ingest_cases(store, records, …)`` is what ``POST /api/v1/cases`` runs. Both use the same
preparation and rules (``data.ingest.validation``), and write in one transaction through the store's
upsert (``Store.upsert_*``): re-importing a file changes nothing, a changed record is updated,
a status change appends to the case history. Bad rows sink the whole import (nothing is
written) unless ``skip_invalid``, which lands the good rows and writes the bad ones to a reject
file with their reasons.
"""

from __future__ import annotations

import csv
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select

from dashboard import vocab
from dashboard.domain import local_now
from data import schema
from data.ingest import validation
from data.ingest.mapping import (
    CODE_FIELDS,
    FIELDS,
    apply_splits,
    code_text,
    map_fields,
    map_values,
    open_vocabulary,
)
from data.ingest.read import read_file
from data.ingest.upsert import UpsertResult
from data.ingest.validation import WARNING, Problems
from data.stores.base import Store
from geo.crs import CRS_CHOICES, SourceCRS, parse_crs, to_storage

KINDS = ("units", "cases", "cameras", "places", "stats", "workers", "household-risk",
         "special-populations", "surveys", "police")
KEYS = {"units": "code", "cases": "external_id", "cameras": "id", "places": "id", "stats": "code",
        "workers": "id", "police": "id"}
TABLES = {"units": schema.units, "cases": schema.cases, "cameras": schema.cameras,
          "places": schema.key_places, "stats": schema.units, "workers": schema.grid_workers,
          "household-risk": schema.sensitive_counts, "special-populations": schema.sensitive_counts,
          "surveys": schema.survey_indicators, "police": schema.police_cases}
GEOMETRY_KIND = {"units": "polygon", "cases": "point", "cameras": "point", "places": "any",
                 "police": "point"}
# Kinds whose records may name the unit they belong to (``unit_code``, or ``unit_name`` when one
# unit has that name): for cases and police cases, instead of a point or a grid (a record of a
# street or a village); for the other kinds, always.
UNIT_ATTACHED = {"cases", "police", "workers", "household-risk", "special-populations", "surveys"}
# Sensitive topics: rows are summed per unit and group on import; no row is stored.
SENSITIVE = {"household-risk": vocab.HOUSEHOLD_RISK, "special-populations": vocab.SPECIAL_POPULATION}
# Controlled vocabularies: field -> (allowed values, the option that maps them).
VOCABULARY = {
    "units": {"level": (vocab.LEVELS, "--map-level")},
    "cases": {"category": (tuple(vocab.CATEGORIES), "--map-category"),
              "status": (vocab.STATUSES, "--map-status"),
              "resolved_level": (vocab.RESOLVED_LEVELS, "--map resolved_level:"),
              "risk_level": (vocab.RISK_LEVELS, "--map risk_level:"),
              "satisfaction": (vocab.SATISFACTIONS, "--map satisfaction:"),
              "outcome": (vocab.OUTCOMES, "--map outcome:")},
    "cameras": {"status": ((vocab.ONLINE, vocab.OFFLINE), "--map-status")},
    "household-risk": {"group_name": (vocab.HOUSEHOLD_RISK_LEVELS, "--map group_name:")},
    "surveys": {"indicator": (vocab.SURVEY_INDICATORS, "--map indicator:")},
    "police": {"kind": (vocab.POLICE_KINDS, "--map-kind")},
}
# Open vocabularies: the feed's word is kept in ``<field>_raw``, its group goes in ``field``.
OPEN_VOCABULARY = {
    "cases": {"source": (vocab.SOURCES, vocab.SYNONYMS["source"])},
    "cameras": {"kind": (vocab.CAMERA_KINDS, vocab.SYNONYMS["camera_kind"])},
    "places": {"kind": (vocab.PLACE_KINDS, vocab.SYNONYMS["place_kind"])},
    "workers": {"role": (vocab.WORKER_ROLES, vocab.WORKER_SYNONYMS)},
}
REQUIRED = {
    "units": ("code", "name", "level"),
    "cases": ("external_id", "category", "source", "reported_at", "status"),
    "cameras": ("id", "kind", "status"),
    "places": ("id", "name", "kind"),
    "stats": ("code",),
    "workers": ("id", "role"),
    "household-risk": ("group_name",),
    "special-populations": ("group_name",),
    "surveys": ("indicator", "value"),
    "police": ("id", "kind", "reported_at"),
}
TIMES = {"cases": ("reported_at", "assigned_at", "handled_at", "responded_at", "closed_at", "deadline"),
         "cameras": ("last_seen",), "surveys": ("period_start", "period_end"),
         "police": ("reported_at",)}
INTEGERS = {"units": ("population", "households", "staff_full", "staff_part", "houses", "buildings"),
            "cases": ("returned_count",),
            "stats": ("population", "households", "houses", "buildings"),
            "household-risk": ("count",), "special-populations": ("count",), "surveys": ("year",)}
FLOATS = {"units": ("area_km2",), "cameras": ("heading", "fov", "range_m"), "surveys": ("value",)}
# Levels below the top that need a parent: a grid file without a parent column would otherwise
# land as hundreds of root units.
NEEDS_PARENT = ("street", "community", "grid")


LIVE = "live"  # ``write(as_of=LIVE)``: a live write forgets the recorded export time


class ImportRejected(ValueError):
    """The input has errors and partial landing was not asked for: nothing was written."""

    def __init__(self, report: ImportReport):
        self.report = report
        errors = report.errors
        super().__init__(f"{len(errors)} 处错误，未写入任何数据 {len(errors)} errors, nothing written:\n"
                         + "\n".join(str(p) for p in errors[:20])
                         + (f"\n… {len(errors) - 20} more" if len(errors) > 20 else ""))


@dataclass
class ImportOptions:
    """How to read one file. ``fields`` maps store field → file column; ``values`` maps, per
    store field, a file value → the store's value (``{"category": {"纠纷": "矛盾纠纷"}}``)."""

    crs: str | None = None
    fields: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    layer: str | None = None
    encoding: str | None = None
    lon: str | None = None
    lat: str | None = None
    level: str | None = None  # units: every row is this level
    parent: str | None = None  # units: every row without a parent has this one
    dry_run: bool = False
    skip_invalid: bool = False
    rejects: str | None = None
    timezone: str = "Asia/Shanghai"
    actor: str = "import"
    chunk_rows: int = 100_000
    constants: dict = field(default_factory=dict)  # --set FIELD=VALUE: the same value on every row
    splits: list = field(default_factory=list)  # --split F1,F2=COLUMN:SEP (mapping.parse_splits)
    as_of: str | None = None  # cases: when the export was taken (default: its newest time)


@dataclass
class ImportReport:
    kind: str
    source: str
    crs: str = "EPSG:4326"
    rows: int = 0
    rejected: int = 0
    problems: list = field(default_factory=list)
    result: UpsertResult = field(default_factory=UpsertResult)
    outside_grid: int = 0  # points in no grid, counted at the lowest unit containing them
    no_unit: int = 0  # points in no unit at all
    ignored_columns: list = field(default_factory=list)
    unmapped: dict = field(default_factory=dict)  # field -> {word: rows} sent to 其他
    as_of: str | None = None  # the export time recorded (cases)
    repaired: int = 0
    dry_run: bool = False
    written: bool = False
    rejects_file: str | None = None
    seconds: float = 0.0

    @property
    def errors(self) -> list:
        return [p for p in self.problems if p.severity == validation.ERROR]

    @property
    def warnings(self) -> list:
        return [p for p in self.problems if p.severity == WARNING]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "source": self.source, "crs": self.crs, "rows": self.rows,
                "accepted": self.rows - self.rejected, "rejected": self.rejected,
                "outside_grid": self.outside_grid, "no_unit": self.no_unit,
                "ignored_columns": self.ignored_columns, "unmapped": self.unmapped,
                "as_of": self.as_of, "repaired": self.repaired, "dry_run": self.dry_run,
                "written": self.written, **self.result.as_dict(),
                "errors": [p.as_dict() for p in self.errors],
                "warnings": [p.as_dict() for p in self.warnings]}

    def summary(self) -> str:
        r = self.result
        verb = "将" if self.dry_run else "已"
        lines = [
            f"{self.source} → {self.kind} ({self.crs}): {self.rows:,} 行 rows, 接受 accepted "
            f"{self.rows - self.rejected:,}, 拒绝 rejected {self.rejected:,}",
            f"{verb}新增 inserted {r.inserted:,}, {verb}更新 updated {r.updated:,}, 未变 unchanged "
            f"{r.unchanged:,}, 状态记录 events {r.events:,}"
            + (f", 补配网格 re-assigned {r.reassigned:,}" if r.reassigned else ""),
        ]
        if self.outside_grid:
            lines.append(f"不在任何网格内，计入包含它的最低一级单元 outside every grid, counted at the "
                         f"lowest unit containing it: {self.outside_grid:,}")
        if self.no_unit:
            lines.append(f"不在任何单元内（已保留，未计入任何单元） outside every unit (kept, counted "
                         f"nowhere): {self.no_unit:,}")
        for column in self.ignored_columns:
            lines.append(f"已忽略的列 ignored column: {column}")
        for name, words in self.unmapped.items():
            listed = "、".join(f"{w}（{n}）" for w, n in words.items())
            lines.append(f"未映射的{name}取值，已归入“其他” unmapped {name} words (grouped as 其他): "
                         f"{listed}; 可用 --map {name}:词=分组 映射")
        if self.as_of:
            lines.append(f"数据时点 data as of: {self.as_of}（超期按此时点计算 overdue counted at it）")
        if self.repaired:
            lines.append(f"几何已修复 geometries repaired: {self.repaired:,}")
        if self.rejects_file:
            lines.append(f"拒绝的行及原因 rejected rows with reasons: {self.rejects_file}")
        if self.dry_run:
            lines.append("试运行，未写入 dry run: nothing written")
        return "\n".join(lines)


class Progress:
    """Rows done, rows per second and rejects so far, on stderr, at most every ``every`` seconds."""

    def __init__(self, stream=sys.stderr, every: float = 1.0):
        self.stream, self.every = stream, every
        self.started = time.perf_counter()
        self._last = 0.0

    def __call__(self, stage: str, done: int, total: int, rejects: int, *, force: bool = False) -> None:
        now = time.perf_counter()
        if self.stream is None or (not force and now - self._last < self.every and done < total):
            return
        self._last = now
        rate = done / max(now - self.started, 1e-9)
        print(f"[{now - self.started:6.1f}s] {stage}: {done:,}/{total:,} 行 rows, {rate:,.0f} 行/秒 rows/s, "
              f"拒绝 rejects {rejects:,}", file=self.stream, flush=True)


# --- preparing -----------------------------------------------------------------------------------


@dataclass
class Prepared:
    frame: pd.DataFrame  # store columns, validated rows and rejected rows alike (``geom`` WKB)
    problems: Problems
    outside_grid: int = 0
    no_unit: int = 0
    repaired: int = 0
    unmapped: dict = field(default_factory=dict)


def prepare(store: Store, kind: str, frame: pd.DataFrame, crs: SourceCRS, options: ImportOptions,
            *, first_row: int = 1) -> Prepared:
    """Map values, parse, validate and convert ``frame`` (already in store field names)."""
    frame = frame.copy().reset_index(drop=True)
    key = KEYS.get(kind, "unit_code")
    for name, value in options.constants.items():
        frame[name] = value if name not in frame else frame[name].fillna(value)
    for column in CODE_FIELDS:
        if column in frame:
            frame[column] = code_text(frame[column])
    if kind == "units":
        if options.level:
            frame["level"] = options.level if "level" not in frame else frame["level"].fillna(options.level)
        if options.parent:
            frame["parent_code"] = (options.parent if "parent_code" not in frame
                                    else frame["parent_code"].fillna(options.parent))
        if "level" in frame:  # 村 and 社区 are both `community`: keep which one
            words = frame["level"].map(
                lambda v: vocab.UNIT_KINDS.get(v.strip()) if isinstance(v, str) else None)
            frame["kind"] = words if "kind" not in frame else frame["kind"].fillna(words)
    open_fields = OPEN_VOCABULARY.get(kind, {})
    map_values(frame, kind, {c: m for c, m in options.values.items() if c not in open_fields})
    unmapped = {}
    for column, (allowed, synonyms) in open_fields.items():
        if column in frame:
            words = open_vocabulary(frame, column, allowed, synonyms, options.values.get(column) or {})
            if words:
                unmapped[column] = words
    problems = Problems.for_frame(frame, key, first_row)
    validation.text_fields(frame, TABLES[kind], problems)
    validation.required(frame, REQUIRED[kind], problems)
    if kind in KEYS:
        validation.duplicates(frame, key, problems)
    for column, (allowed, option) in VOCABULARY.get(kind, {}).items():
        validation.vocabulary(frame, column, allowed, problems, option=option)
    validation.parse_times(frame, TIMES.get(kind, ()), problems, options.timezone)
    validation.parse_numbers(frame, INTEGERS.get(kind, ()), problems, integer=True)
    validation.parse_numbers(frame, FLOATS.get(kind, ()), problems, integer=False)

    with store.engine.connect() as conn:
        rows = conn.execute(select(schema.units.c.code, schema.units.c.parent_code,
                                   schema.units.c.level, schema.units.c.name)).all()
    stored = {r.code: r.parent_code for r in rows}
    names = pd.DataFrame([(r.code, r.name) for r in rows], columns=["code", "name"])
    attach = kind in UNIT_ATTACHED
    if attach:
        _resolve_unit_names(frame, names, problems)
        if "unit_code" in frame:
            unit = frame["unit_code"]
            unknown = unit.notna().to_numpy() & ~unit.isin(list(stored)).to_numpy()
            problems.add(unknown, "unit_code", lambda i: f"单元不存在 unknown unit {unit.iloc[i]!r}")
        else:
            frame["unit_code"] = None
    if kind == "stats":
        unknown = frame["code"].notna().to_numpy() & ~frame["code"].isin(list(stored)).to_numpy()
        problems.add(unknown, "code", lambda i: f"单元不存在 unknown unit {frame['code'].iloc[i]!r} "
                     "(import its boundary with `citybrain import units` first)")

    if kind not in GEOMETRY_KIND:
        frame.pop("geometry")
        if attach:
            problems.add(frame["unit_code"].isna().to_numpy(), "unit_code",
                         "缺少所属单元 no unit (give a unit code or a unit name)")
        if kind == "surveys":
            _survey_periods(frame, problems)
            key = frame["unit_code"].astype(str) + "|" + frame["indicator"].astype(str) + "|" + \
                frame["period_start"].astype(str)
            dup = key.duplicated(keep=False).to_numpy() & frame["period_start"].notna().to_numpy()
            problems.add(dup, "period_start", lambda i: "同一单元、指标和时段重复 the same unit, "
                         f"indicator and period appear twice ({key.iloc[i]})")
        return Prepared(frame, problems, unmapped=unmapped)

    raw_geoms = frame.pop("geometry").to_numpy(dtype=object)
    validation.projected_degrees(raw_geoms, crs, problems)
    geoms = to_storage(raw_geoms, crs)
    has_grid = frame["grid_code"].notna().to_numpy() if "grid_code" in frame else np.zeros(len(frame), bool)
    if attach:
        has_grid = has_grid | frame["unit_code"].notna().to_numpy()
    optional = attach  # a record may name its grid or its unit instead of giving a point
    if optional:
        problems.add((shapely.is_missing(geoms) & ~has_grid), "geometry",
                     "缺少位置 no point, grid or unit (give lon/lat, a grid_code, a unit_code or a "
                     "unit name)")
    checked = validation.geometries(geoms, GEOMETRY_KIND[kind], crs, problems, optional=optional)
    repaired = sum(1 for p in problems.warnings if p.field == "geometry")
    if kind == "units":
        checked = np.array([None if g is None else _multi(g) for g in checked], dtype=object)
    frame["geom"] = _wkb(checked)

    if kind == "units":
        validation.hierarchy(frame, stored, problems)
        _needs_parent(frame, problems)
        return Prepared(frame, problems, repaired=repaired)

    if "grid_code" in frame:
        unknown = frame["grid_code"].notna().to_numpy() & ~frame["grid_code"].isin(list(stored)).to_numpy()
        problems.add(unknown, "grid_code",
                     lambda i: f"网格不存在 unknown grid {frame['grid_code'].iloc[i]!r}")
        located = checked if kind != "places" else _surface_points(checked)
        validation.grid_codes(frame, located, {r.code: r.level for r in rows},
                              {p for p in stored.values() if p is not None},
                              lambda codes, points: _grids_contain(store, codes, points), problems)
    else:
        frame["grid_code"] = None
    if attach:
        # A record of a unit (no point, no grid): counted in that unit and its ancestors.
        own = (frame["grid_code"].isna().to_numpy() & shapely.is_missing(checked)
               & frame["unit_code"].notna().to_numpy())
        frame.loc[own, "grid_code"] = frame.loc[own, "unit_code"]
        frame.pop("unit_code")
    bad = np.zeros(len(frame), bool)
    bad[problems.bad_positions()] = True
    todo = frame["grid_code"].isna().to_numpy() & ~shapely.is_missing(checked) & ~bad
    outside = nowhere = 0
    if todo.any():
        points = checked[todo]
        if kind == "places":
            points = shapely.point_on_surface(points)
        codes = store.assign_grids(shapely.to_wkb(points))
        frame.loc[todo, "grid_code"] = codes
        leaves = set(stored) - set(stored.values())
        above = np.zeros(len(frame), bool)
        above[np.flatnonzero(todo)] = [c is not None and c not in leaves for c in codes]
        lost = np.zeros(len(frame), bool)
        lost[np.flatnonzero(todo)[pd.isna(codes)]] = True
        outside, nowhere = int(above.sum()), int(lost.sum())
        problems.add(above, "geometry", lambda i: "不在任何网格内，计入包含它的最低一级单元 outside "
                     f"every grid: counted at unit {frame['grid_code'].iloc[i]}", severity=WARNING)
        problems.add(lost, "geometry", "不在任何单元内，已保留但未计入任何单元 outside every grid and "
                     "every unit: kept, counted nowhere", severity=WARNING)
    return Prepared(frame, problems, outside_grid=outside + nowhere, no_unit=nowhere, repaired=repaired,
                    unmapped=unmapped)


def _resolve_unit_names(frame: pd.DataFrame, names: pd.DataFrame, problems: Problems) -> None:
    """A record naming its unit (a village, a street) instead of its code: the unit's code, when
    exactly one unit has that name."""
    if "unit_name" not in frame:
        return
    attach = "unit_code"
    given = frame.pop("unit_name").map(lambda v: v.strip() if isinstance(v, str) and v.strip() else None)
    counts = names["name"].value_counts()
    code_of = names.drop_duplicates("name").set_index("name")["code"]
    need = given.notna() & (frame[attach].isna() if attach in frame else True)
    found = given.map(lambda n: code_of.get(n) if counts.get(n, 0) == 1 else None)
    if attach not in frame:
        frame[attach] = None
    frame.loc[need & found.notna(), attach] = found[need & found.notna()]
    problems.add((need & given.map(lambda n: counts.get(n, 0) > 1)).to_numpy(), "unit_name",
                 lambda i: f"同名单元不止一个 more than one unit is named {given.iloc[i]!r}: give its code")
    problems.add((need & given.map(lambda n: counts.get(n, 0) == 0)).to_numpy(), "unit_name",
                 lambda i: f"单元不存在 no unit is named {given.iloc[i]!r}")


def _needs_parent(frame: pd.DataFrame, problems: Problems) -> None:
    """Streets, communities and grids need a parent (a column, ``--field parent_code=…`` or
    ``--parent``): without one they would land as root units."""
    if "level" not in frame:
        return
    parent = frame["parent_code"] if "parent_code" in frame else pd.Series([None] * len(frame))
    missing = frame["level"].isin(NEEDS_PARENT).to_numpy() & parent.isna().to_numpy()
    problems.add(missing, "parent_code", lambda i: f"{frame['level'].iloc[i]} 需要上级单元 needs a parent "
                 "(a parent column, --field parent_code=COLUMN or --parent CODE)")


def _survey_periods(frame: pd.DataFrame, problems: Problems) -> None:
    """A survey row gives a year (年度) or a period; values given in per cent (98.98) become 0.9898."""
    if "year" in frame:
        year = frame.pop("year")
        has = year.notna()
        start = pd.to_datetime(year[has].astype(int).astype(str) + "-01-01")
        end = pd.to_datetime(year[has].astype(int).astype(str) + "-12-31")
        for column, values in (("period_start", start), ("period_end", end)):
            if column not in frame:
                frame[column] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
            frame.loc[has & frame[column].isna(), column] = values
    for column in ("period_start", "period_end"):
        if column not in frame:
            frame[column] = pd.NaT
        problems.add(frame[column].isna().to_numpy(), column,
                     "缺少调查时段 no period (give 年度/year or period_start and period_end)")
    if "value" in frame:
        value = pd.to_numeric(frame["value"], errors="coerce")
        frame["value"] = value.where(value <= 1, value / 100)
        problems.add((frame["value"] > 1).fillna(False).to_numpy(), "value",
                     "取值应为 0–1 或 0–100 value must be a share (0–1) or a per cent (0–100)")


def _surface_points(geoms: np.ndarray) -> np.ndarray:
    out = geoms.copy()
    present = ~shapely.is_missing(geoms)
    out[present] = shapely.point_on_surface(geoms[present])
    return out


# A point this close to its named grid (degrees, a few centimetres) is in it: shared edges.
_EDGE_TOLERANCE = 1e-6


def _grids_contain(store: Store, codes: list, points: np.ndarray) -> np.ndarray:
    """Per pair: does the grid ``codes[k]`` hold the point ``points[k]``?"""
    shapes = store.unit_shapes(set(codes)).set_index("code").geometry
    grids = np.asarray([shapes.get(c) for c in codes], dtype=object)
    return shapely.dwithin(grids, np.asarray(points, dtype=object), _EDGE_TOLERANCE)


def _multi(geom):
    return shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def _wkb(geoms: np.ndarray) -> np.ndarray:
    out = np.full(len(geoms), None, dtype=object)
    present = ~shapely.is_missing(geoms)
    if present.any():
        out[present] = shapely.to_wkb(geoms[present])
    return out


# --- writing -------------------------------------------------------------------------------------


def run_import(store: Store, kind: str, path: str | Path, options: ImportOptions | None = None,
               progress: Progress | None = None) -> ImportReport:
    """Import one file into ``store``; raises :class:`ImportRejected` when it has errors and
    ``skip_invalid`` is off (nothing written), ``ValueError`` for a usage mistake."""
    options = options or ImportOptions()
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    unknown = sorted(set(options.constants) - set(FIELDS[kind]))
    if unknown:
        raise ValueError(f"--set: 未知字段 unknown field(s) for {kind}: {', '.join(unknown)}; "
                         f"fields: {', '.join(FIELDS[kind])}")
    progress = progress or Progress(stream=None)
    started = time.perf_counter()
    raw, file_crs = read_file(path, layer=options.layer, encoding=options.encoding,
                              lon=options.lon, lat=options.lat)
    if options.crs:
        crs = parse_crs(options.crs, strict=True)
    elif file_crs:
        crs = parse_crs(file_crs)
    elif kind not in GEOMETRY_KIND or not _has_geometry(raw):
        crs = parse_crs(4326)  # no coordinates to read (a roster, a survey, records of units)
    else:  # guessing would put every point of a GCJ-02 file in the wrong place, quietly
        raise ValueError(f"{Path(path).name} 未说明坐标系 names no coordinate system: give --crs, one of "
                         f"{CRS_CHOICES}")
    progress("读取 read", len(raw), len(raw), 0, force=True)
    ignored: list = []
    split = apply_splits(raw, options.splits)
    split_fields = {name: name for names, _, _ in options.splits for name in names}
    fields = {**split_fields, **options.fields}
    prepared = prepare(store, kind, map_fields(split, kind, fields, ignored), crs, options)
    report = ImportReport(kind, str(path), crs=crs.label, rows=len(raw), dry_run=options.dry_run,
                          outside_grid=prepared.outside_grid, no_unit=prepared.no_unit,
                          repaired=prepared.repaired, problems=prepared.problems.items,
                          ignored_columns=ignored, unmapped=prepared.unmapped)
    bad = prepared.problems.bad_positions()
    report.rejected = len(bad)
    progress("校验 validated", len(raw), len(raw), len(bad), force=True)
    if len(bad) and (options.rejects or options.skip_invalid):
        report.rejects_file = write_rejects(options.rejects or f"{path}.rejects.csv", raw, prepared.problems)
    if len(bad) and not options.skip_invalid:
        report.seconds = time.perf_counter() - started
        raise ImportRejected(report)
    good = prepared.frame.drop(index=bad).reset_index(drop=True)
    if kind == "cases":
        report.as_of = _export_moment(good, options)
    report.result = write(store, kind, good, options, progress=progress, rejects=len(bad),
                          as_of=report.as_of)
    report.written = not options.dry_run
    report.seconds = time.perf_counter() - started
    return report


def _has_geometry(raw: pd.DataFrame) -> bool:
    return "geometry" in raw and bool((~shapely.is_missing(raw["geometry"].to_numpy(dtype=object))).any())


def _export_moment(frame: pd.DataFrame, options: ImportOptions) -> str | None:
    """When the export was taken: ``--as-of``, else the newest time the file carries."""
    if options.as_of:
        return datetime.fromisoformat(options.as_of).replace(second=0, microsecond=0).isoformat()
    times = [frame[c].max() for c in TIMES["cases"][:-1] if c in frame and frame[c].notna().any()]
    return max(times).to_pydatetime().replace(second=0, microsecond=0).isoformat() if times else None


def write(store: Store, kind: str, frame: pd.DataFrame, options: ImportOptions, *,
          progress: Progress | None = None, rejects: int = 0, concurrent: bool = False,
          as_of: str | None = None) -> UpsertResult:
    """Upsert validated rows in one transaction (read-only on a dry run), in chunks with progress.

    ``concurrent`` (live ingest): new rows go in with ``INSERT … ON CONFLICT DO NOTHING``, so a
    case another request inserted meanwhile is matched, not a unique-key error. ``as_of``: the
    export moment a case import records (``LIVE`` forgets it)."""
    progress = progress or Progress(stream=None)
    now = local_now(options.timezone).replace(tzinfo=None)
    total = UpsertResult()
    if kind in SENSITIVE:
        frame = _sensitive_counts(frame, SENSITIVE[kind])
    columns = [c for c in frame.columns if c in TABLES[kind].c]
    frame = frame[columns]
    context = store.engine.connect() if options.dry_run else store.engine.begin()
    with context as conn:
        if kind == "units":
            total.add(store.upsert_units(conn, frame, now=now, dry_run=options.dry_run))
            progress("写入 written", len(frame), len(frame), rejects, force=True)
        elif kind == "stats":
            total.add(store.update_table(conn, schema.units, frame, "code", now=now,
                                         dry_run=options.dry_run))
            progress("写入 written", len(frame), len(frame), rejects, force=True)
        elif kind in SENSITIVE or kind == "surveys":
            keys = [c.name for c in TABLES[kind].primary_key.columns]
            total.add(store.upsert_composite(conn, TABLES[kind], frame, keys, now=now,
                                             dry_run=options.dry_run))
            progress("写入 written", len(frame), len(frame), rejects, force=True)
        else:
            step = max(options.chunk_rows, 1)
            for start in range(0, len(frame), step):
                chunk = frame.iloc[start:start + step]
                if kind == "cases":
                    result = store.upsert_cases(conn, chunk, now=now, actor=options.actor,
                                                dry_run=options.dry_run, concurrent=concurrent)
                else:
                    result, _, _ = store.upsert_table(conn, TABLES[kind], chunk, KEYS[kind], now=now,
                                                      dry_run=options.dry_run)
                total.add(result)
                progress("写入 written", start + len(chunk), len(frame), rejects)
        if kind == "cases" and not options.dry_run:
            store.record_as_of(conn, as_of, now=now)
    if not options.dry_run:
        store.checkpoint()
    return total


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """A cell Excel would run as a formula (``=HYPERLINK(…)``, ``+…``, ``-…``, ``@…``) as plain text,
    with a leading apostrophe; a plain negative number stays as it is."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def _sensitive_counts(frame: pd.DataFrame, topic: str) -> pd.DataFrame:
    """Rows (one per household or person, or already counted) as one count per unit and group:
    nothing that names a household or a person goes further than this."""
    counts = frame["count"] if "count" in frame else pd.Series(1, index=frame.index)
    grouped = (pd.DataFrame({"unit_code": frame["unit_code"], "group_name": frame["group_name"],
                             "count": counts.fillna(1).astype("int64")})
               .groupby(["unit_code", "group_name"], as_index=False)["count"].sum())
    return grouped.assign(topic=topic)[["unit_code", "topic", "group_name", "count"]]


def write_rejects(path: str | Path, raw: pd.DataFrame, problems: Problems) -> str:
    """The rejected rows as they came, with ``_row``, ``_field`` and ``_reason`` (CSV, Excel-readable)."""
    by_row: dict[int, list] = {}
    for p in problems.errors:
        by_row.setdefault(p.row, []).append(p)
    first = int(problems.rows[0]) if len(problems.rows) else 1
    out = raw.iloc[[row - first for row in sorted(by_row)]].copy()
    if "geometry" in out:
        out["geometry"] = [None if g is None else shapely.to_wkt(g, rounding_precision=8)
                           for g in out["geometry"]]
    out = out.map(neutralise_formula)
    out.insert(0, "_reason", ["; ".join(p.message for p in by_row[r]) for r in sorted(by_row)])
    out.insert(0, "_field", [", ".join(dict.fromkeys(p.field for p in by_row[r])) for r in sorted(by_row)])
    out.insert(0, "_row", sorted(by_row))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL)
    return str(path)


# --- live ingest ---------------------------------------------------------------------------------


def ingest_cases(store: Store, records: list[dict], *, partial: bool = False, crs: str | None = None,
                 timezone: str = "Asia/Shanghai", actor: str = "api") -> ImportReport:
    """Cases sent as JSON objects (``POST /api/v1/cases``): the same fields and rules as a file.

    Each record gives ``external_id`` (or ``id``), the case fields, and its point as ``lon``/``lat``,
    ``location: [lon, lat]`` or a GeoJSON ``geometry``. With errors, nothing is stored unless
    ``partial``, which stores the good records. Idempotent by ``external_id``, also when the same
    new case is sent by several clients at once (the database's own ``ON CONFLICT``).
    JSON brings types a file does not: a time must be text, a coordinate a number, an id text or
    a whole number, and no field an object or an array.
    """
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ValueError("请求体应为一个事件对象或事件对象的数组 "
                         "body must be a case object or a list of them")
    try:
        source_crs = parse_crs(crs if crs not in (None, "") else 4326, strict=True)
    except ValueError as exc:
        raise ValueError(f"参数 crs: {exc}") from None
    rows, geoms, early = [], [], []
    for i, record in enumerate(records):
        record = dict(record)
        geometry = record.pop("geometry", None)
        location = record.pop("location", None)
        lon, lat = record.pop("lon", record.pop("lng", None)), record.pop("lat", None)
        point, problem = _json_point(geometry, location, lon, lat)
        if problem:
            early.append((i, *problem))
        for name, value in list(record.items()):
            problem = _json_field_problem(name, value)
            if problem:
                early.append((i, name, problem))
                record[name] = None  # reported here; kept out of the other rules
        geoms.append(point)
        rows.append(record)
    frame = pd.DataFrame(rows)
    frame["geometry"] = np.asarray(geoms + [None], dtype=object)[:-1]
    options = ImportOptions(crs=crs, timezone=timezone, actor=actor, skip_invalid=partial)
    prepared = prepare(store, "cases", map_fields(frame, "cases", {}), source_crs, options)
    for i, name, message in early:
        mask = np.zeros(len(frame), dtype=bool)
        mask[i] = True
        prepared.problems.add(mask, name, message)
    report = ImportReport("cases", "api", crs=source_crs.label, rows=len(frame),
                          outside_grid=prepared.outside_grid, no_unit=prepared.no_unit,
                          problems=prepared.problems.items, unmapped=prepared.unmapped)
    bad = prepared.problems.bad_positions()
    report.rejected = len(bad)
    if len(bad) and not partial:
        raise ImportRejected(report)
    good = prepared.frame.drop(index=bad).reset_index(drop=True)
    if len(good):
        # A live write: the store is live from now on, overdue is counted against the clock.
        report.result = write(store, "cases", good, options, concurrent=True, as_of=LIVE)
        report.written = True
    return report


_ID_FIELDS = ("external_id", "id", "case_id", "grid_code")
_GEOJSON_TYPES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
                  "GeometryCollection")


def _json_field_problem(name: str, value) -> str | None:
    """What is wrong with a JSON field's type (None: nothing)."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        return "应为文本或数值 must be text or a number, not a JSON object or array"
    if name in _ID_FIELDS and (isinstance(value, bool) or not isinstance(value, str | int)):
        return f"编号应为文本或整数 must be text or a whole number, got {value!r}"
    return None


def _json_point(geometry, location, lon, lat):
    """The record's point and ``None``, or ``None`` and ``(field, message)``."""
    if geometry is not None:
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        if kind not in _GEOJSON_TYPES:
            return None, ("geometry", f"不是 GeoJSON 几何 not a GeoJSON geometry (type {kind!r}); "
                          f"expected {{\"type\": \"Point\", \"coordinates\": [lon, lat]}}")
        try:
            return shapely.geometry.shape(geometry), None
        except Exception:  # shapely raises several kinds for malformed coordinates
            return None, ("geometry", f"GeoJSON {kind} 坐标无效 invalid coordinates")
    names = ("lon", "lat")
    if location is not None:
        if not isinstance(location, list) or len(location) != 2:
            return None, ("location", "应为 [lon, lat] must be [lon, lat]")
        (lon, lat), names = location, ("location", "location")
    if lon is None and lat is None:
        return None, None
    for name, value in zip(names, (lon, lat), strict=True):
        if not validation.finite_number(value):
            return None, (name, f"应为数值 must be a number (not text, true/false or null), got {value!r}")
    return shapely.Point(float(lon), float(lat)), None
