"""Exports for briefing authors: charts (PNG/SVG), tables (CSV/XLSX), the briefing pack (PPTX/PDF)
and the whole wall screen as a PNG; the HTTP endpoints, the screen's export links, and the
functions the ``citybrain brief`` command calls.

Every number comes from ``CityData`` — the calls the screen and the JSON API make, cached alike —
and is formatted by the screen's helpers (``Indicator.format``, ``dashboard.compare``).

Access (``callbacks/auth.py``): the blueprint's ``before_request`` is ``auth.api_guard`` and every
handler needs "export"; handlers ask the service scoped to the caller (``auth.scoped``), so a unit
outside the caller's scope is refused (403) and case records reach only those who may see them.
A unit named in the query (``cases.csv?unit=``, ``screen.png?unit=``) is checked by :func:`ask`.
Every export is written to the audit trail (:func:`audit`: who, unit, what, format, period).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from dash import Input, Output
from dash.exceptions import PreventUpdate
from flask import Blueprint, Response, current_app, has_request_context, jsonify, request

from callbacks import auth
from callbacks.heat import cell_size
from dashboard import ids, strings, vocab
from dashboard.domain import BadRequest, Period
from dashboard.indicators import INDICATORS
from dashboard.viewstate import ViewState
from data.exports import tables as tab
from data.service import CityData, StoreUnavailable
from layouts import coverage as coverage_layout
from layouts.briefing import compose
from layouts.briefing.content import Pack
from layouts.export import buttons, charts, render
from layouts.export import theme as print_theme

AUDIT = logging.getLogger("citybrain.audit")

IMAGE_FORMATS = render.FORMATS
PACK_FORMATS = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "pdf": "application/pdf"}
SOURCE = "数据来源：城市大脑 · 市域社会治理事件库、雪亮工程点位库（按统一口径由数据库实时计算）"


class UnitNotFound(LookupError):
    """The unit does not exist (a caller scoped below the city is refused before this: 403)."""


def authorised_unit(data, code: str, need: str = "export") -> dict:
    """The unit ``code`` if the caller may ``need`` it: ``data`` scoped to a principal (the HTTP
    endpoints) checks scope and role and raises ``Denied``; the plain service (the command line,
    run by whoever runs the server) only checks that it exists."""
    if hasattr(data, "require"):
        data.require(code, need)
    found = data.unit(code)
    if found is None:
        raise UnitNotFound(code)
    return found


def audit(kind: str, code: str, period: Period | None, fmt: str, accounts=None) -> None:
    """Every export goes to the audit trail: the caller (from the request), the unit, what, the
    format and the period; from the command line, ``accounts`` writes it with actor "cli"."""
    what = f"{kind}.{fmt} {period.first}..{period.last}" if period else f"{kind}.{fmt}"
    AUDIT.info("export unit=%s %s", code, what)
    if has_request_context() and "citybrain_access" in current_app.extensions:
        auth.audit("export", unit=code, object=what)
    elif accounts is not None:
        accounts.audit("export", actor="cli", unit=code, object=what)


@dataclass(frozen=True)
class Question:
    """What an export is about: a unit, a period, filters and the map's metric."""

    unit: dict
    state: ViewState
    period: Period
    now: datetime

    @property
    def code(self) -> str:
        return self.unit["code"]

    @property
    def filters(self):
        return self.state.filters

    @property
    def data_time(self) -> str:
        return f"{self.now:%Y-%m-%d %H:%M}"

    @property
    def filters_text(self) -> str:
        return "、".join([*self.filters.categories, *self.filters.sources])


def ask(data, code: str, query: str = "") -> Question:
    """The question for ``code`` and a view query string (``period=…&from=…&category=…``);
    ``data`` is the service, or the service scoped to the caller (then the unit is checked)."""
    state = ViewState.from_query(query)
    if state.period_key == "custom" and not (state.first and state.last):
        raise BadRequest("from 与 to 需同时给出 (YYYY-MM-DD)")
    unit = authorised_unit(data, code)
    now = data.now()
    return Question(unit, state.with_(unit=code), state.period(now.date()), now)


