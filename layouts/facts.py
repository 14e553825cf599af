"""The wall screen's 基础数据 panel: 人房楼, grid workers, survey results as a series, police cases
with 同比 and the sensitive topics as counts (never a household)."""

from __future__ import annotations

from dash import html

from dashboard import strings, vocab
from dashboard.indicators import NO_VALUE


def facts(profile: dict, surveys: dict, police: dict, sensitive: dict) -> html.Div:
    """Small labelled figures; each one's definition on hover."""
    totals = profile.get("totals", {})
    items = [(strings.FACT_LABELS[f], _count(totals.get(f)), strings.FACT_HELP[f])
             for f in ("population", "households", "houses", "buildings")]
    below = profile.get("units_below", {})
    if below.get("村") or below.get("社区"):
        items.append((strings.VILLAGES, f"{below.get('村', 0):,} / {below.get('社区', 0):,}",
                      strings.VILLAGES_HELP))
    workers = profile.get("grid_workers", {})
    items.append((strings.GRID_WORKERS,
                  f"{workers.get(vocab.FULL_TIME, 0):,} / {workers.get(vocab.PART_TIME, 0):,}",
                  strings.GRID_WORKERS_HELP))
    per = profile.get("cases_per_grid_worker")
    items.append((strings.CASES_PER_WORKER, NO_VALUE if per is None else f"{per:,.1f}",
                  strings.CASES_PER_WORKER_HELP))
    for indicator, series in surveys.items():
        points = series["points"]
        trail = " → ".join(f"{p['value'] * 100:.2f}%" for p in points)
        items.append((indicator, f"{points[-1]['value'] * 100:.2f}%" if points else NO_VALUE,
                      f"{trail}（{points[0]['from'][:4]}–{points[-1]['to'][:4]}）" if points else ""))
    for kind in police.get("kinds", []):
        items.append((strings.POLICE_LABEL.format(kind=kind["kind"]),
                      f"{kind['count']:,} · {strings.YOY} {kind['yoy_display']}",
                      "、".join(f"{c['cause'] or '—'} {c['count']:,}" for c in kind["causes"][:6])))
    risk = sensitive.get(vocab.HOUSEHOLD_RISK, {})
    if risk:
        items.append((strings.HIGH_RISK_HOUSEHOLDS, _count(risk.get("高风险户", 0)),
                      "、".join(f"{g} {n:,}" for g, n in risk.items())))
    people = sensitive.get(vocab.SPECIAL_POPULATION, {})
    if people:
        items.append((strings.SPECIAL_POPULATIONS, _count(sum(people.values())),
                      "、".join(f"{g} {n:,}" for g, n in people.items())))
    return html.Div(className="facts", children=[
        html.Div(className="fact", title=help_text, children=[
            html.Span(label, className="fact-label"), html.Span(value, className="fact-value")])
        for label, value, help_text in items
    ])


def _count(value) -> str:
    return NO_VALUE if value is None else f"{int(value):,}"
