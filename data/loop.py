"""The closed loop (闭环) in numbers: one case's timeline, and a unit's funnel and stage times.

Pure functions of rows the queries return (``data.queries``); ``data.service.CityData`` calls them.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from dashboard import vocab


def timeline(events: list[dict], *, limits_hours: dict[str, float], deadline: datetime | None,
             closed_at: datetime | None, now: datetime) -> list[dict]:
    """Each event of a case as a stage: its round (a 退回 starts the next), how long the case
    stayed there (until the next event, or until now when it is the last and the case is open),
    that stage's limit and whether it was kept. 核查办结 is measured against the case's deadline."""
    stages, round_no = [], 1
    for i, event in enumerate(events):
        if event["status"] == vocab.RETURNED:
            round_no += 1
        following = events[i + 1]["at"] if i + 1 < len(events) else None
        ongoing = following is None and event["status"] != vocab.CLOSED
        until = following or (now if ongoing else None)
        seconds = (until - event["at"]).total_seconds() if until else None
        limit = limits_hours.get(event["status"])
        limit_seconds = limit * 3600 if limit is not None else None
        within = None if seconds is None or limit_seconds is None else seconds <= limit_seconds
        if event["status"] == vocab.CLOSED and deadline is not None:
            within = (closed_at or event["at"]) <= deadline
        stages.append({**event, "round": round_no, "seconds": seconds, "limit_seconds": limit_seconds,
                       "within_limit": within, "ongoing": ongoing})
    return stages


def funnel(members: pd.DataFrame) -> dict:
    """Cases now at each stage, overdue by stage and the returned counts, from ``loop_members`` rows."""
    by_status = members.groupby("status")[["cases", "overdue"]].sum()
    return {
        "stages": {s: int(by_status["cases"].get(s, 0)) for s in vocab.STATUSES},
        "overdue": {s: int(by_status["overdue"].get(s, 0)) for s in vocab.OPEN_STATUSES},
        "returned_cases": int(members["returned_cases"].sum()),
        "returns": int(members["returns"].sum()),
        "cases": int(members["cases"].sum()),
    }


def stage_times(seconds: pd.DataFrame, limits_hours: dict[str, float]) -> dict:
    """Per stage: how many cases finished it, the median and 90th-percentile hours, and how many
    took longer than the stage's limit."""
    out = {}
    for stage in seconds.columns:
        done = seconds[stage].dropna().to_numpy()
        limit = limits_hours.get(stage)
        out[stage] = {
            "finished": int(done.size),
            "median_hours": _hours(np.median(done)) if done.size else None,
            "p90_hours": _hours(np.percentile(done, 90)) if done.size else None,
            "limit_hours": limit,
            "over_limit": int((done > limit * 3600).sum()) if limit is not None else None,
        }
    return out


def by_member(members: pd.DataFrame, names: dict[str, str]) -> list[dict]:
    """One row per member unit: cases, open ones at each stage, overdue, returned; most stuck first."""
    rows = []
    for code, name in names.items():
        part = members[members["code"] == code]
        at = part.set_index("status")["cases"]
        open_cases = int(sum(at.get(s, 0) for s in vocab.OPEN_STATUSES))
        rows.append({"code": code, "name": name, "cases": int(part["cases"].sum()), "open": open_cases,
                     "stages": {s: int(at.get(s, 0)) for s in vocab.OPEN_STATUSES},
                     "overdue": int(part["overdue"].sum()),
                     "returned_cases": int(part["returned_cases"].sum())})
    rows.sort(key=lambda r: (-r["overdue"], -r["open"], r["code"]))
    return rows


def _hours(seconds: float) -> float:
    return round(float(seconds) / 3600, 2)
