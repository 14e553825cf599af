"""Cell values as plain Python objects: what validation, the upsert diff and the drivers compare.

Shared by ``data.ingest.validation`` and ``data.ingest.upsert`` (which must not depend on each other).
"""

from __future__ import annotations

import pandas as pd


def plain(series: pd.Series) -> list:
    """The values as plain Python objects, ``None`` for every kind of missing (NaN, NaT, NA)."""
    # Text and integers are never missing: skip the costly check for them (most values).
    return [v if type(v) is str or type(v) is int else None if _missing(v) else v for v in series.tolist()]


def _missing(value) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # arrays and geometries are values
        return False