def period_text(period: Period) -> str:
    days = f"{period.first:%Y-%m-%d}" if period.first == period.last else \
        f"{period.first:%Y-%m-%d} 至 {period.last:%Y-%m-%d}"
    return days if period.key == "custom" else f"{strings.PERIODS[period.key]}（{days}）"


# --- what charts and the pack are drawn from -----------------------------------------------------

NEEDS = {"map": {"children", "geometry"}, "trend": {"trend"}, "categories": {"categories"},
         "ranking": {"children"}, "heat": {"geometry", "heat"}, "coverage": {"geometry", "coverage"}}


def chart_answers(data: CityData, q: Question, names=charts.CHARTS) -> dict:
    """What the charts ``names`` are drawn from, asked of ``CityData`` as the screen asks it."""
    code, period, filters = q.code, q.period, q.filters
    need = set().union(*(NEEDS[n] for n in names))
    kids = data.children(code)
    a = {"unit": q.unit, "metric": q.state.metric, "heat_style": q.state.heat_style,
         "level": strings.level_name(kids[0]["level"]) if kids else None, "members": kids or [q.unit],
         "period_text": period_text(period), "data_time": q.data_time, "source": SOURCE,
         "filters_text": q.filters_text, "geometry": None}
    a["subtitle"] = print_theme.subtitle(q.unit["name"], a["period_text"], q.data_time)
    if "children" in need:
        a["children"] = data.children_kpis(code, period, filters).to_dict("records")
        a["map_rows"], a["points"] = a["children"], None
        if not kids:
            values = data.kpis(code, period, filters)["values"]
            a["map_rows"] = [{"code": code, "name": q.unit["name"], **values}]
            a["points"] = data.case_points(data.recent_cases(code, period, filters))
    if "geometry" in need:
        a["geometry"] = data.children_geometry(code)
    if "trend" in need:
        a["trend"] = data.trend(code, period.last, filters)
    if "categories" in need:
        a["categories"] = data.categories(code, period, filters)
    if "heat" in need:
        a["heat_size"] = cell_size({"geometry": a["geometry"]}, None, None)  # the heat view's size
        a["heat"] = data.heat_cells(code, period, q.state.heat, cell=q.state.cell, size=a["heat_size"])
        a["dispute_counts"] = data.dispute_counts(code, period, q.state.heat)
    if "coverage" in need:
        a["coverage"] = data.coverage(code, period)
        a["drawing"] = data.coverage_drawing(a["coverage"], coverage_layout.VIEW_LIMIT)
    return a


def pack_answers(data: CityData, q: Question) -> dict:
    """Everything the briefing pack shows, from the same calls as the screen and the API."""
    a = chart_answers(data, q)
    compared, a["label"] = q.period.comparison()
    a["compared_text"] = period_text(compared)
    a["chain"] = data.ancestors(q.code)
    a["kpis"] = data.kpis(q.code, q.period, q.filters)["values"]
    a["previous"] = data.kpis(q.code, compared, q.filters)["values"]
    a["alarms"] = alarm_rows(data, q)
    a["grid_names"] = {x["grid_code"]: (data.unit(x["grid_code"]) or {}).get("name", x["grid_code"])
                       for x in a["alarms"][:compose.ALARM_ROWS] if x.get("grid_code")}
    kids = a["members"] if a["level"] else []
    if kids and kids[0]["level"] == "grid":
        a["grids"] = [{**r, "parent": q.unit["name"]} for r in a["children"]]
    else:
        a["grids"] = level_rows(data, q, "grid") if kids else []
    return a


def briefing(data: CityData, q: Question, *, images: bool = True) -> Pack:
    return compose.compose(pack_answers(data, q), images=images)


