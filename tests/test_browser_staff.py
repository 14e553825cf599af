"""The staff views in headless Chromium: a case dot on a grid's map opens the case's timeline; the
ranking at grid depth leads to the worst grid; the case list pages and sorts by the database; a
burst posted into one grid reaches the live feed and the alarm list. The ``page`` fixture fails a
test on any request leaving this machine (dash-ag-grid's scripts are served locally) and on any
JavaScript error. Screenshots land in ``screenshots/``."""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard import strings, vocab
from dashboard.domain import local_now
from dashboard.indicators import INDICATORS
from dashboard.settings import Settings
from data import queries
from data.stores import open_store
from tests.browser import serve
from tests.test_browser import FIRST, LAST, PERIOD_QUERY

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips every test, loudly, with the reason
    expect = None
else:
    expect.set_options(timeout=20_000)

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
API_PERIOD = f"from={FIRST}&to={LAST}"


def _shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def _api(page, base, path):
    reply = page.request.get(base + path)
    assert reply.ok, (path, reply.status, reply.text())
    return reply.json()


def _query(page) -> dict:
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def _busiest_grid(store) -> dict:
    with store.engine.connect() as conn:
        code = conn.exec_driver_sql(
            "SELECT grid_code FROM cases WHERE reported_at >= ? AND reported_at < ? AND geom IS NOT NULL "
            "GROUP BY grid_code ORDER BY count(*) DESC, grid_code LIMIT 1",
            (f"{FIRST} 00:00:00", f"{LAST} 23:59:59")).scalar()
        return queries.unit(conn, code)


# The first case dot on the map (trace 2), in page pixels, once MapLibre has drawn it.
_DOT_JS = """() => {
  const gd = document.querySelector('#unit-map .js-plotly-plot');
  if (!gd || !gd._fullData || gd._fullData.length < 3 || !gd._fullLayout.map) return null;
  const map = gd._fullLayout.map._subplot.map;
  if (!map || map.isMoving() || !map.loaded()) return null;
  const dots = gd._fullData[2];
  for (let i = 0; i < dots.lon.length; i++) {
    const p = map.project([dots.lon[i], dots.lat[i]]);
    const box = map.getCanvas().getBoundingClientRect();
    if (p.x < 30 || p.y < 30 || p.x > box.width - 30 || p.y > box.height - 80) continue;
    const top = document.elementFromPoint(box.left + p.x, box.top + p.y);
    if (!top || !gd._fullLayout.map._subplot.div.contains(top)) continue;
    return {x: box.left + p.x, y: box.top + p.y, id: dots.customdata[i][3]};
  }
  return null;
}"""


def test_a_case_dot_on_a_grid_opens_its_timeline(page, live_server, embedded_demo):
    grid = _busiest_grid(embedded_demo)
    page.goto(f"{live_server}/?unit={grid['code']}&{PERIOD_QUERY}")
    expect(page.locator("#breadcrumb .crumb.current")).to_have_text(grid["name"])
    handle = page.wait_for_function(_DOT_JS, timeout=20_000)
    dot = handle.json_value()
    for nudge in range(6):  # plotly picks the point under the pointer on hover, then the click
        page.mouse.move(dot["x"] + nudge % 2, dot["y"])
        page.wait_for_timeout(150)
    page.mouse.click(dot["x"], dot["y"])
    page.wait_for_url("**/cases?**", timeout=20_000)
    query = _query(page)
    assert query["case"] == dot["id"] and query["unit"] == grid["code"]
    expect(page.locator("#cases-timeline .case-id")).to_have_text(dot["id"])
    detail = _api(page, live_server, f"/api/v1/cases/{dot['id']}")["case"]
    expect(page.locator("#cases-timeline .stage-name")).to_have_text([e["status"] for e in detail["events"]])
    _shot(page, "case-timeline")


def test_ranking_at_grid_depth_leads_to_the_worst_grid(page, live_server, embedded_demo):
    with embedded_demo.engine.connect() as conn:
        city = queries.roots(conn)[0]
    page.goto(f"{live_server}/?unit={city['code']}&{PERIOD_QUERY}&metric=closure_rate")
    expect(page.locator("#ranking .rank-row").first).to_be_visible()
    page.locator("#rank-level label", has_text=strings.RANK_DEPTHS["grid"]).click()
    expect(page.locator("#ranking-title")).to_contain_text("最差在前")
    worst = _api(page, live_server, f"/api/v1/units/{city['code']}/ranking?level=grid&metric=closure_rate"
                                    f"&limit=30&{API_PERIOD}")["units"]
    expect(page.locator("#ranking .rank-name")).to_have_text([u["name"] for u in worst])
    assert _query(page)["rank"] == "grid"
    _shot(page, "ranking-grid-depth")
    page.locator("#ranking .rank-name").first.click()
    expect(page.locator("#breadcrumb .crumb.current")).to_have_text(worst[0]["name"])
    assert _query(page)["unit"] == worst[0]["code"]


