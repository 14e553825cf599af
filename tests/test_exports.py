"""Exports for briefing authors: tables on both stores; charts, the briefing pack and
the screen image with the machine's Chromium (skipped loudly without it, a failure under CI).

Every number in a file is checked against the JSON API's answer to the same question.
"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook
from PIL import Image
from pptx import Presentation
from pptx.oxml.ns import qn
from pypdf import PdfReader

from app import main as cli
from callbacks import exports
from dashboard import compare
from dashboard.indicators import INDICATORS
from data import queries
from data.exports import tables
from layouts.export import render
from tests.access import BROWSER_TOKEN, grant

FROM, TO = "2026-10-22", "2026-11-20"
PERIOD = f"from={FROM}&to={TO}"
SLIDES = ["城市", "核心指标", "分布", "趋势", "构成", "排名", "告警", "热力", "覆盖", "口径"]
# Characters a PDF printed by Chromium may write instead of the real ones (⼯ for 工, ⻔ for 门).
RADICALS = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf]")


@pytest.fixture(scope="module")
def embedded_demo(tmp_path_factory):
    """This module's own copy of the demo city (same seed, scale and end as the session's), so
    the exports never read a file another module has opened with GDAL's own SQLite library."""
    import os

    from data.demo.generator import Progress, generate
    from data.stores import open_store
    from tests.conftest import DEMO_END, DEMO_SCALE, DEMO_SEED

    path = tmp_path_factory.mktemp("exports-demo") / "demo.gpkg"
    store = open_store(f"sqlite:///{path}")
    store.create_schema()
    with open(os.devnull, "w") as quiet:
        generate(store, seed=DEMO_SEED, scale=DEMO_SCALE, end=DEMO_END, progress=Progress(quiet))
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def live_server(embedded_demo):
    """The app on this module's store, for the browser (the page fixture's analyst token)."""
    from dashboard.settings import Settings
    from tests.browser import serve

    grant(embedded_demo)
    with serve(Settings(db=embedded_demo.engine.url.database, refresh_seconds=2)) as url:
        yield url


def _path(store) -> list[dict]:
    """City, a district, a street … down to a grid."""
    with store.engine.connect() as conn:
        path = [queries.roots(conn)[0]]
        while kids := queries.children(conn, path[-1]["code"]):
            path.append(kids[0])
    return path


@pytest.fixture(scope="module")
def tree(demo_store):
    return _path(demo_store)


@pytest.fixture(scope="module")
def etree(embedded_demo):
    """The same path in the embedded store, for the tests that draw (once, not per store)."""
    return _path(embedded_demo)


@pytest.fixture(scope="module")
def eclient(embedded_demo, tmp_path_factory):
    """An analyst's client for the whole city (a real token) on the embedded store."""
    from app import create_app
    from dashboard.settings import Settings

    app = create_app(Settings(db=embedded_demo.engine.url.database,
                              data_dir=str(tmp_path_factory.mktemp("exports"))))
    client = app.server.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {grant(embedded_demo)}"
    yield client
    app.server.config["CITYBRAIN_DATA"].store.engine.dispose()


def _client_as(client, store, role: str, unit: str):
    other = client.application.test_client()
    other.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {grant(store, f'exports-{role}-{unit}', role, unit)}"
    return other


def needs_chromium():
    from tests.conftest import skip_infra

    if not render.available():
        skip_infra("server-side chart export needs kaleido and Chromium (apt-get install chromium)")


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "CSV must start with the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- tables (both stores) ------------------------------------------------------------------------


def test_children_csv_has_a_bom_and_one_row_per_child(demo_client, tree):
    city = tree[0]["code"]
    reply = demo_client.get(f"/api/v1/units/{city}/children.csv?{PERIOD}")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    assert "attachment" in reply.headers["Content-Disposition"]
    rows = _csv_rows(reply.data)
    api = demo_client.get(f"/api/v1/units/{city}/children?{PERIOD}").json["children"]
    assert rows[0][:3] == ["编码", "名称", "受理"]
    assert len(rows) - 1 == len(api)
    by_code = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    for child in api:
        row = by_code[child["code"]]
        assert row["名称"] == child["name"]
        assert int(row["受理"]) == child["kpis"]["accepted"]["value"]
        rate = child["kpis"]["closure_rate"]["value"]
        assert row["办结率"] == ("" if rate is None else f"{rate * 100:.2f}%")


