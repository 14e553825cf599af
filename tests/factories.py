"""Small hand-made cities for tests whose answers are computed by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import pandas as pd
import shapely

from dashboard import vocab

T0 = datetime(2026, 3, 2, 9, 0)  # a Monday morning


def tiny_city(store) -> None:
    """市 990100 → 区 990102 (west), 990103 (east) → one grid each; 1 km-ish squares."""
    rows = [
        ("990100", "测试市", "city", None, shapely.box(114.0, 30.0, 114.02, 30.01), 30_000),
        ("990102", "西区", "district", "990100", shapely.box(114.0, 30.0, 114.01, 30.01), 20_000),
        ("990103", "东区", "district", "990100", shapely.box(114.01, 30.0, 114.02, 30.01), 10_000),
        ("990102001001001", "西区第一网格", "grid", "990102", shapely.box(114.0, 30.0, 114.01, 30.01),
         20_000),
        ("990103001001001", "东区第一网格", "grid", "990103", shapely.box(114.01, 30.0, 114.02, 30.01),
         10_000),
    ]
    frame = gpd.GeoDataFrame(
        [dict(code=c, name=n, level=lv, parent_code=p, population=pop) for c, n, lv, p, _, pop in rows],
        geometry=[r[4] for r in rows], crs=4326,
    )
    store.write_units(frame)


WEST = (114.005, 30.005)
EAST = (114.015, 30.005)


def case(i: int, *, at=WEST, category="城市管理", reported=T0, assigned_after=None, status=vocab.ACCEPTED,
         deadline_days=5, satisfaction=None, resolved_level=None, source="网格员上报",
         outcome=None) -> dict:
    assigned = reported + timedelta(minutes=assigned_after) if assigned_after is not None else None
    return dict(
        id=i, external_id=f"T{i:04d}", category=category, subcategory="其他", source=source,
        reported_at=reported, geom=shapely.to_wkb(shapely.Point(*at)), status=status,
        assigned_at=assigned, deadline=reported + timedelta(days=deadline_days),
        satisfaction=satisfaction, resolved_level=resolved_level, outcome=outcome,
        closed_at=reported + timedelta(days=1) if status == vocab.CLOSED else None,
    )


def write_cases(store, cases: list[dict]) -> None:
    frame = pd.DataFrame(cases)
    events = pd.DataFrame({"case_id": frame.id, "status": vocab.ACCEPTED, "at": frame.reported_at})
    store.write_cases(frame, events)
