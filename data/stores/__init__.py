"""The stores behind one contract (``data.stores.base``): the embedded GeoPackage
(``embedded``, spatial work in Shapely: ``embedded_spatial``) and PostGIS (``postgis``, spatial
work in SQL: ``postgis_spatial``; its schema in Alembic ``migrations``).

This package opens them; each backend imports only the contract, so nothing here is imported in a
circle.
"""

from __future__ import annotations

from data.stores.base import Store
from data.stores.embedded import EmbeddedStore
from data.stores.postgis import PostGISStore


def open_store(url: str) -> Store:
    """The store at ``url``: a ``postgresql://`` URL or a ``sqlite:///`` embedded file."""
    if url.startswith("sqlite"):
        return EmbeddedStore.from_url(url)
    if url.startswith(("postgresql", "postgres://")):
        return PostGISStore.from_url(url)
    raise ValueError(f"不支持的数据库地址 unsupported database URL: {url}")


def upgrade(url: str) -> None:
    """Bring the store at ``url`` up to the newest schema.

    A ``postgresql://`` URL runs the Alembic migrations (creating the ``postgis`` extension if it
    is missing, which needs a role allowed to). Any other store URL gets its schema created as
    the store does it itself (the embedded GeoPackage: ``create_all``, idempotent).
    """
    store = open_store(url)
    try:
        store.create_schema()
    finally:
        store.engine.dispose()
