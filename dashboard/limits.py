"""Every bound on what a request, a link or a file may ask for, in one place.

The API (``callbacks/api.py``), the screens' callbacks (through ``dashboard.viewstate``) and the
importer (``data.ingest``) check their inputs with the helpers here, so a value refused by one is
refused by all, with the same message naming the parameter. The numbers come from the settings
(``dashboard.settings``, README "Limits"); ``configure`` installs them when the app is built.
Field lengths of stored records come from the schema (``data/schema.py``), not from here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from datetime import date

# The length of a unit code in the schema (``units.code``); tests/test_bad_input.py checks they agree.
UNIT_CODE_CHARS = 32
_DECIMAL = re.compile(r"[0-9]{1,12}(\.[0-9]{1,12})?")


class BadRequest(ValueError):
    """Input a person typed or linked that cannot be understood; the message says which part."""


class TooBusy(RuntimeError):
    """A client already has as many expensive requests running as it may (answered with 429)."""


@dataclass(frozen=True)
class Limits:
    """The bounds in force. Defaults equal the settings' defaults."""

    min_tour_seconds: int = 5
    max_tour_seconds: int = 3600
    min_year: int = 2000
    max_year: int = 2100
    max_param_chars: int = 200  # any one query parameter
    max_values: int = 20  # comma-separated values in one parameter
    min_cell_m: int = 10
    max_cell_m: int = 10_000
    max_heat_cells: int = 20_000
    max_body_bytes: int = 5_000_000
    max_batch: int = 1000
    max_description_chars: int = 2000
    max_json_depth: int = 20
    max_integer: int = 2**31 - 1  # the schema's INTEGER columns
    expensive_per_client: int = 2

    @classmethod
    def from_settings(cls, settings) -> Limits:
        names = {f.name for f in fields(cls)}
        return cls(**{f.name: getattr(settings, f.name) for f in fields(settings) if f.name in names})


_current = Limits()


def configure(settings) -> Limits:
    """Install the bounds of ``settings`` (``create_app`` does this); the installed ``Limits``."""
    global _current
    _current = Limits.from_settings(settings)
    return _current


def current() -> Limits:
    return _current


# --- checks shared by the API, the callbacks and the importer ------------------------------------


def param_text(value, name: str) -> str:
    """A query parameter's text, refused when too long or holding control characters."""
    text = "" if value is None else str(value)
    if len(text) > _current.max_param_chars:
        raise BadRequest(f"参数 {name} 过长 parameter {name} is too long "
                         f"({len(text)} > {_current.max_param_chars} characters)")
    if any(ord(c) < 32 for c in text):
        raise BadRequest(f"参数 {name} 含控制字符 parameter {name} holds control characters")
    return text


def ascii_int(text, name: str, *, minimum: int, maximum: int, what: str = "整数") -> int:
    """A whole number written with ASCII digits only (``'²'.isdigit()`` is True in Python, and
    ``int('٣')`` is 3: both are refused), between ``minimum`` and ``maximum``."""
    raw = param_text(text, name).strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise BadRequest(f"参数 {name}={text!r} 应为 {minimum}–{maximum} 的{what} "
                         f"(ASCII digits 0-9 only)")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise BadRequest(f"参数 {name}={text!r} 应为 {minimum}–{maximum} 的{what}")
    return value


def ascii_number(text, name: str, *, minimum: float, maximum: float, what: str = "数值") -> float:
    """A plain decimal (``12`` or ``12.5``; no exponent, sign, NaN or non-ASCII digit) in range."""
    raw = param_text(text, name).strip()
    if not _DECIMAL.fullmatch(raw):
        raise BadRequest(f"参数 {name}={text!r} 应为 {minimum:g}–{maximum:g} 的{what} "
                         f"(a plain decimal such as 250)")
    value = float(raw)
    if not (math.isfinite(value) and minimum <= value <= maximum):
        raise BadRequest(f"参数 {name}={text!r} 应为 {minimum:g}–{maximum:g} 的{what}")
    return value


def choice(value, name: str, label: str, options):
    """``value`` when it is one of ``options`` (a dict: its keys); else refused with the one message
    every "must be one of" check gives: 未知<label> <name>=<value>，可选：<options>."""
    if value not in options:
        raise BadRequest(f"未知{label} {name}={value!r}，可选：{', '.join(options)}")
    return value


def tour_seconds(text) -> int:
    """``?tour=N``: 0 (off) or N seconds between the configured bounds."""
    raw = "0" if text in (None, "") else text
    lo, hi = _current.min_tour_seconds, _current.max_tour_seconds
    try:
        value = ascii_int(raw, "tour", minimum=0, maximum=hi, what="秒数")
    except BadRequest:
        value = -1
    if value == -1 or 0 < value < lo:
        raise BadRequest(f"轮播间隔 tour={text!r} 应为 {lo}–{hi} 的秒数 (0 = off)")
    return value


def check_year(day: date, name: str) -> date:
    """A date inside the configured years (a year-0001 or 9999 date is a typo, not data)."""
    lo, hi = _current.min_year, _current.max_year
    if not lo <= day.year <= hi:
        raise BadRequest(f"参数 {name}={day.isoformat()} 超出允许的年份 {lo}–{hi} "
                         f"(year outside {lo}–{hi})")
    return day


def values(text, name: str) -> tuple[str, ...]:
    """A comma-separated parameter as a tuple, empty parts dropped; bounded in length and count."""
    raw = param_text(text, name)
    out = tuple(v for v in raw.split(",") if v)
    if len(out) > _current.max_values:
        raise BadRequest(f"参数 {name} 取值过多 too many values for {name} "
                         f"({len(out)} > {_current.max_values})")
    return out


def unit_code(code, name: str = "unit") -> str:
    """A unit code as a URL gives it: refused when longer than the schema's codes."""
    text = param_text(code, name)
    if len(text) > UNIT_CODE_CHARS:
        raise BadRequest(f"单元编码 {name} 过长 unit code too long ({len(text)} > {UNIT_CODE_CHARS})")
    return text


def json_depth(obj, name: str = "body") -> None:
    """Refuse JSON nested deeper than ``max_json_depth`` (objects and arrays)."""
    limit = _current.max_json_depth
    stack = [(obj, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                raise BadRequest(f"{name} 嵌套过深 JSON nested deeper than {limit} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
