"""The machine's own CJK font for the PDF, embedded as a TrueType subset of the pack's characters.

Debian's Noto Sans CJK (fonts-noto-cjk) is OpenType with CFF outlines in a collection (.ttc).
PDF writers embed such fonts as CID-keyed CFF with a code → CID map that several PDF readers
(pypdf among them) do not follow, so copied or searched text comes out broken. Converting the
few hundred glyphs a pack uses to TrueType outlines (fontTools: subset, then cubic → quadratic)
takes well under a second and gives a plain Identity-H font whose text layer is the real
characters: no Kangxi radicals (⼯ for 工), no spaces between characters.
"""

from __future__ import annotations

import functools
import io
import subprocess
from pathlib import Path

FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "WenQuanYi Micro Hei",
            "Droid Sans Fallback")


class NoCJKFont(RuntimeError):
    """No font on this machine can write Chinese (apt-get install fonts-noto-cjk)."""


@functools.lru_cache(maxsize=4)
def find(bold: bool = False) -> tuple[str, int]:
    """(file, index in a collection) of a CJK font, asked of fontconfig (``fc-match``)."""
    style = ":bold" if bold else ""
    for pattern in [f"{family}{style}" for family in FAMILIES] + [f":lang=zh-cn{style}"]:
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}|%{index}|%{lang}", pattern],
                                 capture_output=True, text=True, timeout=10, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            break
        path, _, rest = out.partition("|")
        index, _, langs = rest.partition("|")
        if path and Path(path).exists() and "zh-cn" in langs.split("|"):
            return path, int(index or 0)
    for path in sorted(Path("/usr/share/fonts").rglob("NotoSansCJK-*.ttc")):
        if ("Bold" in path.name) == bold:
            return str(path), 2  # the SC face in Debian's collection
    raise NoCJKFont("未找到中文字体 no CJK font on this machine (apt-get install fonts-noto-cjk)")


def truetype_subset(path: str, index: int, text: str) -> bytes:
    """The glyphs for ``text`` (plus ASCII) from the font, as a TrueType-outlined font file."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable
    from fontTools.ttLib.tables._g_l_y_f import table__g_l_y_f

    font = TTFont(path, fontNumber=index, lazy=True)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text))) + "".join(chr(c) for c in range(32, 127)))
    subsetter.subset(font)
    if "CFF " in font:
        order = font.getGlyphOrder()
        glyphs = font.getGlyphSet()
        glyf = table__g_l_y_f()
        glyf.glyphOrder = order
        glyf.glyphs = {}
        for name in order:
            pen = TTGlyphPen(glyphs)
            glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyf.glyphs[name] = pen.glyph()
        font["glyf"] = glyf
        font["loca"] = newTable("loca")
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                     "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                     "maxComponentElements"):
            setattr(maxp, attr, 0)
        maxp.maxZones = 1
        del font["CFF "]
        if "VORG" in font:
            del font["VORG"]
        font.sfntVersion = "\x00\x01\x00\x00"
        post = font["post"]
        post.formatType = 2.0
        post.extraNames = []
        post.mapping = {}
        post.glyphOrder = order
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()