def _first_ids(page, n=3):
    cells = page.locator("#cases-grid .ag-row:not(.ag-row-loading) [col-id='external_id']")
    expect(cells.first).not_to_be_empty()
    return cells.all_inner_texts()[:n]


def _grid_top(page, expected: list[str]):
    """Wait until the grid's first rows (by row index) are ``expected``."""
    page.wait_for_function("""(ids) => {
      const rows = [...document.querySelectorAll('#cases-grid .ag-center-cols-container .ag-row')]
        .filter((r) => !r.classList.contains('ag-row-loading'))
        .sort((a, b) => +a.getAttribute('row-index') - +b.getAttribute('row-index'));
      const got = rows.slice(0, ids.length).map((r) => r.querySelector("[col-id='external_id']").innerText);
      return JSON.stringify(got) === JSON.stringify(ids);
    }""", arg=expected, timeout=20_000)


def test_case_list_pages_and_sorts_in_the_database(page, live_server, embedded_demo):
    with embedded_demo.engine.connect() as conn:
        city = queries.roots(conn)[0]
    page.goto(f"{live_server}/cases?unit={city['code']}&{PERIOD_QUERY}")
    api = f"/api/v1/cases?unit={city['code']}&{API_PERIOD}&per_page=50"
    first = _api(page, live_server, api)
    _grid_top(page, [c["external_id"] for c in first["cases"][:3]])
    expect(page.locator("#cases-kpis .kpi-value").first).to_have_text(f"{first['total']:,}")
    expect(page.locator("#cases-grid .ag-paging-row-summary-panel")).to_contain_text(f"{first['total']:,}")
    _shot(page, "cases-list")

    page.locator("#cases-grid .ag-paging-button[aria-label='下一页']").click()
    second = _api(page, live_server, api + "&page=2")
    _grid_top(page, [c["external_id"] for c in second["cases"][:3]])

    page.locator("#cases-grid .ag-header-cell[col-id='deadline']").click()  # ascending
    by_deadline = _api(page, live_server, api + "&sort=deadline")
    _grid_top(page, [c["external_id"] for c in by_deadline["cases"][:3]])
    page.locator("#cases-grid .ag-header-cell[col-id='deadline']").click()  # descending
    latest = _api(page, live_server, api + "&sort=-deadline")
    _grid_top(page, [c["external_id"] for c in latest["cases"][:3]])

    page.locator("#cases-grid .ag-row[row-index='0'] [col-id='category']").click()
    opened = latest["cases"][0]["external_id"]
    expect(page.locator("#cases-timeline .case-id")).to_have_text(opened)
    assert _query(page)["case"] == opened

    page.locator("#cases-overdue label").click()  # a filter refills the grid from the database
    overdue = _api(page, live_server, api + "&overdue=1&sort=-deadline")  # the grid keeps its sort
    _grid_top(page, [c["external_id"] for c in overdue["cases"][:3]])
    expect(page.locator("#cases-kpis .kpi-value").first).to_have_text(f"{overdue['total']:,}")
    _shot(page, "cases-timeline")


def test_a_burst_reaches_the_feed_and_raises_one_alarm(page, embedded_demo, tmp_path):
    embedded_demo.checkpoint()
    copy = tmp_path / "burst.gpkg"
    shutil.copyfile(embedded_demo.engine.url.database, copy)
    store = open_store(f"sqlite:///{copy}")
    with store.engine.connect() as conn:
        city = queries.roots(conn)[0]
        grid = queries.unit(conn, conn.exec_driver_sql(
            "SELECT code FROM units WHERE level = 'grid' ORDER BY code DESC LIMIT 1").scalar())
    point = store.unit_shapes([grid["code"]]).geometry.iloc[0].representative_point()
    now = local_now()
    burst = [{"external_id": f"BURST{i:03d}", "category": "矛盾纠纷", "subcategory": "邻里",
              "source": "网格员上报", "status": "受理", "lon": point.x, "lat": point.y,
              "reported_at": (now - timedelta(minutes=30 * i + 5)).isoformat(timespec="seconds"),
              "description": f"浏览器测试突发纠纷{i}"} for i in range(14)]
    with serve(Settings(db=str(copy), refresh_seconds=2, writer_token="t")) as base:
        page.goto(f"{base}/?unit={city['code']}&{PERIOD_QUERY}")
        expect(page.locator("#ranking .rank-row").first).to_be_visible()
        expect(page.locator("#alarm-list")).not_to_contain_text(strings.SUDDEN_RISE)
        reply = page.request.post(f"{base}/api/v1/cases", data=json.dumps(burst),
                                  headers={"Authorization": "Bearer t", "Content-Type": "application/json"})
        assert reply.status == 201, reply.text()
        expect(page.locator("#live-feed")).to_contain_text("浏览器测试突发纠纷0", timeout=15_000)
        expect(page.locator("#live-feed")).to_contain_text(grid["name"])
        rises = page.locator("#alarm-list .rise-row")
        expect(rises).to_have_count(1)
        expect(rises).to_contain_text(f"{grid['name']} 24小时内矛盾纠纷 14 起")
        _shot(page, "wall-feed-burst")
    store.engine.dispose()