def test_children_xlsx_has_a_title_row_and_numeric_cells(demo_client, tree):
    district = tree[1]
    reply = demo_client.get(f"/api/v1/units/{district['code']}/children.xlsx?{PERIOD}")
    assert reply.status_code == 200
    sheet = load_workbook(io.BytesIO(reply.data)).active
    assert district["name"] in sheet["A1"].value
    assert FROM in sheet["A2"].value and "数据截至" in sheet["A2"].value
    header = [c.value for c in sheet[3]]
    assert header[:3] == ["编码", "名称", "受理"]
    api = demo_client.get(f"/api/v1/units/{district['code']}/children?{PERIOD}").json["children"]
    body = list(sheet.iter_rows(min_row=4, values_only=False))
    assert len(body) == len(api)
    rate_col = header.index("办结率")
    for row, child in zip(body, api, strict=True):
        assert row[1].value == child["name"]
        assert isinstance(row[2].value, int) and row[2].value == child["kpis"]["accepted"]["value"]
        cell, value = row[rate_col], child["kpis"]["closure_rate"]["value"]
        if value is not None:
            assert isinstance(cell.value, float) and cell.value == pytest.approx(value)
            assert cell.number_format == "0.00%"
    assert sheet.column_dimensions["B"].width >= 8


def test_ranking_at_any_depth(demo_client, tree, demo_store):
    district = tree[1]["code"]
    reply = demo_client.get(f"/api/v1/units/{district}/ranking.csv?level=grid&metric=closure_rate&{PERIOD}")
    assert reply.status_code == 200
    rows = _csv_rows(reply.data)
    grids, todo = set(), [district]
    with demo_store.engine.connect() as conn:
        while todo:
            for kid in queries.children(conn, todo.pop()):
                (grids.add(kid["code"]) if kid["level"] == "grid" else todo.append(kid["code"]))
    assert rows[0][:5] == ["名次", "编码", "名称", "上级单位", "办结率"]
    assert {r[1] for r in rows[1:]} == grids
    assert [int(r[0]) for r in rows[1:]] == list(range(1, len(rows)))
    rates = [float(r[4].rstrip("%")) for r in rows[1:] if r[4]]
    assert rates == sorted(rates, reverse=True)
    bad = demo_client.get(f"/api/v1/units/{district}/ranking.csv?level=city")
    assert bad.status_code == 400 and "level" in bad.json["error"]


def test_cases_and_alarms(demo_client, tree):
    grid = tree[-1]
    reply = demo_client.get(f"/api/v1/cases.xlsx?unit={grid['code']}&{PERIOD}")
    assert reply.status_code == 200
    sheet = load_workbook(io.BytesIO(reply.data)).active
    accepted = demo_client.get(f"/api/v1/units/{grid['code']}?{PERIOD}").json["counts"]["accepted"]
    assert sheet.max_row - 3 == accepted
    alarms = demo_client.get(f"/api/v1/units/{tree[0]['code']}/alarms.csv")
    assert alarms.status_code == 200
    rows = _csv_rows(alarms.data)
    assert rows[0][0] == "告警" and all(r[0].startswith(("超期", "高风险")) for r in rows[1:])


@pytest.mark.parametrize("url,status", [
    ("/api/v1/units/{city}/children.foo", 400),
    ("/api/v1/units/{city}/ranking.json", 400),
    ("/api/v1/units/{city}/brief.doc", 400),
    ("/api/v1/units/{city}/charts/trend.gif", 400),
    ("/api/v1/units/{city}/charts/pie.png", 400),
    ("/api/v1/cases.txt", 400),
    ("/api/v1/units/nope/children.csv", 404),
    ("/api/v1/units/{city}/nothing.csv", 404),
    ("/api/v1/nothing", 404),
])
def test_unknown_formats_and_paths_answer_json_never_the_page(demo_client, tree, url, status):
    reply = demo_client.get(url.format(city=tree[0]["code"]))
    assert reply.status_code == status
    assert reply.mimetype == "application/json" and reply.json["error"]


