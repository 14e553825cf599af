"""The stores behind one contract (``data.stores.base``): the embedded GeoPackage
(``embedded``, spatial work in Shapely: ``embedded_spatial``) and PostGIS (``postgis``, spatial
work in SQL: ``postgis_spatial``; its schema in Alembic ``migrations``).

This package opens them; each backend imports only the contract, so nothing here is imported in a
circle.
"""

from __future__ import annotations

from data.stores.base import QueryTimeout, Store, StoreUnavailable
from data.stores.embedded import EmbeddedStore
from data.stores.postgis import PostGISStore

__all__ = ["EmbeddedStore", "PostGISStore", "QueryTimeout", "Store", "StoreUnavailable", "open_store",
           "upgrade"]


def open_store(url: str, *, query_timeout: float | None = None) -> Store:
    """The store at ``url``: a ``postgresql://`` URL or a ``sqlite:///`` embedded file.

    With ``query_timeout`` (seconds; the server passes ``CITYBRAIN_QUERY_TIMEOUT_SECONDS``) every
    statement that runs longer is stopped and raises :class:`QueryTimeout`; ``None`` or ``0``: no
    limit (imports, the demo generator, migrations).
    """
    if url.startswith("sqlite"):
        return EmbeddedStore.from_url(url, query_timeout=query_timeout)
    if url.startswith(("postgresql", "postgres://")):
        return PostGISStore.from_url(url, query_timeout=query_timeout)
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
