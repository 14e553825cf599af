"""``citybrain users|tokens|audit``: managing who may look, and reading who looked.

    citybrain users add NAME --role admin|analyst|viewer --unit CODE [--password-stdin]
    citybrain users list | disable NAME | passwd NAME [--password-stdin]
    citybrain tokens add NAME --role display|writer|analyst|viewer --unit CODE
    citybrain tokens list | revoke NAME
    citybrain audit [--since YYYY-MM-DD] [--user NAME] [--action ACTION]

A generated password or a token is printed once; only its hash is stored. Every change is
written to the audit trail (``user_change``, ``token_change``) as done by ``cli:<login name>``.
``first_run`` makes the first admin when the store has no one (``citybrain serve``).
"""

from __future__ import annotations

import getpass
import json
import secrets
import sys
from datetime import datetime

from data.access import AUDITED_ACTIONS, ONCE_ROLE, ROLES, TOKEN_ROLES, Accounts

MIN_PASSWORD = 10


def add_parsers(commands) -> None:
    users = commands.add_parser("users", help="people who may log in: add, list, disable, passwd")
    acts = users.add_subparsers(dest="action", required=True)
    add = acts.add_parser("add", help="add a person (a random password is printed once)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--unit", required=True, help="code of the unit the person sees (and all below)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    acts.add_parser("list", help="everyone, with role, unit and state")
    acts.add_parser("disable", help="refuse this person from now on").add_argument("name")
    passwd = acts.add_parser("passwd", help="set a new password (ends the person's sessions)")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    tokens = commands.add_parser("tokens", help="machine tokens (wall screens, writers): add, list, revoke")
    acts = tokens.add_subparsers(dest="action", required=True)
    add = acts.add_parser("add", help="add a token (printed once)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=TOKEN_ROLES)
    add.add_argument("--unit", required=True, help="code of the unit the token sees (and all below)")
    acts.add_parser("list", help="every token, with role, unit and state (never the token)")
    acts.add_parser("revoke", help="refuse this token from now on").add_argument("name")

    audit = commands.add_parser("audit", help="the audit trail as JSON lines")
    audit.add_argument("--since", help="from this day on, YYYY-MM-DD")
    audit.add_argument("--user", help="only this user or token (tokens: token:NAME)")
    audit.add_argument("--action", choices=AUDITED_ACTIONS, help="only this action")
    for parser in (users, tokens, audit):
        parser.add_argument("--db", help="database URL or embedded file (default: CITYBRAIN_DB)")


def run(accounts: Accounts, args, *, stdin=None, out=None) -> int:
    """Carry out ``citybrain users|tokens|audit``; 0 when done, 2 on a refused request."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    try:
        if args.command == "audit":
            return _audit(accounts, args, out)
        handler = {"users": _users, "tokens": _tokens}[args.command]
        return handler(accounts, args, stdin, out)
    except ValueError as exc:
        print(f"citybrain {args.command}: {exc}", file=sys.stderr)
        return 2


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(args, stdin, out) -> str:
    if getattr(args, "password_stdin", False):
        password = stdin.readline().rstrip("\r\n")
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"密码至少 {MIN_PASSWORD} 个字符 password: {MIN_PASSWORD} characters or more")
        return password
    password = secrets.token_urlsafe(12)
    print(f"密码（只显示这一次）password (shown once): {password}", file=out)
    return password


def _users(accounts: Accounts, args, stdin, out) -> int:
    log = {"actor": _actor(), "address": "local"}
    if args.action == "list":
        for row in accounts.list_users():
            print(json.dumps({**row, "created_at": str(row["created_at"]),
                              "password_changed_at": str(row["password_changed_at"])},
                             ensure_ascii=False), file=out)
        return 0
    if args.action == "add":
        accounts.require_unit(args.unit)  # before a password is printed
        accounts.add_user(args.name, args.role, args.unit, _password(args, stdin, out))
        accounts.audit("user_change", **log, unit=args.unit, object=f"add {args.name} role={args.role}")
    elif args.action == "disable":
        accounts.disable_user(args.name)
        accounts.audit("user_change", **log, object=f"disable {args.name}")
    else:
        accounts.set_password(args.name, _password(args, stdin, out))
        accounts.audit("user_change", **log, object=f"passwd {args.name}")
    print(f"已完成 done: users {args.action} {args.name}", file=sys.stderr)
    return 0


def _tokens(accounts: Accounts, args, _stdin, out) -> int:
    log = {"actor": _actor(), "address": "local"}
    if args.action == "list":
        for row in accounts.list_tokens():
            if row["role"] == ONCE_ROLE:
                continue
            print(json.dumps({**row, "created_at": str(row["created_at"]),
                              "revoked_at": row["revoked_at"] and str(row["revoked_at"])},
                             ensure_ascii=False), file=out)
        return 0
    if args.action == "add":
        token = accounts.add_token(args.name, args.role, args.unit)
        accounts.audit("token_change", **log, unit=args.unit, object=f"add {args.name} role={args.role}")
        print(token, file=out)
        hint = (f"大屏登录链接 wall screen link: http://HOST:PORT/?token={token}"
                if args.role == "display" else "Authorization: Bearer <token>")
        print(f"令牌只显示这一次 the token is shown once. {hint}", file=sys.stderr)
        return 0
    accounts.revoke_token(args.name)
    accounts.audit("token_change", **log, object=f"revoke {args.name}")
    print(f"已吊销 revoked: {args.name}", file=sys.stderr)
    return 0


def _audit(accounts: Accounts, args, out) -> int:
    since = datetime.fromisoformat(args.since) if args.since else None
    for row in accounts.audit_rows(since=since, actor=args.user, action=args.action):
        print(json.dumps({**row, "at": row["at"].isoformat()}, ensure_ascii=False), file=out)
    return 0


def first_run(accounts: Accounts) -> tuple[str, str] | None:
    """On a store with no people: an ``admin`` for the whole city with a random password, and a
    one-time login token. Returns (password, once-token), or None when someone exists."""
    root = accounts.root_code()
    if accounts.has_users() or root is None:
        return None
    password = secrets.token_urlsafe(12)
    accounts.add_user("admin", "admin", root, password)
    accounts.audit("user_change", actor="first-run", address="local", unit=root,
                   object="add admin role=admin")
    once = accounts.add_token(f"once:admin:{secrets.token_hex(4)}", ONCE_ROLE, root)
    return password, once
