"""A per-client limit on expensive requests (heat, coverage, exports), so one client cannot take
every worker thread and starve the screens.

Decorate a Flask view with ``@expensive``: while a client has ``CITYBRAIN_EXPENSIVE_PER_CLIENT``
such requests running, its next one is answered 429 with a message and ``Retry-After`` (the app's
error handler for :class:`dashboard.limits.TooBusy`, installed by ``callbacks.api.register``).
A client is the request's principal (person or token) at its address, else the address alone.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from contextlib import contextmanager

from flask import g, has_request_context, request

from dashboard import limits
from dashboard.limits import TooBusy


class ClientLimiter:
    """Counts running requests per client; thread-safe (one process: gunicorn -w N has N)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running: Counter = Counter()

    @contextmanager
    def slot(self, client: str, limit: int, what: str = "request"):
        with self._lock:
            if self._running[client] >= limit:
                raise TooBusy(f"同一客户端同时进行的耗时请求过多 too many {what} requests running for this "
                              f"client (limit {limit}, CITYBRAIN_EXPENSIVE_PER_CLIENT); retry when one "
                              "has finished")
            self._running[client] += 1
        try:
            yield
        finally:
            with self._lock:
                self._running[client] -= 1
                if self._running[client] <= 0:
                    del self._running[client]

    def running(self, client: str) -> int:
        with self._lock:
            return self._running[client]


LIMITER = ClientLimiter()


def client_key() -> str:
    """Who is asking: the request's principal (``callbacks/auth.py``) at its address, else the
    address alone."""
    if not has_request_context():
        return "local"
    address = request.remote_addr or "?"
    who = g.get("principal")
    return f"{who.kind}:{who.name}@{address}" if who is not None else f"addr:{address}"


def expensive(view):
    """Run ``view`` within the per-client limit on expensive requests (429 beyond it)."""
    @functools.wraps(view)
    def limited(*args, **kwargs):
        with LIMITER.slot(client_key(), limits.current().expensive_per_client, view.__name__):
            return view(*args, **kwargs)

    return limited
