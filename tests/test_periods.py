"""Periods: the accepted forms, comparisons, trend windows and partial coverage."""

from __future__ import annotations

import datetime as dt

import pytest

from lgs_reports.errors import PeriodError
from lgs_reports.periods import (
    Coverage,
    latest_complete_month,
    lookback_months,
    months_before,
    parse_period,
)


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "title"),
    [
        ("2011", "year", dt.date(2011, 1, 1), dt.date(2011, 12, 31), "2011"),
        ("2011-Q4", "quarter", dt.date(2011, 10, 1), dt.date(2011, 12, 31), "Q4 2011"),
        ("2011q1", "quarter", dt.date(2011, 1, 1), dt.date(2011, 3, 31), "Q1 2011"),
        ("2011-11", "month", dt.date(2011, 11, 1), dt.date(2011, 11, 30), "November 2011"),
        ("2012-02", "month", dt.date(2012, 2, 1), dt.date(2012, 2, 29), "February 2012"),
        (" 2011-3 ", "month", dt.date(2011, 3, 1), dt.date(2011, 3, 31), "March 2011"),
    ],
)
def test_accepted_forms(text, kind, start, end, title):
    period = parse_period(text)
    assert (period.kind, period.start, period.end, period.title) == (kind, start, end, title)


@pytest.mark.parametrize(
    "text", ["", "11", "2011-13", "2011-00", "2011-Q5", "Nov 2011", "2011-11-01", "20x1"]
)
def test_anything_else_is_one_line_that_shows_the_accepted_forms(text):
    with pytest.raises(PeriodError) as info:
        parse_period(text)
    assert str(info.value) == (
        f"period {text!r} is not a period; accepted forms: 2011 (a year), "
        "2011-Q4 (a quarter), 2011-11 (a month)"
    )


def test_comparisons_and_trend_window():
    month = parse_period("2011-01")
    assert [(k, p.label) for k, p in month.comparisons()] == [
        ("yoy", "2010-01"),
        ("mom", "2010-12"),
    ]
    assert [(k, p.label) for k, p in parse_period("2011-Q1").comparisons()] == [("yoy", "2010-Q1")]
    assert [(k, p.label) for k, p in parse_period("2011").comparisons()] == [("yoy", "2010")]
    assert parse_period("2011").trend_start == dt.date(2010, 1, 1)  # 24 months ending Dec 2011
    assert parse_period("2011-11").trend_start == dt.date(2009, 12, 1)


FIRST = dt.datetime(2009, 12, 1, 7, 45)
LAST = dt.datetime(2011, 12, 9, 12, 50)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args)


def test_partial_period_knows_its_days_and_snapshot():
    cov = Coverage(parse_period("2011-12"), FIRST, LAST)
    assert cov.partial and cov.last_month_days == (9, 31)
    assert cov.note == "data through 9 Dec 2011: December has 9 of 31 days"
    assert cov.snapshot == dt.date(2011, 12, 10)
    year = Coverage(parse_period("2011"), FIRST, LAST)
    assert (
        year.note == "data through 9 Dec 2011: December has 9 of 31 days; 2011 has 343 of 365 days"
    )
    # the period's data ends with the minute of the last invoice
    assert (year.current.start, year.current.end) == (at(2011, 1, 1), at(2011, 12, 9, 12, 51))


def test_a_partial_period_is_compared_up_to_the_same_minute():
    year = Coverage(parse_period("2011"), FIRST, LAST).comparison("yoy", parse_period("2010"))
    assert year.available and year.current == Coverage(parse_period("2011"), FIRST, LAST).current
    assert (year.other.start, year.other.end) == (at(2010, 1, 1), at(2010, 12, 9, 12, 51))
    assert year.other.title == "1 Jan – 9 Dec 2010"
    month = Coverage(parse_period("2011-12"), FIRST, LAST)
    yoy, mom = month.comparisons()
    assert (yoy.other.start, yoy.other.end) == (at(2010, 12, 1), at(2010, 12, 9, 12, 51))
    # the month before stops at the same day and time of that month
    assert (mom.other.start, mom.other.end) == (at(2011, 11, 1), at(2011, 11, 9, 12, 51))
    assert mom.other.title == "1 Nov – 9 Nov 2011"


def test_a_complete_period_is_compared_with_the_whole_of_the_other():
    cov = Coverage(parse_period("2011-03"), FIRST, LAST)
    mom = cov.comparison("mom", parse_period("2011-02"))
    # March has 31 days, February 28: the whole of February, not 1 Feb - 3 Mar
    assert (mom.other.start, mom.other.end) == (at(2011, 2, 1), at(2011, 3, 1))
    assert cov.snapshot == dt.date(2011, 4, 1) and not cov.partial and cov.note is None


def test_no_comparison_when_the_data_starts_in_the_first_half_of_it():
    # 2010 against 2009: data from 1 Dec 2009 covers 31 of 365 days
    c = Coverage(parse_period("2010"), FIRST, LAST).comparison("yoy", parse_period("2009"))
    assert not c.available and (c.current, c.other) == (None, None)
    assert c.reason == "the data starts 1 Dec 2009"
    # Q4 2010 against Q4 2009: 31 of 92 days
    assert not Coverage(parse_period("2010-Q4"), FIRST, LAST).comparisons()[0].available
    # December 2010 against December 2009: every day
    assert Coverage(parse_period("2010-12"), FIRST, LAST).comparisons()[0].available


def test_a_comparison_the_data_starts_inside_keeps_the_same_days_on_both_sides():
    # data from 10 Jan 2010: Q1 2011 against Q1 2010 covers 10 Jan - 31 Mar, 81 of 90 days
    first = dt.datetime(2010, 1, 10, 9, 0)
    cov = Coverage(parse_period("2011-Q1"), first, LAST)
    (yoy,) = cov.comparisons()
    assert yoy.available
    assert (yoy.other.start, yoy.other.end) == (at(2010, 1, 10), at(2010, 4, 1))
    assert (yoy.current.start, yoy.current.end) == (at(2011, 1, 10), at(2011, 4, 1))
    # data from 20 Feb 2010: 40 of 90 days, under half
    late = Coverage(parse_period("2011-Q1"), dt.datetime(2010, 2, 20), LAST)
    assert late.comparisons()[0].reason == "the data starts 20 Feb 2010"


def test_lookback_and_the_trailing_years():
    assert lookback_months(FIRST, dt.date(2009, 12, 1)) == 0
    assert lookback_months(FIRST, dt.date(2010, 1, 1)) == 1
    assert Coverage(parse_period("2011"), FIRST, LAST).lookback == 13
    last, before = Coverage(parse_period("2011"), FIRST, LAST).trailing(365)
    assert (last.start, last.end) == (at(2010, 12, 10), at(2011, 12, 9, 12, 51))
    assert (before.start, before.end) == (at(2009, 12, 10), at(2010, 12, 9, 12, 51))
    # 2010: the year before the snapshot reaches back to 2009, before the data
    assert Coverage(parse_period("2010"), FIRST, LAST).trailing(365)[1] is None


def test_months_before_keeps_day_and_time():
    assert months_before(at(2011, 12, 9, 12, 51), 12) == at(2010, 12, 9, 12, 51)
    assert months_before(at(2011, 3, 31, 10, 0), 1) == at(2011, 2, 28, 10, 0)
    assert months_before(at(2010, 1, 1), -12) == at(2011, 1, 1)


def test_latest_complete_month():
    assert latest_complete_month(dt.datetime(2011, 12, 9, 12, 50)).label == "2011-11"
    assert latest_complete_month(dt.datetime(2011, 11, 30, 18, 0)).label == "2011-11"