def write_pack(pack: Pack | None, fmt: str, *, check_only: bool = False) -> bytes:
    """The pack as ``fmt`` (pptx or pdf); ``check_only`` just checks the format."""
    if fmt not in PACK_FORMATS:
        raise BadRequest(f"未知简报格式 format={fmt!r}，可选：{', '.join(PACK_FORMATS)}")
    if check_only:
        return b""
    from layouts.briefing import pdf, pptx  # python-pptx, fpdf2, fontTools: only when asked

    return pptx.write(pack) if fmt == "pptx" else pdf.write(pack)


def chart_image(data: CityData, q: Question, name: str, fmt: str) -> bytes:
    if name not in charts.CHARTS:
        raise BadRequest(f"未知图表 chart={name!r}，可选：{', '.join(charts.CHARTS)}")
    if fmt not in IMAGE_FORMATS:
        raise BadRequest(f"未知图片格式 format={fmt!r}，可选：{', '.join(IMAGE_FORMATS)}")
    return render.render(charts.print_figure(name, chart_answers(data, q, [name])), fmt)


# --- tables ---------------------------------------------------------------------------------------

_KIND = {"count": "int", "rate": "rate", "per10k": "number"}
INDICATOR_COLUMNS = [tab.Column(key, ind.label, _KIND[ind.kind]) for key, ind in INDICATORS.items()]
CASE_COLUMNS = [
    tab.Column("external_id", "事件编号"), tab.Column("category", "类别"),
    tab.Column("subcategory", "子类"), tab.Column("source", "来源"),
    tab.Column("reported_at", "上报时间", "datetime"), tab.Column("status", "状态"),
    tab.Column("deadline", "办理时限", "datetime"), tab.Column("grid_code", "网格编码"),
    tab.Column("description", "事件描述"),
]


def _meta(q: Question) -> str:
    extra = f" · 筛选：{q.filters_text}" if q.filters_text else ""
    return (f"单元：{q.unit['name']}（{q.code}） · 时段：{period_text(q.period)} · "
            f"数据截至：{q.data_time}{extra}")


def children_table(data: CityData, q: Question) -> tab.Table:
    rows = data.children_kpis(q.code, q.period, q.filters).to_dict("records")
    level = strings.level_name(rows[0]["level"]) if rows else "下级单位"
    return tab.Table(f"{q.unit['name']} · 各{level}指标", _meta(q),
                     [tab.Column("code", "编码"), tab.Column("name", "名称"), *INDICATOR_COLUMNS], rows,
                     sheet="下级单位")


def level_rows(data: CityData, q: Question, level: str) -> list[dict]:
    """Every unit at ``level`` under the unit, with every indicator: the children's rows of each
    unit one level up (``CityData.children_kpis``, the screen's ranking), so the numbers agree."""
    if level not in vocab.LEVELS:
        raise BadRequest(f"未知层级 level={level!r}，可选：{', '.join(vocab.LEVELS)}")
    if vocab.LEVELS.index(level) <= vocab.LEVELS.index(q.unit["level"]):
        raise BadRequest(f"层级 level={level!r} 应低于本单元（{strings.level_name(q.unit['level'])}）")
    rows, parents = [], [q.unit]
    while parents:
        deeper = []
        for parent in parents:
            kids = data.children(parent["code"])
            if kids and kids[0]["level"] == level:
                rows += [{**r, "parent": parent["name"]}
                         for r in data.children_kpis(parent["code"], q.period, q.filters).to_dict("records")]
            elif kids and vocab.LEVELS.index(kids[0]["level"]) < vocab.LEVELS.index(level):
                deeper += kids
        parents = deeper
    return rows


def ranking_table(data: CityData, q: Question, level: str | None) -> tab.Table:
    kids = data.children(q.code)
    level = level or (kids[0]["level"] if kids else None)
    if level is None:
        raise BadRequest("本单元为最小网格，没有下级排名")
    metric = q.state.metric
    label = strings.RANKING_TITLE.format(level=strings.level_name(level), metric=INDICATORS[metric].label)
    first = [c for c in INDICATOR_COLUMNS if c.key == metric]
    return tab.Table(
        f"{q.unit['name']} · {label}", _meta(q),
        [tab.Column("rank", "名次", "int"), tab.Column("code", "编码"), tab.Column("name", "名称"),
         tab.Column("parent", "上级单位"), *first, *[c for c in INDICATOR_COLUMNS if c.key != metric]],
        compose.ranked(level_rows(data, q, level), metric), sheet="排名")


