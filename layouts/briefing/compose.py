"""The briefing pack's slides from the service's answers, formatted as the screen formats them.

``answers`` is what ``callbacks.exports.pack_answers`` fetched from ``CityData`` (the screen's and
the API's calls); nothing here touches the database. Values go through ``Indicator.format`` and
changes through ``dashboard.compare``, the helpers of the KPI cards.
"""

from __future__ import annotations

import math

from dashboard import compare, strings
from dashboard.indicators import INDICATORS, KPI_CARDS
from layouts.briefing.content import Pack, Slide, TableBlock
from layouts.export import charts, render
from layouts.kpi import percent

IMAGE = {"width": 1100, "height": 640}  # CSS px of a slide's chart
SCALE = 1.6  # 1760 px across 8.2 inches: about 215 dpi, sharp on a projector and on paper
WORST = 10
ALARM_ROWS = 12
RANK_COLUMNS = ("accepted", "closure_rate", "resolution_rate", "on_time_rate", "overdue", "satisfaction_rate")
WORDS = ("accepted", "closure_rate", "resolution_rate", "on_time_rate", "satisfaction_rate",
         "kept_local_rate", "cases_per_10k")


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def ranked(rows: list[dict], metric: str) -> list[dict]:
    """In the screen's ranking order: largest value first, units without a value last."""
    known = sorted((r for r in rows if not missing(r.get(metric))), key=lambda r: (-r[metric], r["code"]))
    unknown = [r for r in rows if missing(r.get(metric))]
    return [{**r, "rank": i} for i, r in enumerate(known + unknown, start=1)]


def worst(rows: list[dict], metric: str, limit: int) -> list[dict]:
    """The units doing worst on ``metric`` (lowest rate, most cases), without the unknown."""
    better_high = INDICATORS[metric].higher_is_better
    known = [r for r in rows if not missing(r.get(metric))]
    known.sort(key=lambda r: (r[metric] if better_high else -r[metric], r["code"]))
    return known[:limit]


def compose(a: dict, *, images: bool = True) -> Pack:
    """Every slide of the pack. ``images=False`` leaves the charts out (fast, for text checks)."""
    def image(name: str) -> bytes | None:
        if not images:
            return None
        return render.render(charts.print_figure(name, a, titled=False, **IMAGE), "png", scale=SCALE)

    title = f"{a['unit']['name']}市域社会治理简报"
    slides = [
        _cover(a), _kpis(a),
        Slide(charts.title("map", a), lines=_map_lines(a), image=image("map")),
        Slide(strings.TREND_TITLE, lines=_trend_lines(a), image=image("trend")),
        Slide(strings.CATEGORY_TITLE, lines=_category_lines(a), image=image("categories")),
        _rankings(a), _alarms(a),
        Slide(strings.HEAT_TITLE, lines=_heat_lines(a), image=image("heat")),
        Slide(strings.COVERAGE_TITLE, lines=_coverage_lines(a), image=image("coverage")),
        _definitions(a),
    ]
    return Pack(a["unit"]["name"], title, a["period_text"], a["data_time"], a["source"], slides)


def _cover(a: dict) -> Slide:
    lines = [" › ".join(u["name"] for u in a["chain"]), f"统计时段：{a['period_text']}",
             f"数据截至：{a['data_time']}", f"地图指标：{INDICATORS[a['metric']].label}"]
    if a["filters_text"]:
        lines.append(f"筛选：{a['filters_text']}")
    return Slide(a["unit"]["name"], kind="cover", lines=lines)


def _kpis(a: dict) -> Slide:
    kpis, previous, label = a["kpis"], a["previous"], a["label"]

    def short(key: str) -> str:
        return compare.in_words(key, kpis.get(key), previous.get(key), label).partition("，")[2] \
            or strings.REALTIME

    return Slide(
        f"核心指标（{label}）", kind="kpis",
        big=[(INDICATORS[k].label, INDICATORS[k].format(kpis.get(k)), short(k)) for k in KPI_CARDS],
        lines=[compare.in_words(k, kpis.get(k), previous.get(k), label) for k in WORDS])


def _map_lines(a: dict) -> list[str]:
    metric, ind = a["metric"], INDICATORS[a["metric"]]
    if not a["children"]:
        return [strings.NO_CHILDREN, f"{ind.label} {ind.format(a['kpis'].get(metric))}"]
    known = [r for r in ranked(a["children"], metric) if not missing(r.get(metric))]
    lines = [f"共 {len(a['children'])} 个{a['level']}，按{ind.label}："]
    if known:
        lines.append("最高：" + "、".join(f"{r['name']} {ind.format(r[metric])}" for r in known[:3]))
        lines.append("最低：" + "、".join(f"{r['name']} {ind.format(r[metric])}" for r in known[::-1][:3]))
    return lines


def _trend_lines(a: dict) -> list[str]:
    trend = a["trend"]
    total = int(trend.sum())
    lines = [f"近30天共受理 {total:,} 件，日均 {total / max(len(trend), 1):,.1f} 件"]
    if total:
        lines.append(f"单日最高 {int(trend.max()):,} 件（{str(trend.idxmax())[:10]}）")
    return lines


