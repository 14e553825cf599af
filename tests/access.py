"""Acting as someone in tests: real users and tokens in the store, real logins (no bypass).

``grant(store, name, role, unit)`` makes (or reuses) a machine token with a known value, so a test
client or a browser sends ``Authorization: Bearer <token>``; ``login(client, name, password)``
goes through the ``/login`` form with its CSRF token like a person.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, insert, select

from data.access import Accounts, hash_password, token_hash
from data.schema import api_tokens, users

TEST_PASSWORD = "correct horse battery staple"
BROWSER_TOKEN = "test-token-tests-analyst-analyst-root"  # what grant(store) gives; tests/browser.py


def root_code(store) -> str:
    return Accounts(store.engine).root_code()


def grant(store, name: str = "tests-analyst", role: str = "analyst", unit: str | None = None) -> str:
    """A token named ``name`` (value derived from the name, so every fixture agrees), active."""
    token = f"test-token-{name}-{role}-{unit or 'root'}"
    unit = unit or root_code(store)
    with store.engine.begin() as conn:
        conn.execute(delete(api_tokens).where(api_tokens.c.name == name))
        conn.execute(insert(api_tokens).values(name=name, role=role, unit_code=unit,
                                               token_hash=token_hash(token)))
    return token


def person(store, name: str, role: str = "admin", unit: str | None = None,
           password: str = TEST_PASSWORD) -> str:
    """A person ``name`` (replaced if present) with ``password``; returns the password."""
    unit = unit or root_code(store)
    with store.engine.begin() as conn:
        conn.execute(delete(users).where(users.c.name == name))
        conn.execute(insert(users).values(name=name, role=role, unit_code=unit, disabled=False,
                                          password_hash=hash_password(password)))
    return password


def csrf_from(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, name: str, password: str = TEST_PASSWORD):
    """Log ``client`` (a Flask test client) in through the form; returns the reply."""
    page = client.get("/login")
    return client.post("/login", data={"username": name, "password": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})


def has_user(store, name: str) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(select(users.c.name).where(users.c.name == name)).first() is not None
