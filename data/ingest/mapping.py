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
        "houses": ("houses", "房屋", "房屋数", "房屋数量"),
        "buildings": ("buildings", "楼栋", "楼栋数", "楼宇数", "建筑数"),
        "kind": ("kind", "类型", "单元类型", "村社类型"),
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
        "satisfaction": ("satisfaction", "满意度", "回访结果", "回访满意度"),
        "outcome": ("outcome", "调处结果", "调解结果", "调解状态", "化解结果", "化解情况", "化解状态"),
        "department": ("department", "处置部门", "承办部门"),
        "description": ("description", "描述", "事件描述"),
        "grid_code": ("grid_code", "网格编码", "所属网格"),
        "unit_code": ("unit_code", "单位编码", "所属单位编码", "所属村社编码", "所属街道编码"),
        "unit_name": ("unit_name", "所属单位", "所属村社", "所属社区", "所属村", "所属街道", "村（社区）"),
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
    "stats": {
        "code": ("code", "编码", "代码", "区划代码", "单元编码", "网格编码"),
        "population": ("population", "pop", "人口", "常住人口", "实有人口"),
        "households": ("households", "户数", "实有户数"),
        "houses": ("houses", "房屋", "房屋数", "实有房屋"),
        "buildings": ("buildings", "楼栋", "楼栋数", "楼宇数"),
    },
    "workers": {
        "id": ("id", "编号", "工号", "人员编号"),
        "name": ("name", "姓名"),
        "role": ("role", "角色", "岗位", "人员类型", "类型"),
        "unit_code": ("unit_code", "grid_code", "网格编码", "所属网格", "单位编码", "所属单位编码"),
        "unit_name": ("unit_name", "所属网格名称", "所属单位", "所属村社"),
    },
    "household-risk": {
        "unit_code": ("unit_code", "grid_code", "网格编码", "所属网格", "单位编码", "所属单位编码"),
        "unit_name": ("unit_name", "所属单位", "所属村社", "所属社区", "所属村"),
        "group_name": ("group_name", "risk_level", "风险等级", "评估等级", "评估结果"),
        "count": ("count", "户数", "数量"),
    },
    "special-populations": {
        "unit_code": ("unit_code", "grid_code", "网格编码", "所属网格", "单位编码", "所属单位编码"),
        "unit_name": ("unit_name", "所属单位", "所属村社", "所属社区", "所属村"),
        "group_name": ("group_name", "group", "人群类别", "人员类别", "类别"),
        "count": ("count", "人数", "数量"),
    },
    "surveys": {
        "unit_code": ("unit_code", "code", "单位编码", "区划代码", "编码"),
        "unit_name": ("unit_name", "单位", "单位名称", "地区"),
        "indicator": ("indicator", "指标", "调查项目"),
        "year": ("year", "年度", "年份"),
        "period_start": ("period_start", "开始日期", "调查开始"),
        "period_end": ("period_end", "结束日期", "调查结束"),
        "value": ("value", "值", "得分", "结果"),
        "source": ("source", "来源", "调查机构"),
    },
    "police": {
        "id": ("id", "警情编号", "案件编号", "编号"),
        "kind": ("kind", "案件类别", "案件性质", "类别"),
        "cause": ("cause", "案由"),
        "reported_at": ("reported_at", "发案时间", "报警时间", "立案时间", "受理时间"),
        "grid_code": ("grid_code", "网格编码", "所属网格"),
        "unit_code": ("unit_code", "单位编码", "所属单位编码"),
        "unit_name": ("unit_name", "所属单位", "所属村社", "所属社区", "所属村", "辖区"),
    },
}
# Fields that hold codes: always text (a GIS file's 420100.0 is the code 420100).
CODE_FIELDS = ("code", "parent_code", "external_id", "id", "grid_code", "unit_code")

