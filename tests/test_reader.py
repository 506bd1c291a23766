"""The brief's queries run on one consistent view of the warehouse, side by side on PostgreSQL;
every file in sql/ is documented, and the one runner checks what it is given and returns."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

import lgs_reports
from lgs_reports.load import load_file
from lgs_reports.load.readers import COLUMNS
from lgs_reports.queries import (
    QueryFileError,
    Reader,
    _dollar_binds,
    execute,
    get_query,
    parse_query,
    statement_sql,
)
from lgs_reports.resources import resource_dir
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


@postgres_only
def test_a_reader_compiles_no_query_and_leaves_the_setting_as_it_was(loaded):
    with loaded.connect() as conn:
        server_default = conn.execute(text("SHOW jit")).scalar_one()
    if server_default != "on":  # PostgreSQL's default is on; a server may turn it off itself
        pytest.skip(f"the server's jit is {server_default}: nothing for a reader to turn off")
    with loaded.reader() as reader:
        for conn in reader.connections:
            assert conn.execute(text("SHOW jit")).scalar_one() == "off"
    with loaded.connect() as conn:  # the pool's connections, after the reader's transactions
        assert conn.execute(text("SHOW jit")).scalar_one() == server_default


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


# --- the files in sql/ and the one runner ----------------------------------------------

SQL = resource_dir("sql")
NAMED = sorted(
    p.relative_to(SQL).with_suffix("").as_posix()
    for p in SQL.rglob("*.sql")
    if p.parent.name != "schema"  # the multi-statement schema files, run by execute_script
)


@pytest.mark.parametrize("name", NAMED)
def test_every_file_in_sql_follows_the_header_convention(name):
    query = get_query(name)
    assert query.sql.startswith("-- ")  # a description first
    if query.body.split(None, 1)[0].lower() in ("select", "with"):
        assert query.columns, name


def test_the_load_and_warehouse_statements_are_named_files():
    assert {n.split("/")[0] for n in NAMED if "/" in n} == {"load", "warehouse"}
    # nothing in the package writes SQL of its own: every statement goes through queries.py
    own_sql = re.compile(
        r"from sqlalchemy import[^\n]*\btext\b|sqlalchemy\.text|exec_driver_sql"
        r"|\.execute\(\s*f?[\"']|copy_expert\(\s*f?[\"']"
    )
    for module in Path(lgs_reports.__file__).parent.rglob("*.py"):
        if module.name != "queries.py":
            assert not own_sql.search(module.read_text(encoding="utf-8")), module


def write_sql(tmp_path, body: str) -> Path:
    path = tmp_path / "statement.sql"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_statement_may_document_no_columns_a_query_may_not(tmp_path):
    statement = parse_query(
        write_sql(
            tmp_path,
            "-- Forget a load.\n-- :load_id  int  the load\nDELETE FROM t\n"
            "WHERE load_id = :load_id\n",
        )
    )
    assert (dict(statement.binds), dict(statement.columns)) == ({"load_id": "int"}, {})
    for query in ("SELECT 1", "  select 1", "WITH a AS (SELECT 1) SELECT * FROM a"):
        with pytest.raises(QueryFileError, match=r"statement\.sql:1: no result columns"):
            parse_query(write_sql(tmp_path, f"-- A query.\n{query}\n"))


def test_only_a_bind_may_be_an_array(tmp_path):
    pairs = parse_query(
        write_sql(
            tmp_path, "-- Pairs.\n-- :ids  int[]  the ids\nINSERT INTO t SELECT unnest(:ids)\n"
        )
    )
    assert dict(pairs.binds) == {"ids": "int[]"}
    with pytest.raises(QueryFileError, match=r"statement\.sql:2: unknown type 'int\[\]'"):
        parse_query(write_sql(tmp_path, "-- Ids.\n-- ids  int[]  the ids\nSELECT ids FROM t\n"))


def test_execute_checks_binds_and_the_documented_columns(warehouse):
    with warehouse.begin() as conn:
        warehouse.ensure_schema(conn)
        assert execute(conn, "load/next_load_id").scalar_one() == 1
        with pytest.raises(TypeError, match=r"missing \['load_id'\], unexpected \['id'\]"):
            execute(conn, "load/load_window", id=1)
        assert execute(conn, "warehouse/table_exists", name="retail").scalar_one() == 1


def test_execute_runs_a_statement_with_binds_on_duckdb_s_own_connection(tmp_path):
    import duckdb

    path = tmp_path / "it's staged.duckdb"  # a quote in the path is a value, not SQL
    with duckdb.connect(str(path)) as staged:
        staged.execute("CREATE TABLE retail AS SELECT 1 AS line")
    with duckdb.connect() as conn:
        execute(conn, "load/duckdb_attach_staged", path=str(path))
        assert conn.execute("SELECT count(*) FROM staged.retail").fetchone() == (1,)
        execute(conn, "load/duckdb_detach_staged")
        with pytest.raises(TypeError, match=r"missing \['path'\]"):
            execute(conn, "load/duckdb_attach_staged")


def test_dollar_binds_leave_strings_and_casts_alone():
    assert _dollar_binds("SELECT ':x', a::int, :y, ''':z''' FROM t WHERE b = :b") == (
        "SELECT ':x', a::int, $y, ''':z''' FROM t WHERE b = $b"
    )


def test_statement_sql_is_for_statements_without_binds():
    assert statement_sql("load/postgresql_copy_csv").startswith("COPY retail (")
    with pytest.raises(QueryFileError, match="has binds"):
        statement_sql("load/register_load")


@pytest.mark.parametrize(
    "name",
    [
        "load/postgresql_copy_dump",
        "load/postgresql_copy_csv",
        "load/duckdb_move_staged",
        "load/duckdb_stage_create",
        "load/duckdb_stage_batch",
    ],
)
def test_the_load_statements_list_the_columns_the_loader_writes(name):
    words = re.findall(r"\w+", get_query(name).body)
    assert list(dict.fromkeys(w for w in words if w in COLUMNS)) == list(COLUMNS)


def test_the_overlap_compares_all_eight_columns():
    body = get_query("load/overlap_lines").body
    assert "o.invoice_no = n.invoice_no" in body
    for column in COLUMNS[1:]:
        assert f"o.{column} IS NOT DISTINCT FROM n.{column}" in body
