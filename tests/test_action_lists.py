"""The action lists a campaign team uses as they are (BRIEF_SPEC, "Segment action list" and
"Suggested next product"), proven on datasets worked out by hand, on both engines.

- ``BASKETS``, June 2011 (and May 2010, outside the window): six products A-F, a postage
  fee on most orders, a customer's cancellations and orders before the window. Pair
  supports and every customer's suggestion are worked out beside the data: ties by
  product code, the customer's own products left out, fees, cancellations and orders
  outside the window never counted, and the minimum support.
- ``LEDGER``, June 2009 - June 2011: one customer's every column (spend a window earlier,
  days between orders, last order value with a fee in it, biggest products with one
  cancelled away), a customer whose net sales are negative (do not mail), and text that
  a spreadsheet would run as a formula.
- Written lists, without a warehouse: ordering by spend lost and by net sales, and the
  files read back with the csv module and openpyxl (types, formats, inert text).
- The real extract (``realdata``): customer 12346 flagged, one customer's columns and a
  few customers' suggestions recomputed with independent queries.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import text

from lgs_reports.action_lists import COLUMNS, WORKBOOK, csv_bytes, records, workbook_bytes
from lgs_reports.analyses import analyse
from lgs_reports.analyses.segments import action_table
from lgs_reports.config import SEGMENTS, load_settings
from lgs_reports.dataset import fetch
from lgs_reports.periods import parse_period
from lgs_reports.queries import run_query
from tests.handworked import line, load_rows

A, B, C, D, E, F = "10001", "10002", "10003", "10004", "10005", "10006"
NAMES = {A: "ALPHA", B: "BRAVO", C: "CHARLIE", D: "DELTA", E: "ECHO", F: "FOXTROT"}
JUNE = "2011-06-15 10:00:00"
PAYLOADS = ('=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")


def order(invoice: str, customer: int | None, codes: list[str], when: str = JUNE) -> list[tuple]:
    """One order: a unit of each product at £1.00, and a £5 postage line when asked."""
    return [
        line(
            invoice,
            code,
            1,
            when,
            "5.00" if code == "POST" else "1.00",
            customer,
            description=NAMES.get(code, "POSTAGE"),
        )
        for code in codes
    ]


# Orders of the window (1 Jul 2010 - 30 Jun 2011, snapshot 1 Jul 2011), each product once:
#   O1 101: A B C +POST   O2 102: A B +POST   O3 103: A B D +POST   O4 104: A C D +POST
#   O5 guest: A C +POST   O6 105: B D E       O7 201: A             O8 202: B, O9 202: C
#   O10 203: A, O11 203: B                     O12 204: E            O13 107: F (100 units)
# Supports, orders holding both: A-B 3 (O1 O2 O3), A-C 3 (O1 O4 O5), A-D 2 (O3 O4),
#   B-D 2 (O3 O6), B-C 1, C-D 1, B-E 1, D-E 1; F none.
# Not counted: POST with A on 5 orders (a fee, not a product), A-F on 4 cancellations of
#   106, A-E on 5 orders of 108 in May 2010 (before the window): counted, each of them
#   would be 201's suggestion.
BASKETS = [
    *order("700001", 101, [A, B, C, "POST"]),
    *order("700002", 102, [A, B, "POST"]),
    *order("700003", 103, [A, B, D, "POST"]),
    *order("700004", 104, [A, C, D, "POST"]),
    *order("700005", None, [A, C, "POST"]),
    *order("700006", 105, [B, D, E]),
    *order("700007", 201, [A]),
    *order("700008", 202, [B]),
    *order("700009", 202, [C]),
    *order("700010", 203, [A]),
    *order("700011", 203, [B]),
    *order("700012", 204, [E]),
    line("700013", F, 100, JUNE, "1.00", 107, description=NAMES[F]),
    *(
        row
        for k in range(4)
        for row in (
            line(f"C70002{k}", A, -1, JUNE, "1.00", 106, description=NAMES[A]),
            line(f"C70002{k}", F, -1, JUNE, "1.00", 106, description=NAMES[F]),
        )
    ),
    *(row for k in range(5) for row in order(f"69000{k}", 108, [A, E], "2010-05-10 10:00:00")),
]
# Each customer's suggestion (M = the largest support with one product they bought):
#   101 owns A B C: A -> D 2 (B, C owned), B -> D 2, C -> D 1: D 2 with A (A before B)
#   102 owns A B: A -> C 3 (B owned), B -> D 2: C 3 with A
#   103 owns A B D: A -> C 3, B -> C 1, D -> C 1: C 3 with A
#   104 owns A C D: A -> B 3, C -> B 1, D -> B 2: B 3 with A
#   105 owns B D E: B -> A 3, D -> A 2, E: B and D both owned: A 3 with B
#   201 owns A: B 3 and C 3 tie, B first by code: B 3 with A
#   202 owns B C: B -> A 3, C -> A 3: A 3 with B (B before C)
#   203 owns A B: as 102, C 3 with A
#   204 owns E: B 1 and D 1 tie: B 1 with E
#   106 (cancellations only), 107 (F has no companion), 108 (before the window): none
SUGGESTED = [
    (101, D, NAMES[D], A, 2),
    (102, C, NAMES[C], A, 3),
    (103, C, NAMES[C], A, 3),
    (104, B, NAMES[B], A, 3),
    (105, A, NAMES[A], B, 3),
    (201, B, NAMES[B], A, 3),
    (202, A, NAMES[A], B, 3),
    (203, C, NAMES[C], A, 3),
    (204, B, NAMES[B], E, 1),
]


def analysis_with(warehouse, period: str, **env: str):
    with warehouse.reader() as reader:
        data = fetch(reader, parse_period(period), rfm_window_days=365)
    return analyse(data, load_settings(env={f"LGS_REPORT_{k.upper()}": v for k, v in env.items()}))


def suggestions(warehouse, pool_size: int) -> pd.DataFrame:
    """suggested_products at 1 Jul 2011, the snapshot of June 2011."""
    snapshot = dt.datetime(2011, 7, 1)
    with warehouse.connect() as conn:
        return run_query(
            conn,
            "suggested_products",
            snapshot=snapshot,
            window_start=snapshot - dt.timedelta(days=365),
            pool_size=pool_size,
        )


def test_suggested_products_by_hand(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, BASKETS, "baskets")
    rows = suggestions(warehouse, pool_size=100)
    assert list(rows.itertuples(index=False, name=None)) == SUGGESTED


def test_a_suggestion_needs_the_minimum_support(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, BASKETS, "baskets")
    cut = {}
    for support in ("1", "2", "3", "4"):
        table = analysis_with(warehouse, "2011-06", suggestion_min_support=support).segments.table
        kept = table[table["suggested_code"].notna()]
        cut[support] = dict(zip(kept["customer_id"], kept["suggested_code"], strict=True))
    everyone = {c: code for c, code, *_ in SUGGESTED}
    assert cut["1"] == everyone
    assert cut["2"] == {c: code for c, code in everyone.items() if c != 204}  # support 1
    assert cut["3"] == {c: code for c, code in everyone.items() if c not in (101, 204)}
    assert cut["4"] == {}


def test_the_candidates_are_the_best_sellers(warehouse, tmp_path):
    # Net sales in the window: F 100 - 4 = £96, B £6, C £4, A 7 - 4 = £3, D £3, E £2. The
    # four best sellers are F, B, C and A (A before D by code). Without D and E, 101 has
    # bought every candidate that shares an order with what it bought; 105 still has B
    # (A 3), 204 bought no best seller at all.
    load_rows(warehouse, tmp_path, BASKETS, "baskets")
    assert list(suggestions(warehouse, pool_size=4).itertuples(index=False, name=None)) == [
        row for row in SUGGESTED if row[0] not in (101, 204)
    ]


G = "10007"
HOSTILE_COUNTRY = PAYLOADS[0]
# June 2011 (snapshot 1 Jul 2011: a guest orders on 30 June; window from 1 Jul 2010; the
# window before from 1 Jul 2009, covered: 399's order of 15 Jun 2009 is the first one).
LEDGER = [
    line("599999", A, 1, "2009-06-15 10:00:00", "1.00", 399, description=NAMES[A]),
    # 301, the window before: 10 x A at £1 and 5 x B at £2 = £20.00
    line("600001", A, 10, "2010-03-01 10:00:00", "1.00", 301, description=NAMES[A]),
    line("600001", B, 5, "2010-03-01 10:00:00", "2.00", 301, description=NAMES[B]),
    # 301, the window: £13.00, £22.00 and £11.00 (£5 of it postage) on 10 Jan, 11 Mar and
    # 9 Jun; 10 Jun a product cancellation of the £20 E (a correction only within a day)
    line("600002", C, 4, "2011-01-10 10:00:00", "2.50", 301, description=NAMES[C]),
    line("600002", D, 1, "2011-01-10 10:00:00", "3.00", 301, description=NAMES[D]),
    line("600003", A, 2, "2011-03-11 10:00:00", "1.00", 301, description=NAMES[A]),
    line("600003", E, 1, "2011-03-11 10:00:00", "20.00", 301, description=NAMES[E]),
    line("600004", D, 2, "2011-06-09 10:00:00", "3.00", 301, description=NAMES[D]),
    line("600004", "POST", 1, "2011-06-09 10:00:00", "5.00", 301, description="POSTAGE"),
    line("C600005", E, -1, "2011-06-10 10:00:00", "20.00", 301, description=NAMES[E]),
    # 302: an order of £1.00, then cancels two B it never ordered (£4.00): net -£3.00
    line("600010", A, 1, "2011-05-02 10:00:00", "1.00", 302, description=NAMES[A]),
    line("C600011", B, -2, "2011-05-03 10:00:00", "2.00", 302, description=NAMES[B]),
    # 303 lives in a country named like a formula and buys a product named like one
    line("600020", G, 3, "2011-06-01 10:00:00", "4.00", 303, HOSTILE_COUNTRY, "@SUM(A1)"),
    # a guest's order on the last evening of June: the data covers the whole month
    line("600030", A, 1, "2011-06-30 20:00:00", "1.00", None, description=NAMES[A]),
]


@pytest.fixture
def ledger(warehouse, tmp_path):
    load_rows(warehouse, tmp_path, LEDGER, "ledger")
    return analysis_with(warehouse, "2011-06").segments


def test_action_list_columns_by_hand(ledger):
    table = ledger.table.set_index("customer_id")
    assert ledger.previous_covered
    one = table.loc[301]
    assert (one["first_purchase"], one["last_purchase"]) == ("2010-03-01", "2011-06-09")
    assert (one["recency"], one["frequency"]) == (22, 3)  # 9 Jun to 1 Jul; three orders
    # 13 + 22 + 11 - 20 = 26.00 against 20.00 the window before: up 6.00, nothing lost
    assert (one["monetary"], one["previous_monetary"]) == (26.0, 20.0)
    assert (one["change"], one["spend_lost"]) == (6.0, -6.0)
    assert one["days_between_orders"] == 75.0  # 10 Jan to 9 Jun is 150 days, two gaps
    assert one["last_order_value"] == 11.0  # the postage is part of the order
    # C £10.00, D 3 + 6 = £9.00, A £2.00; E 20 - 20 = 0 is not among them, POST no product
    assert [one[f"product_{k}_code"] for k in (1, 2, 3)] == [C, D, A]
    assert [one[f"product_{k}"] for k in (1, 2, 3)] == [NAMES[C], NAMES[D], NAMES[A]]
    assert not one["do_not_mail"]
    two = table.loc[302]
    assert (two["monetary"], two["previous_monetary"], two["change"]) == (-3.0, 0.0, -3.0)
    assert two["spend_lost"] == 3.0 and two["last_order_value"] == 1.0
    assert pd.isna(two["days_between_orders"])  # one order
    assert two["product_1_code"] == A and pd.isna(two["product_2_code"])  # B is net -£4
    assert two["do_not_mail"]
    assert table.loc[303, "country"] == HOSTILE_COUNTRY  # stored as it came
    assert 399 not in table.index  # no order in the window


def test_without_the_window_before_the_lists_are_ordered_by_net_sales(warehouse, tmp_path):
    # the same ledger from 1 Mar 2010: the window before (from 1 Jul 2009) is not covered
    load_rows(warehouse, tmp_path, LEDGER[1:], "ledger")
    segments = analysis_with(warehouse, "2011-06").segments
    assert not segments.previous_covered
    assert segments.table[["previous_monetary", "change", "spend_lost"]].isna().all().all()
    assert {x.order for x in segments.action_lists} == {"monetary"}


def list_frame(rows: list[dict]) -> pd.DataFrame:
    """Customers of a table with every list column, the given values over blank ones."""
    blank = {c.key: None for c in COLUMNS}
    return pd.DataFrame([{**blank, "spend_lost": None, **row} for row in rows])


def test_losing_segments_are_ordered_by_spend_lost_the_others_by_net_sales():
    rows = [
        # At Risk: spend lost 500, 500 (tie: customer id), 900, -50 (grew)
        {"customer_id": 7, "segment": "At Risk", "monetary": 100.0, "spend_lost": 500.0},
        {"customer_id": 3, "segment": "At Risk", "monetary": 900.0, "spend_lost": 500.0},
        {"customer_id": 5, "segment": "At Risk", "monetary": 10.0, "spend_lost": 900.0},
        {"customer_id": 1, "segment": "At Risk", "monetary": 300.0, "spend_lost": -50.0},
        # Champions: by net sales whatever they lost; a tie by customer id
        {"customer_id": 4, "segment": "Champions", "monetary": 50.0, "spend_lost": 9000.0},
        {"customer_id": 9, "segment": "Champions", "monetary": 70.0, "spend_lost": 0.0},
        {"customer_id": 2, "segment": "Champions", "monetary": 70.0, "spend_lost": 1.0},
        # About to Sleep and Can't Lose are losing segments too
        {"customer_id": 8, "segment": "About to Sleep", "monetary": 1.0, "spend_lost": 2.0},
        {"customer_id": 6, "segment": "About to Sleep", "monetary": 9.0, "spend_lost": 1.0},
        {"customer_id": 11, "segment": "Can't Lose", "monetary": 1.0, "spend_lost": 3.0},
        {"customer_id": 10, "segment": "Can't Lose", "monetary": 5.0, "spend_lost": 4.0},
    ]
    ordered = action_table(list_frame(rows), previous_covered=True)
    # segments in the spec's order: Champions, ..., About to Sleep, At Risk, Can't Lose
    assert ordered["customer_id"].tolist() == [2, 9, 4, 8, 6, 5, 3, 7, 1, 10, 11]
    by_net = action_table(list_frame(rows), previous_covered=False)
    assert by_net["customer_id"].tolist() == [2, 9, 4, 6, 8, 3, 1, 7, 5, 10, 11]


def typed_rows() -> list[dict]:
    """Three customers: one ordinary, one with a negative net and no suggestion, one whose
    text is every formula-looking payload."""
    return records(
        list_frame(
            [
                {
                    "customer_id": 12347,
                    "country": "Iceland",
                    "first_purchase": "2010-12-07",
                    "last_purchase": "2011-12-07",
                    "recency": 2,
                    "frequency": 7,
                    "monetary": 4310.0,
                    "previous_monetary": 1234.5,
                    "change": 3075.5,
                    "days_between_orders": 60.5,
                    "last_order_value": 1294.32,
                    "product_1_code": "23076",
                    "product_1": "ICE CREAM SUNDAE LIP GLOSS",
                    "suggested_code": "22386",
                    "suggested_product": "JUMBO BAG PINK POLKADOT",
                    "suggested_with": "85099B",
                    "suggested_orders": 795,
                    "r": 5,
                    "f": 4,
                    "m": 5,
                    "segment": "Champions",
                    "previous_segment": "Champions",
                    "action": "Reward them.",
                    "do_not_mail": False,
                },
                {
                    "customer_id": 12346,
                    "country": "United Kingdom",
                    "first_purchase": "2009-12-14",
                    "last_purchase": "2010-06-28",
                    "recency": 187,
                    "frequency": 2,
                    "monetary": -165.24,
                    "change": -165.24,
                    "r": 1,
                    "f": 2,
                    "m": 1,
                    "segment": "Hibernating",
                    "action": "Win back.",
                    "do_not_mail": True,
                },
                {
                    "customer_id": 20000,
                    "country": PAYLOADS[0],
                    "product_1": PAYLOADS[1],
                    "product_2": PAYLOADS[2],
                    "product_3": PAYLOADS[3],
                    "suggested_product": PAYLOADS[4],
                    "action": PAYLOADS[5],
                    "monetary": 1.0,
                    "segment": "Hibernating",
                    "previous_segment": "=1+1",
                    "do_not_mail": False,
                },
            ]
        )
    )


def test_csv_text_that_looks_like_a_formula_is_inert_and_numbers_stay_numbers():
    read = list(csv.DictReader(io.StringIO(csv_bytes(typed_rows()).decode())))
    assert list(read[0]) == [c.key for c in COLUMNS]
    hostile = read[2]
    for key, payload in zip(
        ("country", "product_1", "product_2", "product_3", "suggested_product", "action"),
        PAYLOADS,
        strict=True,
    ):
        assert hostile[key] == "'" + payload  # read back exactly, behind a single quote
    assert hostile["previous_segment"] == "'=1+1"
    negative = read[1]
    assert negative["monetary"] == "-165.24" and negative["change"] == "-165.24"
    assert negative["do_not_mail"] == "yes" and read[0]["do_not_mail"] == "no"
    assert negative["days_between_orders"] == "" and negative["suggested_code"] == ""
    assert read[0]["days_between_orders"] == "60.5" and read[0]["previous_monetary"] == "1234.50"
    assert read[0]["suggested_orders"] == "795" and read[0]["customer_id"] == "12347"


def sheet_cells(data: bytes, sheet: str) -> dict[str, openpyxl.cell.Cell]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return book[sheet]


def shown_widths(sheet) -> list[float]:
    """Each column's width as Excel shows it, in characters: the file holds it with five
    pixels of padding (at seven pixels a character), and one ``<col>`` element may size
    several neighbouring columns."""
    widths = {}
    for dimension in sheet.column_dimensions.values():
        for index in range(dimension.min, dimension.max + 1):
            widths[index] = (round(dimension.width * 7) - 5) / 7
    return [widths[index] for index in sorted(widths)]


def test_the_workbook_has_a_typed_sheet_per_segment_and_inert_text():
    rows = typed_rows()
    lists = {segment: [] for segment in SEGMENTS}
    lists["Champions"] = rows[:1]
    lists["Hibernating"] = rows[1:]
    as_of = dt.datetime(2011, 12, 10)
    data = workbook_bytes(lists, as_of=as_of)
    assert workbook_bytes(lists, as_of=as_of) == data  # the same lists, the same bytes
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == list(SEGMENTS)  # the spec's order, Can't Lose as it is
    assert book.properties.created == book.properties.modified == as_of
    labels = [c.label for c in COLUMNS]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert [c.value for c in sheet[1]] == labels and all(c.font.b for c in sheet[1])
        assert sheet.auto_filter.ref == f"A1:AB{sheet.max_row}"
        widths = shown_widths(sheet)
        assert len(widths) == len(COLUMNS) and all(6 <= w <= 48 for w in widths)
    assert book["Promising"].max_row == 1  # header only
    champion = {labels[i]: cell for i, cell in enumerate(book["Champions"][2])}
    assert champion["Customer"].value == 12347 and champion["Customer"].data_type == "n"
    assert isinstance(champion["Customer"].value, int)
    assert champion["First order"].value == dt.datetime(2010, 12, 7)
    assert champion["First order"].is_date and champion["First order"].number_format == "yyyy-mm-dd"
    for money in ("Net sales", "Net sales, year before", "Change", "Last order value"):
        assert champion[money].data_type == "n" and "£" in champion[money].number_format
    assert champion["Net sales"].value == 4310.0 and champion["Days between orders"].value == 60.5
    assert champion["Orders with both"].value == 795 and champion["Do not mail"].value == "no"
    # the product column is as wide as its longest description, plus two
    product = shown_widths(book["Champions"])[labels.index("Top product")]
    assert product == len("ICE CREAM SUNDAE LIP GLOSS") + 2
    negative, hostile = book["Hibernating"][2], book["Hibernating"][3]
    net = labels.index("Net sales")
    assert negative[net].value == -165.24 and negative[net].data_type == "n"
    assert negative[labels.index("Do not mail")].value == "yes"
    assert negative[labels.index("Days between orders")].value is None
    texts = [cell for cell in hostile if isinstance(cell.value, str)]
    # every payload behind its quote, read back as Excel reads it: a carriage return is
    # written as OOXML's _x000D_ escape (XML would read a bare one back as a line feed)
    shown = {re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m[1], 16)), c.value) for c in texts}
    assert shown >= {"'" + p for p in PAYLOADS}
    for cell in texts:
        assert cell.data_type == "s" and not cell.value.startswith(("=", "+", "-", "@"))


def test_the_brief_writes_each_list_as_csv_and_in_the_workbook(ledger):
    files = ledger.list_files()
    assert sorted(name for name in files if name.endswith(".csv")) == sorted(
        s.csv_file for s in ledger.summary
    )
    book = openpyxl.load_workbook(io.BytesIO(files[WORKBOOK]))
    table = ledger.table.set_index("customer_id")
    for customer in (301, 302, 303):
        segment = table.loc[customer, "segment"]
        read = csv.DictReader(io.StringIO(files[ledger.summary_of(segment).csv_file].decode()))
        row = next(r for r in read if r["customer_id"] == str(customer))
        sheet = book[segment]
        cells = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == customer)
        shown = dict(zip([c.label for c in COLUMNS], cells, strict=True))
        if customer == 302:
            assert row["monetary"] == "-3.00" and row["do_not_mail"] == "yes"
            assert shown["Net sales"].value == -3.0 and shown["Do not mail"].value == "yes"
        if customer == 303:
            assert row["country"] == "'" + HOSTILE_COUNTRY and row["product_1"] == "'@SUM(A1)"
            assert shown["Country"].value == "'" + HOSTILE_COUNTRY
            assert shown["Country"].data_type == "s"
            assert shown["Top product"].value == "'@SUM(A1)"
    assert ledger.list_files() == files  # an unchanged brief archives the same bytes


# --- the real extract ---------------------------------------------------------------------


def frame(warehouse, sql: str, **binds) -> pd.DataFrame:
    with warehouse.connect() as conn:
        result = conn.execute(text(sql), binds)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


@pytest.mark.realdata
@pytest.mark.slow
def test_customer_12346_is_not_mailed(real):
    # 2010: four orders of £22.50 and two more (£27.05, £142.31) against cancellations of
    # £103.50, £315.60, £1.00 and £4.50: net -£165.24; its 2011 order was a keying error
    table = analysis_with(real, "2010").segments.table.set_index("customer_id")
    assert table.loc[12346, "monetary"] == -165.24
    assert table.loc[12346, "do_not_mail"]
    assert analysis_with(real, "2011").segments.table["customer_id"].ne(12346).all()


@pytest.mark.realdata
@pytest.mark.slow
def test_a_real_customers_columns_recomputed_independently(real):
    customer, snapshot = 13802, dt.datetime(2011, 12, 10)
    start, before = snapshot - dt.timedelta(days=365), snapshot - dt.timedelta(days=730)
    row = analysis_with(real, "2011").segments.table.set_index("customer_id").loc[customer]
    # the raw lines, each distinct line once, placed and cancelled (not adjustments)
    raw = frame(
        real,
        "SELECT DISTINCT invoice_no, stock_code, description, quantity, invoice_date, "
        "unit_price, customer_id, country FROM retail WHERE customer_id = :c "
        "AND invoice_no NOT LIKE 'A%'",
        c=customer,
    )
    raw["amount"] = raw["quantity"] * raw["unit_price"].astype(float)
    raw["invoice_date"] = pd.to_datetime(raw["invoice_date"])
    spent_before = raw[(raw["invoice_date"] >= before) & (raw["invoice_date"] < start)]
    assert row["previous_monetary"] == round(spent_before["amount"].sum(), 2)
    window = raw[(raw["invoice_date"] >= start) & (raw["invoice_date"] < snapshot)]
    assert row["monetary"] == round(window["amount"].sum(), 2)
    assert row["change"] == round(row["monetary"] - row["previous_monetary"], 2)
    orders = (
        window[~window["invoice_no"].str.startswith("C")]
        .groupby("invoice_no")
        .agg(day=("invoice_date", "min"), amount=("amount", "sum"))
        .query("amount > 0")
        .sort_values(["day", "invoice_no"])
    )
    days = (orders["day"].max().normalize() - orders["day"].min().normalize()).days
    assert row["frequency"] == len(orders)
    assert row["days_between_orders"] == round(days / (len(orders) - 1), 1)
    assert row["last_order_value"] == round(orders["amount"].iloc[-1], 2)
    products = window[window["stock_code"].str.fullmatch(r"\d{5}[A-Za-z]*")]
    net = products.groupby("stock_code")["amount"].sum().round(2)
    biggest = sorted(((-v, k) for k, v in net.items() if v > 0))[:3]
    assert [row[f"product_{k}_code"] for k in (1, 2, 3)] == [code for _, code in biggest]


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("customer", [12347, 13802, 14646, 16446, 17841])
def test_real_suggestions_match_a_brute_force_count(real, customer):
    snapshot = dt.datetime(2011, 12, 10)
    start = snapshot - dt.timedelta(days=365)
    pool = frame(
        real,
        "SELECT stock_code FROM product_months WHERE month >= DATE '2010-12-01' "
        "AND month < DATE '2011-12-10' GROUP BY stock_code HAVING sum(net) > 0 "
        "ORDER BY sum(net) DESC, stock_code LIMIT 100",
    )["stock_code"]
    lines = frame(
        real,
        "SELECT DISTINCT l.invoice_no, l.customer_id, l.stock_code FROM lines l "
        "JOIN invoices i ON i.invoice_no = l.invoice_no WHERE i.is_order "
        "AND l.line_class = 'placed' AND NOT l.reversed AND l.quantity > 0 "
        "AND i.invoice_date >= :s AND i.invoice_date < :e",
        s=start,
        e=snapshot,
    )
    lines = lines[lines["stock_code"].isin(set(pool))]
    bought = set(lines.loc[lines["customer_id"] == customer, "stock_code"])
    baskets = lines.groupby("invoice_no")["stock_code"].apply(set)
    support: dict[tuple[str, str], int] = {}
    for basket in baskets:
        for mine, other in itertools.product(basket & bought, basket - bought):
            support[other, mine] = support.get((other, mine), 0) + 1
    table = analysis_with(real, "2011").segments.table.set_index("customer_id")
    suggested = table.loc[customer, ["suggested_code", "suggested_with", "suggested_orders"]]
    if not support:  # 16446 bought no best seller in 2011 (its 80,995 units were reversed)
        assert suggested.isna().all()
        return
    # the largest support, then the candidate's code, then the code of the product it is with
    (code, paired), orders = min(support.items(), key=lambda item: (-item[1], item[0]))
    assert suggested.tolist() == [code, paired, orders]


def test_mail_attaches_the_workbook_the_lists_are_written_to():
    from lgs_reports.mail import message

    assert message.WORKBOOK == WORKBOOK
