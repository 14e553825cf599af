"""A real analyst token for the benchmarks that go through HTTP (the app answers nobody else)."""

from __future__ import annotations

import os
import time

from data.access import Accounts
from data.stores import open_store


def bench_token(db: str) -> str:
    """A new city-wide analyst token in the store ``db`` (named ``bench-<pid>-<time>``)."""
    store = open_store(db if "://" in db else f"sqlite:///{os.path.abspath(db)}")
    try:
        accounts = Accounts(store.engine)
        return accounts.add_token(f"bench-{os.getpid()}-{int(time.time())}", "analyst", accounts.root_code())
    finally:
        store.engine.dispose()
