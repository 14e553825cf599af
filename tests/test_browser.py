"""The wall screen in a real headless Chromium: what a person sees and clicks.

Every number on the screen is checked against the store (``data.queries``), clicks go to the
map's pixels as a mouse would, and the ``page`` fixture fails any test whose page fetched from
the internet or logged a JavaScript error. Screenshots of the city, a district and a grid land
in ``screenshots/`` (git-ignored) for people to look at.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import shapely

from dashboard import strings, vocab
from dashboard.domain import Period, local_now
from dashboard.indicators import INDICATORS, KPI_CARDS
from dashboard.settings import Settings
from data import queries
from data.stores import open_store
from tests.browser import serve

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips every test, loudly, with the reason
    expect = PlaywrightTimeout = None
else:
    expect.set_options(timeout=15_000)  # a first render on a busy machine can take several seconds

# The demo data ends on 2026-11-20 (DEMO_END) while "today" is the real clock: a custom period
# ending that day keeps the numbers stable.
FIRST, LAST = date(2026, 10, 22), date(2026, 11, 20)
PERIOD_QUERY = f"period=custom&from={FIRST}&to={LAST}"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
UPDATE = "/_dash-update-component"


# --- what the store says ------------------------------------------------------------------------


def _roots(store) -> list[dict]:
    with store.engine.connect() as conn:
        return queries.roots(conn)


def _children(store, code: str) -> list[dict]:
    with store.engine.connect() as conn:
        return queries.children(conn, code)


def _chain(store, code: str) -> list[str]:
    with store.engine.connect() as conn:
        return [u["name"] for u in queries.ancestors(conn, code)]


def _accepted(store, code: str, first: date, last: date, *, by_children: bool = False) -> dict:
    """受理 per unit code, as the KPI card and the ranking format it."""
    period = Period("custom", first, last)
    with store.engine.connect() as conn:
        frame = queries.counts(conn, unit_code=code, start=period.start, end=period.end,
                               now=local_now(), by_children=by_children)
    fmt = INDICATORS["accepted"].format
    return {c: fmt(v) for c, v in frame["accepted"].items()}


def _interior_point(store, code: str) -> shapely.Point:
    return store.unit_shapes([code]).geometry.iloc[0].representative_point()


def _largest_first(store, units: list[dict]) -> list[dict]:
    shapes = store.unit_shapes([u["code"] for u in units]).set_index("code")
    return sorted(units, key=lambda u: -shapes.geometry[u["code"]].area)


# --- what the screen shows ----------------------------------------------------------------------

# The plotly graph div of the map, and MapLibre's map object inside it.
_MAP_JS = """
const gd = document.querySelector('#unit-map .js-plotly-plot');
const ready = gd && gd._fullLayout && gd._fullLayout.map && gd._fullData && gd._fullData.length > 1;
const map = ready ? gd._fullLayout.map._subplot.map : null;
"""

# Null until the map shows exactly ``codes`` (the values trace, index 1) and MapLibre has drawn what
# plotly computed: one rendered polygon per unit with a value (one centroid "ct" each), in the
# colours plotly gave them ("fc"), so a map left showing an older figure is not "ready".
_MAP_READY_JS = "(codes) => {" + _MAP_JS + """
  if (!map || map.isMoving() || !map.loaded()) return null;
  const shown = [...gd._fullData[1].locations].sort();
  if (JSON.stringify(shown) !== JSON.stringify([...codes].sort())) return null;
  const layer = 'plotly-trace-layer-' + gd._fullData[1].uid + '-fill';
  const valued = (gd.calcdata[1] || []).filter((c) => Number.isFinite(c.z));
  if (!map.getLayer(layer) || valued.some((c) => !c.fOut)) return null;
  const rendered = map.queryRenderedFeatures({layers: [layer]});
  const drawn = new Set(rendered.map((f) => JSON.stringify(f.properties.ct)));
  const want = [...new Set(valued.map((c) => c.fOut.properties.fc))].sort();
  const got = [...new Set(rendered.map((f) => f.properties.fc))].sort();
  return drawn.size === valued.length && JSON.stringify(want) === JSON.stringify(got) ? drawn.size : null;
}"""

# Page coordinates of a longitude/latitude on the map, and whether a click there reaches the map
# (not the colour bar or anything else drawn over it) on a polygon of the values trace.
_MAP_POINT_JS = "([lon, lat]) => {" + _MAP_JS + """
  const p = map.project([lon, lat]);
  const box = map.getCanvas().getBoundingClientRect();
  const x = box.left + p.x, y = box.top + p.y;
  const layer = 'plotly-trace-layer-' + gd._fullData[1].uid + '-fill';
  const inside = p.x > 0 && p.y > 0 && p.x < box.width && p.y < box.height;
  const top = inside ? document.elementFromPoint(x, y) : null;
  const onMap = !!top && gd._fullLayout.map._subplot.div.contains(top);
  const onPolygon = inside && map.queryRenderedFeatures(p, {layers: [layer]}).length > 0;
  return {x, y, clickable: onMap && onPolygon};
}"""


def _kpi(page, key: str):
    """The value element of one KPI card, found by its visible label."""
    label = INDICATORS[key].label
    card = page.locator(".kpi").filter(has=page.locator(".kpi-label", has_text=re.compile(f"^{label}$")))
    return card.locator(".kpi-value")


def _wait_for_view(page, chain: list[str], children: list[dict] | None):
    """Wait until the breadcrumb is ``chain`` and the ranking lists exactly ``children``."""
    expect(page.locator("#breadcrumb .crumb")).to_have_text(chain)
    if children is not None:
        expect(page.locator("#ranking .rank-name")).to_have_count(len(children))
        shown = page.locator("#ranking .rank-name").all_inner_texts()
        assert sorted(shown) == sorted(u["name"] for u in children), "ranking does not list the children"


# What the map shows against what the figure asks for, to explain a map that never got ready.
_MAP_STATE_JS = "() => {" + _MAP_JS + """
  if (!map) return null;
  const style = (gd.layout.map || {}).style;
  return {asked: gd.layout.map.center, shown: map.getCenter(), locations: gd._fullData[1].locations,
          z: gd._fullData[1].z, converted: (gd.calcdata[1] || []).every((c) => !!c.fOut),
          styleHasSources: !!style && typeof style === 'object' && 'sources' in style};
}"""


def _wait_for_map(page, codes: list[str]) -> None:
    try:
        page.wait_for_function(_MAP_READY_JS, arg=codes, timeout=10_000)
    except PlaywrightTimeout:
        state = page.evaluate(_MAP_STATE_JS)
        message = f"the map never drew the {len(codes)} units {codes} as the figure asks; map state: {state}"
        if state and not state["styleHasSources"]:
            message = (
                "APP BUG (layouts/figures.py map_style): the style's empty \"sources\": {} is dropped "
                "by Plotly.react on the next figure, MapLibre rejects the style (console: 'Map error.', "
                "missing required property \"sources\") and the map keeps the previous unit and colours. "
                + message
            )
        raise AssertionError(message) from None


def _click_on_map(page, store, candidates: list[dict], shown: list[dict]) -> dict:
    """Click the first of ``candidates`` whose interior point can be clicked; return that unit."""
    _wait_for_map(page, [u["code"] for u in shown])
    for unit in candidates:
        point = _interior_point(store, unit["code"])
        spot = page.evaluate(_MAP_POINT_JS, [point.x, point.y])
        if spot["clickable"]:
            _hover(page, spot["x"], spot["y"], unit)
            page.mouse.click(spot["x"], spot["y"])
            return unit
    raise AssertionError(f"no interior point of {[u['name'] for u in candidates]} is clickable on the map")


_HOVERED_JS = """(code) => {
  const gd = document.querySelector('#unit-map .js-plotly-plot');
  return (gd._hoverdata || []).some((p) => p.curveNumber === 1 && p.location === code);
}"""


def _hover(page, x: float, y: float, unit: dict) -> None:
    """Point at the unit like a person would, until plotly's tooltip names it."""
    for nudge in range(8):
        page.mouse.move(x + nudge % 2, y + nudge // 2 % 2)
        try:
            page.wait_for_function(_HOVERED_JS, arg=unit["code"], timeout=500)
        except PlaywrightTimeout:
            continue
        expect(page.locator("#unit-map .hoverlayer")).to_contain_text(unit["name"])
        return
    raise AssertionError(f"hovering the map at ({x:.0f}, {y:.0f}) never picked {unit['name']} {unit['code']}")


def _ranking_values(page) -> dict[str, str]:
    rows = page.locator("#ranking .rank-row")
    return {row.locator(".rank-name").inner_text(): row.locator(".rank-value").inner_text()
            for row in rows.all()}


def _screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.mouse.move(1, 1)  # no tooltip in the picture
    page.evaluate("() => Plotly.Fx.unhover(document.querySelector('#unit-map .js-plotly-plot'))")
    expect(page.locator("#unit-map .hoverlayer .hovertext")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


# --- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def city(embedded_demo) -> dict:
    root = _roots(embedded_demo)[0]
    return {**root, "children": _children(embedded_demo, root["code"])}


def test_city_view_shows_name_kpis_ranking_and_map(page, live_server, embedded_demo, city):
    page.goto(f"{live_server}/?{PERIOD_QUERY}")
    assert city["name"] == "临江市"
    _wait_for_view(page, [city["name"]], city["children"])

    cards = page.locator(".kpi")
    expect(cards).to_have_count(len(KPI_CARDS))
    for card in cards.all():
        value = card.locator(".kpi-value").inner_text().strip()
        assert value, f"KPI card {card.inner_text()!r} has no value"
        assert card.get_attribute("title"), f"KPI card {card.inner_text()!r} has no definition on hover"
    expected = _accepted(embedded_demo, city["code"], FIRST, LAST)[city["code"]]
    expect(_kpi(page, "accepted")).to_have_text(expected)

    by_code = _accepted(embedded_demo, city["code"], FIRST, LAST, by_children=True)
    assert _ranking_values(page) == {u["name"]: by_code[u["code"]] for u in city["children"]}

    _wait_for_map(page, [u["code"] for u in city["children"]])
    _screenshot(page, "city")


def test_click_a_district_on_the_map(page, live_server, embedded_demo, city):
    page.goto(f"{live_server}/?{PERIOD_QUERY}")
    _wait_for_view(page, [city["name"]], city["children"])

    district = _click_on_map(page, embedded_demo, city["children"], city["children"])
    page.wait_for_url(re.compile(rf"[?&]unit={district['code']}(&|$)"))
    streets = _children(embedded_demo, district["code"])
    _wait_for_view(page, [city["name"], district["name"]], streets)
    expect(page.locator("#breadcrumb")).to_have_text(f"{city['name']}›{district['name']}")
    by_code = _accepted(embedded_demo, district["code"], FIRST, LAST, by_children=True)
    assert _ranking_values(page) == {u["name"]: by_code[u["code"]] for u in streets}

    _wait_for_map(page, [u["code"] for u in streets])
    _screenshot(page, "district")


def test_drill_to_a_grid_on_the_map_and_back_up_by_the_breadcrumb(page, live_server, embedded_demo, city):
    page.goto(f"{live_server}/?{PERIOD_QUERY}")
    _wait_for_view(page, [city["name"]], city["children"])

    # Down: city → district → street → community → grid, each by a click on the map.
    path, shown = [city], city["children"]
    for level in ("district", "street", "community", "grid"):
        unit = _click_on_map(page, embedded_demo, _largest_first(embedded_demo, shown), shown)
        assert unit["level"] == level
        page.wait_for_url(re.compile(rf"[?&]unit={unit['code']}(&|$)"))
        path.append({**unit, "children": _children(embedded_demo, unit["code"])})
        names = [u["name"] for u in path]
        if unit["level"] != "grid":
            _wait_for_view(page, names, path[-1]["children"])
            shown = path[-1]["children"]

    grid = path[-1]
    assert grid["children"] == []
    _wait_for_view(page, [u["name"] for u in path], None)
    expect(page.locator("#breadcrumb .crumb")).to_have_count(5)
    expect(page.locator("#ranking-title")).to_have_text(strings.NO_CHILDREN)
    period = Period("custom", FIRST, LAST)
    with embedded_demo.engine.connect() as conn:
        newest = queries.recent_cases(conn, unit_code=grid["code"], start=period.start, end=period.end)
    if newest:
        expect(page.locator("#ranking .case-row")).to_have_count(len(newest))
        expect(page.locator("#ranking .case-text").first).to_have_text(newest[0]["description"])
    else:
        expect(page.locator("#ranking")).to_have_text(strings.NO_CASES)
    _wait_for_map(page, [grid["code"]])
    _screenshot(page, "grid")

    # Up: a breadcrumb link for each level, back to the city.
    for depth in (3, 2, 1, 0):
        page.locator("#breadcrumb a.crumb").nth(depth).click()
        target = path[depth]
        page.wait_for_url(re.compile(rf"[?&]unit={target['code']}(&|$)"))
        _wait_for_view(page, [u["name"] for u in path[:depth + 1]], target["children"])
        by_code = _accepted(embedded_demo, target["code"], FIRST, LAST, by_children=True)
        assert _ranking_values(page) == {u["name"]: by_code[u["code"]] for u in target["children"]}


def test_a_deep_link_survives_a_reload(page, live_server, embedded_demo, city):
    district = city["children"][0]
    street = _children(embedded_demo, district["code"])[0]
    page.goto(f"{live_server}/?unit={street['code']}&{PERIOD_QUERY}&metric=closure_rate")
    expected = _accepted(embedded_demo, street["code"], FIRST, LAST)[street["code"]]
    expect(_kpi(page, "accepted")).to_have_text(expected)
    page.reload()

    _wait_for_view(page, _chain(embedded_demo, street["code"]), _children(embedded_demo, street["code"]))
    assert _chain(embedded_demo, street["code"]) == [city["name"], district["name"], street["name"]]
    expect(page.locator("#period-select input[value=custom]")).to_be_checked()
    expect(page.locator("#period-select label.selected")).to_have_text(strings.PERIODS["custom"])
    expect(page.locator("#metric-select .dash-dropdown-value")).to_have_text(INDICATORS["closure_rate"].label)
    expect(page.locator("#ranking-title")).to_contain_text(INDICATORS["closure_rate"].label)
    expect(_kpi(page, "accepted")).to_have_text(expected)
    assert f"unit={street['code']}" in page.url and "metric=closure_rate" in page.url


def test_clicking_a_period_changes_the_url_and_the_numbers(page, live_server, embedded_demo, city):
    page.goto(f"{live_server}/?{PERIOD_QUERY}")
    custom = _accepted(embedded_demo, city["code"], FIRST, LAST)[city["code"]]
    expect(_kpi(page, "accepted")).to_have_text(custom)

    page.locator("#period-select label", has_text=strings.PERIODS["7d"]).click()
    page.wait_for_url(re.compile(r"[?&]period=7d(&|$)"))
    week = Period.resolve("7d", today=local_now().date())
    expected = _accepted(embedded_demo, city["code"], week.first, week.last)[city["code"]]
    expect(_kpi(page, "accepted")).to_have_text(expected)
    expect(page.locator("#period-select input[value='7d']")).to_be_checked()
    assert "from=" not in page.url
    _wait_for_map(page, [u["code"] for u in city["children"]])  # recoloured for the new period


@pytest.mark.parametrize("query,names", [
    ("unit=nope", "nope"),
    ("period=custom&from=2026-13-01&to=x", "from"),
])
def test_a_bad_link_explains_itself(page, live_server, query, names):
    page.goto(f"{live_server}/?{query}")
    banner = page.locator("#view-error")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(names)
    text = banner.inner_text()
    assert re.search(r"[\u4e00-\u9fff]", text), f"the error is not in Chinese: {text!r}"
    assert not re.search(r"Traceback|File \"|Error\b|Exception", text), f"a stack trace leaked: {text!r}"
    expect(page.locator(".kpi")).to_have_count(0)


def test_refresh_sends_nothing_until_the_data_changes(page, embedded_demo, city, tmp_path):
    embedded_demo.checkpoint()
    copy = tmp_path / "live.gpkg"
    shutil.copyfile(embedded_demo.engine.url.database, copy)
    store = open_store(f"sqlite:///{copy}")

    updates: list[tuple[str, int]] = []  # (the outputs a callback asked for, response status)

    def on_response(response):
        if UPDATE in response.url:
            updates.append((json.loads(response.request.post_data)["output"], response.status))

    with serve(Settings(db=str(copy), refresh_seconds=2)) as base:
        page.on("response", on_response)
        page.goto(f"{base}/?{PERIOD_QUERY}")
        before = _accepted(store, city["code"], FIRST, LAST)[city["code"]]
        expect(_kpi(page, "accepted")).to_have_text(before)
        _wait_for_map(page, [u["code"] for u in city["children"]])
        # Settled: a version check has come back with "nothing changed".
        with page.expect_response(lambda r: UPDATE in r.url and r.status == 204, timeout=10_000):
            pass

        updates.clear()
        page.wait_for_timeout(5_000)  # measuring the absence of traffic
        checks = [status for output, status in updates if "data-version.data" in output]
        assert len(checks) >= 2, f"the version check should run every 2 s; saw {updates}"
        assert all(status == 204 for status in checks), f"a version check with no change answered: {updates}"
        renders = [output for output, _status in updates if "unit-map.figure" in output]
        assert not renders, f"the screen re-rendered although nothing changed: {renders}"

        _insert_case(store, _first_grid(store, city["code"]), reported_at=datetime(2026, 11, 20, 12, 0))
        with page.expect_response(
            lambda r: UPDATE in r.url and "unit-map.figure" in (r.request.post_data or ""), timeout=15_000,
        ) as rendered:
            pass
        after = INDICATORS["accepted"].format(int(before.replace(",", "")) + 1)
        assert _accepted(store, city["code"], FIRST, LAST)[city["code"]] == after
        expect(_kpi(page, "accepted")).to_have_text(after, timeout=10_000)
        _wait_for_map(page, [u["code"] for u in city["children"]])
        figure = rendered.value.json()["response"]["unit-map"]["figure"]
        assert "__dash_patch_update" in json.dumps(figure)[:200], "a refresh re-sent the whole map figure"
        page.goto("about:blank")  # no refresh tick may reach this server while it shuts down
    store.engine.dispose()


def _first_grid(store, code: str) -> str:
    while children := _children(store, code):
        code = children[0]["code"]
    return code


def _insert_case(store, grid_code: str, *, reported_at: datetime) -> None:
    """One new case inside ``grid_code``, written the way the demo generator writes cases."""
    with store.engine.connect() as conn:
        last_id = conn.exec_driver_sql("SELECT max(id) FROM cases").scalar()
    case_id = last_id + 1
    point = _interior_point(store, grid_code)
    frame = pd.DataFrame({
        "id": [case_id], "external_id": [f"SJ{reported_at:%Y%m%d}{case_id:07d}"],
        "category": [vocab.DISPUTE], "subcategory": ["邻里"], "source": ["网格员上报"],
        "reported_at": [reported_at], "geom": [shapely.to_wkb(point)], "status": [vocab.ACCEPTED],
        "deadline": [reported_at + timedelta(days=15)], "description": ["浏览器测试：新上报的邻里纠纷。"],
    })
    events = pd.DataFrame({"case_id": [case_id], "status": [vocab.ACCEPTED], "at": [reported_at],
                           "actor": ["综治中心"]})
    store.write_cases(frame, events)
    store.checkpoint()
    with store.engine.connect() as conn:
        assigned = conn.exec_driver_sql("SELECT grid_code FROM cases WHERE id = ?", (case_id,)).scalar()
    assert assigned == grid_code, "the new case's point fell outside its grid"
