"""The warehouse's extent and the one check that a brief can be built (`dataset.data_window`)."""

from __future__ import annotations

import pytest

from lgs_reports.config import mask_url
from lgs_reports.dataset import data_window, fetch
from lgs_reports.errors import PeriodError
from lgs_reports.periods import parse_period
from lgs_reports.queries import Reader

NO_INVOICES = "holds no invoices yet; load data first (lgs-reports load FILE)"


def test_a_brief_of_a_warehouse_without_tables_names_it_and_exits_2(run_cli, warehouse_url):
    code, _, err = run_cli(["--period", "2011", "--no-email"])
    assert code == 2
    assert err == f"error: the warehouse {mask_url(warehouse_url)} {NO_INVOICES}\n"


def test_tables_without_invoices_are_empty_too(warehouse):
    with warehouse.begin() as conn:
        warehouse.ensure_schema(conn)
        warehouse.rebuild_derived(conn)
    with warehouse.reader() as reader:
        with pytest.raises(PeriodError) as info:
            data_window(reader, warehouse.safe_url)
        assert str(info.value) == f"the warehouse {warehouse.safe_url} {NO_INVOICES}"
        with pytest.raises(PeriodError, match=NO_INVOICES.split(";")[0]):
            fetch(reader, parse_period("2011"), rfm_window_days=365)


def test_the_window_of_a_loaded_warehouse(sampled, warehouse):
    with warehouse.connect() as conn:
        window, first, last = data_window(Reader([conn]), warehouse.safe_url)
    assert (first.date().isoformat(), last.date().isoformat()) == ("2009-12-01", "2011-12-09")
    assert window.at[0, "is_sample"]
