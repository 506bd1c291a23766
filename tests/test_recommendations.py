"""The recommendation rules on small analyses worked out by hand.

Each test builds only the parts of an `Analysis` its rule reads; the rest is None.
Revenue at stake has one definition (BRIEF_SPEC, version 2): the next 12 months'
net sales, from a segment's back-tested loss or a trend's measured change.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from lgs_reports.analyses import Analysis
from lgs_reports.analyses.countries import CountryRow, CountrySales
from lgs_reports.analyses.kpis import Totals
from lgs_reports.analyses.segments import SegmentBacktest, SegmentLoss, SegmentSummary
from lgs_reports.analyses.trend import Month, Trend
from lgs_reports.config import SEGMENTS
from lgs_reports.dataset import Lookback
from lgs_reports.periods import Span, add_months
from lgs_reports.recommendations import (
    account_swings,
    cancellations,
    country_declines,
    country_opportunities,
    new_customer_acquisition,
    off_peak_weakness,
    recommend,
    segment_losses,
)

LAST = Span(
    "trailing", "1 Dec 2010 – 30 Nov 2011", dt.datetime(2010, 12, 1), dt.datetime(2011, 12, 1)
)
BEFORE = Span(
    "trailing_before",
    "1 Dec 2009 – 30 Nov 2010",
    dt.datetime(2009, 12, 1),
    dt.datetime(2010, 12, 1),
)


def analysis(**parts: object) -> Analysis:
    fields = dict.fromkeys(f.name for f in dataclasses.fields(Analysis))
    fields.update(parts)
    return Analysis(**fields)  # type: ignore[arg-type]


def dataset(lookbacks: dict | None = None, period_end: dt.date = dt.date(2011, 11, 30)):
    return SimpleNamespace(
        trailing=(LAST, BEFORE),
        lookbacks=lookbacks or {},
        rfm_window_days=365,
        period=SimpleNamespace(end=period_end),
    )


def totals(**values: float) -> Totals:
    fields = {f.name: 0 for f in dataclasses.fields(Totals)}
    fields.update(values)
    return Totals(**fields)


# --- off-peak months ----------------------------------------------------------------


def trend(first: dt.date, nets: list[float]) -> Trend:
    """Complete months from ``first``."""
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
                product_cancelled=0.0,
                fee_value=0.0,
                correction_value=0.0,
                placed_orders=1,
                cancelled_orders=0,
                active_customers=1,
                new_customers=1,
                guest_gross=0.0,
                days_covered=days,
                days_in_month=days,
                lookback_months=i,
                in_period=i == len(nets) - 1,
            )
        )
        day = add_months(day, 1)
    return Trend(tuple(months), first)


# Dec, then Jan-Aug, Sep, Oct, Nov: Sep-Nov are the peak, Dec and Jan-Aug off-peak.
YEAR_BEFORE = [500.0] * 9 + [900.0, 1000.0, 1100.0]


def off_peak(last_year: list[float]) -> Analysis:
    return analysis(
        dataset=dataset(), trend=trend(dt.date(2009, 12, 1), [*YEAR_BEFORE, *last_year])
    )


def test_off_peak_is_the_net_change_of_the_off_peak_months() -> None:
    # off-peak (Dec-Aug, 500 each a year earlier): Dec 450 (-50), Jan 440 (-60),
    # Feb 460 (-40), Mar 530 (+30), the rest flat: net -120; the largest fall, -60, is half
    # of it at most, so this is not one month's timing
    last = [450.0, 440.0, 460.0, 530.0, *([500.0] * 5), 900.0, 1000.0, 1100.0]
    (rec,) = off_peak_weakness(off_peak(last))
    assert rec.at_stake == pytest.approx(120.0)
    assert rec.text.startswith("3 of the 9 off-peak months of the last twelve sold less")
    assert "£120 in all once the months that grew are counted" in rec.text
    # season share: 3000 / (3000 + 4380)
    assert "Sep–Oct–Nov, which made 40.7% of the twelve months' net sales" in rec.text
    assert rec.evidence == (
        "off-peak months against the same month a year earlier: Dec 2010 −10.0%, "
        "Jan 2011 −12.0%, Feb 2011 −8.0%; net of the months that grew −£120, of which the "
        "largest single month −£60"
    )


def test_off_peak_does_not_fire_on_one_months_timing_or_on_a_net_gain() -> None:
    # April -150, May +20, June -10: net -140, of which April alone is more than half
    timing = [*([500.0] * 4), 350.0, 520.0, 490.0, 500.0, 500.0, 900.0, 1000.0, 1100.0]
    assert list(off_peak_weakness(off_peak(timing))) == []
    # Dec -50 and Jan -50, but Mar +120: a net gain
    gain = [450.0, 450.0, 500.0, 620.0, *([500.0] * 5), 900.0, 1000.0, 1100.0]
    assert list(off_peak_weakness(off_peak(gain))) == []
    # under 24 complete months there is no year earlier to measure against
    short = analysis(dataset=dataset(), trend=trend(dt.date(2010, 1, 1), [500.0] * 23))
    assert list(off_peak_weakness(short)) == []


# --- countries ----------------------------------------------------------------------


def row(
    country: str, net: float, previous: float, total: float, *, top: float, mover: float
) -> CountryRow:
    return CountryRow(
        country=country,
        net=net,
        share=net / total,
        previous_net=previous,
        change=net / previous - 1 if previous > 0 else None,
        placed_orders=1,
        active_customers=3,
        top_customer=1000 + len(country),
        top_customer_net=top,
        mover=2000 + len(country),
        mover_change=mover,
    )


def countries() -> CountrySales:
    # 10,000 of net sales in the last 365 days and in the 365 before; 1% is 100.
    rows = (
        row("United Kingdom", 8_500, 8_925, 10_000, top=300, mover=-100),
        row("Alpha", 500, 400, 10_000, top=150, mover=40),  # +25%, a market
        row("Delta", 300, 500, 10_000, top=100, mover=-60),  # -40%, a market
        row("Beta", 200, 125, 10_000, top=60, mover=30),  # +60%, a market
        row("Kappa", 300, 100, 10_000, top=250, mover=180),  # +200%: 180 of 200 is one account
        row("Gamma", 50, 10, 10_000, top=20, mover=30),  # +400% but 0.5%: below the size filter
        row("Epsilon", 150, 40, 10_000, top=40, mover=50),  # +275%, had 0.4%, has 1.5%
    )
    return CountrySales(
        rows=rows,
        all_rows=rows,
        total_net=10_000,
        previous_total_net=10_000,
        countries=len(rows),
        comparison=BEFORE.title,
    )


def test_growing_markets_are_ranked_by_growth_and_at_stake_is_their_gain() -> None:
    (rec,) = country_opportunities(analysis(dataset=dataset(), trailing_countries=countries()))
    assert rec.text.startswith("Epsilon, Beta and Alpha grew fastest of the countries outside")
    assert rec.evidence.endswith(
        "growing by 20% or more: Epsilon +275.0% (+£110), Beta +60.0% (+£75), Alpha +25.0% (+£100)"
    )
    assert rec.at_stake == pytest.approx(110 + 75 + 100)


def test_falling_markets_at_stake_is_what_they_lost() -> None:
    (rec,) = country_declines(analysis(dataset=dataset(), trailing_countries=countries()))
    assert "sales fell sharply in Delta −40.0% (−£200), across several customers" in rec.text
    assert rec.at_stake == pytest.approx(200.0)


def test_a_country_that_is_one_account_becomes_an_account_call() -> None:
    (rec,) = account_swings(analysis(dataset=dataset(), trailing_countries=countries()))
    # Kappa: its mover made 180 of the +200 (90%); its biggest customer 250 of 300 (83%)
    assert "Call account 2005 in Kappa (+£180 of the country's +£200)" in rec.text
    assert (
        "Kappa +200.0%: account 2005 +£180 of the country's +£200; its biggest customer, 1005, "
        "makes 83% of its sales"
    ) in rec.evidence
    # an account that grew is named to secure, but what keeping it is worth is not measured
    assert rec.at_stake is None and rec.basis.startswith("cannot be estimated")


def test_an_account_that_fell_puts_its_loss_at_stake() -> None:
    c = countries()
    # Kappa the other way: 300 -> 100 (-66.7%), of which its account 2005 lost 180
    kappa = row("Kappa", 100, 300, 10_000, top=90, mover=-180)
    rows = tuple(kappa if r.country == "Kappa" else r for r in c.all_rows)
    swung = dataclasses.replace(c, rows=rows, all_rows=rows)
    (rec,) = account_swings(analysis(dataset=dataset(), trailing_countries=swung))
    # winning the account back is worth what it lost
    assert rec.at_stake == pytest.approx(180.0)
    assert "ask the ones that fell why" in rec.text


def test_no_country_rule_without_the_year_before() -> None:
    a = analysis(dataset=dataset(), trailing_countries=None)
    assert [*country_opportunities(a), *country_declines(a), *account_swings(a)] == []


# --- new customers ------------------------------------------------------------------


def lookback(now: int, then: int, now_net: float, then_net: float) -> Lookback:
    def frame(customers: int, net: float) -> pd.DataFrame:
        return pd.DataFrame({"customers": [customers], "first_ever": [0], "net": [net]})

    return Lookback(1, frame(now, now_net), frame(then, then_net))


def test_new_customers_fall_beyond_chance_puts_their_lost_sales_at_stake() -> None:
    # 300 against 400: 100 fewer, beyond 2 * sqrt(400) = 40; net 30,000 against 36,000
    a = analysis(dataset=dataset({"trailing": lookback(300, 400, 30_000, 36_000)}))
    (rec,) = new_customer_acquisition(a)
    assert rec.at_stake == pytest.approx(6_000.0)
    assert rec.evidence.startswith(
        "new or returning after 1 month: 300 in 1 Dec 2010 – 30 Nov 2011 against 400 in "
        "1 Dec 2009 – 30 Nov 2010 (−25.0%), beyond the 40 that chance explains"
    )


def test_new_customers_do_not_fire_within_chance_or_without_equal_lookback() -> None:
    # 370 against 400: 30 fewer, within 40
    within = analysis(dataset=dataset({"trailing": lookback(370, 400, 30_000, 36_000)}))
    assert list(new_customer_acquisition(within)) == []
    # fewer customers but more net sales: nothing at stake
    richer = analysis(dataset=dataset({"trailing": lookback(300, 400, 40_000, 36_000)}))
    assert list(new_customer_acquisition(richer)) == []
    # no equal look-back (the year before starts with the data): no comparison at all
    assert list(new_customer_acquisition(analysis(dataset=dataset()))) == []


# --- cancellations ------------------------------------------------------------------


def test_cancellations_fire_on_a_rise_larger_than_one_invoice() -> None:
    now = totals(
        product_cancelled=-5_000, largest_cancelled=-800, cancelled_orders=40, placed_orders=400
    )
    then = totals(product_cancelled=-4_000)
    (rec,) = cancellations(
        analysis(dataset=dataset(), totals={"trailing": now, "trailing_before": then})
    )
    assert rec.at_stake == pytest.approx(1_000.0)
    assert "the largest single invoice cancelled £800" in rec.evidence
    # the same rise, but one invoice cancelled 1,200 of it: one order, not a trend
    one = dataclasses.replace(now, largest_cancelled=-1_200)
    assert (
        list(
            cancellations(
                analysis(dataset=dataset(), totals={"trailing": one, "trailing_before": then})
            )
        )
        == []
    )


# --- segments -----------------------------------------------------------------------


def summary(segment: str, customers: int, monetary: float, priority: bool) -> SegmentSummary:
    return SegmentSummary(
        segment=segment,
        customers=customers,
        share_customers=None,
        monetary=monetary,
        share_monetary=None,
        avg_recency=None,
        avg_frequency=None,
        avg_monetary=None,
        action=f"Act on {segment}.",
        priority=priority,
        csv_file=f"segments/{segment.lower()}.csv",
    )


def segments(backtest: SegmentBacktest | None) -> SimpleNamespace:
    sizes = {"Champions": (50, 100_000), "At Risk": (30, 20_000), "Hibernating": (5, 50_000)}
    rows = [
        summary(s, *sizes.get(s, (0, 0.0)), priority=s in ("Champions", "At Risk"))
        for s in SEGMENTS
    ]
    return SimpleNamespace(
        summary_of=lambda name: next(r for r in rows if r.segment == name),
        window_days=365,
        snapshot=dt.date(2011, 12, 1),
        backtest=backtest,
    )


def backtest() -> SegmentBacktest:
    spent = {
        "Champions": (40, 90_000, 81_000),  # lost 10%
        "At Risk": (25, 30_000, 18_000),  # lost 40%
        "Hibernating": (20, 10_000, 2_000),  # lost 80%, but only 5 customers now
    }
    return SegmentBacktest(
        dt.date(2010, 12, 1),
        tuple(SegmentLoss(s, *spent.get(s, (0, 0.0, 0.0))) for s in SEGMENTS),
    )


def test_a_segment_puts_its_back_tested_loss_at_stake() -> None:
    a = analysis(
        dataset=dataset(),
        segments=segments(backtest()),
        totals={"trailing": totals(net=500_000)},
    )
    recs = {r.key: r for r in segment_losses(a)}
    # Champions: 100,000 x 10% = 10,000; At Risk: 20,000 x 40% = 8,000; both at least 1%
    # of the year's 500,000. Hibernating has under 10 customers now: not a finding.
    assert sorted(recs) == ["segment_at_risk", "segment_champions"]
    assert recs["segment_champions"].at_stake == pytest.approx(10_000.0)
    assert recs["segment_at_risk"].at_stake == pytest.approx(8_000.0)
    assert recs["segment_at_risk"].evidence.endswith(
        "back-test: the 25 At Risk customers of 1 Dec 2010 spent £30k in the 365 days before "
        "and £18k in the 365 days after (−40.0%)"
    )
    # below 1% of the year's net sales, a loss is not worth a recommendation
    small = analysis(
        dataset=dataset(), segments=segments(backtest()), totals={"trailing": totals(net=1e7)}
    )
    assert list(segment_losses(small)) == []


def test_without_a_back_test_priority_segments_say_they_cannot_estimate_and_rank_last() -> None:
    a = analysis(
        dataset=dataset(),
        segments=segments(None),
        totals={"trailing": totals(net=1_000_000)},
        trend=trend(dt.date(2010, 1, 1), [500.0] * 12),
        trailing_countries=countries(),
    )
    ranked = recommend(a)
    unknown = [r for r in ranked if r.at_stake is None and r.key.startswith("segment")]
    assert [r.key for r in unknown] == ["segment_champions", "segment_at_risk"]  # by net sales
    assert all(r.at_stake is None for r in ranked[-3:])
    assert all(r.basis.startswith("cannot be estimated") for r in unknown)
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
