"""The brief's queries run on one consistent view of the warehouse, side by side on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import text

from lgs_reports.load import load_file
from lgs_reports.queries import Reader
from tests.conftest import GOOD_LINE

LATER_LINE = (
    "489435",
    "22423",
    "REGENCY CAKESTAND",
    2,
    "2009-12-02 09:00:00",
    "12.75",
    13086,
    "France",
)


def postgres_only(test):
    """DuckDB reads on one connection, in the one process that holds the file."""
    only = pytest.mark.parametrize("warehouse_url", ["postgresql"], indirect=True)
    return pytest.mark.postgres(only(test))


@pytest.fixture
def loaded(warehouse, inputs):
    load_file(warehouse, inputs.csv("first.csv", [GOOD_LINE]))
    return warehouse


@postgres_only
def test_postgresql_reads_on_two_connections_sharing_one_snapshot(loaded, inputs, pg_admin):
    second = inputs.csv("second.csv", [LATER_LINE])
    with loaded.reader() as reader:
        assert len(reader.connections) == 2
        before = reader.run("data_window")
        # a load starts while the brief is being queried: it waits for the brief ...
        load = threading.Thread(target=load_file, args=(loaded, second))
        load.start()
        wait_for_a_blocked_lock(pg_admin)
        # ... and neither connection sees any of it
        for conn in reader.connections:
            assert conn.execute(text("SELECT count(*) FROM invoices")).scalar_one() == 1
        futures = [reader.submit("data_window") for _ in range(6)]
        assert all(f.result().equals(before) for f in futures)
    load.join(timeout=120)
    assert not load.is_alive()
    with loaded.reader() as reader:  # the next brief sees the whole load
        assert reader.run("data_window").at[0, "invoices"] == 2


def wait_for_a_blocked_lock(admin, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with admin.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one():
                return
        time.sleep(0.05)
    raise AssertionError("the load never waited for the reader's lock")


@postgres_only
def test_a_reader_is_read_only(loaded):
    with loaded.reader() as reader:
        for conn in reader.connections:
            with pytest.raises(Exception, match="read-only transaction"):
                conn.execute(text("DELETE FROM retail"))


def test_wrong_binds_fail_in_the_caller_before_anything_runs(loaded):
    with loaded.reader() as reader, pytest.raises(TypeError, match="missing \\['end'\\]"):
        reader.submit("period_totals", start=dt.datetime(2009, 12, 1))


def test_a_failing_query_raises_where_its_result_is_asked_for(loaded):
    with loaded.reader() as reader:
        with loaded.begin() as conn:
            conn.execute(text("DROP TABLE daily_quality"))
        failed = reader.submit(
            "data_quality", start=dt.datetime(2009, 12, 1), end=dt.datetime(2009, 12, 2)
        )
        with pytest.raises(Exception, match="daily_quality"):
            failed.result()
        # the cause, not "transaction aborted", is what every later query reports
        with pytest.raises(Exception, match="daily_quality"):
            reader.run("load_history")


def test_a_reader_needs_a_connection():
    with pytest.raises(ValueError, match="at least one connection"):
        Reader([])
