"""From the stores' coverage facts to what screens and the API show: per unit covered share, blind
area, cameras, uncovered key places and blind-spot cases, and where one more camera would help most.

Pure pandas and ``geo``: both stores measure the same :class:`data.stores.base.CoverageFacts`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from data.stores.base import CoverageFacts
from geo import cells as geo_cells
from geo import coverage as geo_cov

# A suggested camera: a dome (球机) seeing this far all round.
SUGGEST_RADIUS_M = 100.0
# An uncovered key place weighs as much as this many blind-spot cases in the choice of sites.
PLACE_WEIGHT = 5.0
SUGGESTIONS = 10


def coverage_summary(facts: CoverageFacts, cameras: pd.DataFrame, epsg: int) -> dict:
    """Per member: area, covered share, blind area, cameras and online rate, uncovered key places,
    cases and cases in blind spots; the same for the whole unit; and the ranked suggestions.

    ``cameras`` is indexed by member code with ``cameras`` and ``cameras_online`` (counted by grid
    in ``data.queries.counts``, as the wall screen's 视频在线率).
    """
    cases_, places = facts.cases.copy(), facts.places.copy()
    # Empty frames come back with object columns: a boolean mask must be boolean to select rows.
    cases_["blind"] = cases_["blind"].astype(bool)
    places["covered"] = places["covered"].astype(bool)
    if len(places):
        spots = geo_cov.to_lonlat(shapely.points(places[["x", "y"]].to_numpy(float)), epsg)
        places["lon"], places["lat"] = shapely.get_x(spots).round(6), shapely.get_y(spots).round(6)
    rows = []
    for m in facts.members.itertuples():
        mine = cases_[cases_.member == m.code]
        here = places[places.member == m.code]
        uncovered = here[~here.covered].sort_values("id")
        cams = cameras.loc[m.code] if m.code in cameras.index else {"cameras": 0, "cameras_online": 0}
        rows.append({
            "code": m.code,
            "area_km2": m.area_m2 / 1e6,
            "covered_share": m.covered_m2 / m.area_m2 if m.area_m2 else None,
            "blind_km2": (m.area_m2 - m.covered_m2) / 1e6,
            "cameras": int(cams["cameras"]), "cameras_online": int(cams["cameras_online"]),
            "online_rate": cams["cameras_online"] / cams["cameras"] if cams["cameras"] else None,
            "key_places": len(here), "uncovered_places": len(uncovered),
            "uncovered_place_list": [{"id": r.id, "name": r.name, "kind": r.kind, "lon": r.lon,
                                      "lat": r.lat} for r in uncovered.itertuples()],
            "cases": len(mine), "blind_cases": int(mine.blind.sum()),
        })
    area = float(facts.members.area_m2.sum())
    covered = float(facts.members.covered_m2.sum())
    n_cams = sum(r["cameras"] for r in rows)
    online = sum(r["cameras_online"] for r in rows)
    total = {
        "area_km2": area / 1e6, "covered_share": covered / area if area else None,
        "blind_km2": (area - covered) / 1e6, "cameras": n_cams, "cameras_online": online,
        "online_rate": online / n_cams if n_cams else None,
        "key_places": len(places), "uncovered_places": int((~places.covered).sum()) if len(places) else 0,
        "cases": len(cases_), "blind_cases": int(cases_.blind.sum()) if len(cases_) else 0,
    }
    return {"members": rows, "total": total, "suggestions": suggestions(facts, epsg)}


def suggestions(facts: CoverageFacts, epsg: int, count: int = SUGGESTIONS) -> list[dict]:
    """Where one more camera would help most: greedy sites over blind-spot cases and uncovered
    key places (``geo.cells.greedy_sites``), best first."""
    blind = facts.cases[facts.cases.blind.astype(bool)]
    open_places = facts.places[~facts.places.covered.astype(bool)]
    xy = np.vstack([blind[["x", "y"]].to_numpy(float).reshape(-1, 2),
                    open_places[["x", "y"]].to_numpy(float).reshape(-1, 2)])
    weights = np.r_[np.ones(len(blind)), np.full(len(open_places), PLACE_WEIGHT)]
    members = np.r_[blind["member"].to_numpy(object), open_places["member"].to_numpy(object)]
    names = np.r_[np.full(len(blind), None, dtype=object), open_places["name"].to_numpy(object)]
    out = []
    for rank, (x, y, covered) in enumerate(geo_cells.greedy_sites(xy, weights, SUGGEST_RADIUS_M, count), 1):
        site = geo_cov.to_lonlat(shapely.points(x, y), epsg)
        is_place = covered >= len(blind)
        member = pd.Series(members[covered]).mode().sort_values().iloc[0]
        out.append({
            "rank": rank, "lon": round(site.x, 6), "lat": round(site.y, 6), "member": member,
            "cases": int((~is_place).sum()), "key_places": [str(n) for n in names[covered[is_place]]],
            "radius_m": SUGGEST_RADIUS_M,
        })
    return out


# "Where people are": this far around the key places (schools, markets, stations, crossings…).
PEOPLE_RADIUS_M = 200.0


def people_area_share(facts: CoverageFacts, unit_wkb: bytes, epsg: int,
                      radius: float = PEOPLE_RADIUS_M) -> float | None:
    """Share of the area where people are (within ``radius`` of a key place, inside the unit)
    that is in view of an online camera: the area headline without mountains, water and fields."""
    if not len(facts.places):
        return None
    zone = shapely.union_all(shapely.buffer(shapely.points(facts.places[["x", "y"]].to_numpy(float)), radius))
    unit = geo_cov.to_metric(shapely.from_wkb(unit_wkb), epsg)
    zone = shapely.intersection(zone, unit)
    if zone.area == 0:
        return None
    blind = geo_cov.to_metric(shapely.from_wkb(facts.blind_wkb), epsg)
    return float(shapely.difference(zone, blind).area / zone.area)
