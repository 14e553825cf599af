"""Coordinate systems of imported files, converted to storage longitude/latitude (EPSG:4326).

EPSG codes (4326, 4490, the projected CGCS2000 zones 4491–4554, …) go through pyproj. The Chinese
web offsets have no EPSG code and are converted with the published algorithms, not relabelled:

- GCJ-02 (国测局, AMap and Tencent): the widely published offset formulas (Krasovsky ellipsoid,
  as in eviltransform / coordtransform); the inverse is solved by iteration to better than 1e-9°.
- BD-09 (Baidu): Baidu's published rotation and shift on top of GCJ-02.

Outside mainland China's rough bounding box the GCJ-02 offset is zero, as in those references.
All functions take and return NumPy arrays (or scalars) of longitude and latitude in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

_A = 6378245.0  # Krasovsky 1940 semi-major axis, used by the GCJ-02 formulas
_EE = 0.00669342162296594323  # its eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0

# The rough box of mainland China the published GCJ-02 code uses (no offset outside it).
CHINA_BOUNDS = (72.004, 0.8293, 137.8347, 55.8271)

GCJ02, BD09 = "gcj02", "bd09"
STORAGE_EPSG = 4326


def out_of_china(lon, lat):
    """True where the point lies outside the box in which GCJ-02 applies an offset."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = CHINA_BOUNDS
    return (lon < x0) | (lon > x1) | (lat < y0) | (lat > y1)


def _delta(lon, lat):
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat):
    """WGS84 → GCJ-02 (the published forward formulas)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _delta(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat, *, tolerance: float = 1e-10, max_iterations: int = 30):
    """GCJ-02 → WGS84: the forward formulas inverted by fixed-point iteration (error < 1e-9°)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = lon.copy(), lat.copy()
    for _ in range(max_iterations):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tolerance) and np.all(np.abs(elat) < tolerance):
            break
    return wlon, wlat


def gcj02_to_bd09(lon, lat):
    """GCJ-02 → BD-09 (Baidu's published transformation)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon, lat):
    """BD-09 → GCJ-02 (Baidu's published inverse)."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_wgs84(lon, lat):
    """BD-09 → WGS84, through GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon, lat):
    """WGS84 → BD-09, through GCJ-02."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


@dataclass(frozen=True)
class SourceCRS:
    """The coordinate system a file is in: an EPSG code, or one of the offsets ``gcj02``/``bd09``."""

    name: str  # "EPSG:4326", "gcj02", "bd09"
    epsg: int | None
    geographic: bool
    # Longitude/latitude box where its coordinates make sense (after conversion to storage).
    bounds: tuple[float, float, float, float]

    @property
    def label(self) -> str:
        return {GCJ02: "GCJ-02", BD09: "BD-09"}.get(self.name, self.name)


CRS_CHOICES = "4326, 4490 (CGCS2000), a projected zone such as 4547 (EPSG:4547), gcj02 or bd09"


_GCJ_NAMES = ("gcj02", "gcj", "amap", "gaode", "tencent", "mars")
_BD_NAMES = ("bd09", "bd09ll", "baidu")
_OFFSET_NAMES = _GCJ_NAMES + _BD_NAMES


def parse_crs(text: str | int | None, *, strict: bool = False) -> SourceCRS:
    """``4326``, ``EPSG:4490``, ``4547``, ``gcj02`` (also ``gcj-02``, ``amap``), ``bd09`` (``baidu``).

    Raises ``ValueError`` with a readable message (listing the choices) for anything else. With
    ``strict`` (a CRS a person gave: ``--crs``, the API's ``crs``) only EPSG codes and the two
    offsets are accepted; without it (a CRS a file names) any definition pyproj reads.
    """
    if isinstance(text, bool) or not isinstance(text, str | int | None):
        raise ValueError(f"无法识别的坐标系 unknown CRS {text!r}: one of {CRS_CHOICES}")
    raw = str(text if text not in (None, "") else STORAGE_EPSG).strip()
    key = raw.lower().replace("-", "").replace("_", "")
    code = key.removeprefix("epsg:")
    if strict and not (key in _OFFSET_NAMES or (code.isascii() and code.isdigit() and len(code) <= 6)):
        raise ValueError(f"无法识别的坐标系 unknown CRS {raw[:80]!r}: one of {CRS_CHOICES}")
    if key in _GCJ_NAMES:
        return SourceCRS(GCJ02, None, True, CHINA_BOUNDS)
    if key in _BD_NAMES:
        return SourceCRS(BD09, None, True, CHINA_BOUNDS)
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_epsg(int(code)) if code.isascii() and code.isdigit() else CRS.from_user_input(raw)
    except (CRSError, ValueError, TypeError):
        raise ValueError(f"无法识别的坐标系 unknown CRS {raw[:80]!r}: one of {CRS_CHOICES}") from None
    if crs.is_geocentric or crs.to_epsg() is None and strict:
        raise ValueError(f"不支持的坐标系 unsupported CRS {raw[:80]!r}: one of {CRS_CHOICES}")
    epsg = crs.to_epsg()
    area = crs.area_of_use
    bounds = (area.west, area.south, area.east, area.north) if area else (-180.0, -90.0, 180.0, 90.0)
    name = f"EPSG:{epsg}" if epsg else crs.name
    return SourceCRS(name, epsg, crs.is_geographic, bounds)


def _transform_coords(coords: np.ndarray, crs: SourceCRS) -> np.ndarray:
    x, y = coords[:, 0], coords[:, 1]
    if crs.name == GCJ02:
        x, y = gcj02_to_wgs84(x, y)
    elif crs.name == BD09:
        x, y = bd09_to_wgs84(x, y)
    elif crs.epsg != STORAGE_EPSG:
        from pyproj import Transformer

        transformer = Transformer.from_crs(crs.epsg or crs.name, STORAGE_EPSG, always_xy=True)
        x, y = transformer.transform(x, y)
    return np.column_stack([x, y])


def to_storage(geoms, crs: SourceCRS) -> np.ndarray:
    """Shapely geometries in ``crs`` as longitude/latitude in the storage CRS (2D)."""
    geoms = shapely.force_2d(np.asarray(geoms, dtype=object))
    if crs.epsg in (STORAGE_EPSG, 4490):
        # CGCS2000 and WGS84 agree to a few centimetres: storage takes either as lon/lat as is.
        return geoms
    present = ~shapely.is_missing(geoms)
    out = geoms.copy()
    out[present] = shapely.transform(geoms[present], lambda c: _transform_coords(c, crs))
    return out


def implausible(geoms, crs: SourceCRS, *, margin: float = 0.5) -> np.ndarray:
    """True for each geometry (already in storage lon/lat) that lies outside where ``crs`` makes
    sense: off the globe, or more than ``margin`` degrees outside the CRS's area of use (a
    projected zone, or mainland China for GCJ-02/BD-09). Swapped latitude/longitude and
    projected metres read as degrees are caught here."""
    geoms = np.asarray(geoms, dtype=object)
    result = np.zeros(len(geoms), dtype=bool)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return result
    b = shapely.bounds(geoms[present])
    with np.errstate(invalid="ignore"):
        off_globe = ~np.isfinite(b).all(axis=1) | (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (
            b[:, 3] > 90)
        x0, y0, x1, y1 = crs.bounds
        outside = (b[:, 0] < x0 - margin) | (b[:, 2] > x1 + margin) | (b[:, 1] < y0 - margin) | (
            b[:, 3] > y1 + margin)
    result[present] = off_globe | outside
    return result


def distance_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres (mean Earth radius), for reports and tests."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(h))
