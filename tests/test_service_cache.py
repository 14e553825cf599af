"""The service's cache lives as long as the data: answers are keyed by the data version and the
question, not the clock; "overdue now" alone follows a minute bucket; a change is seen at once
(within the version's re-read interval); workers sharing a file cache share answers."""

from __future__ import annotations

import shutil
import time
from datetime import date, datetime, timedelta

import pytest
from flask import Flask
from flask_caching import Cache
from sqlalchemy import event, text

from dashboard import vocab
from dashboard.domain import Filters, Period
from data.schema import units
from data.service import CityData
from data.stores import open_store
from tests.conftest import DEMO_END

PERIOD = Period("30d", date(2026, 10, 22), date(2026, 11, 20))


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture
def store(embedded_demo, tmp_path):
    embedded_demo.checkpoint()
    path = tmp_path / "copy.gpkg"
    shutil.copy(embedded_demo.engine.url.database, path)
    store = open_store(f"sqlite:///{path}")
    yield store
    store.engine.dispose()


def _service(store, config) -> tuple[CityData, Clock, list[str]]:
    data = CityData(store, Cache(Flask(__name__), config=config), as_of="now")  # overdue moves with the clock
    clock = Clock(DEMO_END)
    data.now = clock
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda conn, cur, sql, *a: statements.append(sql))
    return data, clock, statements


def _reads(statements, table: str) -> int:
    return sum(f"FROM {table}" in s or f"JOIN {table}" in s for s in statements)


def test_answers_outlive_the_minute_and_follow_the_data(store):
    data, clock, statements = _service(store, {"CACHE_TYPE": "SimpleCache"})
    city = data.roots()[0]["code"]
    first = data.kpis(city, PERIOD)
    assert _reads(statements, "case_rollup") == 1
    # Ten minutes later, same data: the period's counts come from the cache; only "overdue now"
    # (its own cheap query on open cases) is asked again.
    clock.at += timedelta(minutes=10)
    statements.clear()
    later = data.kpis(city, PERIOD)
    assert _reads(statements, "case_rollup") == 0
    assert later["counts"]["accepted"] == first["counts"]["accepted"]
    # one statement for the children's sums and the rows on the city itself (CityData.kpis)
    assert len([s for s in statements if "deadline <" in s]) == 1
    # Within the same minute nothing at all is asked but the version (every couple of seconds).
    statements.clear()
    data.kpis(city, PERIOD)
    assert [s for s in statements if "max(" not in s] == []
    # A new case: the next answer counts it (no stale answer after a change).
    grid = data.children(data.children(data.children(data.children(city)[0]["code"])[0]["code"])[0]["code"])
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO cases (external_id, category, source, reported_at, grid_code, status)"
                          " VALUES ('C-1', :cat, :src, :at, :grid, :st)"),
                     {"cat": vocab.DISPUTE, "src": vocab.SOURCES[0], "at": DEMO_END - timedelta(hours=1),
                      "grid": grid[0]["code"], "st": vocab.ACCEPTED})
    data.version(fresh=True)
    after = data.kpis(city, PERIOD)
    assert after["counts"]["accepted"] == first["counts"]["accepted"] + 1
    assert data.kpis(city, PERIOD, Filters(categories=(vocab.DISPUTE,)))["counts"]["disputes"] == \
        after["counts"]["disputes"]


def test_a_new_case_leaves_the_hierarchy_cached_and_a_unit_change_does_not(store):
    """Units, chains, children and the rolled-up units follow the units alone: after a new case
    they are not asked again (a cold answer asks only its own question); after a unit changes
    they are."""
    data, _clock, statements = _service(store, {"CACHE_TYPE": "SimpleCache"})
    city = data.roots()[0]["code"]
    kids = data.children(city)
    data.unit(city)
    data.ancestors(kids[0]["code"])
    data._rolled()
    profile = data.profile(city, PERIOD)
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO cases (external_id, category, source, reported_at, grid_code, status)"
                          " SELECT 'H-1', category, source, reported_at, grid_code, status FROM cases"
                          " WHERE id = (SELECT min(id) FROM cases)"))
    before = data.version()
    assert data.version(fresh=True) != before
    statements.clear()
    assert data.unit(city)["code"] == city and data.children(city) == kids
    assert data.ancestors(kids[0]["code"])[-1]["code"] == kids[0]["code"]
    assert data._rolled() and data.roots()[0]["code"] == city
    assert [s for s in statements if "max(" not in s] == []
    # 人房楼 and grid workers too (the profile's case count per worker is asked again, as it must)
    assert data.profile(city, PERIOD)["totals"] == profile["totals"]
    assert [s for s in statements if "grid_workers" in s and "max(" not in s] == []
    with store.engine.begin() as conn:
        conn.execute(units.update().where(units.c.code == city)
                     .values(name="新名字", updated_at=datetime(2030, 1, 1)))
    data.version(fresh=True)
    assert data.unit(city)["name"] == "新名字"
    assert data.children(kids[0]["code"])[0]["parent_code"] == kids[0]["code"]


