"""Reading a city's files: GeoJSON, GeoPackage, Shapefile and CSV, as records with a geometry.

What is read here is not yet checked: ``data.ingest.mapping`` renames the columns to the store's
fields and ``data.ingest.importer`` validates and writes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

LON_NAMES = ("lon", "lng", "longitude", "经度", "x")
LAT_NAMES = ("lat", "latitude", "纬度", "y")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")


def read_file(path: str | Path, *, layer: str | None = None, encoding: str | None = None,
              lon: str | None = None, lat: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """The file's records with a ``geometry`` column (Shapely, or None), and its CRS if it names one.

    GeoJSON, GeoPackage and Shapefile are read with pyogrio; CSV needs longitude/latitude columns
    (``lon``/``lat``, ``经度``/``纬度``…) or a WKT column (``wkt``/``geometry``). CSV is read as text,
    so codes keep their leading zeros; UTF-8 is tried first, then GB18030.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"文件不存在 file not found: {path}")
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        return _read_csv(path, encoding=encoding, lon=lon, lat=lat), None
    import pyogrio

    kwargs = {"layer": layer} if layer else {}
    if encoding:
        kwargs["encoding"] = encoding
    frame = pyogrio.read_dataframe(path, **kwargs)
    crs = frame.crs.to_string() if frame.crs is not None else None
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    out["geometry"] = np.asarray(frame.geometry.array, dtype=object)
    return out, crs


def _read_csv(path: Path, *, encoding, lon, lat) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    for enc in ([encoding] if encoding else ["utf-8-sig", "gb18030"]):
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], sep=sep, encoding=enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"无法解码 cannot decode {path} (try --encoding)")
    frame.columns = [str(c).strip() for c in frame.columns]
    lower = {c.lower(): c for c in frame.columns}
    lon_col = lon or next((lower[n] for n in LON_NAMES if n in lower), None)
    lat_col = lat or next((lower[n] for n in LAT_NAMES if n in lower), None)
    wkt_col = next((lower[n] for n in WKT_NAMES if n in lower), None)
    for given in (lon, lat):
        if given and given not in frame:
            raise ValueError(f"CSV 中没有列 column not in the CSV: {given!r}")
    if lon_col and lat_col:
        x = pd.to_numeric(frame[lon_col], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(frame[lat_col], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        geoms = np.full(len(frame), None, dtype=object)
        geoms[ok] = shapely.points(x[ok], y[ok])
        bad_text = ~ok & (frame[lon_col].notna() | frame[lat_col].notna()).to_numpy()
        if bad_text.any():  # text where numbers belong: an empty point, reported as such
            geoms[bad_text] = shapely.Point()
        frame = frame.drop(columns=[lon_col, lat_col])
    elif wkt_col:
        text = frame[wkt_col]
        geoms = np.full(len(frame), None, dtype=object)
        present = text.notna().to_numpy()
        parsed = shapely.from_wkt(text[present].to_numpy(dtype=object), on_invalid="ignore")
        geoms[present] = [g if g is not None else shapely.Point() for g in parsed]
        frame = frame.drop(columns=[wkt_col])
    else:
        geoms = np.full(len(frame), None, dtype=object)
    frame["geometry"] = geoms
    return frame
