"""The dispute heatmap (/heat) and camera coverage (/coverage) views in headless Chromium.

Each view is opened, drilled four levels by clicks on the map's pixels, and its numbers are read
off the screen and compared with the JSON API for the same unit, period and cell size. The
``page`` fixture fails any test whose page fetched from the internet or logged a JavaScript error.
Screenshots land in ``screenshots/`` (git-ignored).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shapely

from dashboard import strings
from data import queries
from tests.test_browser import FIRST, LAST, PERIOD_QUERY  # noqa: F401  (constants only)

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips every test, loudly, with the reason
    expect = PlaywrightTimeout = None

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
API_PERIOD = f"from={FIRST}&to={LAST}"


def _children(store, code):
    with store.engine.connect() as conn:
        return queries.children(conn, code)


def _root(store):
    with store.engine.connect() as conn:
        return queries.roots(conn)[0]


def _shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _api(page, base, path):
    reply = page.request.get(base + path)
    assert reply.ok, (path, reply.status, reply.text())
    return reply.json()


def _tile(page, label):
    card = page.locator(".tile").filter(has=page.locator(".kpi-label", has_text=re.compile(f"^{label}$")))
    return card.locator(".kpi-value")


# The graph's MapLibre map, and whether it shows exactly ``codes`` in trace 0 (the member units).
_MAP = """
const gd = document.querySelector('#GRAPH .js-plotly-plot');
const ready = gd && gd._fullLayout && gd._fullLayout.map && gd._fullData && gd._fullData.length;
const map = ready ? gd._fullLayout.map._subplot.map : null;
"""
_READY = "(codes) => {" + _MAP + """
  if (!map || map.isMoving() || !map.loaded()) return null;
  const shown = [...gd._fullData[0].locations].sort();
  if (JSON.stringify(shown) !== JSON.stringify([...codes].sort())) return null;
  const layer = 'plotly-trace-layer-' + gd._fullData[0].uid + '-fill';
  if (!map.getLayer(layer)) return null;
  return map.queryRenderedFeatures({layers: [layer]}).length > 0 ? true : null;
}"""
_POINT = "([lon, lat]) => {" + _MAP + """
  const p = map.project([lon, lat]);
  const box = map.getCanvas().getBoundingClientRect();
  const inside = p.x > 20 && p.y > 20 && p.x < box.width - 20 && p.y < box.height - 20;
  const top = inside ? document.elementFromPoint(box.left + p.x, box.top + p.y) : null;
  return {x: box.left + p.x, y: box.top + p.y,
          clickable: !!top && gd._fullLayout.map._subplot.div.contains(top)};
}"""
_HOVERED = """([curve, location]) => {
  const gd = document.querySelector('#GRAPH .js-plotly-plot');
  return (gd._hoverdata || []).some((p) => p.curveNumber === curve && p.location === location);
}"""


def _js(script, graph):
    return script.replace("GRAPH", graph)


def _wait_for_map(page, graph, codes):
    page.wait_for_function(_js(_READY, graph), arg=codes, timeout=40_000)  # a cold city render under load


def _click(page, graph, lonlat_candidates, curve, location) -> bool:
    """Move to each candidate point until plotly hovers ``location`` of trace ``curve``; click."""
    for lon, lat in lonlat_candidates:
        spot = page.evaluate(_js(_POINT, graph), [lon, lat])
        if not spot["clickable"]:
            continue
        for nudge in range(4):
            page.mouse.move(spot["x"] + nudge % 2, spot["y"] + nudge // 2)
            try:
                page.wait_for_function(_js(_HOVERED, graph), arg=[curve, location], timeout=500)
            except PlaywrightTimeout:
                continue
            page.mouse.click(spot["x"] + nudge % 2, spot["y"] + nudge // 2)
            return True
    return False


def _candidates(store, code):
    """Points well inside a unit: its representative point, then points of an inner buffer."""
    shape = store.unit_shapes([code]).geometry.iloc[0]
    points = [shape.representative_point()]
    inner = shape.buffer(-0.15 * (shape.area ** 0.5))
    if not inner.is_empty:
        points += [inner.representative_point(), inner.centroid]
        minx, miny, maxx, maxy = inner.bounds
        points += [shapely.Point(minx + (maxx - minx) * fx, miny + (maxy - miny) * fy)
                   for fx in (0.3, 0.5, 0.7) for fy in (0.3, 0.5, 0.7)]
    return [(p.x, p.y) for p in points if shape.contains(p)]


def _drill(page, store, graph, unit, kids):
    """Click one of ``kids`` (largest first) on the map; return the one clicked."""
    _wait_for_map(page, graph, [k["code"] for k in kids])
    shapes = store.unit_shapes([k["code"] for k in kids]).set_index("code")
    for kid in sorted(kids, key=lambda k: -shapes.geometry[k["code"]].area):
        if _click(page, graph, _candidates(store, kid["code"]), 0, kid["code"]):
            page.wait_for_url(re.compile(rf"[?&]unit={kid['code']}(&|$)"))
            return kid
    raise AssertionError(f"no child of {unit['name']} could be clicked on the map")


# --- the dispute heatmap --------------------------------------------------------------------------


def _settled_size(page) -> int:
    """The cell size once the tiles stop changing: a zoom by the wheel sends several renders."""
    last, same = None, 0
    while same < 3:
        page.wait_for_timeout(300)
        text = _tile(page, strings.HEAT_CELL_SIZE).inner_text() + _tile(page, strings.HEAT_CELLS).inner_text()
        same, last = (same + 1, last) if text == last else (0, text)
    return int(re.sub(r"\D", "", _tile(page, strings.HEAT_CELL_SIZE).inner_text()))


def _heat_matches_api(page, base, code, query=""):
    size = _settled_size(page)
    body = _api(page, base, f"/api/v1/units/{code}/heat?{API_PERIOD}&size={size}{query}")
    expect(_tile(page, strings.HEAT_TOTAL)).to_have_text(f"{body['total']:,}")
    expect(_tile(page, strings.HEAT_CELLS)).to_have_text(f"{len(body['cells']):,}")
    peak = max((c["count"] for c in body["cells"]), default=0)
    expect(_tile(page, strings.HEAT_PEAK)).to_have_text(f"{peak:,}")
    return size, body


def test_heat_view_numbers_match_the_api(page, live_server, embedded_demo):
    city = _root(embedded_demo)
    page.goto(f"{live_server}/heat?{PERIOD_QUERY}")
    expect(page.locator("#heat-breadcrumb .crumb")).to_have_text([city["name"]])
    expect(page.locator("#heat-nav .nav-link.current")).to_have_text(strings.NAV["/heat"])
    _wait_for_map(page, "heat-map", [k["code"] for k in _children(embedded_demo, city["code"])])
    size, body = _heat_matches_api(page, live_server, city["code"])
    assert body["total"] > 0 and body["cell"] == "hex"
    # The ranking counts the same disputes by district.
    values = [int(v.replace(",", "")) for v in page.locator("#heat-ranking .rank-value").all_inner_texts()]
    assert sum(values) == body["total"]
    _shot(page, "heat_city")

    # Filters go into the URL and the numbers follow them.
    page.goto(f"{live_server}/heat?{PERIOD_QUERY}&cell=square&subcategory=邻里,物业&hour=8-20")
    expect(page.locator("#heat-cell input[value=square]")).to_be_checked()
    _wait_for_map(page, "heat-map", [k["code"] for k in _children(embedded_demo, city["code"])])
    _, filtered = _heat_matches_api(page, live_server, city["code"],
                                    "&cell=square&subcategory=邻里,物业&hour=8-20")
    assert 0 < filtered["total"] < body["total"]


def test_heat_view_drills_four_levels_by_map_clicks(page, live_server, embedded_demo):
    city = _root(embedded_demo)
    page.goto(f"{live_server}/heat?{PERIOD_QUERY}&style=density")
    unit, path = city, [city]
    for level in ("district", "street", "community", "grid"):
        unit = _drill(page, embedded_demo, "heat-map", unit, _children(embedded_demo, unit["code"]))
        assert unit["level"] == level
        path.append(unit)
        expect(page.locator("#heat-breadcrumb .crumb")).to_have_text([u["name"] for u in path])
        _heat_matches_api(page, live_server, unit["code"])
        if level == "street":
            _shot(page, "heat_street_density")
    _wait_for_map(page, "heat-map", [unit["code"]])
    _shot(page, "heat_grid_density")
    page.locator("#heat-breadcrumb a.crumb").nth(1).click()
    page.wait_for_url(re.compile(rf"[?&]unit={path[1]['code']}(&|$)"))
    expect(page.locator("#heat-breadcrumb .crumb")).to_have_text([u["name"] for u in path[:2]])
    assert "style=density" in page.url


def test_clicking_a_cell_lists_its_disputes(page, live_server, embedded_demo):
    city = _root(embedded_demo)
    district = _children(embedded_demo, city["code"])[0]
    page.goto(f"{live_server}/heat?unit={district['code']}&{PERIOD_QUERY}")
    _wait_for_map(page, "heat-map", [k["code"] for k in _children(embedded_demo, district["code"])])
    _, body = _heat_matches_api(page, live_server, district["code"])
    for cell in sorted(body["cells"], key=lambda c: -c["count"])[:5]:
        if _click(page, "heat-map", [(cell["lon"], cell["lat"])], 1, f"{cell['i']}_{cell['j']}"):
            break
    else:
        raise AssertionError("no heat cell could be clicked on the map")
    expect(page.locator("#heat-cell-title")).to_have_text(
        strings.CELL_LIST_TITLE.format(count=f"{cell['count']:,}"))
    expect(page.locator("#heat-cell-list .case-row")).to_have_count(min(cell["count"], 50))
    assert f"unit={district['code']}" in page.url  # a cell click lists, it does not drill
    _shot(page, "heat_district_cell")


# --- camera coverage ------------------------------------------------------------------------------


def _coverage_matches_api(page, base, code):
    body = _api(page, base, f"/api/v1/units/{code}/coverage?{API_PERIOD}")
    total = body["total"]
    label = strings.COVERAGE_KPIS
    expect(_tile(page, label["blind_cases"][0])).to_have_text(f"{total['blind_cases']:,}")
    expect(_tile(page, label["uncovered_places"][0])).to_have_text(
        f"{total['uncovered_places']:,} / {total['key_places']:,}")
    # The headline: key places and cases in view first, then the area where people are.
    labels = [t.inner_text() for t in page.locator("#cov-kpis .kpi-label").all()]
    assert labels == [label[k][0] for k in ("places_in_view", "cases_in_view", "people_share", "online_rate",
                                            "uncovered_places", "blind_cases")]
    in_view = (total["cases"] - total["blind_cases"]) / total["cases"] if total["cases"] else None
    for key, expected in (("cases_in_view", in_view), ("people_share", total["people_share"])):
        shown = _tile(page, label[key][0]).inner_text()
        if expected is None:
            assert shown == "—"
        else:  # display rounding
            assert abs(float(shown.rstrip("%")) - expected * 100) <= 0.0501, (key, shown, expected)
    texts = [s["text"] for s in body["suggestions"]]
    expect(page.locator("#cov-suggestions .suggest-text")).to_have_text(texts)
    shown = dict(zip(page.locator("#cov-ranking .rank-name").all_inner_texts(),
                     page.locator("#cov-ranking .rank-extra").all_inner_texts(), strict=True))
    assert shown == {c["name"]: f"{c['blind_cases']:,}" for c in body["children"]}
    return body


def test_coverage_view_numbers_match_the_api_and_drill_four_levels(page, live_server, embedded_demo):
    city = _root(embedded_demo)
    page.goto(f"{live_server}/coverage?{PERIOD_QUERY}")
    expect(page.locator("#cov-nav .nav-link.current")).to_have_text(strings.NAV["/coverage"])
    _wait_for_map(page, "cov-map", [k["code"] for k in _children(embedded_demo, city["code"])])
    body = _coverage_matches_api(page, live_server, city["code"])
    assert body["total"]["cameras"] > 0 and body["suggestions"]
    _shot(page, "coverage_city")

    unit, path = city, [city]
    for level in ("district", "street", "community", "grid"):
        unit = _drill(page, embedded_demo, "cov-map", unit, _children(embedded_demo, unit["code"]))
        assert unit["level"] == level
        path.append(unit)
        expect(page.locator("#cov-breadcrumb .crumb")).to_have_text([u["name"] for u in path])
        kids = _children(embedded_demo, unit["code"]) or [unit]
        _wait_for_map(page, "cov-map", [k["code"] for k in kids])
        _coverage_matches_api(page, live_server, unit["code"])
        if level in ("street", "grid"):
            _shot(page, f"coverage_{level}")

    # The navigation keeps the unit and period when moving to the other views.
    page.locator("#cov-nav .nav-link", has_text=strings.NAV["/"]).click()
    page.wait_for_url(re.compile(r"/\?unit="))
    expect(page.locator("#breadcrumb .crumb")).to_have_text([u["name"] for u in path])


def test_heat_cells_follow_the_zoom(page, live_server, embedded_demo):
    city = _root(embedded_demo)
    page.goto(f"{live_server}/heat?{PERIOD_QUERY}")
    _wait_for_map(page, "heat-map", [k["code"] for k in _children(embedded_demo, city["code"])])
    before, _ = _heat_matches_api(page, live_server, city["code"])
    box = page.locator("#heat-map").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(6):  # zoom in by scrolling, as a person would
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(150)
    expect(_tile(page, strings.HEAT_CELL_SIZE)).not_to_have_text(strings.METRES.format(size=before))
    after, _ = _heat_matches_api(page, live_server, city["code"])
    assert after < before
    assert "unit=" not in page.url  # zooming does not drill
