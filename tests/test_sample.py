"""The generated sample: deterministic, shaped like the real extract, only into an empty
warehouse."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from lgs_reports import sample
from lgs_reports.config import mask_url
from lgs_reports.load.readers import COLUMNS
from tests.conftest import GOOD_LINE, table_rows

SAMPLE = "generated sample (lgs-reports sample)"


def test_generate_is_deterministic():
    first = pd.concat(sample.generate(), ignore_index=True)
    second = pd.concat(sample.generate(), ignore_index=True)
    pd.testing.assert_frame_equal(first, second)
    assert tuple(first.columns) == COLUMNS
    assert first["invoice_no"].notna().all()
    assert (first["unit_price"].round(3) == first["unit_price"]).all()


def one(warehouse, sql: str):
    return table_rows(warehouse, sql)[0][0]


def test_sample_fills_an_empty_warehouse(run_cli, warehouse):
    code, out, err = run_cli(["sample"])
    assert code == 0, err
    assert out.startswith(f"{SAMPLE}: loaded ")
    lines = one(warehouse, "SELECT count(*) FROM lines")
    raw = one(warehouse, "SELECT count(*) FROM retail")
    assert out.startswith(f"{SAMPLE}: loaded {raw:,} lines as load #1 (")

    # the window of the real extract
    window = "SELECT min(invoice_date), max(invoice_date) FROM retail"
    first, last = table_rows(warehouse, window)[0]
    assert first.date() == dt.date(2009, 12, 1)
    assert last.date() == dt.date(2011, 12, 9) and last <= dt.datetime(2011, 12, 9, 12, 50)

    # about a fifth of lines from guests; cancellations frequent as invoices, rare as lines
    guests = one(warehouse, "SELECT count(*) FROM lines WHERE customer_id IS NULL")
    assert 0.18 <= guests / lines <= 0.28
    invoices = one(warehouse, "SELECT count(*) FROM invoices")
    cancelled = one(warehouse, "SELECT count(*) FROM invoices WHERE line_class = 'cancelled'")
    assert 0.12 <= cancelled / invoices <= 0.18
    cancelled_lines = one(warehouse, "SELECT count(*) FROM lines WHERE line_class = 'cancelled'")
    assert cancelled_lines / lines < 0.03

    # a UK majority among many countries
    countries = one(warehouse, "SELECT count(DISTINCT country) FROM lines")
    assert countries >= 35
    uk = one(warehouse, "SELECT count(*) FROM lines WHERE country = 'United Kingdom'")
    assert uk / lines > 0.70

    # the data-quality issues of the real data: exact duplicates (a double export among
    # them), bad-debt adjustments, service codes, zero prices
    copies = int(one(warehouse, "SELECT sum(copies - 1) FROM lines"))
    assert copies > 0 and raw == lines + copies
    assert one(warehouse, "SELECT sum(duplicate_copies) FROM daily_quality") == copies
    export_copies, export_lines = table_rows(
        warehouse,
        "SELECT sum(duplicate_copies), sum(distinct_lines) FROM daily_quality "
        "WHERE day BETWEEN DATE '2010-12-01' AND DATE '2010-12-03'",
    )[0]
    export_copies, export_lines = int(export_copies), int(export_lines)  # numeric on PostgreSQL
    assert export_copies >= 0.95 * export_lines  # 1-3 Dec 2010: (almost) every line twice
    assert (copies - export_copies) / (lines - export_lines) < 0.1  # elsewhere: a few
    assert one(warehouse, "SELECT count(*) FROM invoices WHERE line_class = 'adjustment'") == 3
    assert one(warehouse, "SELECT count(*) FROM invoices WHERE invoice_no LIKE 'A%'") == 3
    services = {
        r[0]
        for r in table_rows(warehouse, "SELECT stock_code FROM stock_codes WHERE NOT is_product")
    }
    assert {"POST", "DOT", "M", "BANK CHARGES", "B"} <= services
    assert one(warehouse, "SELECT sum(zero_price_lines) FROM daily_quality") > 0

    assert table_rows(
        warehouse,
        "SELECT load_id, file_name, file_format, rows_loaded, rows_rejected, is_sample "
        "FROM load_registry",
    ) == [(1, SAMPLE, "sample", raw, 0, True)]

    # a second time: nothing to do
    code, out, _ = run_cli(["sample"])
    assert (code, out) == (0, f"{SAMPLE}: already loaded (load #1, same sha256); nothing to do\n")
    assert one(warehouse, "SELECT count(*) FROM retail") == raw


def test_sample_refuses_a_warehouse_with_data(run_cli, inputs, warehouse, warehouse_url):
    good = inputs.csv(
        "good.csv",
        [GOOD_LINE] * 3,
    )
    assert run_cli(["load", good]).code == 0
    code, out, err = run_cli(["sample"])
    assert (code, out) == (2, "")
    assert err == (
        f"error: the warehouse {mask_url(warehouse_url)} already holds 3 lines; the sample "
        "goes only into an empty warehouse (point LGS_DATABASE_URL at a new one)\n"
    )
    assert table_rows(warehouse, "SELECT count(*), bool_or(is_sample) FROM load_registry") == [
        (1, False)
    ]
