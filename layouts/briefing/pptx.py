"""The briefing pack as a 16:9 PowerPoint file (python-pptx), in a plain government-report style.

Text stays editable: titles, lines and KPI tiles are text boxes, rankings are real tables; only
charts are pictures. python-pptx sets the Latin font only, so every run also gets the East Asian
(``a:ea``) font, or PowerPoint and WPS would draw Chinese in a fallback face.
"""

from __future__ import annotations

import io

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from layouts.briefing.content import Pack, Slide, TableBlock, numeric, side_size

FONT = "Microsoft YaHei"  # 微软雅黑 on the desks that open the pack; Noto/WenQuanYi elsewhere
RED = RGBColor(0xB7, 0x1C, 0x1C)  # the report style's red rule and headings
INK = RGBColor(0x1F, 0x2D, 0x3D)
SUBTLE = RGBColor(0x5B, 0x6B, 0x7F)
HEAD_FILL = RGBColor(0x1F, 0x5F, 0xA8)
ROW_FILL = RGBColor(0xF3, 0xF6, 0xFA)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
GOOD = RGBColor(0x1A, 0x9E, 0x6A)

W, H = Emu(12192000), Emu(6858000)  # 13.333 × 7.5 in, PowerPoint's 16:9
MARGIN = Inches(0.5)
RULE_HEIGHT = Emu(38100)  # 3 pt


def write(pack: Pack) -> bytes:
    prs = Presentation()
    prs.slide_width, prs.slide_height = W, H
    blank = prs.slide_layouts[6]
    for number, spec in enumerate(pack.slides, start=1):
        slide = prs.slides.add_slide(blank)
        if spec.kind == "cover":
            _cover(slide, pack, spec)
        else:
            _page(slide, pack, spec, number)
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()


def _font(run, size: float, *, bold: bool = False, color: RGBColor = INK) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = FONT
    run.font.color.rgb = color
    rpr = run._r.get_or_add_rPr()
    for tag in ("a:ea", "a:cs"):
        el = rpr.find(qn(tag))
        if el is None:
            el = rpr.makeelement(qn(tag), {})
            rpr.append(el)
        el.set("typeface", FONT)


def _text(slide, left, top, width, height, lines, size: float, *, bold=False, color=INK,
          align=PP_ALIGN.LEFT, anchor=MSO_ANCHOR.TOP, spacing: float = 1.15):
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    for i, line in enumerate([lines] if isinstance(lines, str) else lines):
        para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        para.alignment = align
        para.line_spacing = spacing
        if i:
            para.space_before = Pt(size * 0.45)
        _font(_run(para, line), size, bold=bold, color=color)
    return box


def _run(para, text: str):
    run = para.add_run()
    run.text = text
    return run


def _rule(slide, top, color=RED):
    bar = slide.shapes.add_shape(1, MARGIN, top, W - 2 * MARGIN, RULE_HEIGHT)
    bar.fill.solid()
    bar.fill.fore_color.rgb = color
    bar.line.fill.background()


def _cover(slide, pack: Pack, spec: Slide) -> None:
    _text(slide, MARGIN, Inches(2.0), W - 2 * MARGIN, Inches(1.3), pack.title, 40, bold=True,
          color=RED, align=PP_ALIGN.CENTER, anchor=MSO_ANCHOR.BOTTOM)
    _rule(slide, Inches(3.55))
    _text(slide, MARGIN, Inches(3.8), W - 2 * MARGIN, Inches(1.6), spec.lines, 20, color=INK,
          align=PP_ALIGN.CENTER)
    _text(slide, MARGIN, Inches(6.4), W - 2 * MARGIN, Inches(0.5), pack.source, 12, color=SUBTLE,
          align=PP_ALIGN.CENTER)


