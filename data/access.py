"""Who is looking: principals, roles, unit scope, people, machine tokens and the audit trail.

A ``Principal`` is whoever sends a request: a person (``user``, by the session cookie or a trusted
SSO header), a machine token (``token``, by ``Authorization: Bearer`` or a display's cookie) or
the legacy writer token. Each has a role and a unit scope: the unit and everything under it.

Roles and what they may do (``GRANTS``; a need a role lacks is refused with 403):

- ``admin``: everything, manages people and tokens;
- ``analyst``: aggregates, case lists, case details and exports inside the scope;
- ``viewer`` and ``display`` (a wall screen's token): aggregates inside the scope only; case
  records reach them stripped to ``PUBLIC_CASE_FIELDS`` (no text, no address, no point);
- ``writer``: live ingest only.

The one check is ``check(principal, chain, need)``; the service wrapper ``data.scoped.ScopedData``
applies it to every question about a unit, and ``callbacks/auth.py`` resolves the principal per
request. See docs/ARCHITECTURE.md, "Who is looking".

``Accounts`` keeps people, tokens and the audit trail in the store (tables in data/schema.py).
Passwords are hashed with scrypt (memory-hard, in the standard library); tokens are 256 random
bits, stored as their SHA-256 only. The audit trail is append-only: nothing here updates or
deletes it, and triggers in both stores refuse it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.engine import Engine

from data.schema import api_tokens, audit_log, unit_closure, units, users
from data.stores.base import reading

ROLES = ("admin", "analyst", "viewer")
TOKEN_ROLES = ("display", "writer", "analyst", "viewer")
ONCE_ROLE = "login-once"  # the first run's one-time login link (a token row, used up when used)

# What a role may do. "read": aggregates; "cases": case lists, details, points, text;
# "export": exports; "ingest": POST /api/v1/cases; "admin": people and tokens.
GRANTS = {
    "admin": frozenset({"read", "cases", "export", "admin"}),
    "analyst": frozenset({"read", "cases", "export"}),
    "viewer": frozenset({"read"}),
    "display": frozenset({"read"}),
    "writer": frozenset({"ingest"}),
}
NEEDS = ("read", "cases", "export", "ingest", "admin")

# What a case record keeps for a caller without "cases": no text, no address, no people, no point.
PUBLIC_CASE_FIELDS = ("category", "subcategory", "source", "status", "reported_at", "deadline",
                      "risk_level")

AUDITED_ACTIONS = ("login", "login_failed", "logout", "case_list", "case_detail", "export",
                   "user_change", "token_change", "ingest")


@dataclass(frozen=True)
class Principal:
    """Who sends a request: ``name`` (a person or a token's name), ``role``, ``unit`` (the scope's
    root code; empty for the legacy writer, which is not scoped), ``kind`` (user, token, sso,
    legacy)."""

    name: str
    role: str
    unit: str
    kind: str = "user"

    def may(self, need: str) -> bool:
        return need in GRANTS.get(self.role, ())

    @property
    def sees_cases(self) -> bool:
        return self.may("cases")

    @property
    def actor(self) -> str:
        """How the audit trail names the caller."""
        return self.name if self.kind in ("user", "sso") else f"{self.kind}:{self.name}"


class Denied(Exception):
    """A refusal (403), with a message in Chinese and English and nothing of the data."""

    status = 403

    def __init__(self, message: str):
        super().__init__(message)


def out_of_scope(code: str) -> Denied:
    return Denied(f"无权查看该单元 not in your jurisdiction: {code}")


def not_allowed(need: str) -> Denied:
    return Denied(f"当前角色无此权限 your role does not allow this ({need})")


def check(principal: Principal | None, chain: list[str] | None = None, need: str = "read", *,
          city_wide: bool = False) -> None:
    """The one access check: ``principal`` may ``need`` on the unit whose ancestor chain (codes,
    root first, the unit itself last) is ``chain``; ``chain`` None checks the role only. An
    unknown unit (empty chain) passes only for a ``city_wide`` principal (scoped to a root), who
    then learns it does not exist; anyone else is refused as for any unit outside the scope.
    Raises ``Denied``."""
    if principal is None:
        raise Denied("请先登录 login required")
    if not principal.may(need):
        raise not_allowed(need)
    if chain is None or (not chain and city_wide):
        return
    if not principal.unit or principal.unit not in chain:
        raise out_of_scope(chain[-1] if chain else "?")


def public_case(case: dict) -> dict:
    """A case record as a caller without "cases" may see it."""
    return {k: case[k] for k in PUBLIC_CASE_FIELDS if k in case}


# --- secrets -------------------------------------------------------------------------------------

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 2**20, dklen=32, **_SCRYPT)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), maxmem=64 * 2**20, dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


_DUMMY_HASH = hash_password(secrets.token_hex(8))  # an unknown name costs as much as a wrong password


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def secret_key(configured: str, data_dir: str) -> str:
    """The session signing key: ``configured``, else one generated once into ``data_dir``."""
    if configured:
        return configured
    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_secret())
    return path.read_text().strip()


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


# --- the store's side ----------------------------------------------------------------------------


class Accounts:
    """People, tokens and the audit trail in the store at ``engine``."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def beside(cls, url: str, screens: Engine) -> Accounts:
        """For the server: an engine of its own without the screens' statement time limit (a
        login's look-ups are bookkeeping, like an import), disposed with ``screens``."""
        from data.stores import open_store

        engine = open_store(url).engine
        event.listen(screens, "engine_disposed", lambda _engine: engine.dispose())
        return cls(engine)

    def _begin(self):
        return self.engine.begin()

    def _read(self):
        """A connection for look-ups (no transaction round trips on PostgreSQL)."""
        return reading(self.engine)

    # --- units ---

    def chain(self, code: str) -> list[str]:
        """The codes from the root down to ``code`` (empty for an unknown code)."""
        query = (select(unit_closure.c.ancestor_code).where(unit_closure.c.descendant_code == code)
                 .order_by(unit_closure.c.depth.desc()))
        with self._read() as conn:
            return [r[0] for r in conn.execute(query)]

    def require_unit(self, code: str) -> None:
        with self._read() as conn:
            if conn.execute(select(units.c.code).where(units.c.code == code)).first() is None:
                raise ValueError(f"未找到单元 unit not found: {code}")

    def root_code(self) -> str | None:
        with self._read() as conn:
            return conn.execute(select(units.c.code).where(units.c.parent_code.is_(None))
                                .order_by(units.c.code)).scalar()

    # --- people ---

    def has_users(self) -> bool:
        with self._read() as conn:
            return conn.execute(select(func.count()).select_from(users)).scalar() > 0

    def add_user(self, name: str, role: str, unit: str, password: str) -> None:
        if role not in ROLES:
            raise ValueError(f"未知角色 unknown role {role!r}; one of {', '.join(ROLES)}")
        if not name or len(name) > 64:
            raise ValueError("用户名应为 1 到 64 个字符 name must be 1 to 64 characters")
        self.require_unit(unit)
        with self._begin() as conn:
            if conn.execute(select(users.c.name).where(users.c.name == name)).first():
                raise ValueError(f"用户已存在 user exists: {name}")
            conn.execute(insert(users).values(name=name, role=role, unit_code=unit,
                                              password_hash=hash_password(password), disabled=False,
                                              created_at=_now(), password_changed_at=_now()))

    def list_users(self) -> list[dict]:
        query = select(users.c.name, users.c.role, users.c.unit_code, users.c.disabled,
                       users.c.created_at, users.c.password_changed_at).order_by(users.c.name)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def _update_user(self, name: str, **values) -> None:
        with self._begin() as conn:
            if conn.execute(update(users).where(users.c.name == name).values(**values)).rowcount == 0:
                raise ValueError(f"未找到用户 user not found: {name}")

    def disable_user(self, name: str) -> None:
        self._update_user(name, disabled=True)

    def set_password(self, name: str, password: str) -> None:
        self._update_user(name, password_hash=hash_password(password), password_changed_at=_now())

    def _user_row(self, name: str):
        with self._read() as conn:
            return conn.execute(select(users).where(users.c.name == name)).mappings().first()

    def authenticate(self, name: str, password: str) -> Principal | None:
        """The person if ``password`` is theirs and they are enabled; None otherwise."""
        row = self._user_row(name)
        if row is None:
            verify_password(password, _DUMMY_HASH)
            return None
        if not verify_password(password, row["password_hash"]) or row["disabled"]:
            return None
        return Principal(row["name"], row["role"], row["unit_code"], "user")

    def user(self, name: str, *, stamp: str | None = None, kind: str = "user") -> Principal | None:
        """The enabled person ``name``; None when disabled, unknown, or when the password changed
        since ``stamp`` (``password_stamp`` at login: a new password ends every session)."""
        row = self._user_row(name)
        if row is None or row["disabled"]:
            return None
        if stamp is not None and str(row["password_changed_at"]) != stamp:
            return None
        return Principal(row["name"], row["role"], row["unit_code"], kind)

    def password_stamp(self, name: str) -> str | None:
        row = self._user_row(name)
        return str(row["password_changed_at"]) if row else None

    # --- tokens ---

    def add_token(self, name: str, role: str, unit: str) -> str:
        """A new token (returned once; only its hash is kept)."""
        if role not in (*TOKEN_ROLES, ONCE_ROLE):
            raise ValueError(f"未知令牌角色 unknown token role {role!r}; one of {', '.join(TOKEN_ROLES)}")
        if not name or len(name) > 64:
            raise ValueError("令牌名应为 1 到 64 个字符 name must be 1 to 64 characters")
        self.require_unit(unit)
        token = new_secret()
        with self._begin() as conn:
            if conn.execute(select(api_tokens.c.name).where(api_tokens.c.name == name)).first():
                raise ValueError(f"令牌已存在 token exists: {name}")
            conn.execute(insert(api_tokens).values(name=name, role=role, unit_code=unit,
                                                   token_hash=token_hash(token), created_at=_now()))
        return token

    def list_tokens(self) -> list[dict]:
        query = select(api_tokens.c.name, api_tokens.c.role, api_tokens.c.unit_code,
                       api_tokens.c.created_at, api_tokens.c.revoked_at).order_by(api_tokens.c.name)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def revoke_token(self, name: str) -> None:
        with self._begin() as conn:
            done = conn.execute(update(api_tokens).where(api_tokens.c.name == name,
                                                         api_tokens.c.revoked_at.is_(None))
                                .values(revoked_at=_now()))
            if done.rowcount == 0:
                raise ValueError(f"未找到有效令牌 no active token named {name}")

    def token(self, token: str, *, once: bool = False) -> Principal | None:
        """The active token's principal (``once``: a one-time login token, used up now)."""
        query = select(api_tokens).where(api_tokens.c.token_hash == token_hash(token),
                                         api_tokens.c.revoked_at.is_(None))
        with (self._begin() if once else self._read()) as conn:
            row = conn.execute(query).mappings().first()
            if row is None or (row["role"] == ONCE_ROLE) != once:
                return None
            if once:
                used = conn.execute(update(api_tokens).where(api_tokens.c.name == row["name"],
                                                             api_tokens.c.revoked_at.is_(None))
                                    .values(revoked_at=_now()))
                if used.rowcount != 1:
                    return None
        return Principal(row["name"], row["role"], row["unit_code"], "token")

    def token_named(self, name: str) -> Principal | None:
        """The active token ``name`` (a display's cookie names its token; revoking ends it)."""
        query = select(api_tokens).where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
        with self._read() as conn:
            row = conn.execute(query).mappings().first()
        if row is None or row["role"] == ONCE_ROLE:
            return None
        return Principal(row["name"], row["role"], row["unit_code"], "token")

    # --- the audit trail ---

    def audit(self, action: str, *, actor: str | None, address: str | None = None,
              unit: str | None = None, object: str | None = None, result: str = "ok") -> None:
        """Append one row (the only write to the audit trail there is)."""
        with self._begin() as conn:
            conn.execute(insert(audit_log).values(
                at=_now(), actor=(actor or "")[:80], address=(address or "")[:64], action=action,
                unit_code=unit, object=object, result=result))

    def audit_rows(self, *, since: datetime | None = None, actor: str | None = None,
                   action: str | None = None) -> list[dict]:
        c = audit_log.c
        query = select(c.id, c.at, c.actor, c.address, c.action, c.unit_code, c.object, c.result)
        if since is not None:
            query = query.where(c.at >= since)
        if actor:
            query = query.where(c.actor == actor)
        if action:
            query = query.where(c.action == action)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(query.order_by(c.id)).mappings()]

    def failures(self, *, minutes: int, actor: str | None = None, address: str | None = None,
                 object: str | None = None) -> int:
        """Failed logins in the last ``minutes`` for a name, from an address, of a kind."""
        c = audit_log.c
        query = select(func.count()).where(c.action == "login_failed",
                                           c.at >= _now() - timedelta(minutes=minutes))
        if actor is not None:
            query = query.where(c.actor == actor)
        if address is not None:
            query = query.where(c.address == address)
        if object is not None:
            query = query.where(c.object == object)
        with self._read() as conn:
            return conn.execute(query).scalar()
