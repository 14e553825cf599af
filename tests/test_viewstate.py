"""The URL is the state: parsing, defaults, round trips and clear errors."""

from datetime import date, datetime, time, timedelta

import pytest

from dashboard.domain import BadRequest, Filters, Period
from dashboard.viewstate import ViewState

TODAY = date(2026, 11, 20)


def test_defaults_from_an_empty_query():
    state = ViewState.from_query("")
    assert state.unit is None and state.period_key == "30d" and state.metric == "accepted"
    assert state.to_query() == ""


@pytest.mark.parametrize("query", [
    "?unit=990102&period=7d",
    "?unit=990102001&period=custom&from=2026-01-01&to=2026-01-31&metric=closure_rate",
    "?period=year&category=矛盾纠纷,治安&source=12345热线",
])
def test_round_trip(query):
    state = ViewState.from_query(query)
    assert ViewState.from_query(state.to_query()) == state


def test_from_and_to_alone_mean_a_custom_period():
    state = ViewState.from_query("from=2026-01-01&to=2026-01-31")
    assert state.period(TODAY) == Period("custom", date(2026, 1, 1), date(2026, 1, 31))


@pytest.mark.parametrize("key,first,last", [
    ("today", date(2026, 11, 20), date(2026, 11, 20)),
    ("7d", date(2026, 11, 14), date(2026, 11, 20)),
    ("30d", date(2026, 10, 22), date(2026, 11, 20)),
    ("year", date(2026, 1, 1), date(2026, 11, 20)),
])
def test_named_periods(key, first, last):
    period = Period.resolve(key, today=TODAY)
    assert (period.first, period.last) == (first, last)
    assert period.end == datetime.combine(last + timedelta(days=1), time())  # exclusive
    assert (period.end - period.start).days == period.days


def test_previous_period_has_the_same_length_and_ends_the_day_before():
    period = Period.resolve("7d", today=TODAY)
    prev = period.previous()
    assert prev.days == 7 and prev.last == date(2026, 11, 13)


@pytest.mark.parametrize("query,fragment", [
    ("period=week", "period='week'"),
    ("from=2026-13-01&to=2026-01-02", "from='2026-13-01'"),
    ("metric=nonsense", "metric='nonsense'"),
    ("category=天气", "category='天气'"),
])
def test_bad_links_name_the_field(query, fragment):
    with pytest.raises(BadRequest, match=fragment):
        ViewState.from_query(query)


def test_custom_period_needs_both_dates_in_order():
    with pytest.raises(BadRequest, match="from 和 to"):
        Period.resolve("custom", "2026-01-01", None, today=TODAY)
    with pytest.raises(BadRequest, match="早于"):
        Period.resolve("custom", "2026-02-01", "2026-01-01", today=TODAY)


def test_filters_key_is_stable():
    assert Filters(("治安",), ()).key() == Filters(("治安",)).key()


def test_year_to_date_compares_with_the_same_days_last_year():
    period = Period.resolve("year", today=TODAY)
    compared, label = period.comparison()
    assert label == "同比" and (compared.first, compared.last) == (date(2025, 1, 1), date(2025, 11, 20))
    assert Period.resolve("7d", today=TODAY).comparison()[1] == "环比"
    leap = Period("custom", date(2028, 2, 29), date(2028, 2, 29)).year_before()
    assert leap.first == date(2027, 2, 28)
