"""Who is looking, on the server: the principal of each request, the guard, login and logout,
security headers. The rules themselves are in ``data/access.py`` and ``data/scoped.py``.

How every part of the app uses it (see docs/ARCHITECTURE.md, "Who is looking"):

- **Every request** passes ``_guard`` (a ``before_request`` on the whole server): it resolves the
  principal from ``Authorization: Bearer``, a trusted SSO header, or the session cookie (a
  display token's ``/?token=…`` link sets that cookie once), else answers 401 JSON (API, ``/geo``,
  Dash's ``/_dash-…``) or redirects to ``/login`` (pages). A POST from a cookie needs the CSRF
  token (Dash's renderer sends the ``_csrf_token`` cookie back as ``X-CSRFToken``).
- **Dash callbacks** get ``request_data(data)`` instead of the service: every question goes
  through ``ScopedData`` for this request's principal, so a hand-made callback request for another
  unit gets a 403 and case records reach viewers stripped. A callback needs nothing else.
- **API handlers** sit on a blueprint whose ``before_request`` is ``api_guard``: a ``<code>`` in
  the URL is checked against the scope, and the handler's need (``@needs("cases")``,
  ``@needs("export")``, ``@needs("ingest")``; "read" when unmarked, ``@needs(None)`` for public)
  against the role. Handlers ask ``scoped()`` for the service and ``audit(action, …)`` to record.
  An object that is not a unit in the URL (a case id, an export job) is checked by its unit:
  ``scoped(data).require(its_unit_code, "cases")`` before anything of it is answered.
- **A new service method** is named in ``data/scoped.py`` (``UNIT_METHODS``, ``CASE_METHODS`` or
  ``FREE``); a test fails until it is.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, redirect, request, session
from flask.sessions import SecureCookieSessionInterface
from markupsafe import escape
from werkzeug.serving import WSGIRequestHandler

from dashboard import strings
from data.access import Accounts, Denied, Principal, check, new_secret, secret_key
from data.scoped import ScopedData
from data.service import StoreUnavailable

CSRF_COOKIE, CSRF_HEADER = "_csrf_token", "X-CSRFToken"
PUBLIC_PATHS = ("/login", "/logout", "/healthz")
JSON_PREFIXES = ("/api/", "/geo/", "/_dash-")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

login_pages = Blueprint("citybrain_login", __name__)


class _Sessions(SecureCookieSessionInterface):
    """The session cookie, ``Secure`` whenever the request came over HTTPS (also via a trusted
    proxy's ``X-Forwarded-Proto``)."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or _is_https()


class QuietRequestHandler(WSGIRequestHandler):
    """The development server without ``Server: Werkzeug/… Python/…``."""

    def version_string(self) -> str:
        return "CityBrain"


def register(app, accounts: Accounts, settings) -> None:
    server = app.server
    server.secret_key = secret_key(settings.secret_key, settings.data_dir)
    server.session_interface = _Sessions()
    server.config.update(SESSION_COOKIE_NAME="citybrain_session", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax",
                         PERMANENT_SESSION_LIFETIME=max(settings.display_days, 1) * 86400)
    server.extensions["citybrain_access"] = {
        "accounts": accounts, "settings": settings, "csp": _csp(app, settings),
        "proxies": {a.strip() for a in settings.trusted_proxies.split(",") if a.strip()},
    }
    server.before_request(_guard)
    server.after_request(_headers)
    server.register_error_handler(Denied, _denied)
    server.register_error_handler(StoreUnavailable, _unavailable)  # the guard's own look-ups
    server.register_blueprint(login_pages)


def _ext() -> dict:
    return current_app.extensions["citybrain_access"]


def _accounts() -> Accounts:
    return _ext()["accounts"]


# --- what handlers use ---------------------------------------------------------------------------


def principal() -> Principal | None:
    """This request's principal (None before the guard ran or on a public page)."""
    return g.get("principal")


def scoped(data) -> ScopedData:
    """The service as this request's principal may see it (one per request)."""
    if "scoped" not in g:
        g.scoped = ScopedData(data, principal(), audit)
    return g.scoped


class request_data:  # noqa: N801 (used like a function: request_data(data))
    """What Dash callbacks are given instead of the service: every attribute is looked up on
    ``scoped(data)`` for the request being answered."""

    def __init__(self, data):
        self._data = data

    def __getattr__(self, name: str):
        return getattr(scoped(self._data), name)


def audit(action: str, *, unit: str | None = None, object: str | None = None, result: str = "ok",
          actor: str | None = None) -> None:
    """Append an audit row for this request (caller and address filled in)."""
    who = principal()
    _accounts().audit(action, actor=actor or (who.actor if who else None), address=client_address(),
                      unit=unit, object=object, result=result)


def needs(need: str | None) -> Callable:
    """Mark an API handler with the need it checks (None: public); ``api_guard`` enforces it."""
    def mark(fn):
        fn.citybrain_need = need
        return fn
    return mark


def api_guard():
    """``before_request`` of the API blueprint: the handler's need, and a ``<code>`` in the URL
    inside the caller's scope. Refusals are 403 with nothing of the data."""
    view = current_app.view_functions.get(request.endpoint)
    need = getattr(view, "citybrain_need", "read")
    if need is None:
        return None
    code = (request.view_args or {}).get("code")
    if code is None or need == "ingest":
        check(principal(), None, need)
    else:
        scoped(current_app.extensions["citybrain"]["data"]).require(code, need)
    return None


def client_address() -> str:
    """The caller's address: a trusted proxy's ``X-Forwarded-For`` last hop, else the peer."""
    peer = request.remote_addr or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and peer in _ext()["proxies"]:
        return forwarded.split(",")[-1].strip()
    return peer


def _is_https() -> bool:
    if request.is_secure:
        return True
    peer = request.remote_addr or ""
    return peer in _ext()["proxies"] and request.headers.get("X-Forwarded-Proto", "") == "https"


# --- the guard -----------------------------------------------------------------------------------


def _guard():
    if request.path in PUBLIC_PATHS:
        g.principal = _optional_principal()
        return None
    bearer = _bearer()
    if bearer is not None:
        refused = _bearer_login(bearer)
        if refused is not None:
            return refused
    else:
        who = _sso() or _from_session()
        if who is None and request.method == "GET" and request.args.get("token"):
            return _display_link(request.args["token"])
        if who is None:
            return _unauthenticated()
        g.principal = who
        if request.method in UNSAFE and not _csrf_ok(request.headers.get(CSRF_HEADER)):
            return _error(403, "缺少或错误的 CSRF 令牌 missing or wrong CSRF token")
    if not g.principal.may("read") and not request.path.startswith("/api/"):
        return _error(403, "当前角色无此权限 your role does not allow this")
    return None


def _optional_principal() -> Principal | None:
    bearer = _bearer()
    if bearer:
        return _token_principal(bearer)
    return _sso() or _from_session()


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _token_principal(token: str) -> Principal | None:
    legacy = _ext()["settings"].writer_token
    if legacy and hmac.compare_digest(token.encode(), legacy.encode()):
        return Principal("CITYBRAIN_WRITER_TOKEN", "writer", "", "legacy")
    return _accounts().token(token) if token else None


def _bearer_login(token: str):
    who = _token_principal(token)
    if who is None:
        return _token_failed("bearer")
    g.principal = who
    return None


def _token_failed(actor: str):
    """A wrong token: 401 and an audit row; past the limit from this address, 429 (no row)."""
    settings, address = _ext()["settings"], client_address()
    if _accounts().failures(minutes=settings.login_window_minutes, address=address,
                            object="bearer") >= settings.token_max_failures:
        return _error(429, "失败次数过多，请稍后再试 too many failed tokens, try again later")
    _accounts().audit("login_failed", actor=actor, address=address, object="bearer", result="fail")
    return _error(401, "令牌无效或已吊销 invalid or revoked token")


def _sso() -> Principal | None:
    header = _ext()["settings"].auth_header
    if not header or (request.remote_addr or "") not in _ext()["proxies"]:
        return None
    name = request.headers.get(header, "").strip()
    who = _accounts().user(name, kind="sso") if name else None
    if who is not None and session.get("who") != name:
        _start_session(who, hours=_ext()["settings"].session_hours)
    return who


def _from_session() -> Principal | None:
    who, kind, exp = session.get("who"), session.get("kind"), session.get("exp", 0)
    if not who or exp < time.time():
        return None
    if kind == "user":
        return _accounts().user(who, stamp=session.get("pw", ""))
    if kind == "token":
        return _accounts().token_named(who)
    return None


def _start_session(who: Principal, *, hours: float) -> None:
    session.clear()
    session.permanent = who.kind == "token"  # a wall screen's cookie outlives the browser; a person's not
    session.update(who=who.name, kind="token" if who.kind == "token" else "user", at=time.time(),
                   exp=time.time() + hours * 3600, csrf=new_secret())
    if who.kind != "token":
        session["pw"] = _accounts().password_stamp(who.name)  # a new password ends this session


def _display_link(token: str):
    """``/?token=…``: a display token logs its screen in once (a long-lived cookie), then the
    same page without the token in the URL."""
    who = _accounts().token(token)
    if who is None or who.role != "display":
        failed = _token_failed("display-link")
        return failed if failed.status_code == 429 else _unauthenticated()
    _start_session(who, hours=_ext()["settings"].display_days * 24)
    g.principal = who
    audit("login", unit=who.unit, object="display-link")
    rest = {k: v for k, v in request.args.items() if k != "token"}
    return redirect(request.path + ("?" + urlencode(rest) if rest else ""))


def _unauthenticated():
    if request.path.startswith(JSON_PREFIXES):
        return _error(401, "请先登录 login required (session cookie or Authorization: Bearer)")
    target = request.full_path if request.query_string else request.path
    return redirect("/login?" + urlencode({"next": target}))


def _csrf_ok(sent: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and sent) and hmac.compare_digest(str(sent).encode(), expected.encode())


def _denied(exc: Denied):
    return _error(exc.status, str(exc))


def _unavailable(exc: StoreUnavailable):
    return _error(503, "数据库暂时无法访问 store unavailable")


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    return response


# --- headers -------------------------------------------------------------------------------------


def _csp(app, settings) -> str:
    """Only this origin. Dash's two inline scripts by hash; Plotly needs 'unsafe-eval' (it
    compiles functions at run time) and inline styles; its map draws in web workers from blobs."""
    tiles = ""
    if settings.tile_url:
        from urllib.parse import urlsplit

        parts = urlsplit(settings.tile_url)
        tiles = f" {parts.scheme}://{parts.netloc}"
    scripts = " ".join(app.csp_hashes())
    return "; ".join([
        "default-src 'self'", f"script-src 'self' 'unsafe-eval' {scripts}",
        "style-src 'self' 'unsafe-inline'", f"img-src 'self' data: blob:{tiles}",
        f"connect-src 'self'{tiles}", "font-src 'self' data:", "worker-src 'self' blob:",
        "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
    ])


def _headers(response):
    h = response.headers
    h["Content-Security-Policy"] = _ext()["csp"]
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    if principal() is not None and "csrf" in session and request.cookies.get(CSRF_COOKIE) != session["csrf"]:
        response.set_cookie(CSRF_COOKIE, session["csrf"], samesite="Strict", secure=_is_https(),
                            httponly=False)  # Dash's renderer reads it to send X-CSRFToken
    return response


# --- login and logout ----------------------------------------------------------------------------


@login_pages.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET" and request.args.get("once"):
        return _one_time_login(request.args["once"])
    if request.method == "GET":
        return _login_page()
    if not _csrf_ok(request.form.get("csrf_token")):
        return _login_page(strings.LOGIN_CSRF, status=403)
    name, password = request.form.get("username", "").strip()[:64], request.form.get("password", "")
    settings, address = _ext()["settings"], client_address()
    limit, window = settings.login_max_failures, settings.login_window_minutes
    if (_accounts().failures(minutes=window, actor=name, object="password") >= limit
            or _accounts().failures(minutes=window, address=address, object="password") >= limit):
        return _login_page(strings.LOGIN_THROTTLED, status=429)
    who = _accounts().authenticate(name, password)
    if who is None:
        _accounts().audit("login_failed", actor=name, address=address, object="password", result="fail")
        return _login_page(strings.LOGIN_FAILED)  # the form again, saying why (not an HTTP error)
    _start_session(who, hours=settings.session_hours)
    g.principal = who
    audit("login", unit=who.unit, object="password")
    return redirect(_safe_next(request.form.get("next")))


def _one_time_login(token: str):
    once = _accounts().token(token, once=True)
    who = once and _accounts().user(once.name.split(":")[1])  # named once:<user>:<random>
    if who is None:
        _accounts().audit("login_failed", actor="login-link", address=client_address(),
                          object="bearer", result="fail")
        return _login_page(strings.LOGIN_LINK_USED, status=401)
    _start_session(who, hours=_ext()["settings"].session_hours)
    g.principal = who
    audit("login", unit=who.unit, object="one-time link")
    return redirect("/")


@login_pages.route("/logout", methods=["GET", "POST"])
def logout():
    who = principal()
    if request.method == "GET":
        return _page(strings.LOGOUT_TITLE, _logout_form()) if who else redirect("/login")
    if not _csrf_ok(request.form.get("csrf_token")):
        return _error(403, "缺少或错误的 CSRF 令牌 missing or wrong CSRF token")
    if who is not None:
        audit("logout", unit=who.unit)
    session.clear()
    return redirect("/login")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_page(message: str = "", *, status: int = 200):
    if "csrf" not in session:
        session["csrf"] = new_secret()
    nxt = _safe_next(request.values.get("next"))
    body = f"""
<form method="post" action="/login">
  <input type="hidden" name="csrf_token" value="{escape(session['csrf'])}">
  <input type="hidden" name="next" value="{escape(nxt)}">
  <label>{strings.LOGIN_USER}<input name="username" autocomplete="username" required autofocus></label>
  <label>{strings.LOGIN_PASSWORD}<input name="password" type="password" autocomplete="current-password"
    required></label>
  {f'<p class="error" role="alert">{escape(message)}</p>' if message else ''}
  <button type="submit">{strings.LOGIN_SUBMIT}</button>
</form>"""
    return _page(strings.LOGIN_TITLE, body), status


def _logout_form() -> str:
    return f"""
<form method="post" action="/logout">
  <input type="hidden" name="csrf_token" value="{escape(session.get('csrf', ''))}">
  <p>{escape(principal().name)}</p>
  <button type="submit">{strings.LOGOUT_SUBMIT}</button>
</form>"""


_PAGE_CSS = """body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;
background:#0b1a2e;color:#e6eef8;font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif}
main{background:#132a47;padding:32px 40px;border-radius:8px;min-width:320px}
h1{font-size:22px;margin:0 0 20px}label{display:block;margin:0 0 14px;font-size:14px}
input{display:block;width:100%;box-sizing:border-box;margin-top:6px;padding:8px;font-size:16px;
border:1px solid #35557d;border-radius:4px;background:#0b1a2e;color:#e6eef8}
button{width:100%;padding:10px;font-size:16px;border:0;border-radius:4px;background:#2f7de1;color:#fff}
.error{color:#ff8a80}"""


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)} · {escape(strings.APP_TITLE)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_PAGE_CSS}</style></head>
<body><main><h1>{escape(strings.APP_TITLE)}</h1>{body}</main></body></html>"""


def login_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/login?" + urlencode({"once": token})


