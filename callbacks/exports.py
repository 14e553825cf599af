"""Exports for briefing authors: charts (PNG/SVG), tables (CSV/XLSX), the briefing pack (PPTX/PDF)
and the whole wall screen as a PNG; the HTTP endpoints, the screen's export links, and the
functions the ``citybrain brief`` command calls.

Every number comes from ``CityData`` — the same calls the screen and the JSON API make, cached
alike — and is formatted by the same helpers (``Indicator.format``, ``dashboard.compare``).

Access control (issue 9) hooks in at one place: :func:`authorised_unit`. Every export resolves its
unit through it, and :func:`audit` records every export (who, unit, period, format).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import shapely
from dash import ALL, Input, Output, ctx
from flask import Blueprint, Response, jsonify, request

from dashboard import compare, strings, vocab
from dashboard.indicators import INDICATORS, KPI_CARDS
from dashboard.viewstate import BadRequest, Period, ViewState
from data.exports import tables as tab
from data.service import CityData, StoreUnavailable
from geo.cells import size_for_bounds
from geo.geojson import feature_collection
from layouts import coverage as coverage_layout
from layouts import figures
from layouts import heat as heat_layout
from layouts import views as view_layouts
from layouts.briefing import pdf as pack_pdf
from layouts.briefing import pptx as pack_pptx
from layouts.briefing.content import Pack, Slide, TableBlock
from layouts.export import charts as export_charts
from layouts.export import render as renderer
from layouts.export import theme as print_theme

AUDIT = logging.getLogger("citybrain.audit")

CHARTS = ("map", "trend", "categories", "ranking", "heat", "coverage")
IMAGE_FORMATS = renderer.FORMATS
PACK_FORMATS = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                "pdf": "application/pdf"}
SOURCE = "数据来源：城市大脑 · 市域社会治理事件库、雪亮工程点位库（按统一口径由数据库实时计算）"
ALARM_ROWS_IN_PACK = 12
WORST_GRIDS = 10


class UnitNotFound(LookupError):
    """The unit does not exist, or (issue 9) lies outside the caller's scope: both are a 404."""


def authorised_unit(data: CityData, code: str) -> dict:
    """The unit ``code`` if the caller may export it; :class:`UnitNotFound` otherwise.

    Issue 9 adds the check here: the caller's unit scope must contain ``code`` (``code`` is the
    unit itself or one of its descendants: ``data.ancestors(code)``), and an aggregates-only role
    must not get the case list, the alarm list or a pack's alarm slide (they carry case text).
    """
    found = data.unit(code)
    if found is None:
        raise UnitNotFound(code)
    return found


def audit(kind: str, code: str, period: Period | None, fmt: str) -> None:
    """Every export is logged: what, unit, period, format (issue 9 adds the user)."""
    AUDIT.info("export kind=%s unit=%s period=%s..%s format=%s", kind, code,
               period.first if period else "", period.last if period else "", fmt)


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
    def period_text(self) -> str:
        return period_text(self.period)

    @property
    def data_time(self) -> str:
        return f"{self.now:%Y-%m-%d %H:%M}"

    @property
    def subtitle(self) -> str:
        return print_theme.subtitle(self.unit["name"], self.period_text, self.data_time)


def ask(data: CityData, code: str, query: str = "") -> Question:
    """The question for ``code`` and a view query string (``period=…&from=…&category=…``)."""
    state = ViewState.from_query(query)
    if state.period_key == "custom" and not (state.first and state.last):
        raise BadRequest("from 与 to 需同时给出 (YYYY-MM-DD)")
    unit = authorised_unit(data, code)
    now = data.now()
    return Question(unit, state.with_(unit=code), state.period(now.date()), now)


def period_text(period: Period) -> str:
    if period.first == period.last:
        days = f"{period.first:%Y-%m-%d}"
    else:
        days = f"{period.first:%Y-%m-%d} 至 {period.last:%Y-%m-%d}"
    return days if period.key == "custom" else f"{strings.PERIODS[period.key]}（{days}）"


# --- charts ---------------------------------------------------------------------------------------


def chart_title(q: Question, data: CityData, name: str) -> str:
    metric = INDICATORS[q.state.metric].label
    kids = data.children(q.code)
    level = strings.level_name(kids[0]["level"]) if kids else strings.level_name(q.unit["level"])
    return {
        "map": f"各{level}{metric}分布",
        "trend": strings.TREND_TITLE,
        "categories": strings.CATEGORY_TITLE,
        "ranking": strings.RANKING_TITLE.format(level=level, metric=metric),
        "heat": strings.HEAT_TITLE,
        "coverage": strings.COVERAGE_TITLE,
    }[name]


