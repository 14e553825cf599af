"""The generated demo city: ``citybrain demo [--seed N] [--scale X] [--db …]``.

Deterministic for a seed and an end time. It has the patterns of a real city, so the screens
show something worth reading: a dense old core with small grids and sparse outskirts with large
ones, daily and weekly rhythms, disputes clustered around markets and old housing, a closed loop
with realistic durations (about 99% closed, some returned, some overdue), about 95% of cameras
online with uneven coverage, and yearly survey indicators.

Geometry is made in a local kilometre plane and turned into longitude/latitude at the end.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import vocab
from dashboard.domain import local_now
from data import schema
from data.demo.names import CITY_CODE, CITY_NAME, NamePool, district_name, grid_name
from data.stores.base import Store
from geo.assign import assign_points
from geo.tiling import random_points_in, voronoi_cells

# Where the fictional city sits: the middle Yangtze, so GCJ-02 offsets are typical ones.
ORIGIN_LON, ORIGIN_LAT = 114.30, 30.60
_KM_PER_DEG_LAT = 110.574
_KM_PER_DEG_LON = 111.320 * math.cos(math.radians(ORIGIN_LAT))
_CITY_RADIUS_KM = 17.0
_CORE_SIGMA_KM = 5.0


@dataclass(frozen=True)
class DemoSize:
    districts: int
    streets: int
    communities: int
    grids: int
    cases: int
    cameras: int
    places: int

    @classmethod
    def at_scale(cls, scale: float) -> DemoSize:
        if scale <= 0:
            raise ValueError("--scale 必须大于 0")
        districts = max(2, round(6 * scale**0.25))
        streets = max(districts, round(60 * scale**0.5))
        communities = max(streets, round(360 * scale**0.75))
        grids = max(communities, round(2000 * scale))
        return cls(
            districts, streets, communities, grids,
            cases=round(200_000 * scale), cameras=round(4_000 * scale), places=round(1_500 * scale),
        )


class Progress:
    """One line per step on stderr, with the time it took."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.started = stream, time.perf_counter()
        self._step_started = self.started

    def step(self, message: str) -> None:
        now = time.perf_counter()
        print(f"[{now - self.started:6.1f}s] {message}", file=self.stream, flush=True)
        self._step_started = now


def generate(store: Store, *, seed: int = 7, scale: float = 1.0, end: datetime | None = None,
             progress: Progress | None = None) -> DemoSize:
    """Write a whole demo city into an empty ``store``; its data runs up to ``end`` (local time,
    default now in China Standard Time)."""
    progress = progress or Progress()
    end = (end or local_now()).replace(microsecond=0)
    size = DemoSize.at_scale(scale)
    rng = np.random.default_rng(seed)
    if not store.is_empty():
        raise ValueError("目标数据库已有数据；演示城市只写入空库 (the target store is not empty)")

    units = _units(rng, size)
    progress.step(f"行政区划：{size.districts} 区、{size.streets} 街道、"
                  f"{size.communities} 社区、{size.grids:,} 网格")
    places = _key_places(rng, units, size.places)
    progress.step(f"重点部位：{len(places):,} 处")
    cases, events = _cases(rng, units, places, size.cases, end)
    progress.step(f"事件：{len(cases):,} 件，状态记录 {len(events):,} 条")
    cameras = _cameras(rng, units, places, size.cameras, end)
    progress.step(f"摄像机：{len(cameras):,} 路")
    surveys = _surveys(rng, units, end)

    store.write_units(_to_lonlat_frame(units))
    progress.step("写入行政区划")
    for table, frame in ((schema.key_places, places), (schema.cameras, cameras)):
        frame = _with_lonlat_points(frame)
        frame["grid_code"] = store.assign_grids(frame["geom"].to_numpy())
        store.write_table(table, frame)
    store.write_table(schema.survey_indicators, surveys)
    progress.step("写入重点部位、摄像机、调查指标")
    cases = _with_lonlat_points(cases)
    for start in range(0, len(cases), 50_000):
        chunk = cases.iloc[start:start + 50_000]
        store.write_cases(chunk, events[events.case_id.isin(chunk.id)])
        progress.step(f"写入事件 {min(start + 50_000, len(cases)):,}/{len(cases):,}")
    store.checkpoint()
    return size


