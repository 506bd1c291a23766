"""The recommendation rules on small analyses worked out by hand.

Each test builds only the parts of an `Analysis` its rule reads; the rest is None.
"""

from __future__ import annotations

import calendar
import datetime as dt
from types import SimpleNamespace

import pytest

from lgs_reports.analyses.countries import CountryRow, CountrySales
from lgs_reports.analyses.kpis import Comparison, Kpi, Totals
from lgs_reports.analyses.trend import Month, Trend
from lgs_reports.analysis import Analysis
from lgs_reports.periods import add_months
from lgs_reports.recommendations import (
    country_declines,
    country_opportunities,
    new_customer_acquisition,
    off_peak_weakness,
)

NOV_2010 = SimpleNamespace(title="November 2010", start=dt.date(2010, 11, 1))
NOV_2011 = SimpleNamespace(title="November 2011", start=dt.date(2011, 11, 1))


def analysis(**parts: object) -> Analysis:
    fields = dict.fromkeys(
        (
            "dataset",
            "totals",
            "kpis",
            "trend",
            "invoice_amounts",
            "countries",
            "segments",
            "quality",
            "forecasts",
        )
    )
    fields.update(parts)
    return Analysis(**fields)  # type: ignore[arg-type]


def dataset(first_data: dt.date = dt.date(2009, 12, 1)) -> SimpleNamespace:
    return SimpleNamespace(
        spans={"current": NOV_2011, "yoy": NOV_2010},
        coverage=SimpleNamespace(first_data=dt.datetime.combine(first_data, dt.time(7, 45))),
    )


# --- off-peak months ----------------------------------------------------------------


def trend(first: dt.date, nets: list[float]) -> Trend:
    """Complete months from ``first``; the first one is left-censored, as in real data."""
    months = []
    day = first
    for i, net in enumerate(nets):
        days = calendar.monthrange(day.year, day.month)[1]
        months.append(
            Month(
                month=day,
                gross=net,
                cancellations=0.0,
                net=net,
                growth=None,
                placed_orders=1,
                cancelled_orders=0,
                active_customers=1,
                new_customers=1,
                guest_gross=0.0,
                days_covered=days,
                days_in_month=days,
                left_censored=i == 0,
                in_period=i == len(nets) - 1,
            )
        )
        day = add_months(day, 1)
    return Trend(tuple(months), first)


# Dec, then Jan-Aug, Sep, Oct, Nov: Sep-Nov are the peak, Dec and Jan-Aug off-peak.
YEAR_2010 = [500.0] * 8 + [900.0, 1000.0, 1100.0]


def test_off_peak_counts_the_month_after_the_left_censored_first_month() -> None:
    # Dec 2009 (first month of data, complete) 800 -> Dec 2010 700: a fall of 12.5%.
    # Jan 2011 450 against Jan 2010 500: a fall of 10%. Every other off-peak month flat.
    nets = [800.0, *YEAR_2010, 700.0, 450.0, *([500.0] * 7), 900.0, 1000.0, 1100.0]
    rec = off_peak_weakness(analysis(trend=trend(dt.date(2009, 12, 1), nets)))
    assert rec is not None
    assert rec.text.startswith("2 of the 9 off-peak months of the last year sold less")
    assert "Sep–Oct–Nov, which made 39.2% of the year's net sales" in rec.text  # 3000 / 7650
    assert rec.evidence == "off-peak months below the year before: Dec 2010 −12.5%, Jan 2011 −10.0%"
    assert rec.at_stake == pytest.approx(150.0)


def test_off_peak_evidence_names_the_months_it_could_not_compare() -> None:
    # Thirteen months, Dec 2009 to Dec 2010: only Dec 2010 has a month a year earlier.
    nets = [800.0, *YEAR_2010, 700.0]
    rec = off_peak_weakness(analysis(trend=trend(dt.date(2009, 12, 1), nets)))
    assert rec is not None
    assert rec.text.startswith("1 of the 9 off-peak months")
    assert rec.evidence == (
        "off-peak months below the year before: Dec 2010 −12.5%; not compared, no complete "
        "month a year earlier: Jan 2010, Feb 2010, Mar 2010, Apr 2010, May 2010, Jun 2010, "
        "Jul 2010, Aug 2010"
    )
    assert rec.at_stake == pytest.approx(100.0)


