"""Charts to PNG and SVG on the server, with kaleido and the machine's own Chromium.

Nothing is fetched: plotly.js comes from the installed plotly package, MathJax is off, the fonts
are the machine's (fonts-noto-cjk). One kaleido server (one Chromium) is started on first use and
kept: an image then takes a fraction of a second instead of seconds. Renders are serialised.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import plotly

FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

_lock = threading.Lock()
_started = False


class RenderUnavailable(RuntimeError):
    """No Chromium (or no kaleido) on this machine: charts cannot be drawn server-side."""


def browser_path() -> str | None:
    """The Chromium kaleido drives: ``BROWSER_PATH``, else a known path, else ``chromium`` on PATH."""
    if os.environ.get("BROWSER_PATH"):
        return os.environ["BROWSER_PATH"] if Path(os.environ["BROWSER_PATH"]).exists() else None
    for path in CHROMIUM_CANDIDATES:
        if Path(path).exists():
            return path
    return shutil.which("chromium")


def available() -> bool:
    try:
        import kaleido  # noqa: F401
    except ImportError:
        return False
    return browser_path() is not None


def _ensure_started() -> None:
    global _started
    if _started:
        return
    try:
        import kaleido
    except ImportError as exc:
        raise RenderUnavailable("kaleido 未安装 (pip install kaleido)") from exc
    path = browser_path()
    if path is None:
        raise RenderUnavailable("未找到 Chromium (apt-get install chromium, or set BROWSER_PATH)")
    os.environ["BROWSER_PATH"] = path
    kaleido.start_sync_server(mathjax=False, plotlyjs=str(PLOTLY_JS), silence_warnings=True)
    _started = True


def render(fig, fmt: str = "png", *, width: int | None = None, height: int | None = None,
           scale: float = 2.0) -> bytes:
    """``fig`` as PNG (``scale``× the CSS size) or SVG bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown image format {fmt!r}")
    opts = {"format": fmt, "width": width or fig.layout.width or 1280,
            "height": height or fig.layout.height or 720, "scale": scale if fmt == "png" else 1}
    with _lock:
        _ensure_started()
        import kaleido

        data = kaleido.calc_fig_sync(fig, opts=opts)
    return data if isinstance(data, bytes) else data.encode()


SCREEN = (1920, 1080)
# The wall screen is ready when its KPI cards and the map's canvas are there.
READY = "document.querySelectorAll('.kpi').length > 0 && !!document.querySelector('.map canvas')"
# A picture of the screen, not of its tools: no plotly mode bars, no export buttons. (Styles set
# from script, which the page's Content-Security-Policy allows where a <style> element is not.)
HIDE = ("document.querySelectorAll('.modebar-container, .export-bar')"
        ".forEach(e => e.style.setProperty('display', 'none', 'important'))")


def screenshot(url: str, *, cookies: dict | None = None, headers: dict | None = None,
               width: int = SCREEN[0], height: int = SCREEN[1], timeout: float = 45,
               settle: float = 2.0) -> bytes:
    """A PNG of the page at ``url`` (the wall screen, served by this same server), taken by the
    machine's headless Chromium (software GL, so the map draws without a GPU): load, wait until
    the screen is drawn (``READY``), let the map settle, capture. ``cookies`` and ``headers``
    (the caller's session cookie, CSRF cookie, bearer token) make the page the caller's view."""
    import asyncio
    import base64

    path = browser_path()
    if path is None:
        raise RenderUnavailable("未找到 Chromium (apt-get install chromium, or set BROWSER_PATH)")
    try:
        png = asyncio.run(asyncio.wait_for(
            _shot(path, url, width, height, settle, cookies or {}, headers or {}), timeout))
    except TimeoutError as exc:
        raise RenderUnavailable("Chromium 截图超时 screenshot timed out") from exc
    return base64.b64decode(png)


async def _shot(path: str, url: str, width: int, height: int, settle: float, cookies: dict,
                headers: dict) -> str:
    import asyncio

    import choreographer

    async with choreographer.Browser(path=path, headless=True) as browser:
        tab = browser.get_tab() or await browser.create_tab("about:blank")
        await tab.send_command("Emulation.setDeviceMetricsOverride",
                               params={"width": width, "height": height, "deviceScaleFactor": 1,
                                       "mobile": False})
        await tab.send_command("Network.enable")
        for name, value in cookies.items():
            await tab.send_command("Network.setCookie", params={"name": name, "value": value, "url": url})
        if headers:
            await tab.send_command("Network.setExtraHTTPHeaders", params={"headers": headers})
        await tab.send_command("Page.navigate", params={"url": url})
        while True:
            answer = await tab.send_command("Runtime.evaluate", params={"expression": READY})
            if answer.get("result", {}).get("result", {}).get("value"):
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(settle)
        await tab.send_command("Runtime.evaluate", params={"expression": HIDE})
        shot = await tab.send_command("Page.captureScreenshot", params={"format": "png"})
        return shot["result"]["data"]
