"""Facts about the real extract that anyone can check by hand with SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from lgs_reports.analysis import analyse
from lgs_reports.config import load_settings
from lgs_reports.dataset import fetch
from lgs_reports.load import load_file
from lgs_reports.periods import parse_period
from lgs_reports.warehouse import Warehouse
from tests.conftest import SHARED_DATA

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    warehouse = Warehouse(f"duckdb:///{tmp_path_factory.mktemp('real') / 'real.duckdb'}")
    load_file(warehouse, SHARED_DATA / "online_retail_II.csv.gz")
    yield warehouse
    warehouse.dispose()


def scalar(warehouse, sql: str):
    with warehouse.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def test_facts_checkable_by_hand(real):
    assert scalar(real, "SELECT count(DISTINCT invoice_no) FROM retail") == 53_628
    assert scalar(real, "SELECT count(*) FROM invoices") == 53_628
    assert scalar(real, "SELECT count(DISTINCT customer_id) FROM retail") == 5_942
    assert (
        scalar(
            real,
            "SELECT count(*) - count(DISTINCT (invoice_no, stock_code, description, "
            "quantity, invoice_date, unit_price, customer_id, country)) FROM retail",
        )
        == 34_335
    )


def test_brief_numbers_of_2011(real):
    with real.reader() as reader:
        data = fetch(reader, parse_period("2011"), rfm_window_days=365)
    a = analyse(data, load_settings(env={}))
    # the double export of 1-9 Dec 2010 is found as one cluster of 22,844 copies
    cluster = a.quality.clusters[0]
    assert (cluster.start, cluster.end, cluster.copies) == (
        dt.date(2010, 12, 1),
        dt.date(2010, 12, 9),
        22_844,
    )
    assert a.quality.warehouse.duplicate_copies == 34_335
    # net sales of November 2011, by hand: sum(quantity * price) of the distinct lines
    november = next(m for m in a.trend.months if m.month == dt.date(2011, 11, 1))
    by_hand = scalar(
        real,
        "SELECT sum(quantity * unit_price) FROM (SELECT DISTINCT * EXCLUDE (load_id) FROM retail) "
        "WHERE invoice_date >= '2011-11-01' AND invoice_date < '2011-12-01' "
        "AND invoice_no NOT LIKE 'A%'",
    )
    assert round(november.net, 2) == round(float(by_hand), 2)
    assert a.dataset.coverage.note == (
        "data through 9 Dec 2011: December has 9 of 31 days; 2011 has 343 of 365 days"
    )
    assert sum(s.customers for s in a.segments.summary) == a.segments.customers
