"""Fixtures for the browser tests: the app on a free local port, headless Chromium, a watched page.

``conftest.py`` imports the fixtures; ``serve`` is also used directly by tests that need a second
server on their own copy of the store. Chromium is Debian's (``/usr/bin/chromium``): nothing is
downloaded. Where it or Playwright is missing the tests skip loudly (a failure under ``CI=true``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1920, "height": 1080}
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"data", "blob"}
# Chromium's software GL reports stalls as console messages; they say nothing about the app.
IGNORED_CONSOLE = ("GL Driver Message",)


@contextmanager
def serve(settings) -> Iterator[str]:
    """``create_app(settings)`` served on a free 127.0.0.1 port in a daemon thread; yields its URL."""
    from werkzeug.serving import make_server

    from app import create_app
    from callbacks.auth import QuietRequestHandler
    from tests.access import grant

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the output
    app = create_app(settings)
    grant(app.server.config["CITYBRAIN_DATA"].store)  # the token the ``page`` fixture sends
    server = make_server("127.0.0.1", 0, app.server, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="citybrain-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.server.config["CITYBRAIN_DATA"].store.engine.dispose()


@pytest.fixture(scope="session")
def live_server(embedded_demo) -> Iterator[str]:
    """The base URL of the app serving the embedded demo city (refresh every 2 s)."""
    from dashboard.settings import Settings

    with serve(Settings(db=embedded_demo.engine.url.database, refresh_seconds=2)) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright's sync API."""
    from conftest import skip_infra

    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_infra("the Python package playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        skip_infra(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
    except PlaywrightError as exc:
        playwright.stop()
        skip_infra(f"Playwright cannot launch {CHROMIUM}: {str(exc).strip().splitlines()[0]}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser):
    """A fresh 1920×1080 page of a city-wide analyst (a real token, ``tests/access.py``, sent as
    ``Authorization: Bearer`` with every request). Teardown fails the test on any request that
    leaves this machine (the app must fetch nothing from the internet) and on any JavaScript
    console error (a Content-Security-Policy violation is one)."""
    from tests.access import BROWSER_TOKEN

    yield from _watched_page(browser, {"Authorization": f"Bearer {BROWSER_TOKEN}"})


@pytest.fixture
def anonymous_page(browser):
    """Like ``page``, but nobody is logged in: the login flow and display links start here."""
    yield from _watched_page(browser, {})


def _watched_page(browser, headers: dict):
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  extra_http_headers=headers)
    external: list[str] = []
    errors: list[str] = []

    def on_request(request):
        url = urlsplit(request.url)
        if url.scheme not in LOCAL_SCHEMES and url.hostname not in LOCAL_HOSTS:
            external.append(request.url)

    def on_console(message):
        if message.type == "error" and not any(s in message.text for s in IGNORED_CONSOLE):
            errors.append(f"console.error: {message.text}")

    context.on("request", on_request)
    tab = context.new_page()
    tab.on("console", on_console)
    tab.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    tab.on("websocket", lambda ws: on_request(ws))
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    assert not external, f"the page fetched from outside this machine: {external}"
    assert not errors, "JavaScript errors in the browser:\n" + "\n".join(errors)