def test_exports_keep_to_the_callers_scope_and_role(demo_client, demo_store, tree):
    """A district's analyst exports their district, never another's; a viewer exports nothing;
    every export is in the audit trail."""
    from data.access import Accounts

    with demo_store.engine.connect() as conn:
        a, b = queries.children(conn, tree[0]["code"])[:2]
    analyst = _client_as(demo_client, demo_store, "analyst", a["code"])
    assert analyst.get(f"/api/v1/units/{a['code']}/children.csv?{PERIOD}").status_code == 200
    for url in (f"/api/v1/units/{b['code']}/children.csv", f"/api/v1/units/{b['code']}/brief.pdf",
                f"/api/v1/cases.csv?unit={b['code']}", f"/api/v1/cases.xlsx?unit={tree[0]['code']}",
                f"/api/v1/screen.png?unit={b['code']}", f"/api/v1/units/{b['code']}/charts/map.png"):
        reply = analyst.get(url)
        assert reply.status_code == 403 and b["name"] not in reply.get_data(as_text=True), url
    # Without a unit, the case list is the caller's own district.
    rows = _csv_rows(analyst.get(f"/api/v1/cases.csv?{PERIOD}").data)
    grids = {r[7] for r in rows[1:]}
    assert grids and all(g.startswith(a["code"]) for g in grids)
    viewer = _client_as(demo_client, demo_store, "viewer", a["code"])
    assert viewer.get(f"/api/v1/units/{a['code']}/children.csv").status_code == 403
    assert viewer.get(f"/api/v1/units/{a['code']}").status_code == 200  # reading is still fine
    exports_ = [r for r in Accounts(demo_store.engine).audit_rows(action="export")
                if r["unit_code"] == a["code"] and r["object"].startswith("children.csv")]
    assert exports_ and exports_[-1]["actor"] and FROM in exports_[-1]["object"]


def test_cells_that_would_be_formulas_are_neutralised():
    table = tables.Table("t", "m", [tables.Column("a", "说明"), tables.Column("n", "件", "int")],
                         [{"a": "=HYPERLINK(\"http://x\")", "n": -3}, {"a": "+1", "n": 2}, {"a": "@SUM(A1)"},
                          {"a": "-2"}, {"a": "正常文本"}])
    rows = _csv_rows(tables.to_csv(table))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)", "'-2", "正常文本"]
    assert rows[1][1] == "-3"  # numbers stay numbers
    sheet = load_workbook(io.BytesIO(tables.to_xlsx(table))).active
    first = [sheet.cell(row=r, column=1).value for r in range(4, 9)]
    assert first[:2] == ["'=HYPERLINK(\"http://x\")", "'+1"]
    assert sheet.cell(row=4, column=2).value == -3


def test_a_capped_table_says_so():
    table = tables.Table("t", "m", [tables.Column("a", "a")], [{"a": str(i)} for i in range(3)], capped_at=3)
    rows = _csv_rows(tables.to_csv(table))
    assert len(rows) == 5 and "仅导出前 3 行" in rows[-1][0]
    sheet = load_workbook(io.BytesIO(tables.to_xlsx(table))).active
    assert "仅导出前 3 行" in sheet.cell(row=sheet.max_row, column=1).value


def test_change_in_words_matches_the_cards():
    assert compare.in_words("closure_rate", 0.9872, 0.9832, "环比") == "办结率 98.72%，环比上升 0.4 个百分点"
    assert compare.in_words("accepted", 90, 100, "同比") == "受理 90，同比下降 10.0%"
    assert compare.in_words("overdue", 3, None, "环比") == "超期 3（实时）"
    assert compare.in_words("satisfaction_rate", None, 0.9, "环比") == "满意率 —，环比无可比数据"


