"""Sudden rises (突增): a unit whose last 24 hours are far above its own usual for those hours.

A unit's count ``k`` in the window is compared with its counts in the same hours of each of the
previous ``W`` weeks (same weekday, same hours, so the weekly rhythm is in the baseline), ``S`` in
all. If both are Poisson with the same rate, then given ``k + S`` cases, ``k`` is binomial with
``p = 1 / (W + 1)``: the probability of at least ``k`` is the exact test of the two Poisson rates,
and it counts the baseline's own noise (four weeks of a quiet community are few cases; a plain
Poisson tail against their mean raised false alarms on ordinary weeks). It is an alarm when that
probability is below a threshold and the count reaches a minimum. A burst in one grid also lifts
its community, street and district; those are left out when the grid's own excess explains most of
theirs, and a category's alarm stands in for the unit's all-categories one the same way: one
burst, one alarm.
"""

from __future__ import annotations

import math

import pandas as pd

ALL = ""  # the all-categories row of a unit
_CN_NUMBERS = dict(enumerate("零一二三四五六七八九十", start=0))


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed in log space (no underflow)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    log_p, log_q, log_n = math.log(p), math.log1p(-p), math.lgamma(n + 1)
    terms, top = [], -math.inf
    for i in range(k, n + 1):
        term = log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        terms.append(term)
        if term > top:
            top = term
        elif term < top - 60:  # past the mode and falling: the rest is below double precision
            break
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


def rise_probability(count: int, baseline_total: int, weeks: int) -> float:
    """How likely at least ``count`` cases in the window are, were the window no busier than the
    ``weeks`` before it that had ``baseline_total`` in all (the exact test of two Poisson rates)."""
    return binomial_tail(count, count + baseline_total, 1 / (weeks + 1))


def find(counts: pd.DataFrame, *, weeks: int, p: float, min_count: int, categories=()) -> pd.DataFrame:
    """Candidate rises from ``queries.window_counts`` rows: ``code``, ``category`` (``ALL`` for all
    of them), ``count``, ``baseline`` (mean per week), ``p``; most unusual first."""
    if categories:
        counts = counts[counts["category"].isin(categories)]
    if counts.empty:
        return pd.DataFrame(columns=["code", "category", "count", "baseline", "p"])
    total = counts.groupby(["code", "window"], as_index=False)["n"].sum().assign(category=ALL)
    if not categories:
        counts = pd.concat([counts, total], ignore_index=True)
    wide = counts.pivot_table(index=["code", "category"], columns="window", values="n", aggfunc="sum",
                              fill_value=0)
    wide = wide.reindex(columns=range(weeks + 1), fill_value=0)
    now = wide[0]
    baseline = wide[list(range(1, weeks + 1))].sum(axis=1) / weeks
    frame = pd.DataFrame({"count": now, "baseline": baseline}).reset_index()
    frame = frame[frame["count"] >= min_count]
    frame["p"] = [rise_probability(int(k), int(round(m * weeks)), weeks)
                  for k, m in zip(frame["count"], frame["baseline"], strict=True)]
    return frame[frame["p"] < p].sort_values(["p", "code", "category"]).reset_index(drop=True)


def explained(candidates: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """The candidates left once every rise that a deeper unit's (or a category's) rise explains
    is dropped: kept are the deepest, most specific ones."""
    if candidates.empty:
        return candidates
    depth = links.groupby("descendant_code")["depth"].max()  # how far below the root
    below = set(zip(links["ancestor_code"], links["descendant_code"], strict=True))
    order = candidates.assign(depth=candidates["code"].map(depth).fillna(0),
                              specific=candidates["category"] != ALL)
    order = order.sort_values(["depth", "specific", "p", "code", "category"],
                              ascending=[False, False, True, True, True], kind="mergesort")
    kept = []
    for row in order.itertuples():
        excess = row.count - row.baseline
        covered = any(
            (row.code, k.code) in below and (k.category == row.category or row.category == ALL)
            and k.count - k.baseline >= 0.5 * excess
            for k in kept
        )
        if not covered:
            kept.append(row)
    columns = ["code", "category", "count", "baseline", "p"]
    return pd.DataFrame([{c: getattr(k, c) for c in columns} for k in kept], columns=columns)


def reason(name: str, category: str, count: int, baseline: float, weeks: int, hours: int = 24) -> str:
    """The alarm in plain words: "鹿坪村第二网格 24小时内矛盾纠纷 14 起，为近四周同期均值的 5 倍"."""
    what = category or "事件"
    span = f"近{_CN_NUMBERS.get(weeks, str(weeks))}周同期"
    if baseline <= 0:
        return f"{name} {hours}小时内{what} {count} 起，{span}均无"
    ratio = count / baseline
    times = f"{ratio:.0f}" if ratio >= 10 or abs(ratio - round(ratio)) < 0.05 else f"{ratio:.1f}"
    return f"{name} {hours}小时内{what} {count} 起，为{span}均值的 {times} 倍"
