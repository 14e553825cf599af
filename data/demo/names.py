"""Real-looking Chinese place names for the demo city (fictional: any likeness is chance)."""

from __future__ import annotations

import numpy as np

CITY_NAME = "临江市"
CITY_CODE = "990100"  # Province prefix 99 is unused by the national division codes.

_DISTRICT_NAMES = (
    "江岸区", "城南区", "临湖区", "东湖区", "西城区", "北山区", "滨江区", "望城区", "青山区",
    "龙泉区", "白沙区", "金台区", "汉阳区", "长丰县", "新洲区", "梅林区", "蔡甸区", "沙河县",
)
_FIRST = tuple(
    "金银青白紫红东西南北新永长兴福龙凤花桂柳松梅杨秀清安宁和丰盛华德仁文明光春"
    "云石玉湖江河山川平泰康乐顺昌明瑞祥嘉宝翠碧鹤鹿"
)
_SECOND = tuple("山湖桥园港塘湾岭亭门坊庄河洲林口台坪岗田溪苑坝埠冈堤阁")
_NUMERALS = "零一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 25 → 二十五 (up to 99)."""
    if n < 11:
        return _NUMERALS[n] if n < 10 else "十"
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else _NUMERALS[tens]) + "十"
    return head + (_NUMERALS[ones] if ones else "")


class NamePool:
    """Two-character names drawn without repeats from a seeded generator."""

    def __init__(self, rng: np.random.Generator):
        pairs = [a + b for a in _FIRST for b in _SECOND if a != b]
        self._names = [pairs[i] for i in rng.permutation(len(pairs))]
        self._next = 0

    def take(self) -> str:
        if self._next >= len(self._names):
            # Past ~2,000 names: add a numeral, still unique.
            base = self._names[self._next % len(self._names)]
            name = base + chinese_number(self._next // len(self._names) + 1)
        else:
            name = self._names[self._next]
        self._next += 1
        return name


def district_name(i: int) -> str:
    if i < len(_DISTRICT_NAMES):
        return _DISTRICT_NAMES[i]
    return f"第{chinese_number(i + 1)}区"


def grid_name(community: str, i: int) -> str:
    return f"{community}第{chinese_number(i + 1)}网格"
