"""What a briefing pack holds: slides of text, tables and chart images, all already formatted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NUMERIC = re.compile(r"^[-+]?[\d,]+(\.\d+)?%?$|^—$")


def numeric(text: str) -> bool:
    """A cell that holds a number (``1,234``, ``98.7%``, ``—``): tables align it right."""
    return bool(_NUMERIC.match(text.strip()))


def side_size(lines: list[str]) -> float:
    """Point size of the text beside a chart: smaller when there is more of it."""
    chars = sum(len(line) for line in lines)
    return 14 if chars < 160 else 12 if chars < 260 else 11


@dataclass
class TableBlock:
    caption: str
    header: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None  # relative column widths


@dataclass
class Slide:
    title: str
    lines: list[str] = field(default_factory=list)  # bullet lines, real text
    image: bytes | None = None  # a PNG chart (print theme), 16:9-ish
    tables: list[TableBlock] = field(default_factory=list)
    kind: str = "body"  # "cover" | "kpis" | "body" | "notes"
    big: list[tuple[str, str, str]] = field(default_factory=list)  # KPI tiles: label, value, change


@dataclass
class Pack:
    unit_name: str
    title: str
    period_text: str
    data_time: str
    source: str
    slides: list[Slide]

    def texts(self) -> str:
        """Every character the pack writes (the PDF embeds a font subset of exactly these)."""
        parts = [self.unit_name, self.title, self.period_text, self.data_time, self.source]
        for s in self.slides:
            parts += [s.title, *s.lines]
            for t in s.tables:
                parts += [t.caption, *t.header, *(c for r in t.rows for c in r)]
            for tile in s.big:
                parts += list(tile)
        return "".join(parts)

    def footer(self, number: int) -> str:
        return f"{self.unit_name} · {self.period_text} · 数据截至 {self.data_time}    {number}"