def chart_figure(data: CityData, q: Question, name: str, *, titled: bool = True,
                 width: int = print_theme.WIDTH, height: int = print_theme.HEIGHT):
    """The screen's figure ``name`` for ``q`` in the print theme (a title block when ``titled``)."""
    if name not in CHARTS:
        raise BadRequest(f"未知图表 chart={name!r}，可选：{', '.join(CHARTS)}")
    code, period, filters = q.code, q.period, q.filters
    bounds = None
    if name == "map":
        geometry = data.children_geometry(code)
        bounds = geometry.bounds
        rows = data.children_kpis(code, period, filters).to_dict("records")
        points = None
        if not rows:
            rows = [{"code": code, "name": q.unit["name"], **data.kpis(code, period, filters)["values"]}]
            points = [_point(c) for c in data.recent_cases(code, period, filters) if c.get("geom")]
        fig = figures.unit_map(geojson_url=geometry.collection, rows=rows, metric=q.state.metric,
                               bounds=bounds, drill_key=code, style=print_theme.MAP_STYLE, points=points)
    elif name == "trend":
        trend = data.trend(code, period.last, filters)
        fig = figures.trend_figure(list(trend.index), trend.tolist())
    elif name == "categories":
        cats = data.categories(code, period, filters)
        fig = figures.category_figure(list(cats.index), cats.tolist())
    elif name == "ranking":
        rows = data.children_kpis(code, period, filters).to_dict("records")
        fig = export_charts.ranking_figure(rows, q.state.metric)
    elif name == "heat":
        fig, bounds = _heat_figure(data, q)
    else:
        fig, bounds = _coverage_figure(data, q)
    return print_theme.for_print(
        fig, title=chart_title(q, data, name) if titled else None, subtitle=q.subtitle,
        source=SOURCE if titled else None, bounds=bounds, width=width, height=height)


def _members(data: CityData, q: Question) -> list[dict]:
    return data.children(q.code) or [q.unit]


def _heat_figure(data: CityData, q: Question):
    geometry = data.children_geometry(q.code)
    size = size_for_bounds(geometry.bounds)
    cells = data.heat(q.code, q.period, q.state.heat, cell=q.state.cell, size=size)
    records = [{"id": f"{r.i}_{r.j}", "count": int(r.count), "lon": r.lon, "lat": r.lat}
               for r in cells.itertuples()]
    collection = feature_collection(shapely.from_wkb(list(cells["wkb"])) if len(cells) else [],
                                    [{"id": r["id"]} for r in records])
    fig = heat_layout.heat_map(geojson_url=geometry.collection, members=_members(data, q),
                               bounds=geometry.bounds, drill_key=q.code, style=print_theme.MAP_STYLE,
                               cells=records, cells_geojson=collection, mode=q.state.heat_style)
    return fig, geometry.bounds


def _coverage_figure(data: CityData, q: Question):
    geometry = data.children_geometry(q.code)
    answer = data.coverage(q.code, q.period)
    names = {m["code"]: m for m in _members(data, q)}
    members = [{**m, "name": names[m["code"]]["name"]} for m in answer["members"]]
    sites = [{**s, "text": strings.suggestion_text(s, names[s["member"]]["name"])}
             for s in answer["suggestions"]]
    places = [{**p, "unit": names[m["code"]]["name"]} for m in answer["members"]
              for p in m["uncovered_place_list"]]
    cams = answer["views"]
    views_geojson = blind_geojson = None
    points = []
    if len(cams) <= coverage_layout.VIEW_LIMIT:
        views_geojson = feature_collection(shapely.from_wkb(list(cams["wkb"])) if len(cams) else [],
                                           [{"id": i} for i in cams["id"]])
        blind_geojson = feature_collection([shapely.from_wkb(answer["blind_wkb"])], [{"id": "blind"}])
    else:
        centres = shapely.get_coordinates(shapely.centroid(shapely.from_wkb(list(cams["wkb"]))))
        points = [{"lon": x, "lat": y, "status": s}
                  for (x, y), s in zip(centres, cams["status"], strict=True)]
    fig = coverage_layout.coverage_map(
        geojson_url=geometry.collection, members=members, bounds=geometry.bounds, drill_key=q.code,
        style=print_theme.MAP_STYLE, views_geojson=views_geojson, view_status=list(cams["status"]),
        cameras=points, blind_geojson=blind_geojson, places=places, sites=sites)
    return fig, geometry.bounds