def cases_table(data: CityData, q: Question, cap: int = tab.ROW_CAP) -> tab.Table:
    rows = data.recent_cases(q.code, q.period, q.filters, limit=cap + 1)
    return tab.Table(f"{q.unit['name']} · 事件列表", _meta(q), CASE_COLUMNS, rows[:cap],
                     capped_at=cap if len(rows) > cap else None, sheet="事件")


def alarm_rows(data: CityData, q: Question) -> list[dict]:
    """The screen's alarm list, each with its tag (超期N天, 超期N小时 or 高风险)."""
    return [{**c, "alarm": strings.alarm_tag(c, q.now)} for c in data.alarms(q.code, q.filters)]


def alarms_table(data: CityData, q: Question) -> tab.Table:
    c = {col.key: col for col in CASE_COLUMNS}
    columns = [tab.Column("alarm", "告警"), c["external_id"], c["category"], c["subcategory"],
               c["reported_at"], c["status"], c["deadline"], tab.Column("risk_level", "风险等级"),
               c["grid_code"], c["description"]]
    return tab.Table(f"{q.unit['name']} · {strings.ALARMS_TITLE}", _meta(q), columns, alarm_rows(data, q),
                     sheet="告警")


TABLES = {"children": children_table, "alarms": alarms_table, "cases": cases_table}


# --- HTTP -----------------------------------------------------------------------------------------


def register(app, data: CityData, settings=None) -> None:
    """The export endpoints, and the wall screen's export links (their hrefs follow the URL)."""
    app.server.register_blueprint(blueprint(data, settings))
    scoped = auth.request_data(data)  # the links start at the caller's own root unit
    for view, url in (("wall", ids.URL), ("heat", ids.HEAT_URL), ("coverage", ids.COV_URL)):
        targets = buttons.TARGETS[view]
        app.callback([Output(buttons.link_id(view, t), "href") for t in targets], Input(url, "search"))(
            lambda search, targets=targets: [export_href(scoped, t, search) for t in targets])


def export_href(data, target: str, search: str | None) -> str:
    """The URL behind an export link: ``target`` is e.g. ``charts/trend.png`` or ``brief.pdf``."""
    try:
        state = ViewState.from_query(search).with_(tour_seconds=0)
    except BadRequest:
        state = ViewState()
    roots = data.roots()
    code = state.unit or (roots[0]["code"] if roots else "")
    if state.unit and hasattr(data, "in_scope") and not data.in_scope(code):
        raise PreventUpdate  # the screen says "not yours" in its banner; the links stay empty
    if target == "screen.png":
        return f"/api/v1/screen.png{state.with_(unit=code).to_query()}"
    query = state.with_(unit=None).to_query()
    if target.startswith("cases."):
        return f"/api/v1/{target}?{urlencode({'unit': code})}" + ("&" + query[1:] if query else "")
    return f"/api/v1/units/{code}/{target}{query}"


ERRORS = {BadRequest: (400, str), UnitNotFound: (404, lambda e: f"未找到单元 unit not found: {e}"),
          StoreUnavailable: (503, lambda e: "数据库暂时无法访问 store unavailable"),
          render.RenderUnavailable: (503, lambda e: f"图片导出不可用 image export unavailable: {e}")}