# --- countries ----------------------------------------------------------------------


def row(country: str, net: float, previous: float, total: float) -> CountryRow:
    return CountryRow(
        country=country,
        net=net,
        share=net / total,
        previous_net=previous,
        change=net / previous - 1,
        placed_orders=1,
        active_customers=1,
    )


def countries() -> CountrySales:
    # 10,000 of net sales now and a year earlier; 1% is 100.
    rows = (
        row("United Kingdom", 8_950, 8_875, 10_000),
        row("Alpha", 500, 400, 10_000),  # +25%, gain 100, 5% share
        row("Delta", 300, 500, 10_000),  # -40%, had 5%
        row("Beta", 200, 125, 10_000),  # +60%, gain 75, 2% share: faster than Alpha
        row("Gamma", 50, 10, 10_000),  # +400% but 0.5% share: below the size filter
        row("Epsilon", 0.01, 90, 10_000),  # -100% but had 0.9%: below the size filter
    )
    return CountrySales(
        rows=rows,
        all_rows=rows,
        total_net=10_000,
        previous_total_net=10_000,
        countries=len(rows),
        comparison="November 2010",
    )


def test_growing_countries_state_the_size_filter_and_fastest_is_by_growth() -> None:
    rec = country_opportunities(analysis(dataset=dataset(), countries=countries()))
    assert rec is not None
    among = "countries outside the United Kingdom with at least 1% of net sales in November 2011"
    assert rec.text.startswith(f"Of the {among}, Beta and Alpha grew fastest against November")
    assert (
        rec.evidence
        == f"among {among}, growing by 20% or more: Beta +60.0% (£200), Alpha +25.0% (£500)"
    )
    assert rec.at_stake == pytest.approx(175.0)


def test_falling_countries_state_the_size_filter() -> None:
    rec = country_declines(analysis(dataset=dataset(), countries=countries()))
    assert rec is not None
    among = "countries with at least 1% of net sales in November 2010"
    assert rec.text.startswith(f"Of the {among}, sales fell sharply in Delta −40.0%.")
    assert rec.evidence == f"among {among}, down 20% or more: Delta −40.0%"
    assert rec.at_stake == pytest.approx(200.0)


# --- new customers ------------------------------------------------------------------


def new_customers(first_data: dt.date) -> Analysis:
    # 100 new customers bringing 5,000 (50 each) against 150 a year earlier: 50 missing.
    now = Totals(
        gross=10_000,
        cancellations=0,
        net=10_000,
        placed_orders=200,
        cancelled_orders=0,
        active_customers=180,
        new_customers=100,
        guest_gross=0,
        new_customer_net=5_000,
    )
    kpi = Kpi(
        "new_customers",
        "New customers",
        "count",
        100,
        True,
        (Comparison("yoy", "November 2010", 150, -1 / 3),),
    )
    return analysis(dataset=dataset(first_data), totals={"current": now}, kpis=(kpi,))


BASIS = "missing new customers times the period's net sales per new customer"


def test_new_customers_at_stake_is_an_upper_bound_when_the_comparison_is_left_censored() -> None:
    rec = new_customer_acquisition(new_customers(dt.date(2009, 12, 1)))
    assert rec is not None
    assert rec.at_stake == pytest.approx(2_500.0)
    assert "the fall is overstated" in rec.evidence
    assert rec.basis == (
        f"{BASIS}; an upper bound, since November 2010's new customers include returning ones "
        "(less than a year of earlier data)"
    )


def test_new_customers_at_stake_is_plain_with_a_full_year_before_the_comparison() -> None:
    rec = new_customer_acquisition(new_customers(dt.date(2009, 1, 1)))
    assert rec is not None
    assert rec.at_stake == pytest.approx(2_500.0)
    assert "overstated" not in rec.evidence
    assert rec.basis == BASIS
