"""Every definition of BRIEF_SPEC (version 2) proven on datasets small enough to work out by hand.

Each dataset below is the whole warehouse of its tests. The expected numbers are
computed in the comments beside each assertion from the spec's definitions, never
by running the code. Each test runs on DuckDB and on PostgreSQL.

- ``LINES`` (fixture ``small``), 12 lines, Dec 2010 - Feb 2011: sales, net of
  cancellations, adjustments excluded, an exact duplicate counted once, active and
  new customers, partial periods, data quality, RFM values and quintile scores with
  a tie, invoice-amount statistics, countries; a comparison period that the start
  of the data cuts to the days both periods have data for (15-31 Dec 2010 against
  15-31 Jan 2011), and one with no data at all (no comparison).
- ``KINDS``, March 2011 (and one line on 1 Apr): a zero-amount invoice (not an
  order); the three kinds of cancellation: fees (POST, AMAZONFEE, M; POST even
  though it reverses a placed line exactly), product cancellations (a code with
  spaces around it, another customer, another price, 24 hours and 1 minute) and
  corrections (minutes later, exactly 24 hours later, a guest's, the earliest of
  two candidate placed lines, the first in time of two competing cancellations,
  one across the end of the month); invoices wholly reversed are not orders.
- ``DETAILS``, March - 5 Apr 2011: ties in time broken by invoice number (competing
  cancellations, candidate placed lines), a customer whose only invoice has a zero
  amount (neither active nor new), an invoice whose lines straddle midnight (its
  time is its earliest line's).
- ``HISTORY``, 1 Dec 2009 - 9 Dec 2011 12:50: comparisons cut at the same minute a
  year earlier and a month earlier (12:50 is in, 12:51 is out); new customers
  compared on equal look-back ("new or returning after N months", N = 1 for 2011
  against 2010, 12 for Dec 2011, 11 for Dec 2010 against Nov 2010, none on 0
  months); "no comparison" for 2010 against 2009 (31 of 365 days); months of short
  look-back marked.
- ``EDGES``: a cancellation before any purchase, a first purchase at a month's first
  instant, two invoices of one customer at the same instant.
- ``TIES``, identical and ladder customers: RFM quintiles in which equal values share a
  score at both edges and across a boundary; New Customers against a returning
  R5/F1 customer, who is Promising.
- ``BACKTEST``, Jul 2009 - Jun 2011: the segment back-test (the customers of each
  segment one window earlier, what they spent in the next window) and the revenue
  at stake of the two segment recommendations it makes.
- ``noise_rows``, Jul 2009 and Jun 2011: countries whose change is one account
  become an account action; a market that grew and one that fell across several
  customers; a rise in product cancellations smaller than one invoice's
  cancellation does not fire, the same rise over two invoices does.
- ``ACCOUNT_IN_A_CROWD``, June 2010 and June 2011: a country whose change is mostly
  one customer although the guests' change is larger (guests are not an account).
- ``ACQUISITION``, Jun 2009 - Jun 2011: the new-customer rule on equal look-back
  (N = 1) and its revenue at stake.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lgs_reports.analyses.segments import score, segment_of
from lgs_reports.queries import run_query
from lgs_reports.recommendations import recommend
from tests.handworked import UK, analysis_of, line, load_rows

C1, C2, C3 = 12345, 12346, 12347
LINES = [
    # invoice, stock, description, qty, date, price, customer, country
    ("100000", "22423", "REGENCY CAKESTAND", 4, "2010-12-15 09:00:00", "12.75", C3, UK),
    ("100001", "85123A", "HEART T-LIGHT HOLDER", 10, "2011-01-05 10:00:00", "2.50", C1, UK),
    ("100001", "22423", "REGENCY CAKESTAND", 2, "2011-01-05 10:00:00", "12.75", C1, UK),
    # an exact copy of the first line of 100001: counted once
    ("100001", "85123A", "HEART T-LIGHT HOLDER", 10, "2011-01-05 10:00:00", "2.50", C1, UK),
    ("100003", "POST", "POSTAGE", 1, "2011-01-10 11:00:00", "18.00", C2, "France"),
    ("100003", "22423", "REGENCY CAKESTAND", 1, "2011-01-10 11:00:00", "12.75", C2, "France"),
    # not a correction: 10 units were placed, 2 cancelled, 15 days later: a product cancellation
    ("C100002", "85123A", "HEART T-LIGHT HOLDER", -2, "2011-01-20 12:00:00", "2.50", C1, UK),
    ("100004", "85123A", "HEART T-LIGHT HOLDER", 4, "2011-02-03 13:00:00", "2.50", C2, "France"),
    ("100005", "85123A", "HEART T-LIGHT HOLDER", 1, "2011-02-14 14:00:00", "3.00", None, UK),
    ("A100006", "B", "Adjust bad debt", 1, "2011-02-20 15:00:00", "100.00", None, UK),
    # a price-0 line in an invoice whose amount is positive: the invoice is still an order
    ("100007", "22423", "REGENCY CAKESTAND", 1, "2011-02-25 16:00:00", "0.00", C3, UK),
    ("100007", "85123A", "HEART T-LIGHT HOLDER", 2, "2011-02-25 16:00:00", "2.50", C3, UK),
]


@pytest.fixture
def small(warehouse, tmp_path: Path):
    return load_rows(warehouse, tmp_path, LINES, "small")


def rfm_at(warehouse, snapshot: dt.date):
    """The scored RFM table at a snapshot, with the default 365-day window."""
    at = dt.datetime.combine(snapshot, dt.time())
    with warehouse.connect() as conn:
        values = run_query(
            conn, "rfm_values", snapshot=at, window_start=at - dt.timedelta(days=365)
        )
    return score(values)


# --------------------------------------------------------------------------- small


def test_monthly_sales_net_cancellations_and_exclude_adjustments(small):
    a = analysis_of(small, "2011-02")
    months = {m.month: m for m in a.trend.months}
    jan, feb, dec = (
        months[dt.date(2011, 1, 1)],
        months[dt.date(2011, 2, 1)],
        months[dt.date(2010, 12, 1)],
    )
    # January: 100001 = 10*2.50 + 2*12.75 = 50.50 (its copy ignored); 100003 = 18.00 + 12.75
    # = 30.75; gross 81.25; C100002 = -2*2.50 = -5.00; net 76.25
    assert (jan.gross, jan.cancellations, jan.net) == (81.25, -5.0, 76.25)
    # C100002 reverses no placed line exactly (10 placed, 2 cancelled): a product cancellation
    assert (jan.product_cancelled, jan.fee_value, jan.correction_value) == (-5.0, 0.0, 0.0)
    assert (jan.placed_orders, jan.cancelled_orders) == (2, 1)
    # February: 100004 = 10.00, 100005 = 3.00 (guest), 100007 = 0.00 + 5.00; A100006 excluded
    assert (feb.gross, feb.cancellations, feb.net, feb.guest_gross) == (18.0, 0.0, 18.0, 3.0)
    assert feb.placed_orders == 3  # 100007 has a price-0 line but amount 5.00 > 0: an order
    # growth of February: 18.00 / 76.25 - 1; but February is partial (data ends 25 Feb)
    assert feb.partial and (feb.days_covered, feb.days_in_month) == (25, 28)
    assert feb.growth is None
    assert jan.growth is None  # December 2010 is the first, left-censored month: no prior month
    assert dec.left_censored and not jan.left_censored
    # look-back: Dec 2010 -> Jan 2011 is 1 month, under 12: "new" includes returning there
    assert (dec.lookback_months, jan.lookback_months, feb.lookback_months) == (0, 1, 2)
    assert jan.short_lookback and feb.short_lookback


def test_active_new_and_existing_customers(small):
    a = analysis_of(small, "2011-02")
    months = {m.month: m for m in a.trend.months}
    # December 2010: C3's first purchase -> 1 active, 1 new
    assert (
        months[dt.date(2010, 12, 1)].active_customers,
        months[dt.date(2010, 12, 1)].new_customers,
    ) == (1, 1)
    # January: C1 and C2 buy for the first time; C1's cancellation does not make it "active" again
    jan = months[dt.date(2011, 1, 1)]
    assert (jan.active_customers, jan.new_customers, jan.existing_customers) == (2, 2, 0)
    # February: C2 (first in January) and C3 (first in December); the guest is not a customer
    feb = months[dt.date(2011, 2, 1)]
    assert (feb.active_customers, feb.new_customers, feb.existing_customers) == (2, 0, 2)


def test_quarter_totals_partial_and_no_comparison_before_the_data(small):
    a = analysis_of(small, "2011-Q1")
    t = a.totals["current"]
    # gross 81.25 + 18.00; cancellations -5.00; 5 orders (all positive, none corrected) and
    # 1 cancellation invoice with a product-cancellation line
    assert (t.gross, t.cancellations, t.net) == (99.25, -5.0, 94.25)
    assert (t.placed_orders, t.cancelled_orders) == (5, 1)
    assert (t.zero_invoices, t.corrected_invoices) == (0, 0)
    assert t.cancelled_value == 5.0  # minus the product cancellations
    assert t.cancellation_rate == pytest.approx(1 / 6)  # 1 / (5 + 1)
    assert t.average_order_value == pytest.approx(99.25 / 5)
    # active in Q1: C1, C2, C3; new in Q1 (first order inside it): C1, C2
    assert (t.active_customers, t.new_customers) == (3, 2)
    assert t.guest_share == pytest.approx(3.0 / 99.25)
    cov = a.dataset.coverage
    assert cov.partial and cov.snapshot == dt.date(2011, 2, 26)
    assert (
        cov.note
        == "data through 25 Feb 2011: February has 25 of 28 days; Q1 2011 has 56 of 90 days"
    )
    # Q1 2010 has no day with data (the data starts 15 Dec 2010): under half -> no comparison
    yoy = a.dataset.comparisons["yoy"]
    assert not yoy.available and yoy.reason == "the data starts 15 Dec 2010"
    for kpi in ("net_sales", "placed_orders", "cancelled_value", "new_customers"):
        c = a.kpi(kpi).comparison("yoy")
        assert (c.available, c.value, c.change) == (False, None, None), kpi
    assert a.kpi("net_sales").comparison("yoy").note == "no comparison: the data starts 15 Dec 2010"


def test_comparison_keeps_only_the_days_both_periods_have_data_for(small):
    a = analysis_of(small, "2011-01")
    # January 2011 against December 2010, whose data starts on the 15th: 17 of 31 days, at
    # least half, so compared, but only over the days with data in both: 15-31 Dec 2010
    # against 15-31 Jan 2011
    mom = a.dataset.comparisons["mom"]
    assert mom.available
    assert (mom.other.start, mom.other.end) == (dt.datetime(2010, 12, 15), dt.datetime(2011, 1, 1))
    assert (mom.current.start, mom.current.end) == (
        dt.datetime(2011, 1, 15),
        dt.datetime(2011, 2, 1),
    )
    # 15-31 Dec 2010: 100000 = 4 * 12.75 = 51.00, one order
    dec = a.totals["mom"]
    assert (dec.net, dec.placed_orders) == (51.0, 1)
    # 15-31 Jan 2011: only C100002 (-5.00): 100001 (5 Jan) and 100003 (10 Jan) are outside
    jan = a.totals["current@mom"]
    assert (jan.gross, jan.net, jan.placed_orders, jan.cancelled_orders) == (0.0, -5.0, 0, 1)
    net = a.kpi("net_sales")
    assert net.value == 76.25  # the whole of January is still the period's figure
    c = net.comparison("mom")
    assert (c.available, c.value, c.current) == (True, 51.0, -5.0)
    assert c.change == pytest.approx(-5.0 / 51.0 - 1)
    # new customers: the look-back of 15 Dec 2010 is 0 months -> no new-customer comparison
    assert not a.kpi("new_customers").comparison("mom").available
    # January 2010 has no data at all: no year-over-year comparison
    assert not a.dataset.comparisons["yoy"].available


def test_data_quality_counts(small):
    a = analysis_of(small, "2011-02")
    q = a.quality.warehouse
    assert (q.raw_lines, q.distinct_lines, q.duplicate_copies) == (12, 11, 1)
    assert q.duplicate_value == 25.0  # the copy: 10 * 2.50
    assert q.guest_lines == 2  # 100005 and A100006
    assert (q.cancelled_lines, q.adjustment_lines, q.adjustment_value) == (1, 1, 100.0)
    assert q.zero_price_lines == 1
    assert (q.non_product_lines, q.non_product_value) == (2, 18.0)  # POST, B; B is an adjustment
    assert q.reversed_lines == 0
    assert dict((c, n) for c, n, _ in a.quality.non_product_codes) == {"POST": 1, "B": 1}
    k = a.quality.cancellations_all  # the whole warehouse: C100002 is its only cancellation
    assert (k.product_value, k.product_lines, k.cancelled_orders) == (-5.0, 1, 1)
    assert (k.fee_value, k.fee_lines, k.correction_value, k.correction_lines) == (0, 0, 0, 0)
    assert (k.zero_invoices, k.corrected_invoices) == (0, 0)


def test_rfm_scores_by_hand(small):
    a = analysis_of(small, "2011-02")
    table = a.segments.table.set_index("customer_id")
    # snapshot 26 Feb 2011 (data ends inside February); window from 26 Feb 2010
    # C1: last 5 Jan -> 52 days, 1 order, 50.50 - 5.00 = 45.50
    # C2: last 3 Feb -> 23 days, 2 orders, 30.75 + 10.00 = 40.75
    # C3: last 25 Feb -> 1 day, 2 orders, 51.00 + 5.00 = 56.00
    assert table.loc[C1, ["recency", "frequency", "monetary"]].tolist() == [52, 1, 45.5]
    assert table.loc[C2, ["recency", "frequency", "monetary"]].tolist() == [23, 2, 40.75]
    assert table.loc[C3, ["recency", "frequency", "monetary"]].tolist() == [1, 2, 56.0]
    # score = 1 + floor(5 w / 3), w = customers strictly worse
    # R (longer is worse): C1 w=0 -> 1; C2 w=1 -> 1 + floor(5/3) = 2; C3 w=2 -> 1 + floor(10/3) = 4
    # F: C1 w=0 -> 1; C2 and C3 tie at 2 orders, w=1 for both -> 2 (no customer_id tie-break)
    # M: C2 40.75 w=0 -> 1; C1 45.50 w=1 -> 2; C3 56.00 w=2 -> 4
    assert table.loc[[C1, C2, C3], "r"].tolist() == [1, 2, 4]
    assert table.loc[[C1, C2, C3], "f"].tolist() == [1, 2, 2]
    assert table.loc[[C1, C2, C3], "m"].tolist() == [2, 1, 4]
    # (R, F): C1 (1, 1) and C2 (2, 2) Hibernating; C3 (4, 2) Potential Loyalists
    assert table.loc[[C1, C2, C3], "segment"].tolist() == [
        "Hibernating",
        "Hibernating",
        "Potential Loyalists",
    ]
    assert table.loc[C1, "last_purchase"] == "2011-01-05"
    assert table.loc[C1, "country"] == UK and table.loc[C2, "country"] == "France"


def test_invoice_amount_statistics(small):
    a = analysis_of(small, "2011-Q1")
    s = a.invoice_amounts
    # orders of Q1 (positive, none corrected): 50.50, 30.75, 10.00, 3.00, 5.00
    assert s.invoices == 5
    assert (s.minimum, s.maximum) == (3.0, 50.5)
    assert s.mean == pytest.approx(99.25 / 5)
    assert s.median == pytest.approx(10.0)
    assert s.mode == 3.0  # all equally frequent: the smallest
    # 85th percentile, continuous: sorted 3, 5, 10, 30.75, 50.5; position 0.85 * 4 = 3.4
    assert s.p85 == pytest.approx(30.75 + 0.4 * (50.5 - 30.75))


def test_countries_share_and_change(small):
    a = analysis_of(small, "2011-02")
    rows = {r.country: r for r in a.countries.all_rows}
    # February: UK 3.00 + 5.00 = 8.00; France 10.00; total 18.00
    assert rows[UK].net == 8.0 and rows["France"].net == 10.0
    assert rows["France"].share == pytest.approx(10 / 18)
    assert a.countries.rows[0].country == "France"
    assert rows["France"].previous_net is None  # February 2010 has no data: no comparison
    assert a.countries.total_change is None  # nor any country: no base to compare with
    # France's only customer C2 makes all of its sales: an account, not a market
    assert rows["France"].top_customer == C2 and rows["France"].is_account


# --------------------------------------------------------------------------- kinds

K1, K2 = 50001, 50002
KINDS = [
    line("600002", "22423", 20, "2011-03-01 08:00:00", "12.75", K2),  # 255.00, an order
    # a zero-amount stock entry without a customer: not an order, counted in data quality
    line("600001", "22139", 5, "2011-03-02 09:00:00", "0.00", None, description="damaged"),
    # fees and adjustments: not product codes. C600010 reverses 600020 exactly, but a fee is
    # checked first: it stays a fee and 600020 stays an order
    line("600020", "POST", 1, "2011-03-03 09:00:00", "18.00", K1),
    line("C600010", "POST", -1, "2011-03-03 10:00:00", "18.00", K1),  # fee -18.00
    line("C600011", "AMAZONFEE", -1, "2011-03-04 10:00:00", "50.00", None),  # fee -50.00
    line("C600012", "M", -1, "2011-03-04 11:00:00", "5.00", K2),  # fee -5.00
    line("C600012", "22697", -1, "2011-03-04 11:00:00", "2.95", K2),  # product -2.95
    # a product code with spaces around it is a product: product cancellation -7.65
    line("C600013", " 85123A ", -3, "2011-03-05 10:00:00", "2.55", K2),
    # a correction 5 minutes later of one of two lines: 600030 stays an order
    line("600030", "22423", 2, "2011-03-07 10:00:00", "12.75", K1),  # 25.50
    line("600030", "85123A", 6, "2011-03-07 10:00:00", "2.55", K1),  # 15.30
    line("C600031", "22423", -2, "2011-03-07 10:05:00", "12.75", K1),  # correction -25.50
    # not corrections: another customer, another price, 24 hours and 1 minute later
    line("600040", "21212", 5, "2011-03-08 10:00:00", "1.00", K1),
    line("C600041", "21212", -5, "2011-03-08 11:00:00", "1.00", K2),  # product -5.00
    line("600050", "21213", 4, "2011-03-09 10:00:00", "2.00", K1),
    line("C600051", "21213", -4, "2011-03-09 11:00:00", "2.10", K1),  # product -8.40
    line("600060", "21214", 3, "2011-03-10 10:00:00", "5.00", K1),
    line("C600061", "21214", -3, "2011-03-11 10:01:00", "5.00", K1),  # product -15.00
    # exactly 24 hours later: a correction (inclusive); 600070 keeps its other line: an order
    line("600070", "21215", 2, "2011-03-12 10:00:00", "4.00", K2),  # 8.00
    line("600070", "21216", 1, "2011-03-12 10:00:00", "3.00", K2),  # 3.00
    line("C600071", "21215", -2, "2011-03-13 10:00:00", "4.00", K2),  # correction -8.00
    # every line of 600080 reversed: not an order
    line("600080", "21217", 10, "2011-03-14 09:00:00", "1.50", K2),  # 15.00
    line("600080", "21218", 1, "2011-03-14 09:00:00", "30.00", K2),  # 30.00
    line("C600081", "21217", -10, "2011-03-14 09:30:00", "1.50", K2),  # correction -15.00
    line("C600081", "21218", -1, "2011-03-14 09:30:00", "30.00", K2),  # correction -30.00
    # two candidate placed lines within 24 hours: the earliest (600090) is reversed
    line("600090", "21219", 1, "2011-03-15 09:00:00", "20.00", K1),
    line("600091", "21219", 1, "2011-03-15 12:00:00", "20.00", K1),
    line("C600092", "21219", -1, "2011-03-15 15:00:00", "20.00", K1),  # correction -20.00
    # two cancellations compete for one placed line: the first in time takes it, although
    # its invoice number is the higher one; the other is a product cancellation
    line("600100", "21220", 1, "2011-03-16 09:00:00", "12.00", K2),
    line("C600102", "21220", -1, "2011-03-16 10:00:00", "12.00", K2),  # correction -12.00
    line("C600101", "21220", -1, "2011-03-16 11:00:00", "12.00", K2),  # product -12.00
    # both without a customer: a correction
    line("600110", "21221", 2, "2011-03-17 09:00:00", "3.00", None),
    line("C600111", "21221", -2, "2011-03-17 09:10:00", "3.00", None),  # correction -6.00
    # reversed two hours later, in April: pairs are found whatever the period
    line("600120", "21222", 1, "2011-03-31 23:00:00", "11.00", K1),
    line("C600121", "21222", -1, "2011-04-01 01:00:00", "11.00", K1),  # correction -11.00
]


@pytest.fixture
def kinds(warehouse, tmp_path: Path):
    return load_rows(warehouse, tmp_path, KINDS, "kinds")


def test_orders_exclude_zero_amount_and_wholly_corrected_invoices(kinds):
    a = analysis_of(kinds, "2011-03")
    t = a.totals["current"]
    # gross, every placed line of March (a reversed line is still a placed line):
    # 255 + 0 + 18 + (25.50 + 15.30) + 5 + 8 + 15 + (8 + 3) + (15 + 30) + 20 + 20 + 12 + 6 + 11
    # = 466.80
    assert t.gross == pytest.approx(466.80)
    # cancellations of every kind: fees -73.00, products -51.00, corrections -116.50 (below)
    assert t.cancellations == pytest.approx(-240.50)
    assert t.net == pytest.approx(466.80 - 240.50)  # 226.30
    # orders: 600002, 600020, 600030, 600040, 600050, 600060, 600070, 600091 = 8;
    # not orders: 600001 (amount 0), and wholly reversed 600080, 600090, 600100, 600110,
    # 600120 (by the April correction)
    assert t.placed_orders == 8
    assert (t.zero_invoices, t.corrected_invoices) == (1, 5)
    # 255 + 18 + 40.80 + 5 + 8 + 15 + 11 + 20 = 372.80; average 372.80 / 8 = 46.60
    assert t.order_gross == pytest.approx(372.80)
    assert t.average_order_value == pytest.approx(46.60)
    # K1 and K2 both ordered, for the first time; the guest is no customer
    assert (t.active_customers, t.new_customers) == (2, 2)
    assert t.guest_gross == pytest.approx(6.0)  # 600001 (0.00) + 600110 (6.00)
    stats = a.invoice_amounts
    # orders' amounts: 5, 8, 11, 15, 18, 20, 40.80, 255
    assert (stats.invoices, stats.minimum, stats.maximum) == (8, 5.0, 255.0)
    assert stats.median == pytest.approx((15 + 18) / 2)


def test_three_kinds_of_cancellation(kinds):
    a = analysis_of(kinds, "2011-03")
    t = a.totals["current"]
    # fees: POST -18.00, AMAZONFEE -50.00, M -5.00 = -73.00 in 3 lines
    assert (t.fee_value, t.fee_lines) == (pytest.approx(-73.0), 3)
    # products: 22697 -2.95, ' 85123A ' -7.65, another customer -5.00, another price -8.40,
    # 24h01m -15.00, the later of two competing cancellations -12.00 = -51.00 in 6 lines
    assert (t.product_cancelled, t.product_lines) == (pytest.approx(-51.0), 6)
    # corrections: -25.50, -8.00 (24 hours), -15.00 - 30.00 (600080), -20.00 (600090),
    # -12.00 (C600102), -6.00 (guests) = -116.50 in 7 lines; C600121 is in April
    assert (t.correction_value, t.correction_lines) == (pytest.approx(-116.5), 7)
    # cancelled orders: invoices with a product-cancellation line: C600012 (with its fee),
    # C600013, C600041, C600051, C600061, C600101 = 6; the fee-only C600010, C600011 are not
    assert t.cancelled_orders == 6
    assert t.cancelled_value == pytest.approx(51.0)
    assert t.cancellation_rate == pytest.approx(6 / (8 + 6))
    assert t.largest_cancelled == pytest.approx(-15.0)  # C600061, the largest single invoice
    k = a.quality.cancellations
    assert (k.product_value, k.product_lines, k.cancelled_orders) == (pytest.approx(-51.0), 6, 6)
    assert (k.fee_value, k.fee_lines) == (pytest.approx(-73.0), 3)
    assert (k.correction_value, k.correction_lines) == (pytest.approx(-116.5), 7)
    assert (k.zero_invoices, k.corrected_invoices) == (1, 5)
    # the whole warehouse adds April's correction: -116.50 - 11.00 = -127.50 in 8 lines
    k = a.quality.cancellations_all
    assert (k.correction_value, k.correction_lines) == (pytest.approx(-127.5), 8)
    assert (k.product_lines, k.fee_lines, k.corrected_invoices) == (6, 3, 5)
    # placed lines of March reversed: 600030/22423, 600070/21215, 600080 (2), 600090,
    # 600100, 600110, 600120 (by C600121 in April) = 8
    assert a.quality.period.reversed_lines == 8
    # the monthly series splits March the same way
    mar = next(m for m in a.trend.months if m.month == dt.date(2011, 3, 1))
    assert (mar.product_cancelled, mar.fee_value, mar.correction_value) == pytest.approx(
        (-51.0, -73.0, -116.5)
    )
    assert (mar.placed_orders, mar.cancelled_orders) == (8, 6)
    # ' 85123A ' is a product once trimmed: only POST, AMAZONFEE and M are non-product codes
    assert {c: n for c, n, _ in a.quality.non_product_codes} == {"POST": 2, "AMAZONFEE": 1, "M": 1}


def test_corrections_pair_earliest_first_in_time_order(kinds):
    a = analysis_of(kinds, "2011-03")
    listed = [
        (c.invoice_no, c.stock_code, c.amount, c.placed_invoice)
        for c in a.quality.largest_corrections
    ]
    # the five largest of March's seven corrections, largest first
    assert listed == [
        ("C600081", "21218", -30.0, "600080"),
        ("C600031", "22423", -25.5, "600030"),
        ("C600092", "21219", -20.0, "600090"),  # the earliest candidate, not 600091
        ("C600081", "21217", -15.0, "600080"),
        ("C600102", "21220", -12.0, "600100"),  # 10:00, before C600101 at 11:00
    ]
    assert a.quality.largest_corrections[1].minutes_after == 5  # 10:00 -> 10:05


T1, T2 = 51001, 51002
DETAILS = [
    # two cancellations at the same instant compete for one placed line: the lower invoice
    # number (C610003) takes it; C610004 is a product cancellation
    line("610001", "21230", 1, "2011-03-10 10:00:00", "5.00", T1),
    line("C610004", "21230", -1, "2011-03-10 11:00:00", "5.00", T1),
    line("C610003", "21230", -1, "2011-03-10 11:00:00", "5.00", T1),
    # two candidate placed lines at the same instant: the lower invoice number is reversed
    line("610012", "21231", 1, "2011-03-11 10:00:00", "7.00", T1),
    line("610011", "21231", 1, "2011-03-11 10:00:00", "7.00", T1),
    line("C610013", "21231", -1, "2011-03-11 12:00:00", "7.00", T1),
    # T2's only March invoice has a zero amount: not an order; its first order is in April
    line("610020", "21232", 3, "2011-03-12 10:00:00", "0.00", T2),
    # an invoice's time is its earliest line's: all of 610030 (6.00 + 4.00) is March's
    line("610030", "21233", 2, "2011-03-31 23:59:00", "3.00", T1),
    line("610030", "21234", 1, "2011-04-01 00:01:00", "4.00", T1),
    line("610021", "21232", 1, "2011-04-05 10:00:00", "4.00", T2),  # the last line
]


def test_ties_in_time_zero_amount_customers_and_invoice_time(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, DETAILS, "details")
    a = analysis_of(warehouse, "2011-03")
    listed = [(c.invoice_no, c.amount, c.placed_invoice) for c in a.quality.largest_corrections]
    assert listed == [("C610013", -7.0, "610011"), ("C610003", -5.0, "610001")]
    t = a.totals["current"]
    # gross 5 + 7 + 7 + 0 + (6 + 4) = 29; cancellations -5 (correction) - 5 (product)
    # - 7 (correction) = -17; net 12
    assert (t.gross, t.cancellations, t.net) == (29.0, -17.0, 12.0)
    assert (t.product_cancelled, t.correction_value) == (-5.0, -12.0)
    # orders: 610012 and 610030; 610001, 610011 wholly reversed; 610020 amount 0
    assert (t.placed_orders, t.corrected_invoices, t.zero_invoices) == (2, 2, 1)
    # March's only customer with an order is T1; T2's zero-amount invoice is no order
    assert (t.active_customers, t.new_customers) == (1, 1)
    a = analysis_of(warehouse, "2011-04")
    months = {m.month: m for m in a.trend.months}
    mar, apr = months[dt.date(2011, 3, 1)], months[dt.date(2011, 4, 1)]
    assert (mar.gross, apr.gross) == (29.0, 4.0)  # 610030's 00:01 line is March's
    # T2 is new in April, the month of its first order, not in March
    assert (mar.active_customers, mar.new_customers) == (1, 1)
    assert (apr.active_customers, apr.new_customers) == (1, 1)


# --------------------------------------------------------------------------- history

HISTORY = [
    # customers A-K are 61001-61011; every amount is in units of 1.00
    line("700001", "85123A", 10, "2009-12-01 10:00:00", "1.00", 61001),  # A, the first line
    line("700002", "85123A", 20, "2010-03-01 10:00:00", "1.00", 61001),
    line("700003", "85123A", 30, "2010-02-01 10:00:00", "1.00", 61002),  # B
    line("700004", "85123A", 10, "2009-12-10 10:00:00", "1.00", 61003),  # C
    line("700005", "85123A", 40, "2011-06-01 10:00:00", "1.00", 61003),
    line("700006", "85123A", 50, "2010-12-01 10:00:00", "1.00", 61004),  # D
    line("700007", "85123A", 60, "2011-02-01 10:00:00", "1.00", 61004),
    line("700008", "85123A", 70, "2010-03-15 10:00:00", "1.00", 61005),  # E
    line("700009", "85123A", 80, "2011-04-01 10:00:00", "1.00", 61005),
    line("700010", "85123A", 25, "2010-06-15 10:00:00", "1.00", 61011),  # K
    line("700011", "85123A", 25, "2011-12-02 10:00:00", "1.00", 61011),
    line("700012", "85123A", 100, "2010-12-09 12:50:00", "1.00", 61007),  # G, at 12:50
    line("700013", "85123A", 1000, "2010-12-09 12:51:00", "1.00", 61008),  # H, at 12:51
    line("700014", "85123A", 5, "2011-11-09 12:50:00", "1.00", 61009),  # I, at 12:50
    line("700015", "85123A", 500, "2011-11-09 12:51:00", "1.00", 61010),  # J, at 12:51
    line("700016", "85123A", 90, "2011-12-09 12:50:00", "1.00", 61006),  # F, the last line
]


@pytest.fixture
def history(warehouse, tmp_path: Path):
    return load_rows(warehouse, tmp_path, HISTORY, "history")


def test_a_year_cut_short_is_compared_up_to_the_same_minute(history):
    a = analysis_of(history, "2011")
    # 2011 up to 9 Dec 12:50: D 60, E 80, C 40, I 5, J 500, K 25, F 90 = 800 in 7 orders
    assert (a.totals["current"].net, a.totals["current"].placed_orders) == (800.0, 7)
    # 2010 up to 9 Dec 2010 12:50: B 30, A 20, E 70, K 25, D 50, G 100 (12:50) = 295 in 6
    # orders; H (12:51) is after the same moment
    yoy = a.totals["yoy"]
    assert (yoy.net, yoy.placed_orders, yoy.active_customers) == (295.0, 6, 6)
    c = a.kpi("net_sales").comparison("yoy")
    assert (c.available, c.value) == (True, 295.0)
    assert c.change == pytest.approx(800 / 295 - 1)
    assert a.kpi("placed_orders").comparison("yoy").change == pytest.approx(7 / 6 - 1)


def test_new_customers_compared_on_equal_lookback(history):
    a = analysis_of(history, "2011")
    # first-ever orders in 2011: I, J, F = 3 (C, E first bought in 2009-10, D in Dec 2010,
    # K in June 2010)
    kpi = a.kpi("new_customers")
    assert kpi.value == 3
    # look-back of 2011: Dec 2009 -> Jan 2011 = 13 months; of 2010: Dec 2009 -> Jan 2010 = 1;
    # N = min(13, 1, 12) = 1: "new or returning after 1 month"
    # 2011: an order in 2011 and none in Dec 2010: C, E, I, J, K, F = 6 (D bought 1 Dec 2010)
    # 2010 up to 9 Dec 12:50: an order and none in Dec 2009: B, E, K, D, G = 5 (A bought in
    # Dec 2009; H is after 12:50)
    c = kpi.comparison("yoy")
    assert (c.available, c.lookback_months, c.current, c.value) == (True, 1, 6.0, 5.0)
    assert c.change == pytest.approx(6 / 5 - 1)  # +20%, where first-ever, 3 against 5, is -40%
    assert a.quality.lookback_months == 13


def test_a_partial_month_is_compared_up_to_the_same_minute_a_year_and_a_month_earlier(history):
    a = analysis_of(history, "2011-12")
    # 1 - 9 Dec 2011 12:50: K 25 + F 90 = 115
    assert a.totals["current"].net == 115.0
    net = a.kpi("net_sales")
    # 1 - 9 Dec 2010 12:50: D 50 + G 100 = 150; H at 12:51 is out
    yoy = net.comparison("yoy")
    assert (yoy.available, yoy.value) == (True, 150.0)
    assert yoy.change == pytest.approx(115 / 150 - 1)
    # 1 - 9 Nov 2011 12:50: I 5; J at 12:51 is out
    mom = net.comparison("mom")
    assert (mom.available, mom.value) == (True, 5.0)
    assert mom.change == pytest.approx(115 / 5 - 1)
    kpi = a.kpi("new_customers")
    assert kpi.value == 1  # F; K first bought in June 2010
    # yoy: look-backs 24 and 12 months -> N = 12. Dec 2011: K (none since June 2010) and F
    # = 2; Dec 2010 to 12:50: D and G = 2 (nothing in Dec 2009 - Nov 2010)
    c = kpi.comparison("yoy")
    assert (c.lookback_months, c.current, c.value, c.change) == (12, 2.0, 2.0, 0.0)
    # mom: look-backs 24 and 23 -> N = 12. Nov 2011 to 12:50: I = 1; Dec 2011: 2
    c = kpi.comparison("mom")
    assert (c.lookback_months, c.current, c.value) == (12, 2.0, 1.0)
    assert c.change == pytest.approx(2 / 1 - 1)


def test_no_comparison_when_the_data_starts_in_the_comparison_period(history):
    a = analysis_of(history, "2010")
    # 2009 has data on 31 of its 365 days (from 1 Dec): under half -> no comparison
    yoy = a.dataset.comparisons["yoy"]
    assert not yoy.available
    for kpi in a.kpis:
        c = kpi.comparison("yoy")
        assert (c.available, c.value, c.change) == (False, None, None), kpi.key
    assert a.kpi("net_sales").comparison("yoy").note == "no comparison: the data starts 1 Dec 2009"
    assert a.countries.total_change is None
    assert all(r.previous_net is None for r in a.countries.all_rows)
    # 2010 itself: A 20, B 30, E 70, K 25, D 50, G 100, H 1000 = 1295 (nothing is cut)
    assert a.totals["current"].net == 1295.0


def test_no_new_customer_comparison_on_zero_months_of_lookback(history):
    a = analysis_of(history, "2010-12")
    # Dec 2010 against Dec 2009 (complete: the data starts 1 Dec 2009): D 50 + G 100 + H 1000
    # = 1150 against A 10 + C 10 = 20
    net = a.kpi("net_sales").comparison("yoy")
    assert (net.available, net.value) == (True, 20.0)
    assert net.change == pytest.approx(1150 / 20 - 1)
    # ... but Dec 2009 has a look-back of 0 months: no new-customer comparison against it
    assert a.kpi("new_customers").value == 3  # D, G, H: first orders ever
    assert not a.kpi("new_customers").comparison("yoy").available
    # against Nov 2010: look-backs 12 and 11 -> N = 11; Dec 2010: D, G, H (none since
    # 1 Jan 2010) = 3; Nov 2010: nobody = 0, so no relative change
    c = a.kpi("new_customers").comparison("mom")
    assert (c.available, c.lookback_months, c.current, c.value, c.change) == (
        True,
        11,
        3.0,
        0.0,
        None,
    )
    months = {m.month: m for m in a.trend.months}
    # look-back of each month from Dec 2009: 0 (left-censored), 11 (short), 12 (full)
    dec09, nov10, dec10 = (
        months[dt.date(y, m, 1)] for y, m in ((2009, 12), (2010, 11), (2010, 12))
    )
    assert (dec09.lookback_months, nov10.lookback_months, dec10.lookback_months) == (0, 11, 12)
    assert dec09.left_censored and nov10.short_lookback and not dec10.short_lookback


# --------------------------------------------------------------------------- edges


EDGES = [
    # 40001 cancels in February before ever buying, then first buys at 00:00 on 1 March
    line("C500002", "85123A", -1, "2011-02-20 09:00:00", "2.00", 40001, "UK"),
    line("500001", "85123A", 3, "2011-03-01 00:00:00", "2.00", 40001, "UK"),
    # 40002 places two invoices at the same instant from two countries, cancels 5 days later
    # (over 24 hours: a product cancellation, not a correction)
    line("500010", "85123A", 1, "2011-03-15 10:00:00", "5.00", 40002, "France"),
    line("500011", "85123A", 2, "2011-03-15 10:00:00", "5.00", 40002, "Germany"),
    line("C500012", "85123A", -1, "2011-03-20 10:00:00", "5.00", 40002, "Spain"),
]


def test_boundaries_first_instant_of_a_month_and_invoices_at_the_same_instant(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, EDGES, "edges")
    a = analysis_of(warehouse, "2011-03")
    months = {m.month: m for m in a.trend.months}
    # a cancellation is not a purchase: 40001 is neither active nor new in February ...
    feb = months[dt.date(2011, 2, 1)]
    assert (feb.active_customers, feb.new_customers, feb.cancelled_orders) == (0, 0, 1)
    # ... but new in March, its first purchase at the month's first instant
    mar = months[dt.date(2011, 3, 1)]
    assert (mar.active_customers, mar.new_customers) == (2, 2)
    t = a.totals["current"]
    assert (t.active_customers, t.new_customers) == (2, 2)
    # March: 6.00 + 5.00 + 10.00 - 5.00 (C500012, a product cancellation)
    assert (t.net, t.product_cancelled, t.correction_value) == (16.0, -5.0, 0.0)
    scores = rfm_at(warehouse, dt.date(2011, 4, 1)).set_index("customer_id")
    # the latest order names the country: of two at one instant, the higher number;
    # the later cancellation from Spain is not a purchase
    assert scores.loc[40002, ["country", "frequency", "monetary"]].tolist() == ["Germany", 2, 10.0]
    assert str(scores.loc[40002, "last_purchase"].date()) == "2011-03-15"
    # 40001's February cancellation is inside the RFM window: 6.00 - 2.00
    assert scores.loc[40001, ["country", "frequency", "monetary"]].tolist() == ["UK", 1, 4.0]


# --------------------------------------------------------------------------- RFM ties

SNAPSHOT = dt.date(2011, 7, 1)  # period 2011-06, whose last day has data
# customer: (recency in days at SNAPSHOT, order amounts in the window, the last one first)
TIES = {
    901: (1, [10]),  # first order ever inside the window
    902: (1, [10]),  # also bought on 1 Mar 2010, before the window
    903: (10, [15, 15, 15, 15]),
    904: (30, [15, 15, 15, 15]),
    905: (30, [20, 20, 20]),
    906: (50, [20, 20, 10]),
    907: (100, [20, 20, 10]),  # and a product cancellation of 10.00: monetary 40
    908: (200, [20, 10]),
    909: (200, [20]),
    910: (300, [10]),
}


def ties_rows() -> list[tuple]:
    rows = []
    for customer, (recency, amounts) in TIES.items():
        last = SNAPSHOT - dt.timedelta(days=recency)
        for k, amount in enumerate(amounts):  # one order a day, going back from the last
            day = last - dt.timedelta(days=k)
            rows.append(
                line(f"9{customer}{k:02d}", "85123A", amount, f"{day} 10:00:00", "1.00", customer)
            )
    rows.append(line("990299", "85123A", 10, "2010-03-01 10:00:00", "1.00", 902))
    rows.append(line("C990799", "22423", -10, "2011-03-20 10:00:00", "1.00", 907))
    return rows


def test_quintiles_share_scores_on_ties_at_each_edge_and_across_a_boundary(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, ties_rows(), "ties")
    a = analysis_of(warehouse, "2011-06")
    table = a.segments.table.set_index("customer_id").sort_index()
    assert a.segments.snapshot == SNAPSHOT
    ids = list(TIES)
    assert table.loc[ids, "recency"].tolist() == [1, 1, 10, 30, 30, 50, 100, 200, 200, 300]
    # 902's order of 1 Mar 2010 is before the window (from 1 Jul 2010): one order in it
    assert table.loc[ids, "frequency"].tolist() == [1, 1, 4, 4, 3, 3, 3, 2, 1, 1]
    assert table.loc[ids, "monetary"].tolist() == [10, 10, 60, 60, 60, 50, 40, 30, 20, 10]
    # n = 10: score = 1 + floor(5 w / 10) = 1 + floor(w / 2), w = customers strictly worse
    # R: 300 w=0 -> 1; 200 (two) w=1 -> 1; 100 w=3 -> 2; 50 w=4 -> 3; 30 (two) w=5 -> 3;
    #    10 w=7 -> 4; 1 (two, at the top edge) w=8 -> 5
    assert table.loc[ids, "r"].tolist() == [5, 5, 4, 3, 3, 3, 2, 1, 1, 1]
    # F: the four one-order customers share w=0 -> 1 (by position they would be in the first
    #    two quintiles); 2 orders w=4 -> 3; 3 orders (three, across the 3/4 boundary) w=5 -> 3;
    #    4 orders (two) w=8 -> 5
    assert table.loc[ids, "f"].tolist() == [1, 1, 5, 5, 3, 3, 3, 3, 1, 1]
    # M: 10 (three) w=0 -> 1; 20 w=3 -> 2; 30 w=4 -> 3; 40 w=5 -> 3; 50 w=6 -> 4;
    #    60 (three tied at the top) w=7 -> 4: nobody scores M = 5
    assert table.loc[ids, "m"].tolist() == [1, 1, 4, 4, 4, 4, 3, 3, 2, 1]
    # 901 (R5, F1), first order inside the window: New Customers; 902 (R5, F1) had bought
    # before the window: Promising; 903 (4, 5), 904 (3, 5) Loyal; 905, 906 (3, 3) Need
    # Attention; 907 (2, 3), 908 (1, 3) At Risk; 909, 910 (1, 1) Hibernating
    assert table.loc[ids, "segment"].tolist() == [
        "New Customers",
        "Promising",
        "Loyal Customers",
        "Loyal Customers",
        "Need Attention",
        "Need Attention",
        "At Risk",
        "At Risk",
        "Hibernating",
        "Hibernating",
    ]
    assert table.loc[902, "first_purchase"] == "2010-03-01"
    assert a.segments.summary_of("New Customers").customers == 1
    assert a.segments.summary_of("Promising").customers == 1


def test_identical_customers_share_the_lowest_score_whatever_their_ids(warehouse, tmp_path):
    # ten customers with identical invoices, in no id order: nobody is strictly worse than
    # anybody (w = 0 for all), so every score is 1 + floor(0) = 1
    customers = [20009, 20001, 20005, 20003, 20007, 20002, 20010, 20004, 20008, 20006]
    rows = [
        line(str(300000 + i), "85123A", 1, "2011-06-01 10:00:00", "1.00", c)
        for i, c in enumerate(customers)
    ]
    load_rows(warehouse, tmp_path, rows, "identical")
    scores = rfm_at(warehouse, dt.date(2011, 6, 2))
    assert len(scores) == 10
    assert set(scores["r"]) == set(scores["f"]) == set(scores["m"]) == {1}


def test_quintiles_without_ties(warehouse, tmp_path):
    # 7 customers with 1..7 orders: w = k - 1, F = 1 + floor(5 (k - 1) / 7):
    # k=1: 1; 2: 1 + floor(5/7) = 1; 3: 1 + floor(10/7) = 2; 4: 1 + floor(15/7) = 3;
    # 5: 1 + floor(20/7) = 3; 6: 1 + floor(25/7) = 4; 7: 1 + floor(30/7) = 5
    rows = []
    n = 400000
    for k, customer in enumerate(range(30001, 30008), start=1):
        for j in range(k):
            n += 1
            rows.append(
                line(str(n), "85123A", 1, f"2011-05-{10 + j:02d} 10:00:00", "1.00", customer)
            )
    load_rows(warehouse, tmp_path, rows, "ladder")
    scores = rfm_at(warehouse, dt.date(2011, 6, 1))
    assert scores.sort_values("customer_id")["f"].tolist() == [1, 1, 2, 3, 3, 4, 5]


SEGMENT_GRID = {
    # (R, F): segment, from the table in BRIEF_SPEC
    **{(5, f): "Champions" for f in (4, 5)},
    **{(r, f): "Loyal Customers" for r in (3, 4) for f in (4, 5)},
    **{(r, f): "Potential Loyalists" for r in (4, 5) for f in (2, 3)},
    (5, 1): "New Customers",  # or Promising when they bought before the window (tested above)
    (4, 1): "Promising",
    (3, 3): "Need Attention",
    **{(3, f): "About to Sleep" for f in (1, 2)},
    **{(r, f): "At Risk" for r in (1, 2) for f in (3, 4)},
    **{(r, 5): "Can't Lose" for r in (1, 2)},
    **{(r, f): "Hibernating" for r in (1, 2) for f in (1, 2)},
}


@pytest.mark.parametrize(("r", "f"), sorted(SEGMENT_GRID))
def test_each_of_the_25_cells_lands_in_its_segment(r, f):
    assert segment_of(r, f) == SEGMENT_GRID[(r, f)]


def test_the_grid_covers_all_25_cells():
    assert len(SEGMENT_GRID) == 25


# --------------------------------------------------------------------------- back-test

H = range(7001, 7011)  # ten customers: 100.00 on 1 Jul 2009; 20.00 on 1 and 30 Jun 2011
N = range(7101, 7111)  # ten customers: 3 x 50.00 in May-June 2010; 90.00 on 2 Aug 2010
BACKTEST = [
    *(line(f"71{c}", "85123A", 100, "2009-07-01 10:00:00", "1.00", c) for c in H),
    *(line(f"72{c}", "85123A", 20, "2011-06-01 10:00:00", "1.00", c) for c in H),
    *(line(f"73{c}", "85123A", 20, "2011-06-30 10:00:00", "1.00", c) for c in H),
    # scored with H a window earlier, and never bought again
    line("717011", "85123A", 500, "2009-07-01 10:00:00", "1.00", 7011),
    *(line(f"74{c}", "85123A", 50, "2010-05-03 10:00:00", "1.00", c) for c in N),
    *(line(f"75{c}", "85123A", 50, "2010-06-01 10:00:00", "1.00", c) for c in N),
    *(line(f"76{c}", "85123A", 50, "2010-06-28 10:00:00", "1.00", c) for c in N),
    *(line(f"77{c}", "85123A", 90, "2010-08-02 10:00:00", "1.00", c) for c in N),
    # first bought in the last window: not in the back-test
    line("787201", "85123A", 10, "2011-06-30 10:00:00", "1.00", 7201),
]


def test_segment_backtest_and_revenue_at_stake(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, BACKTEST, "backtest")
    a = analysis_of(warehouse, "2011-06")
    s = a.segments
    # snapshot 1 Jul 2011; one window (365 days) earlier: 1 Jul 2010, whose window starts
    # 1 Jul 2009, the first day of data: both windows lie inside the data
    assert (s.snapshot, s.backtest.snapshot) == (SNAPSHOT, dt.date(2010, 7, 1))
    # at 1 Jul 2010, 21 customers: H and 7011 (recency 365, 1 order), N (recency 3, 3 orders)
    # R and F: H, 7011 w=0 -> 1; N w=11 -> 1 + floor(55 / 21) = 3
    # Hibernating (1, 1): H and 7011, window 10 * 100 + 500 = 1500; following year: 10 * 40 = 400
    hib = s.backtest.of("Hibernating")
    assert (hib.customers, hib.window_net, hib.following_net) == (11, 1500.0, 400.0)
    assert hib.loss_share == pytest.approx(1 - 400 / 1500)  # 11/15
    # Need Attention (3, 3): N, window 10 * 150 = 1500; following year 10 * 90 = 900
    att = s.backtest.of("Need Attention")
    assert (att.customers, att.window_net, att.following_net) == (10, 1500.0, 900.0)
    assert att.loss_share == pytest.approx(1 - 900 / 1500)  # 0.4
    assert s.backtest.of("Champions").loss_share is None  # nobody: no base
    # at 1 Jul 2011, 21 customers: H (recency 1, 2 orders, 40), N (333, 1, 90), 7201 (1, 1, 10)
    # R: N w=0 -> 1; H, 7201 w=10 -> 1 + floor(50 / 21) = 3. F: N, 7201 w=0 -> 1; H w=11 -> 3
    # H: (3, 3) Need Attention; N: (1, 1) Hibernating; 7201: (3, 1) About to Sleep
    assert (s.summary_of("Hibernating").customers, s.summary_of("Hibernating").monetary) == (
        10,
        900.0,
    )
    assert (s.summary_of("Need Attention").customers, s.summary_of("Need Attention").monetary) == (
        10,
        400.0,
    )
    assert s.summary_of("About to Sleep").customers == 1
    # revenue at stake: today's net sales of the segment times the loss share of the same
    # segment a year earlier (its customers then, not today's):
    # Hibernating 900 * 11/15 = 660; Need Attention 400 * 0.4 = 160
    # (the big accounts of the year before that spent far less, 7011 and 7101-7102, are
    # named by their own rule, proven in test_growth.py)
    recs = [r for r in recommend(a) if r.key.startswith("segment_")]
    assert [r.key for r in recs] == ["segment_hibernating", "segment_need_attention"]
    assert recs[0].rank < recs[1].rank
    assert recs[0].at_stake == pytest.approx(660.0)
    assert recs[1].at_stake == pytest.approx(160.0)
    # the back-test is quoted: 1500 before, 400 after
    assert "£1.5k" in recs[0].evidence and "£400" in recs[0].evidence
    # no other rule fires: the only off-peak fall (May 2011, -500) is one month's timing; no
    # look-back for new customers (the window a year earlier starts in the first month of
    # data); no cancellations; one country


# --------------------------------------------------------------------------- noise


def noise_rows(cancel_invoices: int) -> list[tuple]:
    """1 Jul 2009 - 30 Jun 2011: the year before the 365 days to 1 Jul 2011 in July 2009,
    that year in June 2011. The UK customer cancels 200.00 of products in that year, in
    ``cancel_invoices`` invoices, against 50.00 the year before."""
    rows = [
        line("810001", "85123A", 100, "2009-07-01 10:00:00", "10.00", 8001),  # 1000.00
        line("C810002", "22423", -5, "2009-07-02 10:00:00", "10.00", 8001),  # -50.00
        line("810003", "85123A", 100, "2011-06-30 10:00:00", "10.00", 8001),  # 1000.00
        line("820001", "85123A", 100, "2009-07-03 10:00:00", "1.00", 8101, "Australia"),
        line("820002", "85123A", 300, "2011-06-03 10:00:00", "1.00", 8101, "Australia"),
        line("830001", "85123A", 300, "2011-06-04 10:00:00", "1.00", 8201, "Germany"),
    ]
    for c in (8201, 8202, 8203, 8204):
        rows.append(line(f"83{c}", "85123A", 100, "2009-07-04 10:00:00", "1.00", c, "Germany"))
    for c in (8202, 8203, 8204):
        rows.append(line(f"84{c}", "85123A", 100, "2011-06-04 10:00:00", "1.00", c, "Germany"))
    for c in (8301, 8302, 8303):
        rows.append(line(f"85{c}", "85123A", 100, "2009-07-05 10:00:00", "1.00", c, "France"))
        rows.append(line(f"86{c}", "85123A", 150, "2011-06-05 10:00:00", "1.00", c, "France"))
    for c in (8401, 8402, 8403):
        rows.append(line(f"87{c}", "85123A", 100, "2009-07-06 10:00:00", "1.00", c, "Spain"))
        rows.append(line(f"88{c}", "85123A", 50, "2011-06-06 10:00:00", "1.00", c, "Spain"))
    qty = -20 // cancel_invoices
    for i in range(cancel_invoices):  # 22423 was never placed by 8001: product cancellations
        rows.append(line(f"C89000{i}", "22423", qty, "2011-06-29 10:00:00", "10.00", 8001))
    return rows


@pytest.mark.parametrize("cancel_invoices", [1, 2])
def test_rules_do_not_fire_on_one_account_or_one_order(warehouse, tmp_path, cancel_invoices):
    load_rows(warehouse, tmp_path, noise_rows(cancel_invoices), "noise")
    a = analysis_of(warehouse, "2011-06")
    c = a.trailing_countries
    rows = {r.country: r for r in c.all_rows}
    # the 365 days to 1 Jul 2011 (June 2011) against the 365 before (July 2009):
    # UK 1000 - 200 = 800 against 1000 - 50 = 950
    # Australia 300 against 100: +200, all of it customer 8101 -> an account
    # Germany 300 + 3 * 100 = 600 against 4 * 100 = 400: +200; its biggest customer 8201 has
    #   300 / 600 = half of the sales (not more), but all of the change (+200) -> an account
    # France 3 * 150 = 450 against 300: +150, +50 from each customer -> a market
    # Spain 3 * 50 = 150 against 300: -150, -50 from each customer -> a market
    assert {k: (r.net, r.previous_net) for k, r in rows.items()} == {
        UK: (800.0, 950.0),
        "Australia": (300.0, 100.0),
        "Germany": (600.0, 400.0),
        "France": (450.0, 300.0),
        "Spain": (150.0, 300.0),
    }
    assert rows["Australia"].is_account and (
        rows["Australia"].mover,
        rows["Australia"].mover_change,
    ) == (8101, 200.0)
    assert rows["Germany"].top_customer_share == pytest.approx(0.5)
    assert rows["Germany"].is_account and rows["Germany"].mover == 8201
    assert rows["Germany"].mover_share == pytest.approx(1.0)
    assert not rows["France"].is_account and not rows["Spain"].is_account
    recs = {r.key: r for r in recommend(a)}
    # accounts: Australia's +200 (8101) and Germany's +200 (8201) both grew: named to
    # secure, and what keeping them is worth has no measured history
    assert recs["account_swings"].at_stake is None
    assert recs["account_swings"].basis.startswith("cannot be estimated")
    assert "8101" in recs["account_swings"].text and "8201" in recs["account_swings"].text
    # the markets: France's rise, Spain's fall, carried forward
    assert recs["country_opportunities"].at_stake == pytest.approx(150.0)
    assert "France" in recs["country_opportunities"].text
    assert "Australia" not in recs["country_opportunities"].text
    assert "Germany" not in recs["country_opportunities"].text
    assert recs["country_declines"].at_stake == pytest.approx(150.0)
    # product cancellations 200 against 50: a rise of 150
    now, then = a.totals["trailing"], a.totals["trailing_before"]
    assert (now.cancelled_value, then.cancelled_value) == (200.0, 50.0)
    if cancel_invoices == 1:
        # one invoice cancelled 200, more than the rise: one order, not a trend
        assert now.largest_cancelled == -200.0
        assert "cancellations" not in recs
    else:
        # two invoices of 100: the rise (150) is larger than any one of them: it fires
        assert now.largest_cancelled == -100.0
        assert recs["cancellations"].at_stake == pytest.approx(150.0)
    # nothing else: under 10 customers in any segment, no look-back a year earlier, and no
    # off-peak month that sold anything a year earlier
    expected = {"account_swings", "country_opportunities", "country_declines"}
    assert set(recs) == expected | ({"cancellations"} if cancel_invoices == 2 else set())


NL = "Netherlands"
ACCOUNT_IN_A_CROWD = [
    line("980001", "85123A", 1000, "2010-06-01 10:00:00", "1.00", 9503),
    line("980002", "85123A", 100, "2010-06-10 10:00:00", "1.00", None, NL),
    line("980003", "85123A", 100, "2010-06-11 10:00:00", "1.00", 9501, NL),
    line("980004", "85123A", 100, "2010-06-12 10:00:00", "1.00", 9502, NL),
    line("980005", "85123A", 180, "2011-06-10 10:00:00", "1.00", None, NL),
    line("980006", "85123A", 160, "2011-06-11 10:00:00", "1.00", 9501, NL),
    line("980007", "85123A", 60, "2011-06-12 10:00:00", "1.00", 9502, NL),
    line("980008", "85123A", 1000, "2011-06-30 10:00:00", "1.00", 9503),
]


def test_a_country_is_an_account_when_one_customer_makes_most_of_the_change(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, ACCOUNT_IN_A_CROWD, "crowd")
    a = analysis_of(warehouse, "2011-06")
    row = a.countries.row(NL)
    # June 2011 against June 2010: guests 180 against 100 (+80), 9501 160 against 100 (+60),
    # 9502 60 against 100 (-40): 400 against 300, +100
    assert (row.net, row.previous_net) == (400.0, 300.0)
    # the biggest customer, 9501, has 160 / 400 = 40% of the sales (not more than half) ...
    assert row.top_customer == 9501 and row.top_customer_share == pytest.approx(0.4)
    # ... but makes +60 of the +100 change: more than half -> an account, not a market.
    # Guests are not one customer (they are many people without an id).
    assert (row.mover, row.mover_change) == (9501, 60.0)
    assert row.is_account


# --------------------------------------------------------------------------- acquisition

P = range(9101, 9117)  # sixteen customers whose first order is on 15 Jul 2009
ACQUISITION = [
    # the first day of data: 9001 is not "new or returning after 1 month" in July 2009
    line("910001", "85123A", 100, "2009-06-01 10:00:00", "1.00", 9001),
    line("910002", "85123A", 100, "2009-07-20 10:00:00", "1.00", 9001),
    *(line(f"92{c}", "85123A", 100, "2009-07-15 10:00:00", "1.00", c) for c in P),
    # 9301 orders in June 2010 (new or returning then) and June 2011 (not: June 2010 is
    # inside the month before the last 365 days)
    line("930001", "85123A", 100, "2010-06-15 10:00:00", "1.00", 9301),
    line("930002", "85123A", 100, "2011-06-15 10:00:00", "1.00", 9301),
    # 9101 comes back after two years; 9201-9203 are new
    line("940001", "85123A", 100, "2011-06-15 10:00:00", "1.00", 9101),
    *(line(f"95{c}", "85123A", 100, "2011-06-15 10:00:00", "1.00", c) for c in (9201, 9202, 9203)),
    line("960001", "85123A", 10, "2011-06-30 10:00:00", "1.00", None),  # a guest: the last line
]


def test_new_customer_rule_on_equal_lookback(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, ACQUISITION, "acquisition")
    a = analysis_of(warehouse, "2011-06")
    # the 365 days to 1 Jul 2011 against the 365 before (from 1 Jul 2009); look-backs from
    # June 2009: 13 and 1 months -> N = 1
    lookback = a.dataset.lookbacks["trailing"]
    assert lookback.months == 1
    # a year earlier: an order from 1 Jul 2009 and none in June 2009: 9101-9116 and 9301 = 17
    # (9001 bought on 1 Jun 2009), net 16 * 100 + 100 = 1700
    # the last year: an order from 1 Jul 2010 and none in June 2010: 9101, 9201-9203 = 4
    # (9301 bought on 15 Jun 2010), net 4 * 100 = 400
    assert int(lookback.other.at[0, "customers"]) == 17
    assert float(lookback.other.at[0, "net"]) == 1700.0
    assert int(lookback.current.at[0, "customers"]) == 4
    assert float(lookback.current.at[0, "net"]) == 400.0
    # 17 - 4 = 13 fewer customers, each worth 100 (the same in both years, so the shortfall
    # times this year's spend per customer and the measured fall in these customers' net
    # sales, 1700 - 400, agree): 1300 at stake
    recs = [r for r in recommend(a) if r.key == "new_customer_acquisition"]
    assert len(recs) == 1
    assert recs[0].at_stake == pytest.approx(1300.0)
    assert "new or returning after 1 month" in recs[0].evidence