def blueprint(data: CityData, settings=None) -> Blueprint:
    bp = Blueprint("citybrain_exports", __name__)
    bp.before_request(auth.api_guard)  # the caller's role, and a <code> in the URL in scope
    for exc, (status, message) in ERRORS.items():
        bp.register_error_handler(exc, lambda e, s=status, m=message: _error(s, m(e)))

    def question(code: str | None) -> tuple:
        scoped = auth.scoped(data)
        code = code or request.args.get("unit") or (scoped.roots() or [{}])[0].get("code", "")
        return scoped, ask(scoped, code, request.query_string.decode())

    @bp.get("/api/v1/units/<code>/<kind>.<fmt>")
    @auth.needs("export")
    def unit_file(code, kind, fmt):
        if kind not in ("children", "ranking", "alarms", "brief"):
            return _error(404, f"未知接口 unknown endpoint: {request.path}")
        if kind == "brief":
            write_pack(None, fmt, check_only=True)  # a bad format costs nothing
        else:
            _table_format(fmt)
        scoped, q = question(code)
        if kind == "brief":
            return _send(q, kind, fmt, write_pack(briefing(scoped, q), fmt), PACK_FORMATS[fmt], "简报")
        table = ranking_table(scoped, q, request.args.get("level") or None) if kind == "ranking" \
            else TABLES[kind](scoped, q)
        return _send(q, kind, fmt, tab.write(table, fmt), tab.FORMATS[fmt], table.sheet)

    @bp.get("/api/v1/cases.<fmt>")
    @auth.needs("export")
    def cases_file(fmt):
        _table_format(fmt)
        scoped, q = question(None)
        return _send(q, "cases", fmt, tab.write(cases_table(scoped, q), fmt), tab.FORMATS[fmt], "事件")

    @bp.get("/api/v1/units/<code>/charts/<name>.<fmt>")
    @auth.needs("export")
    def chart_file(code, name, fmt):
        scoped, q = question(code)
        body = chart_image(scoped, q, name, fmt)
        return _send(q, f"chart:{name}", fmt, body, IMAGE_FORMATS[fmt], name)

    @bp.get("/api/v1/screen.png")
    @auth.needs("export")
    def screen_file():
        _scoped, q = question(None)
        url = _own_address(settings) + "/" + q.state.with_(tour_seconds=0).to_query()
        # The server's browser sees the screen as the caller: their cookies and bearer token.
        headers = {k: v for k, v in request.headers.items() if k.lower() == "authorization"}
        png = render.screenshot(url, cookies=dict(request.cookies), headers=headers)
        return _send(q, "screen", "png", png, "image/png", "大屏")

    @bp.get("/api/<path:rest>")
    @auth.needs(None)
    def unknown_api(rest):
        """Nothing under /api/ answers with the dashboard page: an unknown path is a JSON 404."""
        return _error(404, f"未知接口 unknown endpoint: /api/{rest}")

    return bp


def _own_address(settings) -> str:
    """Where the server's own Chromium finds this server for a screen capture: the loopback (or the
    one address it listens on) and the port this request came in on, never the request's Host
    header, so a crafted header cannot send the server's browser elsewhere."""
    host = getattr(settings, "host", "") or "127.0.0.1"
    if host in ("0.0.0.0", "::", "localhost"):
        host = "127.0.0.1"
    port = request.environ.get("SERVER_PORT") or getattr(settings, "port", 8050)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _table_format(fmt: str) -> None:
    if fmt not in tab.FORMATS:
        raise BadRequest(f"未知表格格式 format={fmt!r}，可选：{', '.join(tab.FORMATS)}")


def _send(q: Question, kind: str, fmt: str, body: bytes, mime: str, what: str) -> Response:
    """The file as a download named after unit, content and period; the export is audited."""
    audit(kind, q.code, q.period, fmt)
    response = Response(body, mimetype=mime.split(";")[0])
    if mime.startswith("text/"):
        response.charset = "utf-8"
    name = f"{q.unit['name']}_{what}_{q.period.first:%Y%m%d}-{q.period.last:%Y%m%d}.{fmt}"
    ascii_name = "".join(ch if ch.isascii() and ch not in '"\\' else "_" for ch in name)
    response.headers["Content-Disposition"] = \
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    return response
