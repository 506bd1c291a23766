"""Periods: the accepted forms, comparisons, trend windows and partial coverage."""

from __future__ import annotations

import datetime as dt

import pytest

from lgs_reports.errors import PeriodError
from lgs_reports.periods import Coverage, latest_complete_month, parse_period


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


def test_partial_period_knows_its_days_and_snapshot():
    cov = Coverage(
        parse_period("2011-12"), dt.datetime(2009, 12, 1, 7, 45), dt.datetime(2011, 12, 9, 12, 50)
    )
    assert cov.partial and cov.last_month_days == (9, 31)
    assert cov.note == "data through 9 Dec 2011: December has 9 of 31 days"
    assert cov.snapshot == dt.date(2011, 12, 10)
    year = Coverage(parse_period("2011"), cov.first_data, cov.last_data)
    assert (
        year.note == "data through 9 Dec 2011: December has 9 of 31 days; 2011 has 343 of 365 days"
    )
    # comparisons are cut to the same days
    cut = year.like_for_like(parse_period("2010"))
    assert (cut.start, cut.end) == (dt.date(2010, 1, 1), dt.date(2010, 12, 9))


def test_complete_period_snapshot_is_the_day_after():
    cov = Coverage(parse_period("2011-11"), dt.datetime(2009, 12, 1), dt.datetime(2011, 12, 9))
    assert not cov.partial and cov.note is None
    assert cov.snapshot == dt.date(2011, 12, 1)
    assert cov.like_for_like(parse_period("2011-10")) == parse_period("2011-10")


def test_latest_complete_month():
    assert latest_complete_month(dt.datetime(2011, 12, 9, 12, 50)).label == "2011-11"
    assert latest_complete_month(dt.datetime(2011, 11, 30, 18, 0)).label == "2011-11"
