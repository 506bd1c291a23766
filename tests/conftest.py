"""Fixtures shared by the whole suite: real warehouses, the CLI in-process, small input files.

Warehouses are real engines, never mocks (STYLE.md, practice 9):

- ``pg_url``: one PostgreSQL server per session, ``LGS_TEST_DATABASE_URL`` if
  set (its user needs CREATEDB), else a throwaway cluster from
  ``tests/pgserver.py``. Without either the PostgreSQL tests are skipped, except
  under CI (``CI`` set), where a missing server is an error.
- ``warehouse_url``: a fresh, empty warehouse per test, once per engine (ids
  ``duckdb`` and ``postgres``; the second carries the ``postgres`` marker): a
  DuckDB file in ``tmp_path``, or a new PostgreSQL database dropped afterwards.
- ``warehouse``: a `Warehouse` on that URL, disposed after the test.
- ``run_cli``: ``lgs_reports.cli.main`` in-process against that warehouse, with
  every ``LGS_*`` variable removed, output in ``tmp_path/output``, the home
  data folder in ``tmp_path`` and ``tmp_path`` as working directory; returns
  ``CliResult(code, out, err)`` (unpacks as a tuple). ``cli_env`` is the same
  environment as a dict, for child processes.
- ``inputs``: writes small input files in ``tmp_path`` in every format the
  loader reads (CSV with either header, gzip, a pg_dump shaped like the real
  one, a two-sheet XLSX like the public workbook).
- ``snapshot``: what the warehouse holds, as a comparable value, to prove a
  failed load changed nothing.
- ``real``: a DuckDB warehouse holding the real extract (``../shared/data``),
  loaded once per session, for tests that only read it.
- ``sampled``: ``run_cli`` against that warehouse holding the generated sample,
  as ``lgs-reports sample`` leaves it (`sample.load_sample`, run once per engine
  per session; each test gets a copy: the DuckDB file, or a PostgreSQL database
  made from it as a template). ``tests/test_sample.py`` tests the command itself.

Markers (registered in pyproject.toml): ``postgres`` (needs the server),
``realdata`` (needs ``../shared/data``: skipped when it is absent), ``slow``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import itertools
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from lgs_reports.charts import draw_charts
from lgs_reports.load.readers import COLUMNS, PUBLIC_COLUMNS
from lgs_reports.sample import load_sample
from lgs_reports.warehouse import Warehouse
from tests.pgserver import (
    admin_engine,
    find_bin_dir,
    recreate_database,
    server_url,
    throwaway_database,
)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

Row = Sequence[Any]  # the eight warehouse columns, in order; None is an empty field / NULL
# One ordinary line, for tests that need a warehouse that is simply not empty.
GOOD_LINE: Row = (
    "489434",
    "85123A",
    "WHITE HANGING HEART",
    6,
    "2009-12-01 07:45:00",
    "2.550",
    13085,
    "United Kingdom",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=f"real data not found at {SHARED_DATA}")
    for item in items:
        if "realdata" in item.keywords and not SHARED_DATA.is_dir():
            item.add_marker(skip)
        # Tests that share an expensive fixture run in one worker (pytest-xdist's loadgroup),
        # so that it is built once: the real extract, or a module's fixtures.
        if "real" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group("real"))
        elif _uses_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


def _uses_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.values() if info is not None else ()
    return any(fixture.scope == "module" for chain in defs for fixture in chain)


# --- a brief's figures ------------------------------------------------------------


@pytest.fixture(scope="session")
def figures() -> dict[str, Any]:
    """A small, complete figures.json (tests/data/figures_small.json); copy before changing."""
    return json.loads((Path(__file__).parent / "data" / "figures_small.json").read_text("utf-8"))


@pytest.fixture(scope="session")
def charts(figures: dict[str, Any]) -> dict[str, str]:
    """Every chart of those figures, drawn."""
    return draw_charts(figures)


# --- warehouses -----------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The URL of a PostgreSQL server's ``lgs`` database for the whole session."""
    if not os.environ.get("LGS_TEST_DATABASE_URL") and find_bin_dir() is None:
        reason = "no PostgreSQL server binaries and LGS_TEST_DATABASE_URL is not set"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the PostgreSQL tests")
        pytest.skip(reason)
    with server_url() as url:
        yield url


@pytest.fixture(scope="session")
def pg_admin(pg_url: str) -> Iterator[Engine]:
    """An autocommit engine on the server's own database, to create and drop test databases."""
    engine = admin_engine(pg_url)
    yield engine
    engine.dispose()


