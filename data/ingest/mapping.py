"""Mapping a feed's own words to the store's: column names to fields, and values to the store's
vocabulary (``--field``, ``--map-…``; common spellings are known already).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import vocab

# What each kind's fields are called in the store, and what files commonly call them.
FIELDS = {
    "units": {
        "code": ("code", "adcode", "gid", "编码", "代码", "区划代码", "单元编码", "网格编码"),
        "name": ("name", "名称", "单元名称", "网格名称"),
        "level": ("level", "层级", "级别"),
        "parent_code": ("parent_code", "parent", "parent_id", "上级编码", "上级代码", "上级"),
        "population": ("population", "pop", "人口", "常住人口"),
        "households": ("households", "户数"),
        "area_km2": ("area_km2", "面积", "面积_km2"),
        "staff_full": ("staff_full", "专职网格员"),
        "staff_part": ("staff_part", "兼职网格员"),
    },
    "cases": {
        "external_id": ("external_id", "id", "case_id", "事件编号", "案件编号", "编号"),
        "category": ("category", "类别", "事件类别", "大类"),
        "subcategory": ("subcategory", "子类", "小类", "事件子类"),
        "source": ("source", "来源", "事件来源"),
        "reported_at": ("reported_at", "time", "上报时间", "受理时间", "发生时间"),
        "status": ("status", "状态", "办理状态"),
        "assigned_at": ("assigned_at", "指派时间"),
        "handled_at": ("handled_at", "处置时间"),
        "responded_at": ("responded_at", "反馈时间"),
        "closed_at": ("closed_at", "办结时间"),
        "deadline": ("deadline", "时限", "办理时限"),
        "returned_count": ("returned_count", "退回次数"),
        "resolved_level": ("resolved_level", "化解层级"),
        "risk_level": ("risk_level", "风险等级"),
        "satisfaction": ("satisfaction", "满意度"),
        "department": ("department", "处置部门", "承办部门"),
        "description": ("description", "描述", "事件描述"),
        "grid_code": ("grid_code", "网格编码", "所属网格"),
    },
    "cameras": {
        "id": ("id", "camera_id", "编号", "设备编号"),
        "kind": ("kind", "type", "类型", "设备类型"),
        "heading": ("heading", "方向", "朝向"),
        "fov": ("fov", "视场角"),
        "range_m": ("range_m", "range", "可视距离"),
        "status": ("status", "状态", "在线状态"),
        "last_seen": ("last_seen", "最后在线时间"),
        "owner": ("owner", "权属单位"),
    },
    "places": {
        "id": ("id", "place_id", "编号"),
        "name": ("name", "名称"),
        "kind": ("kind", "type", "类型"),
    },
}
# Fields that hold codes: always text (a GIS file's 420100.0 is the code 420100).
CODE_FIELDS = ("code", "parent_code", "external_id", "id", "grid_code")

# Values every feed spells its own way, mapped before validation (the user's maps come first).
BUILTIN_VALUES = {
    "level": {"市": "city", "区": "district", "县": "district", "县级市": "district", "区/县": "district",
              "街道": "street", "镇": "street", "乡": "street", "街道/镇": "street", "社区": "community",
              "村": "community", "社区/村": "community", "网格": "grid"},
    "camera_status": {"在线": vocab.ONLINE, "离线": vocab.OFFLINE, "1": vocab.ONLINE, "0": vocab.OFFLINE},
}


def parse_pairs(items, *, with_field: bool = False) -> dict:
    """``["a=b", …]`` as ``{"": {"a": "b"}}``; with ``with_field``, ``["f:a=b"]`` as ``{"f": {"a": "b"}}``."""
    out: dict = {"": {}} if not with_field else {}
    for item in items or ():
        target = ""
        text = item
        if with_field:
            target, sep, text = item.partition(":")
            if not sep:
                raise ValueError(f"--map 应为 FIELD:FROM=TO, got {item!r}")
        source, sep, value = text.partition("=")
        if not sep or not source:
            raise ValueError(f"映射应为 FROM=TO mapping must be FROM=TO, got {item!r}")
        out.setdefault(target.strip(), {})[source.strip()] = value.strip()
    return out


def map_fields(frame: pd.DataFrame, kind: str, fields: dict) -> pd.DataFrame:
    """Rename the file's columns to the store's fields (``fields`` first, then known aliases)."""
    known = FIELDS[kind]
    unknown = set(fields) - set(known)
    if unknown:
        raise ValueError(f"未知字段 unknown field(s) for {kind}: {', '.join(sorted(unknown))}; "
                         f"fields: {', '.join(known)}")
    lower = {str(c).lower(): c for c in frame.columns}
    renames = {}
    for target, aliases in known.items():
        if target in fields:
            source = fields[target]
            if source not in frame:
                raise ValueError(f"--field {target}={source}: 文件中没有该列 the file has no column "
                                 f"{source!r} (columns: {', '.join(map(str, frame.columns))})")
        else:
            source = next((lower[a.lower()] for a in aliases if a.lower() in lower), None)
        if source is not None and source not in renames:
            renames[source] = target
    out = frame[list(renames)].rename(columns=renames)
    out["geometry"] = frame["geometry"].to_numpy() if "geometry" in frame else None
    return out


def code_text(series: pd.Series) -> pd.Series:
    """Codes as text: integers read from GIS files lose their ``.0``; blanks become None."""
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        text = str(v).strip()
        return text or None

    return series.astype(object).map(one)


def map_values(frame: pd.DataFrame, kind: str, values: dict) -> None:
    maps = {column: dict(mapping) for column, mapping in values.items()}
    builtin = {"units": {"level": BUILTIN_VALUES["level"]},
               "cameras": {"status": BUILTIN_VALUES["camera_status"]}}.get(kind, {})
    for column, mapping in builtin.items():
        maps[column] = {**mapping, **maps.get(column, {})}
    for column, mapping in maps.items():
        if column in frame and mapping:
            frame[column] = frame[column].map(
                lambda v, m=mapping: m.get(v.strip() if isinstance(v, str) else v, v))
