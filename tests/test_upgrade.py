"""A warehouse whose derived tables an earlier version built is rebuilt, not a crash.

The earlier versions are simulated as they really were: version 1 had no
``derived_version`` table and an ``invoices`` table without ``first_purchase``;
version 2 had both but no ``is_order`` (BRIEF_SPEC version 2's orders) and no
``corrections``.
"""

from __future__ import annotations

from sqlalchemy import text

from lgs_reports.load import load_file
from lgs_reports.warehouse import derived_version
from tests.conftest import GOOD_LINE, table_rows

EARLIER = (
    "DROP TABLE derived_version",
    "CREATE TABLE invoices_v1 AS SELECT invoice_no, line_class, customer_id, country, "
    "invoice_date, month, amount, line_count FROM invoices",
    "DROP TABLE invoices",
    "ALTER TABLE invoices_v1 RENAME TO invoices",
)


VERSION_2 = (
    "UPDATE derived_version SET version = 2",
    "CREATE TABLE invoices_v2 AS SELECT invoice_no, line_class, customer_id, country, "
    "invoice_date, month, amount, line_count, first_purchase FROM invoices",
    "DROP TABLE invoices",
    "ALTER TABLE invoices_v2 RENAME TO invoices",
    "DROP TABLE corrections",
)


def as_built_by(warehouse, statements) -> None:
    with warehouse.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def as_built_by_version_1(warehouse) -> None:
    as_built_by(warehouse, EARLIER)


def columns_of_invoices(warehouse) -> set[str]:
    rows = table_rows(
        warehouse,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'invoices' "
        "AND table_schema = current_schema()",
    )
    return {name for (name,) in rows}


def test_tables_of_an_earlier_version_are_rebuilt_once(warehouse, inputs):
    load_file(warehouse, inputs.csv("one.csv", [GOOD_LINE]))
    assert warehouse.upgrade_derived() is False  # built by this version: nothing to do
    as_built_by_version_1(warehouse)
    assert "first_purchase" not in columns_of_invoices(warehouse)

    assert warehouse.upgrade_derived() is True
    assert "first_purchase" in columns_of_invoices(warehouse)
    assert table_rows(warehouse, "SELECT version FROM derived_version") == [(derived_version(),)]
    assert table_rows(warehouse, "SELECT count(*) FROM retail") == [(1,)]
    assert warehouse.upgrade_derived() is False


def test_tables_of_version_2_are_rebuilt_for_orders_and_corrections(warehouse, inputs):
    load_file(warehouse, inputs.csv("one.csv", [GOOD_LINE]))
    as_built_by(warehouse, VERSION_2)
    assert "is_order" not in columns_of_invoices(warehouse)
    assert warehouse.upgrade_derived() is True
    assert {"is_order", "first_purchase"} <= columns_of_invoices(warehouse)
    assert table_rows(warehouse, "SELECT count(*) FROM corrections") == [(0,)]
    assert warehouse.upgrade_derived() is False


def test_an_empty_warehouse_has_nothing_to_upgrade(warehouse):
    assert warehouse.upgrade_derived() is False


def test_the_brief_upgrades_an_old_warehouse_first(run_cli, warehouse, tmp_path):
    code, _, err = run_cli(["sample"])
    assert code == 0, err
    as_built_by_version_1(warehouse)
    warehouse.dispose()  # a DuckDB file is held by one process at a time
    code, _, err = run_cli(["--period", "2011-11", "--no-email"])
    assert code == 0, err
    assert f"built by an earlier version of lgs-reports (version 1, now {derived_version()})" in err
    assert (tmp_path / "output" / "2011-11" / "r1" / "lgs-brief-2011-11.pdf").is_file()