_database_numbers = itertools.count(1)


@pytest.fixture(
    params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)],
    ids=["duckdb", "postgres"],
)
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty warehouse of each engine: its SQLAlchemy URL."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
        return
    pg_url: str = request.getfixturevalue("pg_url")
    admin: Engine = request.getfixturevalue("pg_admin")
    # A database per test (about 50 ms): isolated even from a killed child's connection.
    with throwaway_database(pg_url, admin, f"lgs_t_{os.getpid()}_{next(_database_numbers)}") as url:
        yield url


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """The real extract in DuckDB, loaded once: read it, never change it."""
    from lgs_reports.load import load_file

    warehouse = Warehouse(f"duckdb:///{tmp_path_factory.mktemp('real') / 'real.duckdb'}")
    load_file(warehouse, SHARED_DATA / "online_retail_II.csv.gz")
    yield warehouse
    warehouse.dispose()


@pytest.fixture
def warehouse(warehouse_url: str) -> Iterator[Warehouse]:
    wh = Warehouse(warehouse_url)
    yield wh
    wh.dispose()


def table_rows(wh: Warehouse, sql: str, **binds: Any) -> list[tuple[Any, ...]]:
    """Every row of a query, as plain tuples (for exact comparisons in tests)."""
    with wh.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), binds)]


@pytest.fixture
def snapshot(warehouse: Warehouse) -> Callable[[], dict[str, Any]]:
    """A function returning what the warehouse holds: row counts and a checksum per table.

    Two snapshots are equal when a load changed nothing: the raw lines, the
    registry and the derived ``invoices`` (its checksum covers every column).
    """

    def take() -> dict[str, Any]:
        state: dict[str, Any] = {}
        queries = {
            "retail": f"SELECT {', '.join(COLUMNS)}, load_id FROM retail",
            "load_registry": "SELECT load_id, file_name, sha256, rows_loaded FROM load_registry",
            "invoices": "SELECT * FROM invoices",
        }
        with warehouse.connect() as conn:
            for table, sql in queries.items():
                if not warehouse.has_table(conn, table):
                    state[table] = None
                    continue
                rows = sorted(repr(tuple(r)) for r in conn.execute(text(sql)))
                digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
                state[table] = (len(rows), digest)
        return state

    return take


# --- the command line -------------------------------------------------------------


