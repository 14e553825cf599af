"""Colour scales with meaning: one scale per indicator, shared by the map, its legend, the rank
badges and the bar lengths, so the same value has the same colour and length everywhere.

Rates sit on a fixed diverging scale anchored on the indicator's target (a setting): below the
target is red, at or above it calm blue, whatever the spread of the units on screen. Counts sit on
a sequential scale from zero. See docs/ARCHITECTURE.md, "Colours".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from plotly.colors import sample_colorscale

from dashboard import strings, theme
from dashboard.indicators import INDICATORS

# A rate this far below its target is at the scale's reddest end.
RATE_BAND = 0.10
DEFAULT_TARGETS = {"closure_rate": 0.98, "resolution_rate": 0.95, "on_time_rate": 0.95,
                   "satisfaction_rate": 0.95, "camera_online_rate": 0.95, "kept_local_rate": 0.90}


@dataclass(frozen=True)
class ValueScale:
    """Where a metric's values sit on its colour scale and its bars."""

    metric: str
    zmin: float
    zmax: float
    colorscale: tuple
    target: float | None = None

    def position(self, value) -> float | None:
        """0–1 along the scale (clamped), or None for no value."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        return min(1.0, max(0.0, (value - self.zmin) / ((self.zmax - self.zmin) or 1)))

    def colour(self, value) -> str | None:
        at = self.position(value)
        return None if at is None else sample_colorscale([list(s) for s in self.colorscale], [at])[0]

    def colorbar(self) -> dict:
        """Colour-bar title (the indicator and its unit) and ticks; a rate marks its target."""
        ind = INDICATORS[self.metric]
        title = strings.LEGEND_TITLE.format(label=ind.label, unit=strings.UNITS[ind.kind])
        if self.target is None:
            ticks = {"tickformat": ",d"} if ind.kind == "count" else {"tickformat": ",.1f"}
            if ind.kind == "count" and self.zmax - self.zmin < 6:
                ticks["dtick"] = 1  # no 0.5 of a case
            return {"title": {"text": title}, **ticks}
        vals = [self.zmin, self.target, self.zmax]
        text = [f"≤{self.zmin * 100:.0f}", strings.TARGET_TICK.format(value=f"{self.target * 100:g}"),
                f"{self.zmax * 100:.0f}"]
        return {"title": {"text": title}, "tickmode": "array", "tickvals": vals, "ticktext": text}


def parse_targets(text: str) -> dict[str, float]:
    """``"closure_rate=0.98,satisfaction_rate=95%"`` → targets per rate (defaults for the rest)."""
    targets = dict(DEFAULT_TARGETS)
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        key, _, raw = part.partition("=")
        key, raw = key.strip(), raw.strip()
        if key not in INDICATORS or INDICATORS[key].kind != "rate":
            raise ValueError(f"CITYBRAIN_TARGETS: {key!r} is not a rate indicator")
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
        if not 0 < value <= 1:
            raise ValueError(f"CITYBRAIN_TARGETS: {key}={raw} is not a rate between 0 and 1")
        targets[key] = value
    return targets


def value_scale(metric: str, values, targets: dict[str, float] | None = None) -> ValueScale:
    """The scale of ``metric`` for these values: rates fixed on their target, counts from zero."""
    ind = INDICATORS[metric]
    if ind.kind == "rate":
        target = (targets or DEFAULT_TARGETS).get(metric, DEFAULT_TARGETS.get(metric, 0.9))
        zmin, zmax = max(0.0, target - RATE_BAND), 1.0
        at = (target - zmin) / (zmax - zmin)
        if at >= 1:  # a target of 100%: everything below it is short of it
            return ValueScale(metric, zmin, zmax, _ramp(theme.BELOW_TARGET, 0, 1), target)
        below = _ramp(theme.BELOW_TARGET, 0, at - 1e-3)
        above = _ramp(theme.ABOVE_TARGET, at, 1)
        return ValueScale(metric, zmin, zmax, below + above, target)
    finite = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    top = max(finite, default=0)
    return ValueScale(metric, 0.0, float(top) if top > 0 else 1.0, _ramp(theme.SEQUENTIAL, 0, 1))


def _ramp(colours: list[str], start: float, end: float) -> tuple:
    step = (end - start) / (len(colours) - 1)
    return tuple((round(start + i * step, 6), c) for i, c in enumerate(colours))


def text_colour(background: str | None) -> str:
    """Dark or light text, whichever reads on ``background`` (``rgb(…)`` or ``#rrggbb``)."""
    if not background:
        return theme.TEXT
    if background.startswith("#"):
        r, g, b = (int(background[i:i + 2], 16) for i in (1, 3, 5))
    else:
        r, g, b = (float(x) for x in background[background.index("(") + 1:-1].split(",")[:3])
    return "#001425" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else theme.TEXT