# Values every feed spells its own way, mapped before validation (the user's maps come first).
BUILTIN_VALUES = {
    "level": {"市": "city", "区": "district", "县": "district", "县级市": "district", "区/县": "district",
              "街道": "street", "镇": "street", "乡": "street", "街道/镇": "street", "社区": "community",
              "村": "community", "社区/村": "community", "网格": "grid"},
    "camera_status": {"在线": vocab.ONLINE, "离线": vocab.OFFLINE, "1": vocab.ONLINE, "0": vocab.OFFLINE},
    "outcome": {"调解成功": vocab.RESOLVED, "成功": vocab.RESOLVED, "已化解": vocab.RESOLVED,
                "化解": vocab.RESOLVED, "调处成功": vocab.RESOLVED,
                "调解不成功": vocab.NOT_RESOLVED, "调解失败": vocab.NOT_RESOLVED,
                "不成功": vocab.NOT_RESOLVED, "失败": vocab.NOT_RESOLVED,
                "调处不成功": vocab.NOT_RESOLVED, "调解中": vocab.PENDING, "在调": vocab.PENDING,
                "调处中": vocab.PENDING},
    # 未回访 is no answer at all: missing, never in 满意率's denominator.
    "satisfaction": {vocab.NOT_REVISITED: None, "未回访（无法联系）": None, "非常满意": "满意",
                     "比较满意": "基本满意"},
}
# Kinds whose rows are mapped with these built-in maps (the user's maps are applied first).
_BUILTIN_BY_KIND = {
    "units": {"level": BUILTIN_VALUES["level"]},
    "cameras": {"status": BUILTIN_VALUES["camera_status"]},
    "cases": {"outcome": BUILTIN_VALUES["outcome"], "satisfaction": BUILTIN_VALUES["satisfaction"]},
    "workers": {"role": vocab.WORKER_SYNONYMS},
    "household-risk": {"group_name": vocab.HOUSEHOLD_RISK_SYNONYMS},
    "police": {"kind": vocab.POLICE_SYNONYMS},
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


def map_fields(frame: pd.DataFrame, kind: str, fields: dict,
               ignored: list | None = None) -> pd.DataFrame:
    """Rename the file's columns to the store's fields (``fields`` first, then known aliases).

    The file's other columns are dropped; their names go to ``ignored`` when given (the import
    warns about each one).
    """
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
    if ignored is not None:
        ignored.extend(str(c) for c in frame.columns if c not in renames and c != "geometry")
    out = frame[list(renames)].rename(columns=renames)
    out["geometry"] = frame["geometry"].to_numpy() if "geometry" in frame else None
    return out


def parse_splits(items) -> list[tuple[list[str], str, str]]:
    """``--split category,subcategory=事件类型:-`` as ``[(["category", "subcategory"], "事件类型", "-")]``."""
    out = []
    for item in items or ():
        targets, sep, rest = item.partition("=")
        column, sep2, separator = rest.rpartition(":")
        names = [t.strip() for t in targets.split(",") if t.strip()]
        if not sep or not sep2 or not column or not separator or len(names) < 2:
            raise ValueError(f"--split 应为 FIELD1,FIELD2=COLUMN:SEPARATOR, got {item!r}")
        out.append((names, column, separator))
    return out


def apply_splits(frame: pd.DataFrame, splits) -> pd.DataFrame:
    """Split combined "大类-小类" columns into fields (as new columns named after the fields)."""
    frame = frame.copy()
    for names, column, separator in splits:
        if column not in frame:
            raise ValueError(f"--split: 文件中没有该列 the file has no column {column!r}")
        parts = frame[column].map(lambda v, n=len(names), sep=separator: (  # noqa: B008
            [p.strip() or None for p in str(v).split(sep, n - 1)] if isinstance(v, str) else []))
        for i, name in enumerate(names):
            frame[name] = parts.map(lambda p, i=i: p[i] if i < len(p) else None)
        frame = frame.drop(columns=[column])
    return frame


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
    """Map values in place: the user's maps first, then the built-in ones (so ``办事处=街道``
    ends at ``street``). A value mapped to nothing (``--map satisfaction:未回访=``) is missing."""
    builtin = _BUILTIN_BY_KIND.get(kind, {})
    for column in dict.fromkeys([*values, *builtin]):
        if column not in frame:
            continue
        for mapping in (values.get(column) or {}, builtin.get(column) or {}):
            if mapping:
                frame[column] = frame[column].map(
                    lambda v, m=mapping: m.get(v.strip() if isinstance(v, str) else v, v))
        frame[column] = frame[column].map(lambda v: None if isinstance(v, str) and not v.strip() else v)


def open_vocabulary(frame: pd.DataFrame, column: str, allowed, synonyms: dict, user: dict) -> dict:
    """Keep the feed's word in ``<column>_raw`` and put its canonical group in ``column``: the
    user's map, then the built-in synonyms, then the word itself when it is a group; any other
    word goes to 其他. Returns the unmapped words with how many rows each."""
    raw = frame[column].map(lambda v: v.strip() if isinstance(v, str) else v)
    frame[f"{column}_raw"] = raw

    def group(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        for mapping in (user, synonyms):
            if v in mapping:
                return mapping[v] or None
        return v if v in allowed else vocab.OTHER

    frame[column] = raw.map(group)
    unmapped = raw[(frame[column] == vocab.OTHER) & (raw != vocab.OTHER)]
    return unmapped.value_counts().to_dict()