# --- the hierarchy -------------------------------------------------------------------------------


def _density(x, y):
    """Relative population density: a dense core, a second centre across the river, outskirts."""
    core = np.exp(-(x**2 + y**2) / (2 * _CORE_SIGMA_KM**2))
    second = 0.5 * np.exp(-((x - 8) ** 2 + (y + 5) ** 2) / (2 * 2.5**2))
    return 0.06 + core + second


def _city_outline(rng) -> shapely.Polygon:
    theta = np.linspace(0, 2 * np.pi, 181)[:-1]
    phase = rng.uniform(0, 2 * np.pi, 3)
    r = _CITY_RADIUS_KM * (1 + 0.12 * np.sin(3 * theta + phase[0]) + 0.07 * np.cos(5 * theta + phase[1])
                           + 0.04 * np.sin(9 * theta + phase[2]))
    return shapely.Polygon(np.column_stack([1.25 * r * np.cos(theta), r * np.sin(theta)]))


def _split(rng, parent, n: int):
    # Seeds follow density, so the core gets small units and the outskirts big ones.
    def weight(x, y):
        return _density(x, y) ** 0.6 / 1.06**0.6

    seeds = random_points_in(parent, n, rng, weight)
    return voronoi_cells(parent, seeds)


def _shares(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into whole shares proportional to ``weights``, at least one each."""
    weights = np.asarray(weights, dtype=float)
    raw = 1 + (total - len(weights)) * weights / weights.sum()
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: total - counts.sum()]] += 1
    return counts


def _mass(geom) -> float:
    """Population weight of a polygon: area times density at sample points."""
    pts = random_points_in(geom, 40, np.random.default_rng(1))
    return geom.area * float(np.mean(_density(pts[:, 0], pts[:, 1])))


def _units(rng, size: DemoSize) -> gpd.GeoDataFrame:
    names = NamePool(rng)
    city = _city_outline(rng)
    rows = [dict(code=CITY_CODE, name=CITY_NAME, level="city", parent_code=None, geometry=city)]

    districts = _split(rng, city, size.districts)
    for i, geom in enumerate(districts):
        rows.append(dict(code=f"{CITY_CODE[:4]}{i + 2:02d}", name=district_name(i), level="district",
                         parent_code=CITY_CODE, geometry=geom))
    for level, total, child_code in (
        ("street", size.streets, lambda p, i: f"{p}{i + 1:03d}"),
        ("community", size.communities, lambda p, i: f"{p}{i + 1:03d}"),
        ("grid", size.grids, lambda p, i: f"{p}{i + 1:03d}"),
    ):
        parents = [r for r in rows if r["level"] == _parent_level(level)]
        counts = _shares(total, np.array([_mass(p["geometry"]) for p in parents]))
        for parent, n in zip(parents, counts, strict=True):
            for i, geom in enumerate(_split(rng, parent["geometry"], int(n))):
                rows.append(dict(code=child_code(parent["code"], i), level=level,
                                 name=_unit_name(level, names, parent, geom, i),
                                 parent_code=parent["code"], geometry=geom))
    frame = gpd.GeoDataFrame(rows, geometry="geometry")
    # 村 and 社区 are both `community`; their kind keeps them apart (towns: 镇 / 街道 likewise).
    suffix = frame["name"].str.extract(r"(村|社区|镇|街道)$")[0]
    frame["kind"] = suffix.where(frame["level"].isin(["street", "community"]))
    _add_population(rng, frame)
    return frame


def _parent_level(level: str) -> str:
    return vocab.LEVELS[vocab.LEVELS.index(level) - 1]


def _unit_name(level, names: NamePool, parent, geom, i) -> str:
    if level == "grid":
        return grid_name(parent["name"], i)
    # Outskirts are towns and villages; the core is streets and communities.
    c = geom.centroid
    rural = _density(c.x, c.y) < 0.15
    if level == "street":
        return names.take() + ("镇" if rural else "街道")
    return names.take() + ("村" if parent["name"].endswith("镇") else "社区")


def _add_population(rng, frame: gpd.GeoDataFrame) -> None:
    grids = frame.level == "grid"
    area = frame.geometry.area  # km² in the local plane
    people_per_km2 = 18_000
    mass = np.array([_mass(g) for g in frame.loc[grids, "geometry"]])
    pop = np.round(mass * people_per_km2 * rng.lognormal(0, 0.25, grids.sum())).astype(int)
    frame["population"] = 0
    frame.loc[grids, "population"] = np.maximum(pop, 150)
    frame["staff_full"] = 0
    frame.loc[grids, "staff_full"] = 1
    frame["staff_part"] = 0
    frame.loc[grids, "staff_part"] = rng.integers(1, 5, grids.sum())
    # Parents hold the sums of their children, from the grids up.
    for level in reversed(vocab.LEVELS[:-1]):
        kids = frame[frame.level == vocab.LEVELS[vocab.LEVELS.index(level) + 1]]
        sums = kids.groupby("parent_code")[["population", "staff_full", "staff_part"]].sum()
        mask = frame.level == level
        for col in sums:
            frame.loc[mask, col] = frame.loc[mask, "code"].map(sums[col]).fillna(0).astype(int)
    frame["households"] = (frame["population"] / 2.7).round().astype(int)
    frame["area_km2"] = area.round(3)


# --- key places, cases, cameras ------------------------------------------------------------------

_PLACE_KINDS = {"路口": 0.42, "农贸市场": 0.07, "学校": 0.16, "医院": 0.07, "广场": 0.09,
                "危化品企业": 0.05, "车站": 0.04}


def _sample_in_grids(rng, grids: gpd.GeoDataFrame, weights: np.ndarray, n: int) -> np.ndarray:
    """``n`` points spread over grids in proportion to ``weights``."""
    counts = rng.multinomial(n, weights / weights.sum())
    parts = [random_points_in(g, k, rng) for g, k in zip(grids.geometry, counts, strict=True) if k]
    return np.vstack(parts) if parts else np.empty((0, 2))


def _key_places(rng, units: gpd.GeoDataFrame, n: int) -> pd.DataFrame:
    grids = units[units.level == "grid"]
    weights = np.array(list(_PLACE_KINDS.values()))
    kinds = rng.choice(list(_PLACE_KINDS), n, p=weights / weights.sum())
    pop = grids.population.to_numpy(float)
    xy = _sample_in_grids(rng, grids, pop, n)
    rng.shuffle(xy)
    # Hazardous-chemical plants sit on the outskirts: move them out where the density is low.
    outskirts = _sample_in_grids(rng, grids, grids.area.to_numpy() / np.maximum(pop, 1), n)
    chem = kinds == "危化品企业"
    xy[chem] = outskirts[: chem.sum()]
    road_names = NamePool(rng)
    names = []
    for i, kind in enumerate(kinds):
        if kind == "路口":
            names.append(f"{road_names.take()}路与{road_names.take()}路交叉口")
        elif kind == "学校":
            names.append(f"{road_names.take()}{'小学' if i % 3 else '中学'}")
        elif kind == "危化品企业":
            names.append(f"{road_names.take()}化工有限公司")
        else:
            names.append(f"{road_names.take()}{kind}")
    return pd.DataFrame({"id": [f"KP{i + 1:06d}" for i in range(n)], "name": names, "kind": kinds,
                         "x": xy[:, 0], "y": xy[:, 1]})


_CATEGORY_WEIGHTS = {"矛盾纠纷": 0.28, "治安": 0.10, "安全隐患": 0.14, "城市管理": 0.26, "信访": 0.04,
                     "民生服务": 0.14, "企业诉求": 0.04}
_DISPUTE_WEIGHTS = {"婚恋家庭": 0.15, "邻里": 0.25, "债务": 0.10, "劳资": 0.12, "土地山林": 0.05,
                    "物业": 0.18, "征地拆迁": 0.05, "其他": 0.10}
_DEADLINE_DAYS = {"矛盾纠纷": 7, "治安": 3, "安全隐患": 3, "城市管理": 5, "信访": 15, "民生服务": 7,
                  "企业诉求": 10}
_DEPARTMENTS = {"矛盾纠纷": "综治中心", "治安": "公安分局", "安全隐患": "应急管理局",
                "城市管理": "城管执法局",
                "信访": "信访局", "民生服务": "民政局", "企业诉求": "营商环境办"}
_SOURCE_WEIGHTS = {"网格员上报": 0.45, "12345热线": 0.20, "视频智能发现": 0.10, "群众随手拍": 0.12,
                   "警网融合": 0.08, "企业": 0.05}
# Hour-of-day profile: quiet nights, a morning peak and a long afternoon.
_HOURLY = np.array([0.6, 0.4, 0.3, 0.3, 0.3, 0.5, 1.2, 2.5, 4.5, 6.5, 7.0, 6.0,
                    4.5, 5.5, 6.5, 6.8, 6.2, 5.0, 4.0, 3.5, 3.0, 2.4, 1.6, 1.0])
_AT_PLACE_SHARE, _AT_PLACE_SIGMA_KM = 0.45, 0.04
_WEEKDAY = np.array([1.05, 1.05, 1.0, 1.0, 0.98, 0.78, 0.68])


def _cases(rng, units, places, n: int, end: datetime):
    grids = units[units.level == "grid"].reset_index(drop=True)
    districts = units[units.level == "district"].reset_index(drop=True)
    start = end - timedelta(days=395)

    category = rng.choice(list(_CATEGORY_WEIGHTS), n, p=list(_CATEGORY_WEIGHTS.values()))
    sub = np.empty(n, dtype=object)
    for cat, subs in vocab.CATEGORIES.items():
        mask = category == cat
        weights = (np.array([_DISPUTE_WEIGHTS[s] for s in subs]) if cat == vocab.DISPUTE
                   else np.where(np.array(subs) == "其他", 0.5, 1.0))
        sub[mask] = rng.choice(subs, mask.sum(), p=weights / weights.sum())
    source = rng.choice(list(_SOURCE_WEIGHTS), n, p=list(_SOURCE_WEIGHTS.values()))
    source[category == "企业诉求"] = rng.choice(["企业", "12345热线"], (category == "企业诉求").sum())
    source[(category == "信访") & (rng.uniform(size=n) < 0.6)] = "12345热线"

    # When: day weighted by weekday and a slow upward drift, hour by the daily profile.
    days = pd.date_range(start.date(), end.date(), freq="D")
    day_w = _WEEKDAY[days.day_of_week] * np.linspace(0.92, 1.08, len(days))
    day = rng.choice(len(days), n, p=day_w / day_w.sum())
    hour = rng.choice(24, n, p=_HOURLY / _HOURLY.sum())
    reported = (days.to_numpy()[day] + hour * np.timedelta64(1, "h")
                + rng.integers(0, 3600, n) * np.timedelta64(1, "s"))

    # Where: disputes gather around markets and old housing, street problems around markets and
    # crossings, public order around stations and squares; the rest follows population.
    xy = _sample_in_grids(rng, grids, grids.population.to_numpy(float), n)
    rng.shuffle(xy)
    old_housing = random_points_in(grids.union_all(), 12, rng, lambda x, y: _density(x, y) / 1.06)
    hot = {
        vocab.DISPUTE: (0.5, np.vstack([places.loc[places.kind == "农贸市场", ["x", "y"]].to_numpy(),
                                        old_housing]), 0.35),
        "城市管理": (0.35, places.loc[places.kind.isin(["农贸市场", "路口"]), ["x", "y"]].to_numpy(), 0.25),
        "治安": (0.3, places.loc[places.kind.isin(["车站", "广场"]), ["x", "y"]].to_numpy(), 0.3),
    }
    for cat, (share, centres, sigma_km) in hot.items():
        mask = (category == cat) & (rng.uniform(size=n) < share)
        if len(centres) and mask.any():
            pick = centres[rng.integers(0, len(centres), mask.sum())]
            offset = rng.normal(0, sigma_km, (mask.sum(), 2))
            # Nearly half happen at the place itself (the market hall, the crossing), within about
            # 40 m: where a camera watches the place they are on video, where none does they are
            # the blind-spot cases a new camera would catch (the coverage view).
            at_place = rng.uniform(size=mask.sum()) < _AT_PLACE_SHARE
            offset[at_place] *= _AT_PLACE_SIGMA_KM / sigma_km
            xy[mask] = pick + offset
    inside = shapely.contains_xy(units.geometry.iloc[0], xy[:, 0], xy[:, 1])
    xy[~inside] = _sample_in_grids(rng, grids, grids.population.to_numpy(float), (~inside).sum())

    # Each district runs its centre a little better or worse: rankings have something to show.
    district_of = assign_points(shapely.points(xy), districts.geometry.to_numpy(),
                                districts.code.to_numpy())
    quality = dict(zip(districts.code, rng.uniform(0.75, 1.35, len(districts)), strict=True))
    q = np.array([quality.get(d, 1.0) for d in district_of])

    frame = pd.DataFrame({
        "id": np.arange(1, n + 1), "category": category, "subcategory": sub, "source": source,
        "reported_at": reported, "x": xy[:, 0], "y": xy[:, 1],
    })
    frame = frame[frame.reported_at <= np.datetime64(end)].sort_values("reported_at")
    frame["id"] = np.arange(1, len(frame) + 1)
    frame["external_id"] = [f"SJ{t:%Y%m%d}{i:07d}" for t, i in zip(frame.reported_at, frame.id, strict=True)]
    q = q[frame.index.to_numpy()]
    frame = frame.reset_index(drop=True)
    return _closed_loop(rng, frame, q, end)


def _minutes(rng, median, sigma, size):
    return pd.to_timedelta(rng.lognormal(np.log(median), sigma, size), unit="m").round("s")


def _closed_loop(rng, frame: pd.DataFrame, quality: np.ndarray, end: datetime):
    n = len(frame)
    cat = frame.category.to_numpy()
    reported = frame.reported_at
    fast = np.where(frame.source.to_numpy() == "视频智能发现", 0.6, 1.0)
    assigned = reported + _minutes(rng, 18 * quality * fast, 0.9, n)
    handled = assigned + _minutes(rng, 120 * quality, 0.8, n)
    slow = np.where(np.isin(cat, [vocab.DISPUTE, "信访"]), 2.2, 1.0)
    responded = handled + _minutes(rng, 900 * quality * slow, 0.9, n)
    returned = rng.uniform(size=n) < 0.04 * quality
    # A returned case goes back to 指派 after its first response and round the loop again.
    re_assigned = responded + _minutes(rng, 240, 0.7, n)
    re_handled = re_assigned + _minutes(rng, 180, 0.7, n)
    re_responded = re_handled + _minutes(rng, 900 * slow, 0.8, n)
    final_response = pd.Series(np.where(returned, re_responded, responded))
    closed = final_response + _minutes(rng, 600, 0.8, n)
    # A few hard cases never close: petitions and land disputes most of all.
    hard = np.isin(frame.subcategory.to_numpy(), ["征地拆迁", "土地山林"]) | (cat == "信访")
    stuck = rng.uniform(size=n) < np.where(hard, 0.006, 0.0005)

    end64 = pd.Timestamp(end)
    stages = {vocab.ASSIGNED: assigned, vocab.HANDLING: handled, vocab.RESPONDED: responded}
    status = np.full(n, vocab.ACCEPTED, dtype=object)
    for name, at in stages.items():
        status[(at <= end64).to_numpy()] = name
    status[returned & (re_assigned <= end64).to_numpy()] = vocab.ASSIGNED
    status[returned & (re_handled <= end64).to_numpy()] = vocab.HANDLING
    status[returned & (re_responded <= end64).to_numpy()] = vocab.RESPONDED
    is_closed = (closed <= end64).to_numpy() & ~stuck
    status[is_closed] = vocab.CLOSED

    def until_now(at: pd.Series, extra=True):
        return at.where((at <= end64).to_numpy() & extra)

    frame["status"] = status
    frame["assigned_at"] = until_now(assigned)
    frame["handled_at"] = until_now(pd.Series(np.where(returned, re_handled, handled)))
    frame["handled_at"] = frame["handled_at"].fillna(until_now(handled))
    frame["responded_at"] = until_now(final_response).fillna(until_now(responded))
    frame["closed_at"] = until_now(closed, is_closed)
    frame["deadline"] = reported + pd.to_timedelta([_DEADLINE_DAYS[c] for c in cat], unit="D")
    frame["returned_count"] = (returned & (re_assigned <= end64).to_numpy()).astype(int)
    frame["department"] = [_DEPARTMENTS[c] for c in cat]
    level = rng.choice(vocab.RESOLVED_LEVELS, n, p=[0.46, 0.25, 0.19, 0.08, 0.02])
    frame["resolved_level"] = np.where(is_closed, level, None)
    risk = rng.choice(vocab.RISK_LEVELS, n, p=[0.75, 0.2, 0.05])
    frame["risk_level"] = np.where(cat == vocab.DISPUTE, risk, None)
    satisfaction = rng.choice(vocab.SATISFACTIONS, n, p=[0.8, 0.15, 0.05])
    unhappy = rng.uniform(size=n) < 0.04 * (quality - 0.7)
    satisfaction[unhappy] = "不满意"
    revisited = is_closed & (rng.uniform(size=n) < 0.65)
    frame["satisfaction"] = np.where(revisited, satisfaction, None)
    # 化解 is an outcome, not a status: about one closed dispute in eighty ends 调解不成功.
    # Its own generator, so every other draw of the demo stays as it was.
    mediation = np.random.default_rng(len(frame)).uniform(size=n)
    dispute = cat == vocab.DISPUTE
    frame["outcome"] = np.where(
        dispute & is_closed, np.where(mediation < 0.0125 * quality, vocab.NOT_RESOLVED, vocab.RESOLVED),
        np.where(dispute, vocab.PENDING, None))
    frame["description"] = [f"群众反映{s}问题（{c}），请求协调处理。"
                            for c, s in zip(cat, frame.subcategory, strict=True)]
    frame["updated_at"] = pd.concat(
        [frame[c] for c in ("reported_at", "assigned_at", "handled_at", "responded_at", "closed_at")],
        axis=1).max(axis=1)

    events = _events(frame, returned, (handled, responded), (re_assigned, re_handled, re_responded), end64)
    return frame, events


def _events(frame, returned, first_round, second_round, end64) -> pd.DataFrame:
    """Each case's history: the first round, and for a returned case 退回 and the second round,
    every step only once it has happened."""
    ids = frame.id.to_numpy()
    actor = {vocab.ACCEPTED: "综治中心", vocab.ASSIGNED: "综治中心", vocab.HANDLING: None,
             vocab.RESPONDED: None, vocab.RETURNED: "综治中心", vocab.CLOSED: "综治中心"}
    handled, responded = first_round
    re_assigned, re_handled, re_responded = second_round
    # The return comes half an hour after the first response, and before the case is reassigned.
    returned_at = pd.concat([responded + pd.Timedelta(minutes=30), re_assigned], axis=1).min(axis=1)
    parts = [
        (vocab.ACCEPTED, frame.reported_at),
        (vocab.ASSIGNED, frame.assigned_at),
        (vocab.HANDLING, pd.Series(handled)),
        (vocab.RESPONDED, pd.Series(responded)),
        (vocab.RETURNED, returned_at.where(returned)),
        (vocab.ASSIGNED, re_assigned.where(returned)),
        (vocab.HANDLING, re_handled.where(returned)),
        (vocab.RESPONDED, re_responded.where(returned)),
        (vocab.CLOSED, frame.closed_at),
    ]
    frames = []
    for status, at in parts:
        at = pd.Series(at.to_numpy())
        keep = at.notna().to_numpy() & (at <= end64).to_numpy()
        frames.append(pd.DataFrame({
            "case_id": ids[keep], "status": status, "at": at[keep].to_numpy(),
            "actor": actor[status] or frame.department.to_numpy()[keep],
        }))
    events = pd.concat(frames, ignore_index=True).sort_values(["case_id", "at"], kind="stable")
    return events.reset_index(drop=True)


_CAMERA_KINDS = {"枪机": (0.55, (60, 90), (50, 100)), "球机": (0.25, (360, 360), (60, 120)),
                 "人脸": (0.12, (40, 60), (20, 40)), "车牌": (0.08, (30, 45), (30, 50))}


def _cameras(rng, units, places, n: int, end: datetime) -> pd.DataFrame:
    grids = units[units.level == "grid"]
    kinds = rng.choice(list(_CAMERA_KINDS), n, p=[v[0] for v in _CAMERA_KINDS.values()])
    # Six in ten watch a key place from 20–80 m away; the rest follow population, so the
    # outskirts are thinly covered.
    xy = _sample_in_grids(rng, grids, grids.population.to_numpy(float) ** 1.3, n)
    near = rng.uniform(size=n) < 0.6
    watched = places[["x", "y"]].to_numpy()[rng.integers(0, len(places), near.sum())]
    angle = rng.uniform(0, 2 * np.pi, near.sum())
    dist = rng.uniform(0.02, 0.08, near.sum())
    xy[near] = watched + np.column_stack([np.cos(angle), np.sin(angle)]) * dist[:, None]
    heading = rng.uniform(0, 360, n)
    # A camera placed for a key place looks at it.
    heading[near] = (90 - np.degrees(angle + np.pi)) % 360
    fov = np.array([rng.uniform(*_CAMERA_KINDS[k][1]) for k in kinds]).round()
    rng_m = np.array([rng.uniform(*_CAMERA_KINDS[k][2]) for k in kinds]).round()
    # Outages cluster: some districts keep their cameras up better than others.
    offline_p = np.clip(0.05 * rng.lognormal(0, 0.5, n), 0, 0.5)
    online = rng.uniform(size=n) >= offline_p
    last_seen = np.where(online, pd.Timestamp(end) - pd.to_timedelta(rng.integers(0, 300, n), unit="s"),
                         pd.Timestamp(end) - pd.to_timedelta(rng.integers(3600, 14 * 86400, n), unit="s"))
    return pd.DataFrame({
        "id": [f"CAM{i + 1:06d}" for i in range(n)], "kind": kinds, "x": xy[:, 0], "y": xy[:, 1],
        "heading": heading.round(1), "fov": fov, "range_m": rng_m,
        "status": np.where(online, vocab.ONLINE, vocab.OFFLINE), "last_seen": last_seen,
        "owner": rng.choice(["公安局", "综治中心", "社会单位"], n, p=[0.6, 0.25, 0.15]),
        "updated_at": pd.Timestamp(end),
    })


def _surveys(rng, units, end: datetime) -> pd.DataFrame:
    rows = []
    targets = units[units.level.isin(["city", "district"])]
    for year in range(end.year - 3, end.year + 1):
        for code in targets.code:
            base = {"群众安全感": 0.955 + 0.01 * (year - end.year + 3), "执法满意度": 0.93}
            for indicator, value in base.items():
                rows.append({"unit_code": code, "indicator": indicator,
                             "period_start": datetime(year, 1, 1), "period_end": datetime(year, 12, 31),
                             "value": round(min(0.999, value + rng.normal(0, 0.006)), 4),
                             "source": f"{year}年度群众安全感满意度调查（演示）"})
    return pd.DataFrame(rows)


# --- from the kilometre plane to longitude/latitude ----------------------------------------------


def _to_lonlat(geoms):
    return shapely.transform(geoms, lambda xy: np.column_stack([
        ORIGIN_LON + xy[:, 0] / _KM_PER_DEG_LON, ORIGIN_LAT + xy[:, 1] / _KM_PER_DEG_LAT]))


def _to_lonlat_frame(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = units.copy()
    out["geometry"] = _to_lonlat(units.geometry.to_numpy())
    return out.set_crs(schema.SRID, allow_override=True)


def _with_lonlat_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace ``x``/``y`` (km) with a WKB ``geom`` point in longitude/latitude."""
    out = frame.drop(columns=["x", "y"])
    out["geom"] = shapely.to_wkb(_to_lonlat(shapely.points(frame[["x", "y"]].to_numpy())))
    return out
