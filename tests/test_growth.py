"""Growth bridge, accounts, retention, products and their rules (BRIEF_SPEC version 2,
"Accounts, growth and products" and "Recommendations"), proven on datasets small enough
to work out by hand.

Each dataset below is the whole warehouse of its tests. The expected numbers are computed
in the comments beside each assertion from the spec and from the docstrings of
``lgs_reports/analyses/{bridge,accounts,retention,products}.py`` and of the rules in
``lgs_reports/recommendations.py``, never by running the code. Each test runs on DuckDB
and on PostgreSQL.

- ``BRIDGE``, June 2011 against June 2010: the growth bridge split by market (UK against
  the rest), by customer (retained, new or returning, lost, other customer lines: one
  customer with only a cancellation and a wholly corrected invoice, guests) and by orders
  x average order value (midpoint method) plus the rest (cancellations, a zero-amount and
  a wholly corrected invoice); unit prices of 0.333, 0.111 and 0.033 make the parts
  rounded one by one lose a penny, and each split still adds up to the total change.
- ``PRODUCTS``, June 2011 against June 2010: products first sold in the period (one whose
  only earlier line is a negative-quantity zero-price stock entry, one whose only earlier
  line was reversed by a correction; one first sold between the periods is not new; POST
  is no product), top products, risers and fallers, product cancellations, and price /
  volume / mix on two products (a keying error corrected minutes later counts as nothing).
- ``FOUND``: a product whose only earlier line is a positive-quantity zero-price stock
  entry ("found", a zero-amount invoice: not an order) is still new when first sold; a
  product only ever found in stock is not a product sold.
- ``ACCOUNTS``, June 2011 against June 2010: twenty customers, the top 10 and the top 10%
  (rounded up) of net sales with guests in the denominator; a customer with only a
  cancellation is not among the customers; the watch-list (the big accounts of the
  comparison whose sales fell most); guest orders above the 99th percentile.
- ``RETENTION``, Jan 2010 - Apr 2011: acquisition cohorts from the first month with 12
  months of look-back (Jan 2011; customers first seen in 2010 are in no cohort; a wholly
  corrected invoice is no first order; a cancellation does not make a customer active)
  and "of April 2010's customers, X% bought again, spending Y%"; the same cohorts for a
  quarter whose data ends on the last day of April.
- ``CUT``, 1 Feb 2010 - 31 Mar 2011: Q1 2011 against Q1 2010, whose data starts on
  1 Feb: the accounts and the new products are still those of the whole quarter.
- ``slip_rows``, Jul 2009 and Jun 2011: slipping_accounts fires on the big account of the
  year before that fell by exactly 30%, is quiet at 29.9%, ignores a small account that
  stopped buying, and leaves an account that is a country's swing to account_swings.
- ``range_rows``, Jul 2009 and Jun 2011: range_falling is quiet when the new product makes
  up for the continuing lines' fall and fires when it does not; new_products fires and
  says it cannot estimate (no year of data before last year's new products).
- ``NEW_PRODUCTS``, Jul 2008 - Jun 2011: new_products estimates from the second year of the
  products first sold the year before.

"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from lgs_reports.analyses.bridge import BridgePart, BridgeSplit, GrowthBridge
from lgs_reports.recommendations import recommend
from tests.handworked import UK, analysis_of, line, load_rows


def fired(a) -> dict:
    """The recommendations of `recommend`, by key."""
    return {r.key: r for r in recommend(a)}


def pennies(value: float) -> int:
    """Money in whole pennies, to compare sums exactly."""
    return round(value * 100)


# --------------------------------------------------------------------------- bridge

BRIDGE = [
    # June 2010, the comparison
    line("700101", "85123A", 30, "2010-06-01 09:00:00", "0.333", 201),  # 9.990, the first line
    line("700102", "22423", 10, "2010-06-02 10:00:00", "2.500", 203, "France"),  # 25.000
    # 204 cancels a product it never placed: a product cancellation, -0.333
    line("C700103", "21212", -1, "2010-06-03 10:00:00", "0.333", 204),
    line("700104", "85123A", 5, "2010-06-04 10:00:00", "1.000", None),  # a guest, 5.000
    line("700105", "85123A", 100, "2010-06-05 10:00:00", "0.333", 205, "Germany"),  # 33.300
    # between the periods: 206's earlier order (it returns in June 2011)
    line("750106", "85123A", 1, "2010-12-01 10:00:00", "1.000", 206),
    # June 2011
    line("800101", "85123A", 30, "2011-06-01 09:00:00", "0.333", 201),  # 9.990
    line("800102", "22423", 1, "2011-06-02 09:00:00", "0.300", 201),  # 0.300
    line("800103", "85123A", 200, "2011-06-03 10:00:00", "0.333", 205, "Germany"),  # 66.600
    line("800103", "22423", 1, "2011-06-03 10:00:00", "0.033", 205, "Germany"),  # 0.033
    line("800104", "85123A", 2, "2011-06-04 10:00:00", "0.111", 202),  # 0.222, new
    line("800105", "85123A", 1, "2011-06-05 10:00:00", "0.111", 206),  # 0.111, returning
    line("C800106", "21212", -2, "2011-06-06 10:00:00", "0.333", 204),  # product, -0.666
    # 204's only invoice is reversed ten minutes later: not an order
    line("800107", "21213", 1, "2011-06-07 10:00:00", "0.500", 204),
    line("C800108", "21213", -1, "2011-06-07 10:10:00", "0.500", 204),
    line("800109", "85123A", 5, "2011-06-08 10:00:00", "1.000", None),  # a guest, 5.000
    # a zero-amount stock entry: not an order
    line("800111", "22139", 5, "2011-06-10 10:00:00", "0.000", None, description="found"),
    line("800110", "22423", 1, "2011-06-30 23:59:00", "0.033", None),  # 0.033, the last line
]


def test_bridge_splits_add_up_to_the_penny_with_sub_penny_prices(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, BRIDGE, "bridge")
    a = analysis_of(warehouse, "2011-06")
    b = a.bridge
    # June 2010: 9.990 + 25.000 - 0.333 + 5.000 + 33.300 = 72.957
    # June 2011: 201 9.990 + 0.300 = 10.290; 205 66.633; 202 0.222; 206 0.111;
    #   204 -0.666 + 0.500 - 0.500 = -0.666; guests 5.000 + 0.033 + 0 = 5.033; = 81.623
    # change 81.623 - 72.957 = 8.666 -> 8.67 (the rounded totals, 81.62 - 72.96, say 8.66)
    assert (b.previous_net, b.current_net, b.change) == (72.96, 81.62, 8.67)
    for split in b.splits:
        assert sum(pennies(p.change) for p in split.parts) == 867, split.key
        assert pennies(split.total) == 867, split.key
    # by market: UK 14.990 - 14.657 (9.990 - 0.333 + 5.000) = +0.333; the rest (France,
    # Germany) 66.633 - 58.300 = +8.333; rounded one by one 0.33 + 8.33 = 8.66, a penny
    # short: the largest part takes it (bridge._pennies)
    market = {p.key: p for p in b.split("market").parts}
    assert (market["home"].change, market["abroad"].change) == (0.33, 8.34)
    assert (market["home"].previous, market["home"].current) == (14.66, 14.99)
    assert (market["abroad"].previous, market["abroad"].current) == (58.3, 66.63)
    # by customer: retained 201 + 205 (an order in both) 43.290 -> 76.923, +33.633;
    # new or returning 202 (new) + 206 (returning: bought in Dec 2010, not in June 2010)
    # +0.333; lost 203 (ordered only in June 2010) -25.000; other customer lines 204 (no
    # order in either: a cancellation in both, a wholly corrected invoice) -0.666 - -0.333
    # = -0.333; guests 5.033 - 5.000 = +0.033. One by one: 33.63 + 0.33 - 25.00 - 0.33 + 0.03
    # = 8.66, a penny short: the retained customers, the largest part, take it
    customer = {p.key: p.change for p in b.split("customer").parts}
    assert customer == {
        "retained": 33.64,
        "new": 0.33,
        "lost": -25.0,
        "other": -0.33,
        "guests": 0.03,
    }
    parts = {p.key: p for p in b.split("customer").parts}
    assert (parts["lost"].previous, parts["lost"].current) == (25.0, 0.0)
    assert (parts["retained"].previous, parts["retained"].current) == (43.29, 76.92)
    # orders: June 2010 700101, 700102, 700104, 700105 = 4, gross 73.290, AOV 18.3225;
    # June 2011 800101-800105, 800109, 800110 = 7 (800107 wholly corrected, 800111 zero),
    # gross 82.289, AOV 11.7555714...
    # orders effect = 3 x (18.3225 + 11.7555714) / 2 = 45.1171071 -> 45.12
    # value effect = (11.7555714 - 18.3225) x (4 + 7) / 2 = -36.1181071 -> -36.12
    # rest = (81.623 - 82.289) - (72.957 - 73.290) = -0.666 + 0.333 = -0.333 -> -0.33
    orders = {p.key: p.change for p in b.split("orders").parts}
    assert orders == {"orders": 45.12, "value": -36.12, "rest": -0.33}
    assert (a.totals["yoy"].placed_orders, a.totals["current"].placed_orders) == (4, 7)


def test_bridge_sentence_names_every_customer_part_so_they_add_up():
    # 2011 against 2010 to the same moment (BRIEF_SPEC: +176,229.20; UK -39,272.76, the rest
    # +215,501.96); by customer -371,864.21 + 1,465,398.82 - 1,066,123.10 + 60,213.17
    # + 88,604.52 = 176,229.20: without the guests and the other lines (+£149k) the sentence
    # would add up to £28k
    def parts(**changes):
        return tuple(BridgePart(key, key, change) for key, change in changes.items())

    market = BridgeSplit("market", "By market", parts(home=-39272.76, abroad=215501.96))
    customer = parts(
        retained=-371864.21, new=1465398.82, lost=-1066123.10, other=60213.17, guests=88604.52
    )
    bridge = GrowthBridge(
        comparison="1 Jan – 9 Dec 2010",
        previous_net=8814134.20,
        current_net=8990363.40,
        change=176229.20,
        splits=(market, BridgeSplit("customer", "By customer", customer)),
        movers=((17450, 139196.11), (12415, 104181.61)),
    )
    assert bridge.sentence == (
        "Net sales rose £176k against 1 Jan – 9 Dec 2010: outside the United Kingdom +£216k "
        "and the United Kingdom −£39k. New or returning customers brought £1.47m and lost "
        "customers took £1.07m, while retained customers spent £372k less; guest orders (no "
        "customer account) +£89k and other customer lines (cancellations, corrections) +£60k. "
        "Two accounts made more than the whole change: 17450 (+£139k) and 12415 (+£104k)."
    )
    # a part that is nothing is not named
    quiet = parts(
        retained=-371864.21, new=1465398.82, lost=-1066123.10, other=0.0, guests=148817.69
    )
    bridge = dataclasses.replace(
        bridge, splits=(market, BridgeSplit("customer", "By customer", quiet)), movers=()
    )
    assert bridge.sentence.endswith(
        "retained customers spent £372k less; guest orders (no customer account) +£149k."
    )


# --------------------------------------------------------------------------- products

A, B = "85123A", "22423"  # sold in both periods
N1, N2, N3 = "21001", "21002", "21003"  # first sold in June 2011
OLD, LEFT = "21004", "21005"  # first sold in Dec 2010; sold only in June 2010
PRODUCTS = [
    # June 2010
    line("710001", A, 10, "2010-06-01 09:00:00", "2.000", 301),  # 20.00, the first line
    line("710002", B, 10, "2010-06-02 10:00:00", "10.000", 301),  # 100.00
    line("710003", LEFT, 5, "2010-06-03 10:00:00", "4.000", 301),  # 20.00
    # between the periods
    line("760001", OLD, 1, "2010-12-01 10:00:00", "3.000", 301),  # OLD first sold here
    # a negative-quantity zero-price stock entry is no sale of N2
    line("760002", N2, -3, "2011-01-10 10:00:00", "0.000", None, description="damaged"),
    # N3's only earlier line is reversed five minutes later: never sold
    line("760003", N3, 2, "2011-03-01 10:00:00", "6.000", 301),
    line("C760004", N3, -2, "2011-03-01 10:05:00", "6.000", 301),
    # June 2011
    line("810001", A, 15, "2011-06-01 09:00:00", "2.200", 301),  # 33.00
    line("C810002", A, -1, "2011-06-03 09:00:00", "2.200", 301),  # product cancellation -2.20
    # a keying error corrected two minutes later: 0 net, and no units sold
    line("810003", A, 1000, "2011-06-05 09:00:00", "2.200", 301),
    line("C810004", A, -1000, "2011-06-05 09:02:00", "2.200", 301),
    line("810005", B, 7, "2011-06-06 10:00:00", "9.000", 301),  # 63.00
    line("810006", N1, 4, "2011-06-07 10:00:00", "5.000", 301),  # 20.00
    line("810007", N2, 2, "2011-06-08 10:00:00", "5.000", 301),  # 10.00
    line("810008", N3, 1, "2011-06-09 10:00:00", "6.000", 301),  # 6.00
    line("810009", OLD, 3, "2011-06-10 10:00:00", "3.000", 301),  # 9.00
    line("810010", "POST", 1, "2011-06-30 23:59:00", "15.000", 301),  # no product; the last
]


@pytest.fixture
def products_wh(warehouse, tmp_path: Path):
    return load_rows(warehouse, tmp_path, PRODUCTS, "products")


def test_new_products_top_risers_fallers_and_cancellations(products_wh):
    p = analysis_of(products_wh, "2011-06").products
    # net sales of June 2011 per product: A 33.00 - 2.20 + 2200 - 2200 = 30.80; B 63.00;
    # N1 20.00; N2 10.00; N3 6.00; OLD 9.00 (POST is no product; LEFT sold nothing)
    assert (p.codes, p.net) == (6, pytest.approx(138.8))
    assert [(x.stock_code, x.net) for x in p.top] == [
        (B, 63.0),
        (A, pytest.approx(30.8)),
        (N1, 20.0),
        (N2, 10.0),
        (OLD, 9.0),
        (N3, 6.0),
    ]
    # first sold in June 2011: N1; N2 (its earlier line is a stock entry of -3 at 0.00);
    # N3 (its earlier line was reversed by a correction); not OLD (first sold Dec 2010)
    assert [x.stock_code for x in p.new_top] == [N1, N2, N3]
    assert (p.new_codes, p.new_net) == (3, 36.0)  # 20 + 10 + 6
    assert p.new_lookback_short is False  # June 2010 -> June 2011: 12 months
    firsts = {x.stock_code: x.first_sold for x in p.new_top}
    assert firsts[N2] == dt.datetime(2011, 6, 8, 10) and firsts[N3] == dt.datetime(2011, 6, 9, 10)
    # change against June 2010: N1 +20, A 30.80 - 20 = +10.80, N2 +10, OLD +9, N3 +6;
    # B 63 - 100 = -37, LEFT 0 - 20 = -20
    assert [(x.stock_code, x.change) for x in p.risers] == [
        (N1, 20.0),
        (A, pytest.approx(10.8)),
        (N2, 10.0),
        (OLD, 9.0),
        (N3, 6.0),
    ]
    assert [(x.stock_code, x.change) for x in p.fallers] == [(B, -37.0), (LEFT, -20.0)]
    # product cancellations: A's -1 x 2.20 two days later (the -1000 is a correction)
    assert [(x.stock_code, x.product_cancelled, x.product_lines) for x in p.cancelled] == [
        (A, pytest.approx(-2.2), 1)
    ]


def test_price_volume_mix_on_two_products(products_wh):
    v = analysis_of(products_wh, "2011-06").products.pvm
    # sold in both (placed lines no correction reversed): A and B only
    # A: 10 units for 20.00 (p0 2.00) -> 15 units for 33.00 (p1 2.20; the 1000 reversed are
    #    not sold, the cancellation is no placed line)
    # B: 10 units for 100.00 (p0 10.00) -> 7 units for 63.00 (p1 9.00)
    # R0 = 120, Q0 = 20, R1 = 96, Q1 = 22
    assert (v.products, v.units, v.previous_units) == (2, 22, 20)
    assert (v.value, v.previous_value) == (pytest.approx(96.0), pytest.approx(120.0))
    # volume = (Q1 - Q0) x R0 / Q0 = 2 x 6 = 12
    assert v.volume == pytest.approx(12.0)
    # mix = Q1 x sum((s1 - s0) x p0) = 22 x ((15/22 - 10/20) x 2 + (7/22 - 10/20) x 10)
    #     = (15 x 2 + 7 x 10) - 22 x 6 = 100 - 132 = -32
    assert v.mix == pytest.approx(-32.0)
    # price = sum(q1 x (p1 - p0)) = 15 x 0.20 + 7 x (-1.00) = -4
    assert v.price == pytest.approx(-4.0)
    # together the change in value: 12 - 32 - 4 = -24 = 96 - 120
    assert v.price + v.volume + v.mix == pytest.approx(v.value - v.previous_value)
    assert (v.average_price, v.previous_average_price) == (
        pytest.approx(96 / 22),
        pytest.approx(6.0),
    )


FOUND = [
    line("711001", "85123A", 1, "2010-06-01 09:00:00", "1.000", 301),
    # a stock entry of 10 units found, at price 0: a zero-amount invoice, not an order
    line("761001", "21006", 10, "2011-01-10 10:00:00", "0.000", None, description="found"),
    line("811001", "21006", 2, "2011-06-15 10:00:00", "1.500", 301),  # its first sale: 3.00
    # 21007 is only ever found in stock, never sold
    line("811003", "21007", 4, "2011-06-16 10:00:00", "0.000", None, description="found"),
    line("811002", "85123A", 1, "2011-06-30 23:59:00", "1.000", 301),
]


def test_a_product_only_found_in_stock_before_is_new_when_first_sold(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, FOUND, "found")
    p = analysis_of(warehouse, "2011-06").products
    # 21006 was first sold on 15 Jun 2011 (the January line is a "found" stock entry of a
    # zero-amount invoice: not an order, no sale): new in June 2011, 3.00
    assert [x.stock_code for x in p.new_top] == ["21006"]
    assert (p.new_codes, p.new_net) == (1, 3.0)
    # products sold in June 2011: 85123A (1.00) and 21006 (3.00); 21007 was never sold
    assert (p.codes, p.net) == (2, 4.0)


# --------------------------------------------------------------------------- accounts


def account_rows() -> list[tuple]:
    """Customers 401-420 spend 10 x k in June 2011 (k = 1..20); in June 2010 405 spent 300,
    410 250, 420 180, 421 50 and the other seventeen 10 each."""
    then = {405: 300, 410: 250, 420: 180, 421: 50}
    rows = []
    for k, c in enumerate(range(401, 422), start=1):
        rows.append(line(f"72{c}", "85123A", then.get(c, 10), "2010-06-01 10:00:00", "1.00", c))
        if c <= 420:
            rows.append(line(f"82{c}", "85123A", 10 * k, f"2011-06-{k:02d} 10:00:00", "1.00", c))
    rows += [
        # 421 only cancels in June 2011: no order, so not among the period's customers
        line("C830003", "22423", -1, "2011-06-23 10:00:00", "5.00", 421),
        line("830001", "85123A", 5, "2011-06-21 10:00:00", "1.00", None),  # a guest, 5.00
        line("830002", "85123A", 1000, "2011-06-30 23:59:00", "1.00", None),  # a guest, 1000.00
    ]
    return rows


def test_top_accounts_concentration_watch_list_and_large_guest_orders(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, account_rows(), "accounts")
    x = analysis_of(warehouse, "2011-06").accounts
    # net sales of June 2011: customers 10 + 20 + ... + 200 = 2100; guests 5 + 1000; 421 -5
    # = 3100, guests included
    assert x.total_net == 3100.0
    assert x.customers == 20  # 401-420; 421 placed no order
    # top 10: 420 (200) down to 411 (110): 1550 of 3100
    assert [a.customer_id for a in x.top] == list(range(420, 410, -1))
    assert x.top_share == pytest.approx(1550 / 3100)
    assert (x.top[0].net, x.top[0].previous_net, x.top[0].change) == (200.0, 180.0, 20.0)
    # top 10% of 20 customers, rounded up: 2 (420 and 419, 200 + 190 = 390); counting 421
    # too would have made it 3
    assert x.decile == 2
    assert x.decile_share == pytest.approx(390 / 3100)
    # big accounts of June 2010: its 21 customers with an order, top 10% rounded up = 3:
    # 405 (300), 410 (250), 420 (180); 405 fell 300 -> 50 (-250), 410 250 -> 100 (-150),
    # 420 rose; 421 fell 50 -> -5 but was not a big account
    assert x.watch_pool == 3
    assert [(a.customer_id, a.previous_net, a.net) for a in x.watch] == [
        (405, 300.0, 50.0),
        (410, 250.0, 100.0),
    ]
    # orders of June 2011: 5, 10, 20, ..., 200, 1000 (22); 99th percentile (continuous):
    # position 0.99 x 21 = 20.79, 200 + 0.79 x (1000 - 200) = 832; the guest's 1000 is
    # above it, the guest's 5 is not
    assert x.p99 == pytest.approx(832.0)
    assert [(g.invoice_no, g.amount) for g in x.guest_orders] == [("830002", 1000.0)]
    assert (x.guest_orders_count, x.guest_orders_total) == (1, 1000.0)


def test_an_account_with_no_order_in_the_period_shows_when_it_last_ordered(warehouse, tmp_path):
    # 431 was June 2010's biggest account, ordered in March 2011 and again in July, but not in
    # June 2011: its last order as of June 2011 is March's, not June 2010's nor July's
    rows = [
        *account_rows(),
        line("72431", "85123A", 400, "2010-06-02 10:00:00", "1.00", 431),
        line("82431", "85123A", 1, "2011-03-10 10:00:00", "1.00", 431),
        line("92431", "85123A", 1, "2011-07-04 10:00:00", "1.00", 431),
    ]
    load_rows(warehouse, tmp_path, rows, "accounts")
    x = analysis_of(warehouse, "2011-06").accounts
    fell = next(a for a in x.watch if a.customer_id == 431)
    assert (fell.previous_net, fell.net, fell.orders) == (400.0, 0.0, 0)
    assert fell.last_order == dt.datetime(2011, 3, 10, 10, 0)
    # an account that did order keeps its latest order of the period
    assert x.top[0].last_order == dt.datetime(2011, 6, 20, 10, 0)


# --------------------------------------------------------------------------- retention

RETENTION = [
    # 501-503: customers since 2010, in no cohort
    line("740001", "85123A", 10, "2010-01-04 10:00:00", "1.00", 501),  # the first line
    line("740002", "85123A", 100, "2010-04-05 10:00:00", "1.00", 501),
    line("740003", "85123A", 200, "2010-04-06 10:00:00", "1.00", 502),
    line("740004", "85123A", 50, "2010-04-07 10:00:00", "1.00", 503),
    # 505 first ordered in Dec 2010 (11 months of look-back): in no cohort
    line("740005", "85123A", 10, "2010-12-10 10:00:00", "1.00", 505),
    line("840005", "85123A", 10, "2011-01-10 10:00:00", "1.00", 505),
    # the January 2011 cohort: 511-514
    line("840011", "85123A", 1, "2011-01-03 10:00:00", "1.00", 511),
    line("840012", "85123A", 1, "2011-01-04 10:00:00", "1.00", 512),
    line("840013", "85123A", 1, "2011-01-05 10:00:00", "1.00", 513),
    line("840014", "85123A", 1, "2011-01-06 10:00:00", "1.00", 514),
    line("840021", "85123A", 1, "2011-02-03 10:00:00", "1.00", 511),
    line("840023", "85123A", 1, "2011-02-05 10:00:00", "1.00", 513),
    line("840032", "85123A", 1, "2011-03-04 10:00:00", "1.00", 512),
    line("840033", "85123A", 1, "2011-03-05 10:00:00", "1.00", 513),
    line("840041", "85123A", 1, "2011-04-04 10:00:00", "1.00", 511),
    # the February 2011 cohort: 521, 522 (522 only cancels in April: not active then)
    line("840051", "85123A", 1, "2011-02-10 10:00:00", "1.00", 521),
    line("840052", "22423", 3, "2011-02-11 10:00:00", "1.00", 522),
    line("840062", "85123A", 1, "2011-03-11 10:00:00", "1.00", 522),
    line("840071", "85123A", 1, "2011-04-10 10:00:00", "1.00", 521),
    line("C840072", "22423", -1, "2011-04-12 10:00:00", "1.00", 522),
    # the March 2011 cohort: 531, whose February invoice was reversed minutes later
    line("840080", "21001", 1, "2011-02-20 10:00:00", "5.00", 531),
    line("C840081", "21001", -1, "2011-02-20 10:05:00", "5.00", 531),
    line("840082", "85123A", 1, "2011-03-15 10:00:00", "1.00", 531),
    line("840083", "85123A", 1, "2011-04-15 10:00:00", "1.00", 531),
    # April 2011: 501 (60) and 503 (80) come back, 502 does not; 501 also bought in February
    line("840091", "85123A", 10, "2011-02-07 10:00:00", "1.00", 501),
    line("840092", "85123A", 60, "2011-04-05 10:00:00", "1.00", 501),
    line("840093", "85123A", 80, "2011-04-07 10:00:00", "1.00", 503),
    # the April 2011 cohort: 541, the last line
    line("840094", "85123A", 1, "2011-04-30 23:59:00", "1.00", 541),
]

# cohort: (customers, active in each month since), worked out from RETENTION:
# Jan 2011: 511-514; Feb 511, 513; Mar 512, 513; Apr 511
# Feb 2011: 521, 522; Mar 522; Apr 521 (522 only cancelled)
# Mar 2011: 531 (its February invoice was wholly corrected: no order); Apr 531
# Apr 2011: 541
COHORTS = {
    dt.date(2011, 1, 1): (4, (4, 2, 2, 1)),
    dt.date(2011, 2, 1): (2, (2, 1, 1)),
    dt.date(2011, 3, 1): (1, (1, 1)),
    dt.date(2011, 4, 1): (1, (1,)),
}


@pytest.fixture
def retention_wh(warehouse, tmp_path: Path):
    return load_rows(warehouse, tmp_path, RETENTION, "retention")


def test_cohorts_from_the_first_month_with_a_year_of_lookback_and_bought_again(retention_wh):
    r = analysis_of(retention_wh, "2011-04").retention
    # the data starts in January 2010: January 2011 is the first month with 12 months of
    # look-back; 501-503 (first order 2010) and 505 (Dec 2010, 11 months) are in no cohort
    assert r.cohorts_from == dt.date(2011, 1, 1)
    assert {c.month: (c.customers, c.active) for c in r.cohorts} == COHORTS
    assert r.cohorts[0].shares == (1.0, 0.5, 0.5, 0.25)
    # April 2010's customers: 501 (100), 502 (200), 503 (50); in April 2011 501 (60) and 503
    # (80) bought again: 2 of 3, spending 140 of the 350 they spent then = 40%
    again = r.bought_again
    assert (again.customers, again.again) == (3, 2)
    assert (again.previous_net, again.net) == (350.0, 140.0)
    assert again.share == pytest.approx(2 / 3)
    assert again.spend_ratio == pytest.approx(0.4)


def test_cohorts_keep_a_complete_last_month_of_a_longer_period(retention_wh):
    r = analysis_of(retention_wh, "2011-Q2").retention
    # the data ends on 30 Apr 2011 at 23:59: April has 30 of 30 days, a complete month, so
    # Q2's cohorts run to April as the month's do
    assert {c.month: (c.customers, c.active) for c in r.cohorts} == COHORTS


# --------------------------------------------------------------------------- cut comparison

CUT = [
    line("910001", "85123A", 50, "2010-02-01 10:00:00", "1.00", 902),  # the data starts here
    line("920001", "23001", 100, "2011-01-15 10:00:00", "1.00", 901),  # 23001's first sale
    line("920002", "85123A", 60, "2011-03-31 23:59:00", "1.00", 902),
]


def test_accounts_and_new_products_cover_the_whole_period_when_the_comparison_is_cut(
    warehouse, tmp_path
):
    load_rows(warehouse, tmp_path, CUT, "cut")
    a = analysis_of(warehouse, "2011-Q1")
    # Q1 2010 has data from 1 Feb (59 of 90 days, at least half): compared over 1 Feb - 31
    # Mar of both years; the period itself is still the whole of Q1 2011
    assert a.dataset.comparisons["yoy"].available
    assert a.totals["current"].net == 160.0
    x = a.accounts
    # customers with an order in Q1 2011: 901 (100, in January) and 902 (60)
    assert x.customers == 2
    assert [c.customer_id for c in x.top] == [901, 902]
    assert x.top_share == pytest.approx(160 / 160)
    # top 10% of 2 customers, rounded up: 1 (901), 100 of 160
    assert (x.decile, x.decile_share) == (1, pytest.approx(100 / 160))
    p = a.products
    # 23001 was first sold on 15 Jan 2011, inside Q1 2011: new, 100 of the 160
    assert [x.stock_code for x in p.new_top] == ["23001"]
    assert (p.new_codes, p.new_net) == (1, 100.0)
    assert (p.codes, p.net) == (2, 160.0)


# --------------------------------------------------------------------------- rules


def slip_rows(big_now: int, country: str = UK) -> list[tuple]:
    """The year before the 365 days to 1 Jul 2011 in July 2009, that year in June 2011.
    601 (in ``country``) spent 1000 then and ``big_now`` now; 602 spent 100 then and
    nothing now; 603-610 100 in both years."""
    rows = [line("860601", "85123A", 1000, "2009-07-01 10:00:00", "1.00", 601, country)]
    rows += [
        line(f"86{c}", "85123A", 100, "2009-07-02 10:00:00", "1.00", c) for c in range(602, 611)
    ]
    rows.append(line("870601", "85123A", big_now, "2011-06-01 10:00:00", "1.00", 601, country))
    rows += [
        line(f"87{c}", "85123A", 100, "2011-06-02 10:00:00", "1.00", c) for c in range(603, 610)
    ]
    rows.append(line("870610", "85123A", 100, "2011-06-30 23:59:00", "1.00", 610))  # the last
    return rows


def test_slipping_account_fires_on_a_30_percent_fall_of_a_big_account(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, slip_rows(700), "slip")
    a = analysis_of(warehouse, "2011-06")
    recs = recommend(a)
    # the year before (1 Jul 2009 - 30 Jun 2010): 10 customers with an order, top 10% rounded
    # up = 1: 601 (1000). Last year 601 spent 700: a fall of 300, 30% of 1000 (30% or more)
    # and at least 0.25% of the last year's net sales (700 + 8 x 100 = 1500; 3.75).
    # 602 stopped buying (-100, -100%) but was no big account.
    # Nothing else fires: one market (UK), 9 customers now in any segment, no look-back a
    # year earlier, no off-peak month with sales a year earlier, one product (85123A) makes
    # the whole fall of the range, no new products, no cancellations
    assert [r.key for r in recs] == ["slipping_accounts"]
    # at stake: the next 12 months if 601 keeps falling at its rate, 30% of the 700 it
    # still spends
    assert recs[0].at_stake == pytest.approx(210.0)
    assert "601" in recs[0].text and "602" not in recs[0].text
    assert "stopped buying" not in recs[0].text


def test_a_slipping_account_that_stopped_buying_is_named_with_nothing_at_stake(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, slip_rows(0), "slip")
    recs = {r.key: r for r in recommend(analysis_of(warehouse, "2011-06"))}
    # 601 spent 1000 the year before and nothing in the last year: nothing left to lose
    slipping = recs["slipping_accounts"]
    assert slipping.at_stake is None
    assert "601 (United Kingdom, £1.0k to £0). It has stopped buying: win it back." in (
        slipping.text
    )


@pytest.mark.parametrize(
    ("big_now", "country"), [(701, UK), (700, "France")], ids=["29.9%", "a country swing"]
)
def test_slipping_account_is_quiet_under_30_percent_or_on_a_country_swing(
    warehouse, tmp_path, big_now, country
):
    load_rows(warehouse, tmp_path, slip_rows(big_now, country), "slip")
    recs = {r.key: r for r in recommend(analysis_of(warehouse, "2011-06"))}
    assert "slipping_accounts" not in recs
    if country == UK:
        # 601 fell 299 of 1000: 29.9%, under 30%
        assert recs == {}
    else:
        # France (700 of 1500 net sales, -30%) is all 601: account_swings names the account,
        # at stake what it lost (300); slipping_accounts leaves it to that rule
        assert set(recs) == {"account_swings"}
        assert recs["account_swings"].at_stake == pytest.approx(300.0)


def range_rows(new_units: int) -> list[tuple]:
    """Three products sell 100 each in July 2009 and 70 each in June 2011 (-90 in all, at
    most -30 from any one); product 21104, first sold on 30 Jun 2011, sells ``new_units``."""
    rows = [
        line("880001", code, 100, "2009-07-01 10:00:00", "1.00", 701)
        for code in ("21101", "21102", "21103")
    ]
    rows += [
        line("890001", code, 70, "2011-06-01 10:00:00", "1.00", 701)
        for code in ("21101", "21102", "21103")
    ]
    rows.append(line("890002", "21104", new_units, "2011-06-30 23:59:00", "1.00", 701))
    return rows


@pytest.mark.parametrize("new_units", [90, 50])
def test_range_falling_fires_only_when_new_products_do_not_make_up_the_fall(
    warehouse, tmp_path, new_units
):
    load_rows(warehouse, tmp_path, range_rows(new_units), "range")
    recs = fired(analysis_of(warehouse, "2011-06"))
    # products sold in both years: 300 -> 210, a fall of 90, the largest single product's
    # fall 30 (not more than half of it: no single product)
    if new_units == 90:
        # the new product's 90 makes up for all of it: net fall 90 - 90 = 0, quiet
        assert "range_falling" not in recs
    else:
        # the new product's 50 makes up only part: net fall 90 - 50 = 40 at stake
        assert recs["range_falling"].at_stake == pytest.approx(40.0)
    # new_products: 21104 made 90 (or 50), at least 5% of the year's 300 (or 260); last
    # year's new products would be those first sold from 1 Jul 2009, the first month of
    # data: no year of earlier data for them, so their second year cannot be estimated
    new = recs["new_products"]
    assert new.at_stake is None and new.basis.startswith("cannot be estimated")
    assert "not measurable yet" in new.evidence
    assert set(recs) == {"new_products"} | ({"range_falling"} if new_units == 50 else set())


NEW_PRODUCTS = [
    line("850001", "85123A", 10, "2008-07-01 10:00:00", "1.00", 801),  # the first line
    # first sold in the year before the last (from 1 Jul 2009): 22001 and 22002, 200 in all
    line("850002", "22001", 100, "2009-07-01 10:00:00", "1.00", 801),
    line("850002", "22002", 100, "2009-07-01 10:00:00", "1.00", 801),
    # their second year: 60 + 80 = 140
    line("850003", "22001", 60, "2011-06-01 10:00:00", "1.00", 801),
    line("850003", "22002", 80, "2011-06-01 10:00:00", "1.00", 801),
    # first sold in the last year: 22003, 400
    line("850004", "22003", 400, "2011-06-30 23:59:00", "1.00", 801),
]


def test_new_products_estimated_from_last_years_new_products_second_year(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, NEW_PRODUCTS, "new_products")
    a = analysis_of(warehouse, "2011-06")
    p = a.trailing_products
    # the last 365 days (1 Jul 2010 - 30 Jun 2011): 22003 is the only new product, 400 of
    # the 540 of net sales (at least 5%)
    assert (p.new_codes, p.new_net) == (1, 400.0)
    recs = fired(a)
    # the year before (from 1 Jul 2009) has 12 months of data before it (from July 2008):
    # its new products, 22001 and 22002, went from 200 to 140 in their second year, -30%;
    # at stake 30% of this year's new products' 400 = 120.
    # Nothing else fires: the range's fall (60) is more than made up by 22003, one customer
    # who grew, and no off-peak month or new customer on equal look-back
    assert set(recs) == {"new_products"}
    new = recs["new_products"]
    assert new.at_stake == pytest.approx(120.0)
    assert "second year" in new.evidence and "−30.0%" in new.evidence