def _point(case: dict) -> dict:
    geom = shapely.from_wkb(case["geom"])
    return {"lon": geom.x, "lat": geom.y, "status": case["status"], "category": case["category"],
            "reported_at": f"{case['reported_at']:%Y-%m-%d %H:%M}"}


def chart_image(data: CityData, q: Question, name: str, fmt: str) -> bytes:
    if fmt not in IMAGE_FORMATS:
        raise BadRequest(f"未知图片格式 format={fmt!r}，可选：{', '.join(IMAGE_FORMATS)}")
    return renderer.render(chart_figure(data, q, name), fmt)


# --- tables ---------------------------------------------------------------------------------------

_KIND = {"count": "int", "rate": "rate", "per10k": "number"}
INDICATOR_COLUMNS = [tab.Column(key, ind.label, _KIND[ind.kind]) for key, ind in INDICATORS.items()]


def _meta(q: Question) -> str:
    filters = [*q.filters.categories, *q.filters.sources]
    extra = f" · 筛选：{'、'.join(filters)}" if filters else ""
    return f"单元：{q.unit['name']}（{q.code}） · 时段：{q.period_text} · 数据截至：{q.data_time}{extra}"


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
            if not kids:
                continue
            if kids[0]["level"] == level:
                for row in data.children_kpis(parent["code"], q.period, q.filters).to_dict("records"):
                    rows.append({**row, "parent": parent["name"]})
            elif vocab.LEVELS.index(kids[0]["level"]) < vocab.LEVELS.index(level):
                deeper += kids
        parents = deeper
    return rows


def ranked(rows: list[dict], metric: str) -> list[dict]:
    """In the screen's ranking order: largest value first, units without a value last."""
    known = [r for r in rows if not _missing(r.get(metric))]
    unknown = [r for r in rows if _missing(r.get(metric))]
    known.sort(key=lambda r: (-r[metric], r["code"]))
    return [{**r, "rank": i} for i, r in enumerate(known + unknown, start=1)]


def worst(rows: list[dict], metric: str, limit: int) -> list[dict]:
    """The units doing worst on ``metric`` (lowest rate, most cases), without the unknown."""
    ind = INDICATORS[metric]
    known = [r for r in rows if not _missing(r.get(metric))]
    known.sort(key=lambda r: (r[metric] if ind.higher_is_better else -r[metric], r["code"]))
    return known[:limit]


def ranking_table(data: CityData, q: Question, level: str | None) -> tab.Table:
    kids = data.children(q.code)
    level = level or (kids[0]["level"] if kids else None)
    if level is None:
        raise BadRequest("本单元为最小网格，没有下级排名")
    metric = q.state.metric
    rows = ranked(level_rows(data, q, level), metric)
    label = INDICATORS[metric].label
    others = [c for c in INDICATOR_COLUMNS if c.key != metric]
    return tab.Table(
        f"{q.unit['name']} · {strings.RANKING_TITLE.format(level=strings.level_name(level), metric=label)}",
        _meta(q),
        [tab.Column("rank", "名次", "int"), tab.Column("code", "编码"), tab.Column("name", "名称"),
         tab.Column("parent", "上级单位"), *[c for c in INDICATOR_COLUMNS if c.key == metric], *others],
        rows, sheet="排名")


CASE_COLUMNS = [
    tab.Column("external_id", "事件编号"), tab.Column("category", "类别"),
    tab.Column("subcategory", "子类"), tab.Column("source", "来源"),
    tab.Column("reported_at", "上报时间", "datetime"), tab.Column("status", "状态"),
    tab.Column("deadline", "办理时限", "datetime"), tab.Column("grid_code", "网格编码"),
    tab.Column("description", "事件描述"),
]


def cases_table(data: CityData, q: Question, cap: int = tab.ROW_CAP) -> tab.Table:
    rows = data.recent_cases(q.code, q.period, q.filters, limit=cap + 1)
    capped = cap if len(rows) > cap else None
    return tab.Table(f"{q.unit['name']} · 事件列表", _meta(q), CASE_COLUMNS, rows[:cap],
                     capped_at=capped, sheet="事件")


