"""The change of an indicator against a comparison period (环比/同比), computed in one place.

The KPI cards show it with an arrow (``环比 ▲0.4个百分点``); the briefing pack says it in words
(``环比上升 0.4 个百分点``). Both come from :func:`change`, so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.indicators import INDICATORS

# Snapshots ("now") have no previous period to compare with.
SNAPSHOTS = frozenset({"overdue", "camera_online_rate"})
FLAT_BELOW = 0.05  # a change under this (points or per cent) reads as 持平


@dataclass(frozen=True)
class Change:
    """``amount`` in percentage points for a rate, in per cent for a count; signed."""

    kind: str  # "snapshot" | "none" | "flat" | "up" | "down"
    amount: float = 0.0
    points: bool = False  # percentage points (rates) rather than per cent (counts)
    good: bool | None = None  # the change is good news (None: no change to judge)

    @property
    def text(self) -> str:
        """The amount as the screen prints it: ``0.4`` points, ``20.0%``."""
        return f"{abs(self.amount):.1f}" + ("" if self.points else "%")


def change(key: str, value, previous) -> Change:
    ind = INDICATORS[key]
    if key in SNAPSHOTS:
        return Change("snapshot")
    amount = ind.change(value, previous)  # the one formula: points for rates, per cent else
    if amount is None:
        return Change("none")
    points = ind.kind == "rate"
    if abs(amount) < FLAT_BELOW:
        return Change("flat", amount, points)
    return Change("up" if amount > 0 else "down", amount, points, (amount > 0) == ind.higher_is_better)


def in_words(key: str, value, previous, label: str) -> str:
    """``办结率 98.7%，环比上升 0.4 个百分点`` — the value as the screen shows it, the change in words."""
    ind = INDICATORS[key]
    head = f"{ind.label} {ind.format(value)}"
    c = change(key, value, previous)
    if c.kind == "snapshot":
        return f"{head}（实时）"
    if c.kind == "none":
        return f"{head}，{label}无可比数据"
    if c.kind == "flat":
        return f"{head}，{label}持平"
    verb = "上升" if c.kind == "up" else "下降"
    unit = " 个百分点" if c.points else ""
    return f"{head}，{label}{verb} {c.text}{unit}"
