"""Base features drawn under the units (rivers, main roads): a local GeoJSON file, read once.

Each feature's ``kind`` says how it is drawn (``water`` or ``road``). The map carries them inline
in its style, so nothing is fetched (see docs/ARCHITECTURE.md, "The map").
"""

from __future__ import annotations

import json
from pathlib import Path

KINDS = ("water", "road")


def load(path: str | Path | None) -> dict | None:
    """The FeatureCollection at ``path`` with only known kinds, or None when there is no file."""
    if not path or not Path(path).is_file():
        return None
    collection = json.loads(Path(path).read_text(encoding="utf-8"))
    if collection.get("type") != "FeatureCollection":
        raise ValueError(f"{path}: base features must be a GeoJSON FeatureCollection")
    features = [f for f in collection["features"]
                if f.get("geometry") and (f.get("properties") or {}).get("kind") in KINDS]
    return {"type": "FeatureCollection", "features": features}