# --- the closed loop (/loop) and two units side by side (/compare) ---------------------------------

# A graph's traces once plotly has drawn them: name, x, y, customdata of each.
_TRACES_JS = """(sel) => {
  const gd = document.querySelector(sel + ' .js-plotly-plot');
  if (!gd || !gd._fullData || !gd._fullData.length) return null;
  return gd.data.map((t) => ({name: t.name || null, x: Array.from(t.x || []), y: Array.from(t.y || []),
                              customdata: t.customdata ? Array.from(t.customdata) : null}));
}"""


def _traces(page, selector: str, expected_count: int, names: list | None = None) -> list[dict]:
    """The drawn traces of a graph, waiting until there are ``expected_count`` (named ``names``)."""
    handle = page.wait_for_function(
        f"""([sel, n, names]) => {{ const t = ({_TRACES_JS})(sel);
          if (!t || t.length !== n) return null;
          if (names && JSON.stringify(t.map((x) => x.name)) !== JSON.stringify(names)) return null;
          return t; }}""", arg=[selector, expected_count, names], timeout=20_000)
    return handle.json_value()


def _expect_loop(page, base, code: str):
    """The loop view shows ``code``'s loop as the API answers it: tiles, funnel, stage times, members."""
    api = _api(page, base, f"/api/v1/units/{code}/loop?{API_PERIOD}")
    values = page.locator("#loop-kpis .kpi-value")
    open_now = sum(api["stages"][s] for s in api["overdue"])
    expect(values).to_have_text([f"{api['cases']:,}", f"{open_now:,}", f"{sum(api['overdue'].values()):,}",
                                 f"{api['returned_cases']:,}",
                                 "—" if api["kept_local_rate"] is None else re.compile(r"\d+\.\d+%")])
    funnel = _traces(page, "#loop-funnel", 1)[0]
    assert funnel["y"] == list(reversed(vocab.STATUSES))
    assert funnel["x"] == [api["stages"][s] for s in reversed(vocab.STATUSES)]
    times = _traces(page, "#loop-times", 3)  # median, 90th percentile, the limit
    stages = [s for s in vocab.OPEN_STATUSES if s in api["stage_times"]]
    assert stages and times[0]["x"] == stages
    assert times[0]["y"] == pytest.approx([api["stage_times"][s]["median_hours"] for s in stages])
    assert times[2]["y"] == pytest.approx([api["stage_times"][s]["limit_hours"] for s in stages])
    expect(page.locator("#loop-members .rank-name")).to_have_text([m["name"] for m in api["members"]])
    return api


def test_loop_shows_a_units_loop_and_a_child_drills(page, live_server, embedded_demo):
    with embedded_demo.engine.connect() as conn:
        city = queries.roots(conn)[0]
    page.goto(f"{live_server}/loop?unit={city['code']}&{PERIOD_QUERY}")
    expect(page.locator("#loop-breadcrumb .crumb.current")).to_have_text(city["name"])
    api = _expect_loop(page, live_server, city["code"])
    _shot(page, "loop-city")
    worst = api["members"][0]  # most overdue first
    page.locator("#loop-members .rank-name").first.click()
    expect(page.locator("#loop-breadcrumb .crumb.current")).to_have_text(worst["name"])
    assert urlsplit(page.url).path == "/loop"
    query = _query(page)
    assert (query["unit"], query["period"], query["from"], query["to"]) == (
        worst["code"], "custom", str(FIRST), str(LAST))
    child = _expect_loop(page, live_server, worst["code"])
    assert child["cases"] < api["cases"]
    page.reload()  # the URL is the state: the same unit and period again
    expect(page.locator("#loop-breadcrumb .crumb.current")).to_have_text(worst["name"])
    expect(page.locator("#loop-kpis .kpi-value").first).to_have_text(f"{child['cases']:,}")
    _shot(page, "loop-child")


