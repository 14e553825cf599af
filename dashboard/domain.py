"""The domain's value types: a period of whole days, case filters, heatmap filters, local time.

They know nothing of URLs or screens: ``dashboard.viewstate`` reads them from and writes them to
the URL, ``data`` takes them as query arguments. An invalid value raises :class:`BadRequest`, whose
message names the parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dashboard import limits, vocab
from dashboard.limits import BadRequest

PERIOD_KEYS = ("today", "7d", "30d", "year", "custom")
DEFAULT_PERIOD = "30d"


__all__ = ["BadRequest", "Filters", "HeatFilters", "Period", "local_now", "parse_date", "split_values"]


def local_now(tz: str = "Asia/Shanghai") -> datetime:
    """Local wall-clock time without a zone, the way case times are stored."""
    return datetime.now(ZoneInfo(tz)).replace(tzinfo=None)


def parse_date(text: str, name: str) -> date:
    """``YYYY-MM-DD`` with ASCII digits, inside the configured years (``dashboard.limits``)."""
    raw = limits.param_text(text, name) if isinstance(text, str) else text
    try:
        if not (isinstance(raw, str) and raw.isascii() and len(raw) == 10):
            raise ValueError
        day = date.fromisoformat(raw)
    except (TypeError, ValueError):
        raise BadRequest(f"参数 {name}={text!r} 不是有效日期，应为 YYYY-MM-DD") from None
    return limits.check_year(day, name)


@dataclass(frozen=True)
class Period:
    """Whole days ``first``..``last`` inclusive."""

    key: str
    first: date
    last: date

    @classmethod
    def resolve(cls, key: str | None, first=None, last=None, *, today: date) -> Period:
        key = limits.choice(key or DEFAULT_PERIOD, "period", "时段", PERIOD_KEYS)
        if key == "today":
            return cls(key, today, today)
        if key == "7d":
            return cls(key, today - timedelta(days=6), today)
        if key == "30d":
            return cls(key, today - timedelta(days=29), today)
        if key == "year":
            return cls(key, date(today.year, 1, 1), today)
        if not first or not last:  # custom
            raise BadRequest("自定义时段需要同时给出 from 和 to")
        first = limits.check_year(first, "from") if isinstance(first, date) else parse_date(first, "from")
        last = limits.check_year(last, "to") if isinstance(last, date) else parse_date(last, "to")
        if last < first:
            raise BadRequest(f"结束日期 {last} 早于开始日期 {first}")
        return cls(key, first, last)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time())

    @property
    def end(self) -> datetime:
        """Exclusive end: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time())

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (环比)."""
        return Period("custom", self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def year_before(self) -> Period:
        """The same days one year earlier (同比); 29 February becomes the 28th."""
        def back(d: date) -> date:
            return d.replace(year=d.year - 1, day=min(d.day, 28 if d.month == 2 else d.day))
        return Period("custom", back(self.first), back(self.last))

    def comparison(self) -> tuple[Period, str]:
        """What the KPI cards compare with: 同比 for a year to date, 环比 otherwise."""
        return (self.year_before(), "同比") if self.key == "year" else (self.previous(), "环比")


@dataclass(frozen=True)
class Filters:
    """Case filters; an empty tuple means all."""

    categories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def __post_init__(self):
        for value in self.categories:
            if value not in vocab.CATEGORIES:
                raise BadRequest(f"未知事件类别 category={value!r}")
        for value in self.sources:
            if value not in vocab.SOURCES:
                raise BadRequest(f"未知来源 source={value!r}")

    def key(self) -> str:
        return f"c={','.join(self.categories)};s={','.join(self.sources)}"


HEAT_STYLES = ("cells", "density")
CELL_KINDS = ("hex", "square")


@dataclass(frozen=True)
class HeatFilters:
    """Filters of the dispute heatmap; an empty tuple or ``None`` means all."""

    subcategories: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    hours: tuple[int, int] | None = None  # first and last hour of day, inclusive (22–3 wraps)

    def __post_init__(self):
        for value in self.subcategories:
            if value not in vocab.CATEGORIES[vocab.DISPUTE]:
                raise BadRequest(f"未知纠纷类型 subcategory={value!r}")
        for value in self.sources:
            if value not in vocab.SOURCES:
                raise BadRequest(f"未知来源 source={value!r}")
        for value in self.statuses:
            if value not in vocab.STATUSES:
                raise BadRequest(f"未知状态 status={value!r}")
        if self.hours is not None and not all(0 <= h <= 23 for h in self.hours):
            raise BadRequest(f"时段 hour={self.hours[0]}-{self.hours[1]} 应在 0–23 之间")

    @classmethod
    def from_args(cls, q: dict) -> HeatFilters:
        hours = None
        if q.get("hour"):
            first, _, last = limits.param_text(q["hour"], "hour").partition("-")
            try:
                hours = (limits.ascii_int(first, "hour", minimum=0, maximum=23),
                         limits.ascii_int(last or first, "hour", minimum=0, maximum=23))
            except BadRequest:
                raise BadRequest(f"时段 hour={q['hour']!r} 应为 8-18 这样的小时范围 "
                                 "(0–23, ASCII digits)") from None
        return cls(split_values(q.get("subcategory"), "subcategory"), split_values(q.get("source"), "source"),
                   split_values(q.get("status"), "status"), hours)

    def query(self) -> dict:
        q = {}
        for key, values in (("subcategory", self.subcategories), ("source", self.sources),
                            ("status", self.statuses)):
            if values:
                q[key] = ",".join(values)
        if self.hours is not None:
            q["hour"] = f"{self.hours[0]}-{self.hours[1]}"
        return q


def split_values(value: str | None, name: str = "parameter") -> tuple[str, ...]:
    """``"a,b,"`` as ``("a", "b")``: a comma-separated parameter, empty parts dropped (bounded in
    length and count, see ``dashboard.limits``)."""
    return limits.values(value, name)


# --- the case list (/api/v1/cases and /cases) ------------------------------------------------------

# Columns a case list may be sorted by (``sort=-reported_at`` for newest first).
CASE_SORTS = (
    "reported_at", "external_id", "category", "subcategory", "source", "status", "deadline",
    "assigned_at", "handled_at", "responded_at", "closed_at", "returned_count", "risk_level",
    "resolved_level", "department", "grid_code",
)
DEFAULT_CASE_SORT = "-reported_at"
MAX_PER_PAGE = 500
MAX_QUERY_TEXT = 100


@dataclass(frozen=True)
class CaseQuery:
    """Which page of which cases, beyond unit and period: filters, text search, order and page."""

    filters: Filters = Filters()
    statuses: tuple[str, ...] = ()
    overdue: bool = False
    text: str = ""
    sort: str = "reported_at"
    descending: bool = True
    page: int = 1
    per_page: int = 50

    def __post_init__(self):
        for value in self.statuses:
            limits.choice(value, "status", "状态", vocab.STATUSES)
        if self.sort not in CASE_SORTS:
            raise BadRequest(f"不能按 sort={self.sort!r} 排序，可选：{', '.join(CASE_SORTS)}"
                             "（前加 - 为降序）")
        if self.page < 1:
            raise BadRequest(f"页码 page={self.page} 应为不小于 1 的整数")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise BadRequest(f"每页条数 per_page={self.per_page} 应在 1 到 {MAX_PER_PAGE} 之间")
        if len(self.text) > MAX_QUERY_TEXT:
            raise BadRequest(f"搜索词 q 过长（{len(self.text)} 字），最多 {MAX_QUERY_TEXT} 字")

    @classmethod
    def from_args(cls, q: dict) -> CaseQuery:
        """From request or URL parameters (``status``, ``category``, ``source``, ``overdue``, ``q``,
        ``sort``, ``page``, ``per_page``); a bad value raises :class:`BadRequest` naming it."""
        sort = (q.get("sort") or DEFAULT_CASE_SORT).strip()
        return cls(
            filters=Filters(split_values(q.get("category"), "category"),
                            split_values(q.get("source"), "source")),
            statuses=split_values(q.get("status"), "status"),
            overdue=parse_flag(q.get("overdue"), "overdue"),
            text=(q.get("q") or "").strip(),
            sort=sort.removeprefix("-"), descending=sort.startswith("-"),
            page=parse_int(q.get("page"), "page", 1), per_page=parse_int(q.get("per_page"), "per_page", 50),
        )

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def sort_key(self) -> str:
        return ("-" if self.descending else "") + self.sort


def parse_int(text, name: str, default: int) -> int:
    if text is None or text == "":
        return default
    text = str(text).strip()
    if not re.fullmatch(r"-?[0-9]{1,9}", text):  # ASCII digits only: "²" and "１" are not numbers here
        raise BadRequest(f"参数 {name}={text[:20]!r} 应为整数")
    return int(text)


def parse_flag(text, name: str) -> bool:
    value = str(text or "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise BadRequest(f"参数 {name}={text!r} 应为 1 或 0")


RANK_LEVELS = ("street", "community", "grid")


def stage_limits(text: str, intervention_minutes: int) -> dict[str, float]:
    """Hours a case may stay at each open stage (``"指派=24,处置=72,反馈=48"``); 受理 gets the
    intervention limit (a case must be assigned within it)."""
    limits = {vocab.ACCEPTED: intervention_minutes / 60}
    for part in filter(None, (p.strip() for p in text.split(","))):
        stage, _, hours = part.partition("=")
        if stage.strip() not in vocab.OPEN_STATUSES:
            raise ValueError(f"阶段时限 {part!r}: 未知阶段 {stage!r}")
        limits[stage.strip()] = float(hours)
    return limits


# The trend shows days up to this many; weeks up to a year; months beyond.
TREND_DAILY_MAX = 92
TREND_SHORTEST = 7


def trend_window(period: Period) -> tuple[date, date, str]:
    """The trend chart's first and last day and its step (``"D"``, ``"W"`` or ``"M"``) for a
    period: the period itself, at least a week long (今日 shows the week it ends)."""
    first = min(period.first, period.last - timedelta(days=TREND_SHORTEST - 1))
    days = (period.last - first).days + 1
    step = "D" if days <= TREND_DAILY_MAX else "W" if days <= 366 else "M"
    return first, period.last, step