def test_workers_share_answers_through_the_file_cache(store, tmp_path):
    config = {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(tmp_path / "cache")}
    one, _, _ = _service(store, config)
    two, _, statements = _service(store, config)
    city = one.roots()[0]["code"]
    expected = one.children_kpis(city, PERIOD)
    statements.clear()
    assert two.children_kpis(city, PERIOD).equals(expected)
    assert _reads(statements, "case_rollup") == 0


def _wait_warmed(data, count: int):
    deadline = time.monotonic() + 120
    while len(data.warmed) < count:
        assert time.monotonic() < deadline, "the cache was not warmed"
        time.sleep(0.05)


def test_a_data_change_warms_the_root_and_the_tour_stops_before_anyone_asks(store):
    data = CityData(store, Cache(Flask(__name__), config={"CACHE_TYPE": "SimpleCache"}), warm=True)
    data.now = Clock(DEMO_END)
    statements: list[str] = []
    data.version()
    _wait_warmed(data, 1)
    event.listen(store.engine, "before_cursor_execute", lambda conn, cur, sql, *a: statements.append(sql))
    period = Period.resolve("30d", today=DEMO_END.date())
    city = data.roots()[0]["code"]
    for code in [city] + [u["code"] for u in data.children(city)]:
        data.view(code, period)
    assert statements == []  # every panel of every tour stop was ready
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO cases (external_id, category, source, reported_at, grid_code, status)"
                          " SELECT 'W-1', category, source, reported_at, grid_code, status FROM cases"
                          " WHERE id = (SELECT min(id) FROM cases)"))
    data.version(fresh=True)
    _wait_warmed(data, 2)
    assert data.warmed[0] != data.warmed[1]
    statements.clear()
    data.view(city, period)
    assert [s for s in statements if "max(" not in s] == []


def test_the_next_minute_is_ready_before_it_turns(store):
    """``_warm_minute``: overdue, alarms and sudden rises of the root and its children for the next
    minute, under the keys the questions use; when the minute turns nothing moving is asked."""
    data, clock, statements = _service(store, {"CACHE_TYPE": "SimpleCache"})
    city = data.roots()[0]["code"]
    district = data.children(city)[0]["code"]
    for code in (city, district):
        data.kpis(code, PERIOD), data.ancestors(code)  # asked once per data version
    assert data._warm_minute() == DEMO_END.replace(second=0, microsecond=0) + timedelta(minutes=1)
    clock.at += timedelta(minutes=1)
    statements.clear()
    for code in (city, district):
        data.kpis(code, PERIOD), data.alarms(code), data.rises(code)
    assert [s for s in statements if "max(" not in s] == []
    # A minute nobody warmed is asked for.
    clock.at += timedelta(minutes=1)
    data.alarms(city)
    assert [s for s in statements if "max(" not in s]


def test_the_memory_cache_drops_the_least_recently_used():
    from data.memory_cache import LRUCache

    cache = LRUCache(threshold=3, default_timeout=60)
    for key in "abc":
        cache.set(key, {"v": key})
    assert cache.get("a") == {"v": "a"}  # read: now the most recent
    cache.set("d", {"v": "d"})
    assert cache.get("b") is None and [cache.get(k) for k in "acd"] == [{"v": k} for k in "acd"]
    got = cache.get("a")
    got["v"] = "changed"  # a reader's copy: the cached value stays
    assert cache.get("a") == {"v": "a"}
    assert not cache.add("a", 1) and cache.add("e", 1) and cache.get("e") == 1
    cache.set("short", 1, timeout=1)
    time.sleep(1.1)
    assert cache.get("short") is None and not cache.has("short")