class CliResult(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture
def cli_env(warehouse_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment a CLI run gets: no LGS_* of the caller, everything inside tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGS_")}
    env.update(
        LGS_DATABASE_URL=warehouse_url,
        LGS_OUTPUT_DIR=str(tmp_path / "output"),
        XDG_DATA_HOME=str(tmp_path),
    )
    return env


@pytest.fixture
def run_cli(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[[Sequence[str]], CliResult]:
    """Run ``lgs-reports ARGS`` in-process; returns its exit code, stdout and stderr."""
    from lgs_reports.cli import main

    for name in list(os.environ):
        if name.startswith("LGS_"):
            monkeypatch.delenv(name)
    for name, value in cli_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    logger = logging.getLogger("lgs_reports")

    def run(argv: Sequence[str]) -> CliResult:
        capsys.readouterr()
        saved = (logger.handlers[:], logger.level, logger.propagate)
        try:
            code = main([str(a) for a in argv])
        finally:
            # the CLI points a handler at this test's captured stderr: do not keep it
            logger.handlers[:], logger.level, logger.propagate = saved
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


# --- the sample warehouse ------------------------------------------------------------


@pytest.fixture(scope="session")
def duckdb_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding the sample, closed (checkpointed) after the load."""
    path = tmp_path_factory.mktemp("sample") / "warehouse.duckdb"
    _load_sample(f"duckdb:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_sample(pg_url: str, pg_admin: Engine) -> Iterator[str]:
    """The name of a PostgreSQL database holding the sample, to copy as a template."""
    name = f"lgs_sample_{os.getpid()}"
    with throwaway_database(pg_url, pg_admin, name) as url:
        _load_sample(url)
        yield name


def _load_sample(url: str) -> None:
    wh = Warehouse(url)
    try:
        load_sample(wh)
    finally:
        wh.dispose()  # no connection left: DuckDB checkpoints, PostgreSQL can copy it


@pytest.fixture
def sampled(
    request: pytest.FixtureRequest, warehouse_url: str, run_cli: Callable[..., CliResult]
) -> Callable[..., CliResult]:
    """``run_cli`` against this test's warehouse holding the sample."""
    url = make_url(warehouse_url)
    if url.drivername.startswith("duckdb"):
        shutil.copyfile(request.getfixturevalue("duckdb_sample"), url.database)
    else:
        template = request.getfixturevalue("postgres_sample")
        recreate_database(request.getfixturevalue("pg_admin"), url.database, template=template)
    return run_cli


# --- input files ----------------------------------------------------------------------


def copy_escape(value: Any) -> str:
    """A field in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


PG_DUMP_HEAD = """\
--
-- PostgreSQL database dump
--

\\restrict Xq3hT7fGk2pLm9ZrA0bC4dE6fG8hJ1kL3mN5pQ7rS9tU1vW3xY5zA7bC9dE1fG

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: retail; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.retail (
    invoice_no text,
    stock_code text,
    description text,
    quantity integer,
    invoice_date timestamp without time zone,
    unit_price numeric(10,3),
    customer_id integer,
    country text
);


--
-- Data for Name: retail; Type: TABLE DATA; Schema: public; Owner: -
--

"""
PG_DUMP_TAIL = """\


--
-- Name: retail_invoice_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX retail_invoice_idx ON public.retail USING btree (invoice_no);


--
-- PostgreSQL database dump complete
--

\\unrestrict Xq3hT7fGk2pLm9ZrA0bC4dE6fG8hJ1kL3mN5pQ7rS9tU1vW3xY5zA7bC9dE1fG

"""
# the line number (1-based) of the COPY line in a dump written by Inputs.pg_dump
PG_DUMP_COPY_LINE = PG_DUMP_HEAD.count("\n") + 1


class Inputs:
    """Writes small input files into a folder; every method returns the file's path.

    Rows are sequences of the eight warehouse columns in order (`COLUMNS`);
    any value is written as ``str(value)``, None as an empty field (``\\N`` in a
    dump), so that a test can write bad values as easily as good ones.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def csv(
        self,
        name: str,
        rows: Sequence[Row],
        *,
        header: Sequence[str] = PUBLIC_COLUMNS,
        compress: bool = False,
        encoding: str = "utf-8",
        newline: str = "\n",
    ) -> Path:
        """CSV with the public data set's header (default) or any other, quoted as needed."""
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator=newline)
        writer.writerow(header)
        writer.writerows([["" if v is None else str(v) for v in row] for row in rows])
        return self.write(name, out.getvalue().encode(encoding), compress=compress)

    def pg_dump(
        self,
        name: str,
        rows: Sequence[Row],
        *,
        columns: Sequence[str] = COLUMNS,
        compress: bool = False,
        complete: bool = True,
    ) -> Path:
        """A plain pg_dump of table retail, shaped like the real one; ``complete=False``
        stops inside the COPY block (no ``\\.`` line), as a truncated dump would."""
        copy = f"COPY public.retail ({', '.join(columns)}) FROM stdin;\n"
        data = "".join("\t".join(copy_escape(v) for v in row) + "\n" for row in rows)
        body = PG_DUMP_HEAD + copy + data + ("\\.\n" + PG_DUMP_TAIL if complete else "")
        return self.write(name, body.encode("utf-8"), compress=compress)

    def xlsx(self, name: str, sheets: dict[str, Sequence[Row]]) -> Path:
        """A workbook like the public one: a header row, then typed cells, on each sheet."""
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            sheet.append(list(PUBLIC_COLUMNS))
            for row in rows:
                sheet.append(xlsx_cells(row))
        path = self.folder / name
        book.save(path)
        return path

    def write(self, name: str, data: bytes, *, compress: bool = False) -> Path:
        path = self.folder / name
        path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
        return path


def xlsx_cells(row: Row) -> list[Any]:
    """Cells typed as in the public workbook: numeric codes and ids are numbers, dates dates."""
    invoice, code, description, quantity, when, price, customer, country = row

    def number(value: Any, kind: type) -> Any:
        try:
            return kind(value)
        except (TypeError, ValueError):
            return value

    def moment(value: Any) -> Any:
        try:
            return dt.datetime.fromisoformat(str(value))
        except ValueError:
            return value

    return [
        number(invoice, int),
        number(code, int),
        description,
        number(quantity, int),
        moment(when),
        number(price, float),
        None if customer is None else number(customer, float),
        country,
    ]


@pytest.fixture
def inputs(tmp_path: Path) -> Inputs:
    folder = tmp_path / "inputs"
    folder.mkdir(exist_ok=True)
    return Inputs(folder)
