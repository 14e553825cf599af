"""Indicator definitions: the one place each formula and its wording live.

The database counts (``data.queries`` names each count); an indicator is a count or a ratio of two
counts. A ratio with nothing to divide by is ``None`` and shows as "—", never as 0% or an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

NO_VALUE = "—"

# How the numbers are shown (``configure`` sets them from the settings; the API always returns the
# exact ratio and both counts).
_DISPLAY = {"rate_decimals": 2}
DEFAULT_INCIDENT_CATEGORIES = ("刑事", "治安")


def configure(*, rate_decimals: int | None = None, incident_categories=None) -> None:
    """Displayed decimals of rates (``CITYBRAIN_RATE_DECIMALS``) and what 万人发案率 counts
    (``CITYBRAIN_INCIDENT_CATEGORIES``: its definition names them)."""
    if rate_decimals is not None:
        _DISPLAY["rate_decimals"] = max(0, int(rate_decimals))
    if incident_categories is not None:
        names = "、".join(incident_categories) or "（无）"
        INDICATORS["cases_per_10k"] = replace(
            INDICATORS["cases_per_10k"],
            definition=f"万人发案率 = {names}案件数 ÷ 常住人口 × 10000（计入的类别可设置）")


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    definition: str
    numerator: str
    denominator: str | None = None
    scale: float = 1.0
    kind: str = "count"  # count | rate | per10k
    higher_is_better: bool = True

    def value(self, counts) -> float | None:
        """This indicator from a mapping of counts."""
        num = _number(counts.get(self.numerator))
        if self.denominator is None:
            return num if num is not None else 0
        den = _number(counts.get(self.denominator))
        if not den or num is None:
            return None
        return num / den * self.scale

    def format(self, value: float | None, decimals: int | None = None) -> str:
        """The display text; rates with ``CITYBRAIN_RATE_DECIMALS`` decimals (98.72%)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return NO_VALUE
        places = _DISPLAY["rate_decimals"] if decimals is None else decimals
        if self.kind == "rate":
            if value in (0, 1):  # exactly none or all: "100%", as the seeds print it
                return f"{value * 100:.0f}%"
            return f"{value * 100:.{places}f}%"
        if self.kind == "per10k":
            return f"{value:.{places}f}"
        return f"{int(round(value)):,}"

    def change(self, value, previous) -> float | None:
        """The change on a compared period: percentage points for a rate, per cent for a count or
        a per-10k figure; None ("—") when either side is unknown or a count had nothing before."""
        value, previous = _number(value), _number(previous)
        if value is None or previous is None:
            return None
        if self.kind == "rate":
            return (value - previous) * 100
        if not previous:
            return None
        return (value - previous) / previous * 100

    def format_change(self, change: float | None) -> str:
        if change is None:
            return NO_VALUE
        places = _DISPLAY["rate_decimals"]
        unit = "个百分点" if self.kind == "rate" else "%"
        return f"{change:+.{places}f}{unit}"


def _number(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


INDICATORS: dict[str, Indicator] = {
    i.key: i
    for i in (
        Indicator(
            "accepted", "受理", "时段内受理（上报）的事件数", "accepted", higher_is_better=False
        ),
        Indicator(
            "closure_rate", "办结率",
            "办结率 = 已核查办结事件数 ÷ 受理事件数（时段内受理的事件；办结不等于化解）",
            "closed", "accepted", kind="rate",
        ),
        Indicator(
            "resolution_rate", "化解率",
            "化解率 = 化解成功的矛盾纠纷数 ÷ 受理的矛盾纠纷数"
            "（时段内受理；调解不成功的虽已办结，不计为化解）",
            "disputes_resolved", "disputes", kind="rate",
        ),
        Indicator(
            "on_time_rate", "按时介入率",
            "按时介入率 = 在介入时限内（默认一小时）指派或处置的事件数 ÷ 受理事件数",
            "on_time", "accepted", kind="rate",
        ),
        Indicator(
            "overdue", "超期",
            "截至数据时点未办结且已超过办理时限的事件数（导入的数据按导出时点计算，不随时段变化）",
            "overdue", higher_is_better=False,
        ),
        Indicator(
            "satisfaction_rate", "满意率", "满意率 = 回访满意（含基本满意）数 ÷ 回访数（未回访的不计入分母）",
            "satisfied", "revisited", kind="rate",
        ),
        Indicator(
            "camera_online_rate", "视频在线率", "视频在线率 = 在线摄像机数 ÷ 摄像机总数（实时）",
            "cameras_online", "cameras", kind="rate",
        ),
        Indicator(
            "kept_local_rate", "矛盾不上交率",
            "矛盾不上交率 = 在网格、社区/村、街道/镇层级化解的事件数 ÷ 已化解事件数",
            "resolved_local", "resolved", kind="rate",
        ),
        Indicator(
            "cases_per_10k", "万人发案率",
            "万人发案率 = 刑事、治安案件数 ÷ 常住人口 × 10000（计入的类别可设置）",
            "incidents", "population", scale=10_000, kind="per10k", higher_is_better=False,
        ),
    )
}

KPI_CARDS = (
    "accepted", "closure_rate", "resolution_rate", "on_time_rate",
    "overdue", "satisfaction_rate", "camera_online_rate",
)
MAP_METRICS = tuple(INDICATORS)
DEFAULT_METRIC = "accepted"


def compute(counts) -> dict[str, float | None]:
    """Every indicator's value from one unit's counts."""
    return {key: ind.value(counts) for key, ind in INDICATORS.items()}
