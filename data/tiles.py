"""A local MBTiles file of raster tiles (PNG, JPEG or WebP) as the base map: read-only SQLite,
served by the app at ``/tiles/{z}/{x}/{y}`` so nothing is fetched from outside.

MBTiles rows are in TMS order (row 0 at the bottom); the map asks in XYZ order (row 0 at the top).
"""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

# Where the file has no tile the map gets a transparent one: a missing tile is not an error.
EMPTY_TILE = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQAB"
                              "pfZFQAAAAABJRU5ErkJggg==")

_MAGIC = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


class MBTiles:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise ValueError(f"CITYBRAIN_TILE_FILE: no such file {self.path}")
        with self._connect() as conn:
            meta = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
        self.format = meta.get("format", "png")
        if self.format not in ("png", "jpg", "jpeg", "webp"):
            raise ValueError(f"{self.path}: only raster MBTiles (png, jpg, webp) are supported, "
                             f"not {self.format}")
        self.attribution = meta.get("attribution", "")

    def _connect(self) -> sqlite3.Connection:
        # One short read-only connection per request: safe from any thread or worker.
        return sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)

    def tile(self, z: int, x: int, y: int) -> tuple[bytes, str] | None:
        """The tile's bytes and media type, or None where the file has no tile."""
        if z < 0 or not (0 <= x < 2**z and 0 <= y < 2**z):
            return None
        with self._connect() as conn:
            row = conn.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                               "AND tile_row = ?", (z, x, 2**z - 1 - y)).fetchone()
        if row is None:
            return None
        data = bytes(row[0])
        kind = next((t for magic, t in _MAGIC.items() if data.startswith(magic)), "application/octet-stream")
        return data, kind
