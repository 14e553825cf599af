"""Reading a city's files: GeoJSON, GeoPackage, Shapefile and CSV, as records with a geometry.

What is read here is not yet checked: ``data.ingest.mapping`` renames the columns to the store's
fields and ``data.ingest.importer`` validates and writes them.
"""

from __future__ import annotations

import io
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
    if path.is_file() and path.stat().st_size == 0:
        raise ValueError(f"文件为空 the file is empty: {path}")
    try:
        frame = pyogrio.read_dataframe(path, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ValueError(f"无法读取 cannot read {path.name}: not a readable GeoJSON/GeoPackage/Shapefile, "
                         f"or the layer is missing or empty ({_first_line(exc)})") from None
    except (pyogrio.errors.FieldTypeError, pyogrio.errors.GeometryError, UnicodeDecodeError,
            LookupError) as exc:
        raise ValueError(f"无法读取 cannot read {path.name}: {_first_line(exc)} (try --encoding)") from None
    crs = frame.crs.to_string() if frame.crs is not None else None
    out = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    out["geometry"] = np.asarray(frame.geometry.array, dtype=object)
    return out, crs


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]


def decode_text(data: bytes, name: str, encoding: str | None = None) -> str:
    """The file's text in the first encoding that decodes it cleanly (``encoding`` if given, else
    UTF-8, then GB18030), refusing what decodes only into gibberish.

    A Big5 (traditional) file decodes as GB18030 without a single error, into rare characters.
    Text read as GB18030 whose Chinese characters lie mostly outside GB2312 (the 6,763 common
    simplified ones) is refused with the encodings tried, as is text with U+FFFD or NUL.
    """
    tried = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in tried:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise ValueError(f"未知编码 unknown encoding --encoding {enc!r}") from None
        if "\ufffd" in text or "\x00" in text:
            continue
        if enc == "gb18030" and not encoding and _looks_garbled(text):
            continue
        return text
    raise ValueError(f"无法干净地解码 {name} cannot decode {name} cleanly with {', '.join(tried)} (errors, "
                     "NUL or replacement characters, or rare characters that suggest another encoding "
                     "such as Big5); give the right one with --encoding (e.g. big5, gbk, utf-16)")


def _looks_garbled(text: str) -> bool:
    han = [c for c in text if "\u3400" <= c <= "\u9fff"]
    if len(han) < 4:
        return False
    rare = 0
    for c in han:
        try:
            c.encode("gb2312")
        except UnicodeEncodeError:
            rare += 1
    return rare / len(han) > 0.3


def _read_csv(path: Path, *, encoding, lon, lat) -> pd.DataFrame:
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    text = decode_text(path.read_bytes(), path.name, encoding)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"无法读取 CSV cannot read {path.name}: {_first_line(exc)}") from None
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