def test_export_links_follow_the_url(embedded_demo):
    from cachelib import SimpleCache

    from data.service import CityData

    data = CityData(embedded_demo, SimpleCache())
    city = data.roots()[0]["code"]
    assert exports.export_href(data, "charts/trend.png", "") == f"/api/v1/units/{city}/charts/trend.png"
    search = "?unit=990102&period=7d&category=治安&tour=20"
    q = "period=7d&category=治安"
    assert unquote(exports.export_href(data, "brief.pdf", search)) == f"/api/v1/units/990102/brief.pdf?{q}"
    assert unquote(exports.export_href(data, "cases.csv", search)) == f"/api/v1/cases.csv?unit=990102&{q}"
    assert unquote(exports.export_href(data, "screen.png", search)) == f"/api/v1/screen.png?unit=990102&{q}"


# --- the briefing pack ---------------------------------------------------------------------------


def _pptx_text(prs) -> list[str]:
    pages = []
    for slide in prs.slides:
        parts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                parts.append(shape.text_frame.text)
            if shape.has_table:
                parts += [c.text for row in shape.table.rows for c in row.cells]
        pages.append("\n".join(parts))
    return pages


def _check_pptx(body: bytes, unit: dict, closure_display: str, *, pictures: bool) -> None:
    prs = Presentation(io.BytesIO(body))
    assert prs.slide_width * 9 == prs.slide_height * 16  # 16:9
    pages = _pptx_text(prs)
    assert len(pages) == len(SLIDES)
    assert unit["name"] in pages[0]
    for page, word in zip(pages[1:], SLIDES[1:], strict=True):
        assert word in page, (word, page[:80])
    assert f"办结率 {closure_display}" in pages[1]
    tables_ = [s for slide in prs.slides for s in slide.shapes if s.has_table]
    assert tables_, "rankings are real tables"
    images = [s for slide in prs.slides for s in slide.shapes if s.shape_type == 13]
    assert len(images) == (5 if pictures else 0)
    for run in prs.slides[1].shapes[0].text_frame.paragraphs[0].runs:
        assert run._r.rPr.find(qn("a:ea")) is not None, "every run names an East Asian font"


