"""Which incoming rows are new, which changed and which are the same as what is stored.

Pure pandas, shared by both stores (``Store.upsert_*`` in ``data.stores.base``): a re-imported row
that equals the stored one is left alone, so ``updated_at`` and the case history do not move.
Only the columns the incoming frame carries are compared (and later written): a file without a
``department`` column does not blank the departments already stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import DateTime, Float, Integer

from data.ingest.values import plain
from data.schema import Geometry

_LOOKUP_CHUNK = 5_000


@dataclass
class UpsertResult:
    """What an upsert did (or, on a dry run, would do)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    events: int = 0  # case history rows appended
    reassigned: int = 0  # stored rows without a grid that got one after units changed
    changed_fields: dict = field(default_factory=dict)  # column -> rows where it changed

    def add(self, other: UpsertResult) -> None:
        for name in ("inserted", "updated", "unchanged", "events", "reassigned"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, n in other.changed_fields.items():
            self.changed_fields[key] = self.changed_fields.get(key, 0) + n

    def as_dict(self) -> dict:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged,
                "events": self.events, "reassigned": self.reassigned}


def chunks(values: list, size: int = _LOOKUP_CHUNK):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _normalised(series: pd.Series, type_) -> pd.Series:
    """Values in a form that compares equal when the stored value is the same."""
    if isinstance(type_, Geometry):
        present = series.notna()
        out = pd.Series([None] * len(series), index=series.index, dtype=object)
        if present.any():
            geoms = shapely.from_wkb(np.asarray(series[present].tolist(), dtype=object))
            out[present] = shapely.to_wkb(geoms, hex=True, output_dimension=2)
        return out
    if isinstance(type_, DateTime):
        parsed = pd.to_datetime(series, errors="coerce").astype("datetime64[us]")
        return pd.Series([None if pd.isna(v) else v.value for v in parsed.tolist()], index=series.index,
                         dtype=object)
    if isinstance(type_, (Integer, Float)):
        numbers = pd.to_numeric(series, errors="coerce").astype(float)
        return pd.Series(plain(numbers), index=series.index, dtype=object)
    return pd.Series([None if v is None else str(v) for v in plain(series)], index=series.index, dtype=object)


def diff(incoming: pd.DataFrame, stored: pd.DataFrame, table,
         key: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """Masks over ``incoming``: (new, changed), and per-column counts of changes.

    ``stored`` holds the stored rows whose keys appear in ``incoming``, with the same columns.
    """
    stored = stored.drop_duplicates(key).set_index(key)
    exists = incoming[key].isin(stored.index).to_numpy()
    changed = np.zeros(len(incoming), dtype=bool)
    counts = {}
    if exists.any():
        both = incoming[exists]
        old = stored.loc[both[key].tolist()]
        for column in incoming.columns:
            if column == key or column not in table.c or column not in old:
                continue
            a = _normalised(both[column].reset_index(drop=True), table.c[column].type)
            b = _normalised(old[column].reset_index(drop=True), table.c[column].type)
            differs = np.array([x != y for x, y in zip(a.tolist(), b.tolist(), strict=True)], dtype=bool)
            if differs.any():
                counts[column] = int(differs.sum())
                changed[np.flatnonzero(exists)[differs]] = True
    return ~exists, changed, counts