def alarm_rows(data: CityData, q: Question) -> list[dict]:
    rows = []
    for c in data.alarms(q.code, q.filters):
        late = q.now - c["deadline"] if c.get("deadline") and c["deadline"] < q.now else None
        if late is None:
            tag = strings.HIGH_RISK
        elif late.days >= 1:
            tag = strings.OVERDUE_BY.format(days=late.days)
        else:
            tag = strings.OVERDUE_HOURS.format(hours=max(1, late.seconds // 3600))
        rows.append({**c, "alarm": tag})
    return rows


def alarms_table(data: CityData, q: Question) -> tab.Table:
    columns = [tab.Column("alarm", "告警"), *CASE_COLUMNS[:3], CASE_COLUMNS[4], CASE_COLUMNS[5],
               CASE_COLUMNS[6], tab.Column("risk_level", "风险等级"), CASE_COLUMNS[7], CASE_COLUMNS[8]]
    return tab.Table(f"{q.unit['name']} · {strings.ALARMS_TITLE}", _meta(q), columns,
                     alarm_rows(data, q), sheet="告警")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


# --- the briefing pack ----------------------------------------------------------------------------

PACK_IMAGE = {"width": 1100, "height": 640}


def briefing(data: CityData, q: Question) -> Pack:
    """The pack's slides for ``q``: numbers from ``CityData``, formatted as on the screen."""
    code, period, filters, metric = q.code, q.period, q.filters, q.state.metric
    ind = INDICATORS[metric]
    chain = data.ancestors(code)
    kpis = data.kpis(code, period, filters)["values"]
    compared, label = period.comparison()
    previous = data.kpis(code, compared, filters)["values"]
    children = data.children_kpis(code, period, filters).to_dict("records")
    level = strings.level_name(children[0]["level"]) if children else None

    def image(name: str) -> bytes:
        fig = chart_figure(data, q, name, titled=False, **PACK_IMAGE)
        return renderer.render(fig, "png", scale=2)

    def short(key: str) -> str:
        return compare.in_words(key, kpis.get(key), previous.get(key), label).partition("，")[2] or \
            strings.REALTIME

    title = f"{q.unit['name']}市域社会治理简报"
    slides = [Slide(title, kind="cover", lines=[
        " › ".join(u["name"] for u in chain), f"统计时段：{q.period_text}", f"数据截至：{q.data_time}",
        f"地图指标：{ind.label}" + (f" · 筛选：{'、'.join([*filters.categories, *filters.sources])}"
                                 if filters.categories or filters.sources else ""),
    ])]
    slides.append(Slide(
        f"核心指标（{label}）", kind="kpis",
        big=[(INDICATORS[k].label, INDICATORS[k].format(kpis.get(k)), short(k)) for k in KPI_CARDS],
        lines=[compare.in_words(k, kpis.get(k), previous.get(k), label)
               for k in ("accepted", "closure_rate", "resolution_rate", "on_time_rate", "satisfaction_rate",
                         "kept_local_rate", "cases_per_10k")],
    ))
    # The map coloured by the chosen indicator, with the best and the worst children in words.
    if children:
        known = [r for r in ranked(children, metric) if not _missing(r.get(metric))]
        map_lines = [f"共 {len(children)} 个{level}，按{ind.label}："]
        if known:
            map_lines.append("最高：" + "、".join(f"{r['name']} {ind.format(r[metric])}" for r in known[:3]))
            map_lines.append("最低：" + "、".join(f"{r['name']} {ind.format(r[metric])}"
                                                for r in known[::-1][:3]))
    else:
        map_lines = [strings.NO_CHILDREN, f"{ind.label} {ind.format(kpis.get(metric))}"]
    slides.append(Slide(chart_title(q, data, "map"), lines=map_lines, image=image("map")))
    # Trend and categories.
    trend = data.trend(code, period.last, filters)
    total = int(trend.sum())
    trend_lines = [f"近30天共受理 {total:,} 件，日均 {total / max(len(trend), 1):,.1f} 件"]
    if total:
        peak_day, peak = trend.idxmax(), int(trend.max())
        trend_lines.append(f"单日最高 {peak:,} 件（{str(peak_day)[:10]}）")
    slides.append(Slide(strings.TREND_TITLE, lines=trend_lines, image=image("trend")))
    cats = data.categories(code, period, filters)
    all_cases = int(cats.sum())
    cat_lines = [f"时段内受理 {all_cases:,} 件"] + [
        f"{name}：{int(n):,} 件，占 {n / all_cases * 100:.1f}%" for name, n in cats.head(4).items()
    ] if all_cases else [strings.NO_CASES]
    slides.append(Slide(strings.CATEGORY_TITLE, lines=cat_lines, image=image("categories")))
    # Rankings: the children, and the worst grids below the unit.
    tables = []
    shown = ["accepted", "closure_rate", "resolution_rate", "on_time_rate", "overdue", "satisfaction_rate"]
    if metric not in shown:
        shown.insert(0, metric)
    if children:
        tables.append(TableBlock(
            strings.RANKING_TITLE.format(level=level, metric=ind.label),
            ["名次", "名称", *[INDICATORS[k].label for k in shown]],
            [[str(r["rank"]), r["name"], *[INDICATORS[k].format(r.get(k)) for k in shown]]
             for r in ranked(children, metric)],
            widths=[0.6, 1.8, *[1] * len(shown)]))
    if children:
        grids = level_rows(data, q, "grid") if children[0]["level"] != "grid" else \
            [{**r, "parent": q.unit["name"]} for r in children]
        bad = worst(grids, metric, WORST_GRIDS)
        extra = [] if metric == "accepted" else ["accepted"]
        tables.append(TableBlock(
            f"{ind.label}{'最低' if ind.higher_is_better else '最高'}的{len(bad)}个网格",
            ["网格", "所属", ind.label, *[INDICATORS[k].label for k in extra]],
            [[r["name"], r["parent"], ind.format(r.get(metric)),
              *[INDICATORS[k].format(r.get(k)) for k in extra]] for r in bad],
            widths=[1.6, 1.4, 1, *[0.8] * len(extra)]))
    slides.append(Slide("排名", lines=[] if tables else [strings.NO_CHILDREN], tables=tables))
    # Overdue cases and alarms.
    alarms = alarm_rows(data, q)
    overdue = sum(1 for a in alarms if a["alarm"] != strings.HIGH_RISK)
    alarm_lines = [compare.in_words("overdue", kpis.get("overdue"), None, label),
                   f"告警列表 {len(alarms)} 条：超期 {overdue} 条，高风险纠纷 {len(alarms) - overdue} 条"
                   + ("（列表按超期时长排序，至多 30 条）" if alarms else "")]
    grid_names = {}
    for a in alarms[:ALARM_ROWS_IN_PACK]:
        if a["grid_code"] and a["grid_code"] not in grid_names:
            grid_names[a["grid_code"]] = (data.unit(a["grid_code"]) or {}).get("name", a["grid_code"])
    alarm_table = TableBlock(
        strings.ALARMS_TITLE, ["告警", "类别", "子类", "状态", "上报时间", "网格"],
        [[a["alarm"], a["category"], a.get("subcategory") or "", a["status"],
          f"{a['reported_at']:%m-%d %H:%M}", grid_names.get(a["grid_code"], a["grid_code"] or "")]
         for a in alarms[:ALARM_ROWS_IN_PACK]], widths=[1, 1, 1, 0.8, 1, 1.8])
    slides.append(Slide("超期与告警", lines=alarm_lines if alarms else [*alarm_lines[:1], strings.NO_ALARMS],
                        tables=[alarm_table] if alarms else []))
    # Dispute heat.
    geometry = data.children_geometry(code)
    size = size_for_bounds(geometry.bounds)
    cells = data.heat(code, period, q.state.heat, cell=q.state.cell, size=size)
    disputes = int(cells["count"].sum())
    heat_lines = [f"矛盾纠纷 {disputes:,} 起，分布在 {len(cells):,} 个格内（格边长 {size:,} 米）"]
    if len(cells):
        heat_lines.append(f"最密格 {int(cells['count'].max()):,} 起")
        counts = data.dispute_counts(code, period, q.state.heat)
        members = sorted(_members(data, q), key=lambda m: -counts.get(m["code"], 0))[:3]
        heat_lines.append("较多：" + "、".join(f"{m['name']} {counts.get(m['code'], 0):,} 起"
                                              for m in members))
    slides.append(Slide(strings.HEAT_TITLE, lines=heat_lines, image=image("heat")))
    # Camera coverage and where new cameras would help most.
    answer = data.coverage(code, period)
    total_cov = answer["total"]
    names = {m["code"]: m["name"] for m in _members(data, q)}
    cov_lines = [
        f"面积覆盖率 {view_layouts.percent(total_cov['covered_share'])}，"
        f"盲区 {total_cov['blind_km2']:,.2f} km²",
        f"视频在线率 {view_layouts.percent(total_cov['online_rate'])}",
        f"未覆盖重点部位 {total_cov['uncovered_places']:,} / {total_cov['key_places']:,} 处",
        f"盲区事件 {total_cov['blind_cases']:,} / {total_cov['cases']:,} 起",
    ]
    suggestions = answer["suggestions"][:2]
    cov_lines += [strings.SUGGEST_TITLE + "："] + [
        f"{s['rank']}. {strings.suggestion_text(s, names.get(s['member'], s['member']))}" for s in suggestions
    ] if suggestions else [strings.SUGGEST_NONE]
    slides.append(Slide(strings.COVERAGE_TITLE, lines=cov_lines, image=image("coverage")))
    # Definitions and the data source.
    notes = [f"{i.label}：{i.definition}" for i in INDICATORS.values()]
    notes += [f"{label_}：{definition}" for label_, definition in
              (strings.COVERAGE_KPIS["covered_share"], strings.COVERAGE_KPIS["blind_cases"])]
    notes += [SOURCE, f"统计时段：{q.period_text}；数据截至 {q.data_time}；"
                      f"比较口径：{label}（{period_text(compared)}）"]
    slides.append(Slide("指标口径与数据来源", lines=notes, kind="notes"))
    return Pack(q.unit["name"], title, q.period_text, q.data_time, SOURCE, slides)


def write_pack(pack: Pack, fmt: str) -> bytes:
    if fmt == "pptx":
        return pack_pptx.write(pack)
    if fmt == "pdf":
        return pack_pdf.write(pack)
    raise BadRequest(f"未知简报格式 format={fmt!r}，可选：{', '.join(PACK_FORMATS)}")


# --- HTTP -----------------------------------------------------------------------------------------


def register(app, data: CityData, settings=None) -> None:
    """The export endpoints, and the wall screen's export links (their hrefs follow the URL)."""
    app.server.register_blueprint(blueprint(data))

    @app.callback(Output({"type": EXPORT_LINK, "target": ALL}, "href"), Input("url", "search"))
    def export_links(search):
        return [export_href(data, o["id"]["target"], search) for o in ctx.outputs_list]


EXPORT_LINK = "export-link"


def export_href(data: CityData, target: str, search: str | None) -> str:
    """The URL behind an export link: ``target`` is e.g. ``charts/trend.png`` or ``brief.pdf``."""
    try:
        state = ViewState.from_query(search)
    except BadRequest:
        state = ViewState()
    roots = data.roots()
    code = state.unit or (roots[0]["code"] if roots else "")
    query = state.with_(unit=None, tour_seconds=0).to_query()
    if target == "screen.png":
        return f"/api/v1/screen.png{state.with_(tour_seconds=0).to_query()}"
    if target.startswith("cases."):
        return f"/api/v1/{target}?" + urlencode({"unit": code}) + ("&" + query[1:] if query else "")
    return f"/api/v1/units/{code}/{target}{query}"


def blueprint(data: CityData) -> Blueprint:
    bp = Blueprint("citybrain_exports", __name__)

    @bp.errorhandler(BadRequest)
    def _bad_request(exc):
        return _error(400, str(exc))

    @bp.errorhandler(UnitNotFound)
    def _not_found(exc):
        return _error(404, f"未找到单元 unit not found: {exc}")

    @bp.errorhandler(StoreUnavailable)
    def _unavailable(exc):
        return _error(503, "数据库暂时无法访问 store unavailable")

    @bp.errorhandler(renderer.RenderUnavailable)
    def _no_renderer(exc):
        return _error(503, f"图片导出不可用 image export unavailable: {exc}")

    def question(code: str) -> Question:
        return ask(data, code, request.query_string.decode())

    def send(body: bytes, mime: str, name: str, *, attachment: bool = True) -> Response:
        response = Response(body, mimetype=mime.split(";")[0])
        if mime.startswith("text/"):
            response.charset = "utf-8"
        disposition = "attachment" if attachment else "inline"
        response.headers["Content-Disposition"] = _disposition(disposition, name)
        response.headers["Cache-Control"] = "no-store"
        return response

    def table_format(fmt: str) -> str:
        if fmt not in tab.FORMATS:
            raise BadRequest(f"未知表格格式 format={fmt!r}，可选：{', '.join(tab.FORMATS)}")
        return fmt

    @bp.get("/api/v1/units/<code>/children.<fmt>")
    def children_export(code, fmt):
        fmt = table_format(fmt)
        q = question(code)
        audit("children", code, q.period, fmt)
        return send(tab.write(children_table(data, q), fmt), tab.FORMATS[fmt],
                    f"{q.unit['name']}_下级指标_{_stamp(q)}.{fmt}")

    @bp.get("/api/v1/units/<code>/ranking.<fmt>")
    def ranking_export(code, fmt):
        fmt = table_format(fmt)
        q = question(code)
        audit("ranking", code, q.period, fmt)
        return send(tab.write(ranking_table(data, q, request.args.get("level") or None), fmt),
                    tab.FORMATS[fmt], f"{q.unit['name']}_排名_{_stamp(q)}.{fmt}")

    @bp.get("/api/v1/units/<code>/alarms.<fmt>")
    def alarms_export(code, fmt):
        fmt = table_format(fmt)
        q = question(code)
        audit("alarms", code, q.period, fmt)
        return send(tab.write(alarms_table(data, q), fmt), tab.FORMATS[fmt],
                    f"{q.unit['name']}_告警_{_stamp(q)}.{fmt}")

    @bp.get("/api/v1/cases.<fmt>")
    def cases_export(fmt):
        fmt = table_format(fmt)
        code = request.args.get("unit") or (data.roots() or [{}])[0].get("code")
        if not code:
            raise BadRequest("缺少 unit 参数 (unit=CODE)")
        q = question(code)
        audit("cases", code, q.period, fmt)
        return send(tab.write(cases_table(data, q), fmt), tab.FORMATS[fmt],
                    f"{q.unit['name']}_事件_{_stamp(q)}.{fmt}")

    @bp.get("/api/v1/units/<code>/charts/<name>.<fmt>")
    def chart_export(code, name, fmt):
        if fmt not in IMAGE_FORMATS:
            raise BadRequest(f"未知图片格式 format={fmt!r}，可选：{', '.join(IMAGE_FORMATS)}")
        if name not in CHARTS:
            raise BadRequest(f"未知图表 chart={name!r}，可选：{', '.join(CHARTS)}")
        q = question(code)
        audit(f"chart:{name}", code, q.period, fmt)
        return send(chart_image(data, q, name, fmt), IMAGE_FORMATS[fmt],
                    f"{q.unit['name']}_{chart_title(q, data, name)}_{_stamp(q)}.{fmt}")

    @bp.get("/api/v1/units/<code>/brief.<fmt>")
    def brief_export(code, fmt):
        if fmt not in PACK_FORMATS:
            raise BadRequest(f"未知简报格式 format={fmt!r}，可选：{', '.join(PACK_FORMATS)}")
        q = question(code)
        audit("brief", code, q.period, fmt)
        return send(write_pack(briefing(data, q), fmt), PACK_FORMATS[fmt],
                    f"{q.unit['name']}_简报_{_stamp(q)}.{fmt}")

    @bp.get("/api/v1/screen.png")
    def screen_export():
        state = ViewState.from_query(request.query_string.decode())
        code = state.unit or (data.roots() or [{}])[0].get("code", "")
        q = ask(data, code, request.query_string.decode())
        audit("screen", code, q.period, "png")
        url = request.host_url.rstrip("/") + "/" + state.with_(tour_seconds=0).to_query()
        return send(renderer.screenshot(url), "image/png", f"{q.unit['name']}_大屏_{_stamp(q)}.png")

    @bp.route("/api/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def unknown_api(rest):
        """Nothing under /api/ answers with the dashboard page: an unknown path is a JSON 404."""
        return _error(404, f"未知接口 unknown endpoint: /api/{rest}")

    return bp


def _stamp(q: Question) -> str:
    return f"{q.period.first:%Y%m%d}-{q.period.last:%Y%m%d}"


def _disposition(kind: str, name: str) -> str:
    from urllib.parse import quote

    ascii_name = "".join(ch if ch.isascii() and ch not in '"\\' else "_" for ch in name)
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    return response