def _check_pdf(body: bytes, names: list[str], closure_display: str) -> None:
    reader = PdfReader(io.BytesIO(body))
    assert len(reader.pages) == len(SLIDES)
    text = "\n".join(p.extract_text() for p in reader.pages)
    for name in names:
        assert name in text, name
    assert f"办结率 {closure_display}" in text
    assert not RADICALS.search(text), "the text layer must carry real characters, not radicals"
    fonts = [f.get_object() for p in reader.pages for f in p["/Resources"]["/Font"].values()]
    descriptors = [f["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object() for f in fonts]
    assert all("/FontFile2" in d for d in descriptors), "the CJK font is embedded"


def test_city_pack_text_matches_the_api(embedded_demo, eclient, etree):
    """The city's pack without chart images (fast): slides, names and numbers."""
    from cachelib import SimpleCache

    from data.service import CityData

    data = CityData(embedded_demo, SimpleCache())
    city = etree[0]
    q = exports.ask(data, city["code"], PERIOD)
    pack = exports.briefing(data, q, images=False)
    api = eclient.get(f"/api/v1/units/{city['code']}?{PERIOD}").json["kpis"]["closure_rate"]
    display = api["display"]
    assert display == INDICATORS["closure_rate"].format(api["value"])
    _check_pptx(exports.write_pack(pack, "pptx"), city, display, pictures=False)
    districts = [u["name"] for u in data.children(city["code"])]
    _check_pdf(exports.write_pack(pack, "pdf"), [city["name"], *districts], display)


def test_district_pack_over_http(eclient, etree):
    """The district's pack as the screen's buttons ask for it: PPTX and PDF with charts."""
    needs_chromium()
    district = etree[1]
    answer = eclient.get(f"/api/v1/units/{district['code']}?{PERIOD}").json
    display = answer["kpis"]["closure_rate"]["display"]
    streets = [c["name"] for c in eclient.get(f"/api/v1/units/{district['code']}/children").json["children"]]
    pptx = eclient.get(f"/api/v1/units/{district['code']}/brief.pptx?{PERIOD}")
    assert pptx.status_code == 200 and pptx.mimetype.endswith("presentation")
    _check_pptx(pptx.data, district, display, pictures=True)
    pdf = eclient.get(f"/api/v1/units/{district['code']}/brief.pdf?{PERIOD}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    _check_pdf(pdf.data, [district["name"], *streets], display)


# --- charts, the command line, the screen (Chromium) ---------------------------------------------


def test_chart_png_is_opaque_white_and_svg_keeps_chinese(eclient, etree):
    needs_chromium()
    district = etree[1]["code"]
    png = eclient.get(f"/api/v1/units/{district}/charts/trend.png?{PERIOD}")
    assert png.status_code == 200 and png.mimetype == "image/png"
    image = Image.open(io.BytesIO(png.data)).convert("RGBA")
    assert image.size == (2560, 1440)  # 2× the 1280×720 chart
    for corner in [(0, 0), (image.width - 1, 0), (0, image.height - 1), (image.width - 1, image.height - 1)]:
        assert image.getpixel(corner) == (255, 255, 255, 255)
    svg = eclient.get(f"/api/v1/units/{district}/charts/map.svg?{PERIOD}")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    text = svg.data.decode()
    assert "分布" in text and etree[1]["name"] in text and "数据截至" in text


def test_brief_command_writes_the_pack(embedded_demo, etree, tmp_path, capsys):
    db = embedded_demo.engine.url.database
    assert cli(["brief", "--unit", etree[1]["code"], "--out", str(tmp_path / "x.doc"), "--db", db]) == 2
    assert cli(["brief", "--unit", "nope", "--out", str(tmp_path / "x.pdf"), "--db", db]) == 2
    assert cli(["brief", "--unit", etree[1]["code"], "--period", "7d", "--from", FROM,
                "--out", str(tmp_path / "x.pdf"), "--db", db]) == 2
    needs_chromium()
    out = tmp_path / "区简报.pdf"
    assert cli(["brief", "--unit", etree[2]["code"], "--from", FROM, "--to", TO, "--category", "矛盾纠纷",
                "--out", str(out), "--db", db]) == 0
    reader = PdfReader(out)
    assert len(reader.pages) == len(SLIDES) and etree[2]["name"] in reader.pages[0].extract_text()
    assert "矛盾纠纷" in reader.pages[0].extract_text()


def test_whole_screen_png(live_server, etree):
    needs_chromium()
    from urllib.request import Request, urlopen

    request = Request(f"{live_server}/api/v1/screen.png?unit={etree[1]['code']}&{PERIOD}",
                      headers={"Authorization": f"Bearer {BROWSER_TOKEN}"})
    with urlopen(request, timeout=120) as reply:
        assert reply.status == 200 and reply.headers["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(reply.read())).convert("RGB")
    assert image.size == (1920, 1080)
    assert len(image.resize((64, 36)).getcolors(4096) or []) > 50  # a drawn screen, not a blank page


@pytest.mark.browser
def test_the_screen_buttons_export_the_view_on_the_screen(page, live_server, etree):
    """The wall screen's export links follow its URL; a table link downloads the table."""
    district = etree[1]["code"]
    page.goto(f"{live_server}/?unit={district}&period=7d&metric=closure_rate")
    pdf = page.locator(".pack-bar .export-link", has_text="简报 PDF")
    page.wait_for_function("document.querySelector('.pack-bar a[href*=\"brief.pdf\"]') !== null")
    assert pdf.get_attribute("href") == f"/api/v1/units/{district}/brief.pdf?period=7d&metric=closure_rate"
    link = page.locator(".ranking-panel .export-link", has_text="CSV").get_attribute("href")
    assert link == f"/api/v1/units/{district}/ranking.csv?period=7d&metric=closure_rate"
    reply = page.request.get(live_server + link)
    assert reply.ok and reply.body().startswith(b"\xef\xbb\xbf")
    from playwright.sync_api import expect

    expect(page.locator(".rank-row")).to_have_count(len(_csv_rows(reply.body())) - 1)
