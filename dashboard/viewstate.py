"""What a view shows — unit, period, metric, filters — and its round trip through the URL.

The URL is the state: a reload or a shared link must open the same view, so everything a screen
shows is derived from ``ViewState.from_query`` and written back with ``to_query``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import parse_qs, urlencode

from dashboard import limits
from dashboard.domain import (
    CELL_KINDS,
    DEFAULT_PERIOD,
    HEAT_STYLES,
    MAX_QUERY_TEXT,
    PERIOD_KEYS,
    RANK_LEVELS,
    BadRequest,
    Filters,
    HeatFilters,
    Period,
    parse_date,
    parse_flag,
    split_values,
)
from dashboard.indicators import DEFAULT_METRIC, MAP_METRICS

MAX_QUERY_CHARS = 2000


@dataclass(frozen=True)
class ViewState:
    unit: str | None = None
    period_key: str = DEFAULT_PERIOD
    first: date | None = None
    last: date | None = None
    metric: str = DEFAULT_METRIC
    filters: Filters = field(default_factory=Filters)
    tour_seconds: int = 0  # 轮播: > 0 moves on to the next unit every so many seconds
    heat: HeatFilters = field(default_factory=HeatFilters)  # the heatmap view's filters
    heat_style: str = "cells"  # cells | density
    cell: str = "hex"  # hex | square
    overdue: bool = False  # the case list: only overdue cases
    q: str = ""  # the case list: text searched in description and address
    case: str | None = None  # the case list: the open case (its external id)
    rank: str | None = None  # the wall screen's ranking: None for the children, or a level below
    a: str | None = None  # the compare view: the two units side by side
    b: str | None = None

    @classmethod
    def from_query(cls, search: str | None) -> ViewState:
        """Parse ``?unit=…&period=…`` (a leading ``?`` is optional). Raises :class:`BadRequest`."""
        search = search or ""
        if len(search) > MAX_QUERY_CHARS:
            raise BadRequest(f"链接参数过长 query string too long ({len(search)} > {MAX_QUERY_CHARS})")
        q = {k: limits.param_text(v[-1], k) for k, v in parse_qs(search.lstrip("?")).items()}
        key = q.get("period") or DEFAULT_PERIOD
        first = parse_date(q["from"], "from") if q.get("from") else None
        last = parse_date(q["to"], "to") if q.get("to") else None
        if (first or last) and "period" not in q:
            key = "custom"
        limits.choice(key, "period", "时段", PERIOD_KEYS)
        metric = limits.choice(q.get("metric") or DEFAULT_METRIC, "metric", "指标", MAP_METRICS)
        filters = Filters(split_values(q.get("category"), "category"),
                          split_values(q.get("source"), "source"))
        tour = limits.tour_seconds(q.get("tour"))
        heat_style = limits.choice(q.get("style") or "cells", "style", "呈现方式", HEAT_STYLES)
        cell = limits.choice(q.get("cell") or "hex", "cell", "网格形状", CELL_KINDS)
        heat = HeatFilters(split_values(q.get("subcategory"), "subcategory"), filters.sources,
                           split_values(q.get("status"), "status"), HeatFilters.from_args(q).hours)
        unit = limits.unit_code(q["unit"]) if q.get("unit") else None
        text = (q.get("q") or "").strip()
        if len(text) > MAX_QUERY_TEXT:
            raise BadRequest(f"搜索词 q 过长（{len(text)} 字），最多 {MAX_QUERY_TEXT} 字")
        case = q.get("case") or None
        if case is not None and len(case) > 64:
            raise BadRequest("事件编号 case 过长")
        rank = limits.choice(q["rank"], "rank", "排名层级", RANK_LEVELS) if q.get("rank") else None
        a, b = (limits.unit_code(q[k], k) if q.get(k) else None for k in ("a", "b"))
        return cls(unit, key, first, last, metric, filters, tour, heat, heat_style, cell,
                   parse_flag(q.get("overdue"), "overdue"), text, case, rank, a, b)

    def to_query(self) -> str:
        """The query string for this state, without defaults, so links stay short."""
        q = {}
        if self.unit:
            q["unit"] = self.unit
        if self.period_key != DEFAULT_PERIOD:
            q["period"] = self.period_key
        if self.period_key == "custom":
            q["from"], q["to"] = self.first.isoformat(), self.last.isoformat()
        if self.metric != DEFAULT_METRIC:
            q["metric"] = self.metric
        if self.filters.categories:
            q["category"] = ",".join(self.filters.categories)
        if self.filters.sources:
            q["source"] = ",".join(self.filters.sources)
        if self.tour_seconds:
            q["tour"] = str(self.tour_seconds)
        heat = self.heat.query()
        heat.pop("source", None)  # the same parameter as the wall screen's source filter
        q.update(heat)
        if self.heat_style != "cells":
            q["style"] = self.heat_style
        if self.cell != "hex":
            q["cell"] = self.cell
        if self.overdue:
            q["overdue"] = "1"
        if self.q:
            q["q"] = self.q
        if self.case:
            q["case"] = self.case
        if self.rank:
            q["rank"] = self.rank
        if self.a:
            q["a"] = self.a
        if self.b:
            q["b"] = self.b
        return "?" + urlencode(q, safe=",") if q else ""

    def period(self, today: date) -> Period:
        return Period.resolve(self.period_key, self.first, self.last, today=today)

    def with_(self, **changes) -> ViewState:
        return replace(self, **changes)