def _page(slide, pack: Pack, spec: Slide, number: int) -> None:
    _text(slide, MARGIN, Inches(0.3), W - 2 * MARGIN, Inches(0.7), spec.title, 26, bold=True,
          color=RED, anchor=MSO_ANCHOR.BOTTOM)
    _rule(slide, Inches(1.05))
    _text(slide, MARGIN, H - Inches(0.45), W - 2 * MARGIN, Inches(0.3), pack.footer(number), 10,
          color=SUBTLE, align=PP_ALIGN.RIGHT)
    top, bottom = Inches(1.25), H - Inches(0.55)
    if spec.big:
        _tiles(slide, spec.big, top)
        top += Inches(2.1)
    if spec.image is not None:
        img_w = Inches(8.2)
        pic = slide.shapes.add_picture(io.BytesIO(spec.image), MARGIN, top, width=img_w)
        if pic.height > bottom - top:  # keep the picture's shape; fit it to the room left
            scale = (bottom - top) / pic.height
            pic.height, pic.width = int(pic.height * scale), int(pic.width * scale)
        side_left = MARGIN + img_w + Inches(0.25)
        side_w = W - MARGIN - side_left
        y = top
        if spec.lines:
            _text(slide, side_left, y, side_w, Inches(2.4), spec.lines, side_size(spec.lines))
            y += Inches(min(0.42 * len(spec.lines) + 0.5, 3.2))
        for table in spec.tables:
            y = _table(slide, table, side_left, y, side_w, bottom, size=10)
        return
    if spec.lines:
        height = Inches(min(0.45 * len(spec.lines) + 0.3, 5.6 if not spec.tables else 1.6))
        _text(slide, MARGIN, top, W - 2 * MARGIN, height, spec.lines, 15 if spec.kind != "notes" else 12)
        top += height + Inches(0.1)
    if spec.tables:
        gap = Inches(0.3)
        n = len(spec.tables)
        width = int((W - 2 * MARGIN - gap * (n - 1)) / n)
        for i, table in enumerate(spec.tables):
            _table(slide, table, MARGIN + i * (width + gap), top, width, bottom, size=11 if n > 1 else 12)


def _tiles(slide, tiles, top) -> None:
    n = len(tiles)
    gap = Inches(0.15)
    width = int((W - 2 * MARGIN - gap * (n - 1)) / n)
    for i, (label, value, change) in enumerate(tiles):
        left = MARGIN + i * (width + gap)
        card = slide.shapes.add_shape(1, left, top, width, Inches(1.9))
        card.fill.solid()
        card.fill.fore_color.rgb = ROW_FILL
        card.line.color.rgb = RGBColor(0xD5, 0xDD, 0xE8)
        _text(slide, left, top + Inches(0.1), width, Inches(0.4), label, 14, color=SUBTLE,
              align=PP_ALIGN.CENTER)
        _text(slide, left, top + Inches(0.5), width, Inches(0.7), value, 28, bold=True, color=INK,
              align=PP_ALIGN.CENTER)
        _text(slide, left, top + Inches(1.25), width, Inches(0.5), change, 10, color=SUBTLE,
              align=PP_ALIGN.CENTER)


def _table(slide, block: TableBlock, left, top, width, bottom, *, size: float = 11):
    _text(slide, left, top, width, Inches(0.35), block.caption, size + 2, bold=True, color=INK)
    top += Inches(0.4)
    rows = block.rows
    row_h = Inches(0.026 * size + 0.05)
    room = int((bottom - top) / row_h) - 1
    rows = rows[:max(room, 1)]
    shape = slide.shapes.add_table(len(rows) + 1, len(block.header), left, top, width,
                                   row_h * (len(rows) + 1))
    table = shape.table
    weights = block.widths or [1] * len(block.header)
    total = sum(weights)
    for i, weight in enumerate(weights):
        table.columns[i].width = int(width * weight / total)
    for r in range(len(rows) + 1):
        table.rows[r].height = row_h
        for c in range(len(block.header)):
            cell = table.cell(r, c)
            cell.margin_top = cell.margin_bottom = Emu(18000)
            cell.margin_left = cell.margin_right = Emu(50000)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            text = block.header[c] if r == 0 else rows[r - 1][c]
            frame = cell.text_frame
            frame.word_wrap = True
            para = frame.paragraphs[0]
            para.alignment = PP_ALIGN.RIGHT if r and numeric(text) else PP_ALIGN.LEFT
            _font(_run(para, text), size, bold=r == 0, color=WHITE if r == 0 else INK)
            cell.fill.solid()
            cell.fill.fore_color.rgb = HEAD_FILL if r == 0 else (ROW_FILL if r % 2 == 0 else WHITE)
    return top + row_h * (len(rows) + 1) + Inches(0.25)
