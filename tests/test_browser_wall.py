"""The wall screen at the sizes command centres have: 1920×1080, 3840×2160 and a 7680×2160 splice
wall, in headless Chromium. At each size, for the city, a district and a grid: the unit fills its
map panel and is not cut off, the smallest chart text is big enough to read from metres away, the
children's names are drawn on the map, and no white chart shows while it loads. The ``page``
fixture fails any test that fetched from outside this machine or logged a JavaScript error.
Screenshots land in ``screenshots/`` (git-ignored) for people to look at.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from dashboard import strings
from data import queries
from tests.test_browser import PERIOD_QUERY

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips every test, loudly, with the reason
    expect = None

SIZES = [(1920, 1080), (3840, 2160), (7680, 2160)]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
MIN_SPAN = 0.70  # of the map panel, in the unit's limiting dimension
MIN_TEXT = 0.011  # of the screen height, for the smallest chart text

# The map, once wall.js has fitted it and written the names: where the unit's bounds land on the
# canvas, the canvas size, and the names drawn (visible) and written (all).
_MAP_JS = """() => {
  const gd = document.querySelector('#unit-map .js-plotly-plot');
  const map = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot.map;
  if (!map || !map.loaded() || map.isMoving() || !gd.__cbFitKey) return null;
  const fit = gd.layout.meta.fit;
  const a = map.project([fit[0], fit[3]]), b = map.project([fit[2], fit[1]]);
  const canvas = map.getCanvas();
  const labels = [...gd.querySelectorAll('.map-labels .map-label')];
  return {box: [a.x, a.y, b.x, b.y], width: canvas.clientWidth, height: canvas.clientHeight,
          written: labels.map((l) => l.textContent),
          drawn: labels.filter((l) => l.style.visibility === 'visible').map((l) => l.textContent),
          labelSize: labels.length ? parseFloat(getComputedStyle(labels[0]).fontSize) : null,
          key: gd.__cbFitKey};
}"""

# The smallest font size of any visible text in the charts (plotly's SVG text) and on the map.
_SMALLEST_TEXT_JS = """() => {
  const sizes = [];
  document.querySelectorAll('.js-plotly-plot svg text').forEach((t) => {
    if (!t.textContent.trim()) return;
    const box = t.getBoundingClientRect();
    if (!box.width || !box.height) return;
    sizes.push([parseFloat(getComputedStyle(t).fontSize), t.textContent]);
  });
  sizes.sort((a, b) => a[0] - b[0]);
  return sizes.slice(0, 3);
}"""


# Whether a 7-digit count fits each KPI card: a hidden copy of its value with "1,234,567".
_SEVEN_DIGITS_FIT_JS = """() => [...document.querySelectorAll('.kpi')].map((card) => {
  const probe = card.querySelector('.kpi-value').cloneNode();
  probe.textContent = '1,234,567';
  probe.style.position = 'absolute';
  probe.style.visibility = 'hidden';
  card.appendChild(probe);
  const style = getComputedStyle(card);
  const room = card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const width = probe.getBoundingClientRect().width;
  probe.remove();
  return width <= room + 0.5;
})"""


def _unit_chain(store):
    """City, its largest district, and a grid inside it."""
    chain = []
    with store.engine.connect() as conn:
        unit = queries.roots(conn)[0]
        while unit is not None:
            kids = queries.children(conn, unit["code"])
            chain.append({**unit, "kids": kids})
            unit = kids[0] if kids else None
    return {"city": chain[0], "district": chain[1], "grid": chain[-1]}


# Graphs drawn with a light, opaque background (plotly's default white chart), by id.
_WHITE_CHARTS_JS = """() => {
  const probe = document.createElement('div');
  document.body.appendChild(probe);
  const light = (colour) => {
    probe.style.color = colour || 'transparent';
    const [r, g, b, a] = getComputedStyle(probe).color.match(/[\\d.]+/g).map(Number);
    return (a === undefined || a > 0.2) && Math.min(r, g, b) > 200;
  };
  const white = [...document.querySelectorAll('.js-plotly-plot')]
    .filter((gd) => gd._fullLayout
      && (light(gd._fullLayout.paper_bgcolor) || light(gd._fullLayout.plot_bgcolor)))
    .map((gd) => gd.parentElement.id);
  probe.remove();
  return white;
}"""


def _no_white_chart(page, when: str) -> None:
    white = page.evaluate(_WHITE_CHARTS_JS)
    assert not white, f"white charts {white} {when}"


def _white_share(png: bytes) -> float:
    """Share of the screenshot that is white or nearly (a default plotly chart is white)."""
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    return float((pixels.min(axis=2) >= 245).mean())


@pytest.fixture(scope="module")
def units(embedded_demo):
    return _unit_chain(embedded_demo)


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_the_wall_screen_at_any_size(page, live_server, units, width, height):
    page.set_viewport_size({"width": width, "height": height})
    for level in ("city", "district", "grid"):
        unit = units[level]
        page.goto(f"{live_server}/?unit={unit['code']}&{PERIOD_QUERY}")
        page.wait_for_timeout(300)
        _no_white_chart(page, f"300 ms after opening the {level}")
        # Software rendering of a 4K or 8K page on a shared CI box is slow: generous timeouts.
        expect(page.locator("#breadcrumb .crumb.current")).to_have_text(unit["name"], timeout=60_000)
        page.wait_for_function(_MAP_JS, timeout=60_000)
        page.wait_for_timeout(300)  # the map settles; labels placed
        shown = page.evaluate(_MAP_JS)
        _assert_fitted(shown, level)
        names = [k["name"] for k in unit["kids"]] or [unit["name"]]  # a grid is its own member
        assert sorted(shown["written"]) == sorted(names), f"{level}: names written {shown['written']}"
        assert len(shown["drawn"]) >= max(1, round(0.6 * len(names))), (
            f"{level}: only {shown['drawn']} of {names} drawn on the map")
        smallest = page.evaluate(_SMALLEST_TEXT_JS)
        assert smallest and smallest[0][0] >= MIN_TEXT * height, (
            f"{level} at {width}×{height}: chart text of {smallest[0][0]} px ({smallest[0][1]!r}) is under "
            f"{MIN_TEXT:.1%} of the screen height")
        assert shown["labelSize"] >= MIN_TEXT * height
        _no_white_chart(page, f"at the {level}")
        expect(page.locator(".modebar")).to_have_count(0)
        assert all(page.evaluate(_SEVEN_DIGITS_FIT_JS)), "a 7-digit count overflows its KPI card"
        SCREENSHOTS.mkdir(exist_ok=True)
        page.mouse.move(1, 1)
        png = page.screenshot(path=str(SCREENSHOTS / f"wall-{width}x{height}-{level}.png"), timeout=60_000)
        assert _white_share(png) < 0.002, f"white shows on the screen at the {level}"


# Every element of the wall header a person sees or touches, with its box on the page.
_HEADER_BOXES_JS = """() => {
  const header = document.querySelector('.wall-header');
  const parts = header.querySelectorAll(
    '.title, .view-nav > *, .status .updated, .status .clock, .status .stale, .pack-bar > *, '
    + '.fullscreen-button, .breadcrumb, .controls > *');
  const box = (el) => { const b = el.getBoundingClientRect();
    return {x0: b.left, y0: b.top, x1: b.right, y1: b.bottom}; };
  return {header: box(header), width: innerWidth,
          parts: [...parts].filter((el) => el.offsetWidth && getComputedStyle(el).visibility === 'visible')
            .map((el) => ({name: `${el.className || el.tagName} ${el.textContent.slice(0, 12)}`,
                           ...box(el)}))};
}"""


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_nothing_in_the_wall_header_overlaps(page, live_server, units, width, height):
    """The title, every view link (the staff views and 退出 too), the clock, the update time, the
    pack buttons, full screen, the breadcrumb and the controls: no two boxes meet, all on screen."""
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{live_server}/?unit={units['district']['code']}&{PERIOD_QUERY}")
    expect(page.locator("#breadcrumb .crumb.current")).to_have_text(units["district"]["name"], timeout=60_000)
    links = page.locator(".wall-header .view-nav > *")
    expect(links).to_have_text([*strings.NAV.values(), strings.LOGOUT])
    expect(page.locator(".wall-header .clock")).not_to_be_empty()
    expect(page.locator(".wall-header .updated")).not_to_be_empty()
    shown = page.evaluate(_HEADER_BOXES_JS)
    parts = shown["parts"]
    assert len(parts) >= 18, [p["name"] for p in parts]
    for i, a in enumerate(parts):
        assert a["x0"] >= -0.5 and a["x1"] <= shown["width"] + 0.5, f"{a['name']} is off the screen: {a}"
        assert a["y0"] >= shown["header"]["y0"] - 0.5 and a["y1"] <= shown["header"]["y1"] + 0.5, (
            f"{a['name']} is outside the header: {a} {shown['header']}")
        for b in parts[i + 1:]:
            overlap_x = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            overlap_y = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            assert overlap_x <= 0.5 or overlap_y <= 0.5, (
                f"at {width}×{height} {a['name']!r} overlaps {b['name']!r}: {a} {b}")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator(".wall-header").screenshot(path=str(SCREENSHOTS / f"wall-header-{width}x{height}.png"))


def _assert_fitted(shown: dict, level: str) -> None:
    x0, y0, x1, y1 = shown["box"]
    w, h = shown["width"], shown["height"]
    assert x0 >= -1 and y0 >= -1 and x1 <= w + 1 and y1 <= h + 1, (
        f"{level}: the unit is cut off: {shown['box']} on a {w}×{h} map")
    span = max((x1 - x0) / w, (y1 - y0) / h)
    assert span >= MIN_SPAN, f"{level}: the unit spans {span:.0%} of its {w}×{h} map panel"


def test_a_bad_unit_shows_a_dark_error_panel_that_clears_on_the_next_good_answer(page, live_server, units):
    page.goto(f"{live_server}/?unit=nope&{PERIOD_QUERY}")
    banner = page.locator("#view-error")
    expect(banner).to_be_visible()
    page.wait_for_timeout(500)
    _no_white_chart(page, "behind the error")
    background = banner.evaluate("(el) => getComputedStyle(el).backgroundColor")
    rgb = [float(v) for v in re.findall(r"[\d.]+", background)[:3]]
    assert max(rgb) < 80, f"the error panel is not dark: {background}"
    page.goto(f"{live_server}/?unit={units['district']['code']}&{PERIOD_QUERY}")
    expect(page.locator("#breadcrumb .crumb.current")).to_have_text(units["district"]["name"])
    expect(banner).to_be_hidden()


def test_a_click_right_after_a_redraw_is_not_dropped(page, live_server, units):
    """A touch (no hover before it) right after the map drew still drills."""
    page.goto(f"{live_server}/?{PERIOD_QUERY}")
    page.wait_for_function(_MAP_JS, timeout=20_000)
    shown = page.evaluate(_MAP_JS)
    district = units["city"]["kids"][0]
    spot = page.evaluate("""(code) => {
      const gd = document.querySelector('#unit-map .js-plotly-plot');
      const label = [...gd.querySelectorAll('.map-label')].find((l) => l.dataset.code === code);
      const box = label.getBoundingClientRect();
      return {x: box.left + box.width / 2, y: box.bottom + 4};
    }""", district["code"])
    assert shown["written"]
    page.mouse.click(spot["x"], spot["y"])  # no mouse move first: as a finger on a touch screen
    page.wait_for_url(re.compile(rf"[?&]unit={district['code']}(&|$)"), timeout=10_000)
    expect(page.locator("#breadcrumb .crumb.current")).to_have_text(district["name"])


def test_full_screen_button_and_tour_on_every_view(page, live_server):
    for path in ("/", "/heat", "/coverage"):
        page.goto(f"{live_server}{path}?{PERIOD_QUERY}&tour=5")
        expect(page.locator(".fullscreen-button")).to_have_text(strings.FULLSCREEN)
        before = page.url
        page.wait_for_url(lambda url, before=before: url != before and "unit=" in url, timeout=15_000)


def test_the_base_map_comes_from_a_local_tile_file(page, embedded_demo, tmp_path):
    """An MBTiles file served by the app: the map asks this server for its tiles, nothing else."""
    from dashboard.settings import Settings
    from tests.browser import serve
    from tests.test_wall_display import make_mbtiles

    path = tmp_path / "base.mbtiles"
    make_mbtiles(path, {(z, x, y): "#203040" for z in range(0, 4) for x in range(2**z) for y in range(2**z)})
    served = []
    page.on("response", lambda r: served.append(r.status) if "/tiles/" in r.url else None)
    with serve(Settings(db=embedded_demo.engine.url.database, tile_file=str(path))) as base:
        page.goto(f"{base}/?{PERIOD_QUERY}")
        page.wait_for_function(_MAP_JS, timeout=60_000)
        page.wait_for_timeout(500)
    assert served and set(served) == {200}, served
