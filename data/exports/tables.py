"""Tables as CSV and XLSX: one table model, two writers.

CSV is UTF-8 with a byte-order mark, so Excel opens Chinese correctly; the header is the first
line and every following line is one row. XLSX (openpyxl) has a title row (unit, period, data
time), the header, rates as numbers with a % format, counts as whole numbers, column widths that
fit Chinese text, and a frozen header. A table cut at its row cap says so in the file.

Cells that a spreadsheet would read as a formula (text beginning with ``= + - @``, or a tab or
carriage return) are neutralised with a leading apostrophe: case text comes from the public.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"csv": CSV_MIME, "xlsx": XLSX_MIME}
ROW_CAP = 100_000

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "text"  # text | int | rate | number | datetime


@dataclass
class Table:
    title: str  # e.g. 临江市 · 街道/镇指标
    meta: str  # 单元 · 时段 · 数据截至
    columns: list[Column]
    rows: list[dict]
    capped_at: int | None = None  # the table was cut at this many rows
    sheet: str = "数据"
    notes: list[str] = field(default_factory=list)

    @property
    def cap_note(self) -> str | None:
        if self.capped_at is None:
            return None
        n = f"{self.capped_at:,}"
        return f"注：结果超过 {n} 行，仅导出前 {n} 行 (capped at {n} rows)"


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _csv_cell(value, kind: str):
    if _missing(value):
        return ""
    if kind == "rate":
        return f"{float(value) * 100:.2f}%"
    if kind == "int":
        return str(int(round(float(value))))
    if kind == "number":
        return f"{float(value):.2f}".rstrip("0").rstrip(".")
    if kind == "datetime" and isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d %H:%M" if isinstance(value, datetime) else "%Y-%m-%d")
    return neutralise(str(value))


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(c.header) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(row.get(c.key), c.kind) for c in table.columns])
    if table.cap_note:
        writer.writerow([table.cap_note])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_NUMBER_FORMATS = {"rate": "0.00%", "int": "#,##0", "number": "#,##0.00", "datetime": "yyyy-mm-dd hh:mm"}


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = table.sheet[:31]
    ws.append([neutralise(table.title)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([neutralise(table.meta)])
    ws["A2"].font = Font(color="5B6B7F")
    header_row = 3
    ws.append([neutralise(c.header) for c in table.columns])
    for cell in ws[header_row]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F5FA8")
        cell.alignment = Alignment(horizontal="center", vertical="center")
    widths = [_text_width(c.header) for c in table.columns]
    for row in table.rows:
        values = []
        for i, c in enumerate(table.columns):
            value = row.get(c.key)
            if _missing(value):
                value = None
            elif c.kind in ("rate", "number"):
                value = float(value)
            elif c.kind == "int":
                value = int(round(float(value)))
            elif c.kind == "datetime":
                value = value if isinstance(value, datetime | date) else neutralise(str(value))
            else:
                value = neutralise(str(value))
            values.append(value)
            shown = f"{value:,.2f}" if isinstance(value, float) else str(value if value is not None else "")
            widths[i] = max(widths[i], min(_text_width(shown), 60))
        ws.append(values)
    for i, c in enumerate(table.columns, start=1):
        fmt = _NUMBER_FORMATS.get(c.kind)
        if fmt:
            for (cell,) in ws.iter_rows(min_row=header_row + 1, min_col=i, max_col=i):
                cell.number_format = fmt
        ws.column_dimensions[get_column_letter(i)].width = max(widths[i - 1], 6) + 2
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    for note in ([table.cap_note] if table.cap_note else []) + table.notes:
        ws.append([note])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _text_width(text: str) -> int:
    """Spreadsheet width units: a CJK character is about two Latin ones."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(text))


def write(table: Table, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(table)
    if fmt == "xlsx":
        return to_xlsx(table)
    raise ValueError(f"unknown table format {fmt!r}")
