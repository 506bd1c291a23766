"""Every definition of BRIEF_SPEC proven on a dataset small enough to work out by hand.

The twelve lines below are the whole warehouse. The expected numbers in each
test are computed in the comments beside them, from the spec's definitions,
not by running the code. Each test runs on DuckDB and on PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from lgs_reports.analyses.segments import score, segment_of
from lgs_reports.analysis import analyse
from lgs_reports.config import load_settings
from lgs_reports.dataset import fetch
from lgs_reports.formats import COLUMNS
from lgs_reports.load import load_file
from lgs_reports.periods import parse_period
from lgs_reports.queries import run_query

C1, C2, C3 = 12345, 12346, 12347
LINES = [
    # invoice, stock, description, qty, date, price, customer, country
    (
        "100000",
        "22423",
        "REGENCY CAKESTAND",
        4,
        "2010-12-15 09:00:00",
        "12.75",
        C3,
        "United Kingdom",
    ),
    (
        "100001",
        "85123A",
        "HEART T-LIGHT HOLDER",
        10,
        "2011-01-05 10:00:00",
        "2.50",
        C1,
        "United Kingdom",
    ),
    (
        "100001",
        "22423",
        "REGENCY CAKESTAND",
        2,
        "2011-01-05 10:00:00",
        "12.75",
        C1,
        "United Kingdom",
    ),
    # an exact copy of the first line of 100001: counted once
    (
        "100001",
        "85123A",
        "HEART T-LIGHT HOLDER",
        10,
        "2011-01-05 10:00:00",
        "2.50",
        C1,
        "United Kingdom",
    ),
    ("100003", "POST", "POSTAGE", 1, "2011-01-10 11:00:00", "18.00", C2, "France"),
    ("100003", "22423", "REGENCY CAKESTAND", 1, "2011-01-10 11:00:00", "12.75", C2, "France"),
    (
        "C100002",
        "85123A",
        "HEART T-LIGHT HOLDER",
        -2,
        "2011-01-20 12:00:00",
        "2.50",
        C1,
        "United Kingdom",
    ),
    ("100004", "85123A", "HEART T-LIGHT HOLDER", 4, "2011-02-03 13:00:00", "2.50", C2, "France"),
    (
        "100005",
        "85123A",
        "HEART T-LIGHT HOLDER",
        1,
        "2011-02-14 14:00:00",
        "3.00",
        None,
        "United Kingdom",
    ),
    ("A100006", "B", "Adjust bad debt", 1, "2011-02-20 15:00:00", "100.00", None, "United Kingdom"),
    (
        "100007",
        "22423",
        "REGENCY CAKESTAND",
        1,
        "2011-02-25 16:00:00",
        "0.00",
        C3,
        "United Kingdom",
    ),
    (
        "100007",
        "85123A",
        "HEART T-LIGHT HOLDER",
        2,
        "2011-02-25 16:00:00",
        "2.50",
        C3,
        "United Kingdom",
    ),
]
HEADER = COLUMNS  # the warehouse's own column names


@pytest.fixture
def small(warehouse, tmp_path: Path):
    path = tmp_path / "small.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(["" if v is None else v for v in line] for line in LINES)
    load_file(warehouse, path)
    return warehouse


def analysis_of(warehouse, period: str):
    settings = load_settings(env={})
    with warehouse.reader() as reader:
        data = fetch(reader, parse_period(period), rfm_window_days=365)
    return analyse(data, settings)


def rfm_at(warehouse, snapshot: dt.date):
    """The scored RFM table at a snapshot, with the default 365-day window."""
    at = dt.datetime.combine(snapshot, dt.time())
    with warehouse.connect() as conn:
        values = run_query(
            conn, "rfm_values", snapshot=at, window_start=at - dt.timedelta(days=365)
        )
    return score(values)


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
    assert (jan.placed_orders, jan.cancelled_orders) == (2, 1)
    # February: 100004 = 10.00, 100005 = 3.00 (guest), 100007 = 0.00 + 5.00; A100006 excluded
    assert (feb.gross, feb.cancellations, feb.net, feb.guest_gross) == (18.0, 0.0, 18.0, 3.0)
    assert feb.placed_orders == 3
    # growth of February: 18.00 / 76.25 - 1; but February is partial (data ends 25 Feb)
    assert feb.partial and (feb.days_covered, feb.days_in_month) == (25, 28)
    assert feb.growth is None
    assert jan.growth is None  # December 2010 is the first, left-censored month: no prior month
    assert dec.left_censored and not jan.left_censored


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


def test_quarter_totals_partial_and_kpis(small):
    a = analysis_of(small, "2011-Q1")
    t = a.totals["current"]
    # gross 81.25 + 18.00; cancellations -5.00; 5 placed and 1 cancelled invoice
    assert (t.gross, t.cancellations, t.net) == (99.25, -5.0, 94.25)
    assert (t.placed_orders, t.cancelled_orders) == (5, 1)
    assert t.cancellation_rate == pytest.approx(1 / 6)
    assert t.average_order_value == pytest.approx(99.25 / 5)
    # active in Q1: C1, C2, C3; new in Q1 (first placed line inside it): C1, C2
    assert (t.active_customers, t.new_customers) == (3, 2)
    assert t.guest_share == pytest.approx(3.0 / 99.25)
    cov = a.dataset.coverage
    assert cov.partial and cov.snapshot == dt.date(2011, 2, 26)
    assert (
        cov.note
        == "data through 25 Feb 2011: February has 25 of 28 days; Q1 2011 has 56 of 90 days"
    )
    # the comparison is cut like-for-like: 1 Jan - 25 Feb 2010, when there was no data
    assert a.dataset.spans["yoy"].title == "1 Jan – 25 Feb 2010"
    assert a.kpi("net_sales").comparison("yoy").value is None


def test_data_quality_counts(small):
    a = analysis_of(small, "2011-02")
    q = a.quality.warehouse
    assert (q.raw_lines, q.distinct_lines, q.duplicate_copies) == (12, 11, 1)
    assert q.duplicate_value == 25.0  # the copy: 10 * 2.50
    assert q.guest_lines == 2  # 100005 and A100006
    assert (q.cancelled_lines, q.adjustment_lines, q.adjustment_value) == (1, 1, 100.0)
    assert q.zero_price_lines == 1
    assert (q.non_product_lines, q.non_product_value) == (2, 18.0)  # POST, B; B is an adjustment
    assert dict((c, n) for c, n, _ in a.quality.non_product_codes) == {"POST": 1, "B": 1}


def test_rfm_scores_by_hand(small):
    a = analysis_of(small, "2011-02")
    table = a.segments.table.set_index("customer_id")
    # snapshot 26 Feb 2011 (data ends inside February); window from 26 Feb 2010
    # C1: last 5 Jan -> 52 days, 1 invoice, 50.50 - 5.00 = 45.50
    # C2: last 3 Feb -> 23 days, 2 invoices, 30.75 + 10.00 = 40.75
    # C3: last 25 Feb -> 1 day, 2 invoices, 51.00 + 5.00 = 56.00
    assert table.loc[C1, ["recency", "frequency", "monetary"]].tolist() == [52, 1, 45.5]
    assert table.loc[C2, ["recency", "frequency", "monetary"]].tolist() == [23, 2, 40.75]
    assert table.loc[C3, ["recency", "frequency", "monetary"]].tolist() == [1, 2, 56.0]
    # NTILE(5) of 3 rows: groups 1, 2, 3. R by recency desc; F by frequency asc, ties by id
    # (C2 before C3); M by monetary asc
    assert table.loc[[C1, C2, C3], "r"].tolist() == [1, 2, 3]
    assert table.loc[[C1, C2, C3], "f"].tolist() == [1, 2, 3]
    assert table.loc[[C1, C2, C3], "m"].tolist() == [2, 1, 3]
    assert table.loc[[C1, C2, C3], "segment"].tolist() == [
        "Hibernating",
        "Hibernating",
        "Need Attention",
    ]
    assert table.loc[C1, "last_purchase"] == "2011-01-05"
    assert table.loc[C1, "country"] == "United Kingdom" and table.loc[C2, "country"] == "France"


def test_ntile_ties_are_broken_by_customer_id(warehouse, tmp_path):
    # ten customers with identical invoices: every score follows customer_id ascending
    path = tmp_path / "ties.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i, customer in enumerate(
            [20009, 20001, 20005, 20003, 20007, 20002, 20010, 20004, 20008, 20006]
        ):
            writer.writerow(
                [str(300000 + i), "85123A", "X", 1, "2011-06-01 10:00:00", "1.00", customer, "UK"]
            )
    load_file(warehouse, path)
    scores = rfm_at(warehouse, dt.date(2011, 6, 2))
    ordered = scores.sort_values("customer_id")
    expected = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert ordered["r"].tolist() == expected
    assert ordered["f"].tolist() == expected
    assert ordered["m"].tolist() == expected


def test_ntile_group_sizes_differ_by_at_most_one_larger_first(warehouse, tmp_path):
    # 7 customers: NTILE(5) groups of 2, 2, 1, 1, 1; frequency = 1..7 invoices
    path = tmp_path / "seven.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        n = 400000
        for k, customer in enumerate(range(30001, 30008), start=1):
            for j in range(k):
                n += 1
                writer.writerow(
                    [
                        str(n),
                        "85123A",
                        "X",
                        1,
                        f"2011-05-{10 + j:02d} 10:00:00",
                        "1.00",
                        customer,
                        "UK",
                    ]
                )
    load_file(warehouse, path)
    scores = rfm_at(warehouse, dt.date(2011, 6, 1))
    assert scores.sort_values("customer_id")["f"].tolist() == [1, 1, 2, 2, 3, 4, 5]


def test_boundaries_first_instant_of_a_month_and_invoices_at_the_same_instant(warehouse, tmp_path):
    path = tmp_path / "edges.csv"
    rows = [
        # 40001 cancels in February before ever buying, then first buys at 00:00 on 1 March
        ("C500002", "85123A", "X", -1, "2011-02-20 09:00:00", "2.00", 40001, "UK"),
        ("500001", "85123A", "X", 3, "2011-03-01 00:00:00", "2.00", 40001, "UK"),
        # 40002 places two invoices at the same instant from two countries, cancels later
        ("500010", "85123A", "X", 1, "2011-03-15 10:00:00", "5.00", 40002, "France"),
        ("500011", "85123A", "X", 2, "2011-03-15 10:00:00", "5.00", 40002, "Germany"),
        ("C500012", "85123A", "X", -1, "2011-03-20 10:00:00", "5.00", 40002, "Spain"),
    ]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    load_file(warehouse, path)
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
    # new-customer net: 6.00 + 5.00 + 10.00 - 5.00 (40002's cancellation; March's only)
    assert t.new_customer_net == 16.0
    scores = rfm_at(warehouse, dt.date(2011, 4, 1)).set_index("customer_id")
    # the latest placed invoice names the country: of two at one instant, the higher number;
    # the later cancellation from Spain is not a purchase
    assert scores.loc[40002, ["country", "frequency", "monetary"]].tolist() == ["Germany", 2, 10.0]
    assert str(scores.loc[40002, "last_purchase"].date()) == "2011-03-15"
    # 40001's February cancellation is inside the RFM window: 6.00 - 2.00
    assert scores.loc[40001, ["country", "frequency", "monetary"]].tolist() == ["UK", 1, 4.0]


SEGMENT_GRID = {
    # (R, F): segment, from the table in BRIEF_SPEC
    **{(5, f): "Champions" for f in (4, 5)},
    **{(r, f): "Loyal Customers" for r in (3, 4) for f in (4, 5)},
    **{(r, f): "Potential Loyalists" for r in (4, 5) for f in (2, 3)},
    (5, 1): "New Customers",
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


def test_invoice_amount_statistics(small):
    a = analysis_of(small, "2011-Q1")
    s = a.invoice_amounts
    # positive placed invoices of Q1: 50.50, 30.75, 10.00, 3.00, 5.00
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
    assert rows["United Kingdom"].net == 8.0 and rows["France"].net == 10.0
    assert rows["France"].share == pytest.approx(10 / 18)
    assert a.countries.rows[0].country == "France"
    assert rows["France"].previous_net is None  # nothing in February 2010
    assert a.countries.total_change is None  # nor any country: no base to compare with