def _category_lines(a: dict) -> list[str]:
    cats = a["categories"]
    total = int(cats.sum())
    if not total:
        return [strings.NO_CASES]
    return [f"时段内受理 {total:,} 件"] + [f"{name}：{int(n):,} 件，占 {n / total * 100:.1f}%"
                                       for name, n in cats.head(4).items()]


def _rankings(a: dict) -> Slide:
    metric, ind, children = a["metric"], INDICATORS[a["metric"]], a["children"]
    if not children:
        return Slide("排名", lines=[strings.NO_CHILDREN])
    shown = list(RANK_COLUMNS) if metric in RANK_COLUMNS else [metric, *RANK_COLUMNS]
    tables = [TableBlock(
        strings.RANKING_TITLE.format(level=a["level"], metric=ind.label),
        ["名次", "名称", *[INDICATORS[k].label for k in shown]],
        [[str(r["rank"]), r["name"], *[INDICATORS[k].format(r.get(k)) for k in shown]]
         for r in ranked(children, metric)],
        widths=[0.6, 1.8, *[1] * len(shown)])]
    bad = worst(a["grids"], metric, WORST)
    extra = [] if metric == "accepted" else ["accepted"]
    tables.append(TableBlock(
        f"{ind.label}{'最低' if ind.higher_is_better else '最高'}的{len(bad)}个网格",
        ["网格", "所属", ind.label, *[INDICATORS[k].label for k in extra]],
        [[r["name"], r["parent"], ind.format(r.get(metric)), *[INDICATORS[k].format(r.get(k)) for k in extra]]
         for r in bad],
        widths=[1.6, 1.4, 1, *[0.8] * len(extra)]))
    return Slide("排名", tables=tables)


def _alarms(a: dict) -> Slide:
    alarms = a["alarms"]
    overdue = sum(1 for x in alarms if x["alarm"] != strings.HIGH_RISK)
    lines = [compare.in_words("overdue", a["kpis"].get("overdue"), None, a["label"])]
    if not alarms:
        return Slide("超期与告警", lines=[*lines, strings.NO_ALARMS])
    lines.append(f"告警列表 {len(alarms)} 条：超期 {overdue} 条，高风险纠纷 {len(alarms) - overdue} 条"
                 "（按超期时长排序，至多 30 条）")
    table = TableBlock(
        strings.ALARMS_TITLE, ["告警", "类别", "子类", "状态", "上报时间", "网格"],
        [[x["alarm"], x["category"], x.get("subcategory") or "", x["status"],
          f"{x['reported_at']:%m-%d %H:%M}",
          a["grid_names"].get(x.get("grid_code"), x.get("grid_code") or "")]
         for x in alarms[:ALARM_ROWS]],
        widths=[1, 1, 1, 0.8, 1, 1.8])
    return Slide("超期与告警", lines=lines, tables=[table])


def _heat_lines(a: dict) -> list[str]:
    records = a["heat"]["records"]
    total = sum(r["count"] for r in records)
    lines = [f"矛盾纠纷 {total:,} 起，分布在 {len(records):,} 个格内（格边长 {a['heat_size']:,} 米）"]
    if records:
        counts = a["dispute_counts"]
        lines.append(f"最密格 {max(r['count'] for r in records):,} 起")
        top = sorted(a["members"], key=lambda m: -counts.get(m["code"], 0))[:3]
        lines.append("较多：" + "、".join(f"{m['name']} {counts.get(m['code'], 0):,} 起" for m in top))
    return lines


def _coverage_lines(a: dict) -> list[str]:
    total, answer = a["coverage"]["total"], a["coverage"]
    names = {m["code"]: m["name"] for m in a["members"]}
    lines = [
        f"面积覆盖率 {percent(total['covered_share'])}，盲区 {total['blind_km2']:,.2f} km²",
        f"视频在线率 {percent(total['online_rate'])}",
        f"未覆盖重点部位 {total['uncovered_places']:,} / {total['key_places']:,} 处",
        f"盲区事件 {total['blind_cases']:,} / {total['cases']:,} 起",
    ]
    suggestions = answer["suggestions"][:2]
    if not suggestions:
        return [*lines, strings.SUGGEST_NONE]
    return [*lines, strings.SUGGEST_TITLE + "："] + [
        f"{s['rank']}. {strings.suggestion_text(s, names.get(s['member'], s['member']))}"
        for s in suggestions]


def _definitions(a: dict) -> Slide:
    notes = [f"{i.label}：{i.definition}" for i in INDICATORS.values()]
    notes += [f"{label}：{definition}" for label, definition in
              (strings.COVERED_SHARE, strings.COVERAGE_KPIS["blind_cases"])]
    notes += [a["source"], f"统计时段：{a['period_text']}；数据截至 {a['data_time']}；"
                           f"比较口径：{a['label']}（{a['compared_text']}）"]
    return Slide("指标口径与数据来源", lines=notes, kind="notes")
