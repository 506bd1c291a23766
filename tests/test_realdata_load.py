"""The real first extract loads whole into both engines, from both of its files.

The figures are those of ``../shared/data/README.md`` and the brief's spec:
1,067,371 raw lines, 53,628 invoices, 5,942 customers, 34,335 duplicate copies.
"""

from __future__ import annotations

import pytest

from lgs_reports.load import load_file
from tests.conftest import SHARED_DATA, table_rows

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.mark.parametrize("name", ["retail.sql.gz", "online_retail_II.csv.gz"])
def test_the_real_extract_loads_whole(warehouse, tmp_path, name):
    result = load_file(warehouse, SHARED_DATA / name, rejects_dir=tmp_path)
    assert (result.rows_loaded, result.rows_rejected, result.rows_overlap) == (1_067_371, 0, 0)

    def one(sql: str):
        return table_rows(warehouse, sql)[0][0]

    assert one("SELECT count(*) FROM retail") == 1_067_371
    assert one("SELECT sum(copies) FROM lines") == 1_067_371
    assert one("SELECT count(*) FROM invoices") == 53_628
    assert one("SELECT count(DISTINCT customer_id) FROM invoices") == 5_942
    assert one("SELECT count(DISTINCT country) FROM invoices") == 43
    assert one("SELECT sum(copies - 1) FROM lines") == 34_335
    assert one("SELECT sum(duplicate_copies) FROM daily_quality") == 34_335
    assert one("SELECT sum(raw_lines) FROM daily_quality") == 1_067_371
    assert table_rows(warehouse, "SELECT min(invoice_date), max(invoice_date) FROM retail")[
        0
    ] == tuple(table_rows(warehouse, "SELECT first_invoice, last_invoice FROM load_registry")[0])
    # the double export of 1-9 December 2010: most of that week's lines are there twice
    week_copies, week_lines = table_rows(
        warehouse,
        "SELECT sum(duplicate_copies), sum(distinct_lines) FROM daily_quality "
        "WHERE day BETWEEN DATE '2010-12-01' AND DATE '2010-12-09'",
    )[0]
    week_copies, week_lines = int(week_copies), int(week_lines)  # numeric on PostgreSQL
    assert week_copies >= 22_844 and week_copies > 0.9 * week_lines