def _expect_compare(page, base, units: list[dict]):
    """Both units' names, KPIs, trends, category shares and loops, as the API answers them."""
    names = [u["name"] for u in units]
    expect(page.locator("#cmp-kpis .kpi-value")).to_have_text(names)
    kpis = [_api(page, base, f"/api/v1/units/{u['code']}?{API_PERIOD}")["kpis"] for u in units]
    rows = page.locator("#cmp-table tbody tr")
    expect(rows.first.locator("td")).to_have_text(
        [INDICATORS["accepted"].label, *(k["accepted"]["display"] for k in kpis)])
    expect(rows.nth(1).locator("td")).to_have_text(
        [INDICATORS["closure_rate"].label, *(k["closure_rate"]["display"] for k in kpis)])
    accepted = [k["accepted"]["value"] for k in kpis]
    trend = _traces(page, "#cmp-trend", 2, names)  # the period is the trend's 30 days
    assert [sum(t["y"]) for t in trend] == accepted
    shares = _traces(page, "#cmp-categories", 2, names)
    assert [sum(t["customdata"]) for t in shares] == accepted
    assert [t["x"] for t in shares] == [list(vocab.CATEGORIES)] * 2
    loops = [_api(page, base, f"/api/v1/units/{u['code']}/loop?{API_PERIOD}") for u in units]
    loop_rows = page.locator("#cmp-loop tbody tr")
    expect(loop_rows.nth(1).locator("td")).to_have_text(
        [strings.COMPARE_LOOP_ROWS["overdue"], *(f"{sum(lp['overdue'].values()):,}" for lp in loops)])
    expect(loop_rows.nth(2).locator("td")).to_have_text(
        [strings.COMPARE_LOOP_ROWS["returned_cases"], *(f"{lp['returned_cases']:,}" for lp in loops)])


def test_compare_shows_two_units_and_a_pick_writes_the_url(page, live_server, embedded_demo):
    with embedded_demo.engine.connect() as conn:
        city = queries.roots(conn)[0]
        a, b, c = queries.children(conn, city["code"])[:3]
    page.goto(f"{live_server}/compare?a={a['code']}&b={b['code']}&{PERIOD_QUERY}")
    _expect_compare(page, live_server, [a, b])
    _shot(page, "compare")
    page.locator("#cmp-b .dash-dropdown-trigger").click()  # pick another district on the right
    page.locator(".dash-dropdown-content .dash-dropdown-search").fill(c["name"])
    page.locator(".dash-dropdown-content .dash-dropdown-option", has_text=c["name"]).first.click()
    page.wait_for_url(f"**b={c['code']}**")
    query = _query(page)
    assert (query["a"], query["b"]) == (a["code"], c["code"])
    assert (query["from"], query["to"]) == (str(FIRST), str(LAST))
    _expect_compare(page, live_server, [a, c])
    page.reload()
    expect(page.locator("#cmp-kpis .kpi-value")).to_have_text([a["name"], c["name"]])
    _shot(page, "compare-picked")


@pytest.fixture
def viewer_page(browser, embedded_demo):
    """A page of a city-wide viewer: aggregates, no case text."""
    from tests.access import grant
    from tests.browser import _watched_page

    token = grant(embedded_demo, "tests-browser-viewer", "viewer")
    yield from _watched_page(browser, {"Authorization": f"Bearer {token}"})


def test_a_viewer_sees_the_stripped_case_list(viewer_page, live_server, embedded_demo):
    """No refusal banner: the list's rows with category, status and times, no id or text; a click
    opens nothing."""
    page = viewer_page
    with embedded_demo.engine.connect() as conn:
        city = queries.roots(conn)[0]
        newest = conn.exec_driver_sql(
            "SELECT max(reported_at) FROM cases WHERE reported_at >= ? AND reported_at < ?",
            (f"{FIRST} 00:00:00", f"{LAST + timedelta(days=1)} 00:00:00")).scalar()
    kpis = _api(page, live_server, f"/api/v1/units/{city['code']}?{API_PERIOD}")["kpis"]
    accepted = kpis["accepted"]["value"]
    page.goto(f"{live_server}/cases?unit={city['code']}&{PERIOD_QUERY}")
    expect(page.locator("#cases-kpis .kpi-value").first).to_have_text(f"{accepted:,}")
    expect(page.locator("#cases-grid .ag-paging-row-summary-panel")).to_contain_text(f"{accepted:,}")
    first = page.locator("#cases-grid .ag-row[row-index='0']")
    expect(first.locator("[col-id='reported_at']")).to_have_text(str(newest)[:16])
    expect(first.locator("[col-id='category']")).not_to_be_empty()
    expect(first.locator("[col-id='external_id']")).to_have_count(0)  # not a column for this role
    headers = page.locator("#cases-grid .ag-header-cell-text").all_inner_texts()
    assert "受理时间" in headers and not {"事件编号", "所在网格", "承办部门"} & set(headers), headers
    expect(page.locator("#cases-timeline")).to_have_text(strings.CASES_PUBLIC_HINT)
    expect(page.locator("#cases-error")).to_be_hidden()
    before = page.url
    first.locator("[col-id='category']").click()
    page.wait_for_timeout(500)
    assert page.url == before and "case" not in _query(page)
    _shot(page, "cases-viewer")
