"""Indicator formulas against cases counted by hand, on the embedded store."""

from datetime import datetime, timedelta

import pytest

from dashboard import vocab
from dashboard.indicators import INDICATORS, NO_VALUE, compute
from data import queries
from tests.factories import EAST, T0, case, tiny_city, write_cases

START, END = datetime(2026, 3, 1), datetime(2026, 4, 1)
NOW = datetime(2026, 3, 20, 12, 0)


@pytest.fixture
def city(empty_embedded):
    tiny_city(empty_embedded)
    write_cases(empty_embedded, [
        # West: 4 cases in March.
        case(1, category=vocab.DISPUTE, assigned_after=20, status=vocab.CLOSED, satisfaction="满意",
             resolved_level="网格", outcome=vocab.RESOLVED),
        case(2, category=vocab.DISPUTE, assigned_after=90, status=vocab.HANDLING),  # late, open
        case(3, assigned_after=60, status=vocab.CLOSED, satisfaction="不满意", resolved_level="区/县"),
        case(4, assigned_after=None, status=vocab.CLOSED, satisfaction="基本满意", resolved_level="街道/镇",
             reported=T0 + timedelta(days=3)),
        # East: one open case long past its deadline, one outside the period.
        case(5, at=EAST, assigned_after=5, status=vocab.ASSIGNED, deadline_days=2, source="12345热线"),
        case(6, at=EAST, status=vocab.CLOSED, reported=datetime(2026, 2, 10), assigned_after=10),
    ])
    return empty_embedded


def _counts(store, code, by_children=False, start=START, end=END, **kw):
    with store.engine.connect() as conn:
        return queries.counts(conn, unit_code=code, start=start, end=end, now=NOW,
                              by_children=by_children, **kw)


def test_counts_for_one_grid_match_hand_counts(city):
    row = _counts(city, "990102").loc["990102"]
    assert row.accepted == 4
    assert row.closed == 3
    assert row.disputes == 2 and row.disputes_resolved == 1
    assert row.on_time == 2  # 20 and 60 minutes; 90 is late; never assigned is not on time
    assert row.revisited == 3 and row.satisfied == 2
    assert row.resolved == 3 and row.resolved_local == 2
    assert row.population == 20_000


def test_overdue_is_open_past_deadline_now(city):
    # Case 2 (west, open, deadline T0+5d) and case 5 (east, open, deadline T0+2d) are overdue at NOW.
    assert _counts(city, "990102").loc["990102"].overdue == 1
    assert _counts(city, "990103").loc["990103"].overdue == 1
    assert _counts(city, "990100").loc["990100"].overdue == 2


def test_indicator_values(city):
    values = compute(_counts(city, "990102").loc["990102"])
    assert values["accepted"] == 4
    assert values["closure_rate"] == pytest.approx(3 / 4)
    assert values["resolution_rate"] == pytest.approx(1 / 2)
    assert values["on_time_rate"] == pytest.approx(2 / 4)
    assert values["satisfaction_rate"] == pytest.approx(2 / 3)
    assert values["kept_local_rate"] == pytest.approx(2 / 3)
    # 万人发案率 counts 刑事 + 治安 by default (none here); the categories are a setting.
    assert values["cases_per_10k"] == 0
    mine = compute(_counts(city, "990102", incident_categories=("城市管理",)).loc["990102"])
    assert mine["cases_per_10k"] == pytest.approx(2 / 20_000 * 10_000)
    assert INDICATORS["closure_rate"].format(values["closure_rate"]) == "75.00%"


def test_children_sum_to_parent(city):
    kids = _counts(city, "990100", by_children=True)
    parent = _counts(city, "990100").loc["990100"]
    assert list(kids.index) == ["990102", "990103"]
    for name in ("accepted", "closed", "disputes", "on_time", "overdue", "population"):
        assert kids[name].sum() == parent[name], name


def test_filters_narrow_the_counts(city):
    from dashboard.domain import Filters

    only_disputes = _counts(city, "990100", filters=Filters(categories=(vocab.DISPUTE,)))
    assert only_disputes.loc["990100"].accepted == 2
    hotline = _counts(city, "990100", filters=Filters(sources=("12345热线",)))
    assert hotline.loc["990100"].accepted == 1


def test_empty_period_shows_dash_not_zero_division(city):
    empty = _counts(city, "990100", start=datetime(2025, 1, 1), end=datetime(2025, 2, 1)).loc["990100"]
    values = compute(empty)
    assert values["accepted"] == 0
    for key in ("closure_rate", "resolution_rate", "on_time_rate", "satisfaction_rate",
                "camera_online_rate", "kept_local_rate"):
        assert values[key] is None, key
        assert INDICATORS[key].format(values[key]) == NO_VALUE
    assert INDICATORS["accepted"].format(values["accepted"]) == "0"


def test_unit_without_population_has_no_rate_per_10k():
    assert INDICATORS["cases_per_10k"].value({"incidents": 5, "population": None}) is None
    assert INDICATORS["cases_per_10k"].value({"incidents": 5, "population": 0}) is None


def test_seed_figures_from_the_spec():
    # The seeds: 30,219 of 30,485 closed = 99.13%; 1,932 of 1,957 disputes resolved = 98.72%.
    assert INDICATORS["closure_rate"].format(INDICATORS["closure_rate"].value(
        {"closed": 30_219, "accepted": 30_485})) == "99.13%"
    value = INDICATORS["resolution_rate"].value({"disputes_resolved": 1_932, "disputes": 1_957})
    assert round(value * 100, 2) == 98.72
    assert INDICATORS["resolution_rate"].format(value) == "98.72%"
    assert INDICATORS["resolution_rate"].format(value, decimals=1) == "98.7%"
    assert INDICATORS["resolution_rate"].format(1.0) == "100%"  # all of them: no ".00"
    assert INDICATORS["resolution_rate"].format(0.99999) == "100.00%"  # nearly all: the decimals say so


def test_trend_and_categories(city):
    with city.engine.connect() as conn:
        trend = queries.daily_counts(conn, unit_code="990102", start=datetime(2026, 3, 1),
                                     end=datetime(2026, 3, 8))
        cats = queries.category_counts(conn, unit_code="990100", start=START, end=END)
    assert list(trend.index) == [f"2026-03-0{d}" for d in range(1, 8)]
    assert trend["2026-03-02"] == 3 and trend["2026-03-05"] == 1 and trend.sum() == 4
    assert cats.to_dict() == {"城市管理": 3, vocab.DISPUTE: 2}


def test_alarms_are_overdue_cases_then_open_high_risk_disputes(city):
    write_cases(city, [
        {**case(7, category=vocab.DISPUTE, status=vocab.ASSIGNED, deadline_days=30,
                reported=datetime(2026, 3, 19)), "risk_level": "高"},
        {**case(8, category=vocab.DISPUTE, status=vocab.CLOSED, reported=datetime(2026, 3, 19)),
         "risk_level": "高"},  # closed: no alarm
    ])
    with city.engine.connect() as conn:
        city_alarms = queries.alarm_cases(conn, unit_code="990100", now=NOW)
        west_alarms = queries.alarm_cases(conn, unit_code="990102", now=NOW)
    # Most overdue first (case 5: deadline T0+2d; case 2: T0+5d), then the high-risk dispute.
    assert [a["external_id"] for a in city_alarms] == ["T0005", "T0002", "T0007"]
    assert [a["external_id"] for a in west_alarms] == ["T0002", "T0007"]
