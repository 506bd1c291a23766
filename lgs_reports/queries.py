"""The SQL files in ``sql/``: parsed once, binds checked, results typed; the one runner.

Each file holds one statement and starts with ``--`` comments that document it::

    -- Net sales, orders and customers per month.
    -- :start  timestamp  first instant of the window
    -- :end    timestamp  first instant after the window
    -- month   date       first day of the month
    -- net     money      net sales (GBP)

A comment line ``-- :name  type  text`` documents a bind, ``-- name  type  text``
a result column (types: text, int, float, money, date, timestamp, bool; a bind
may also be an array, ``int[]``); the name is followed by two spaces or more,
which tells these lines from prose. The query's ``:name`` binds must be exactly
the documented ones, and a caller must pass exactly those: both are checked, and
errors name ``file:line``. Results come back as DataFrames whose columns have
the documented types, so the two engines (PostgreSQL returns Decimal, DuckDB
sometimes float) give identical data. A query (``SELECT``, ``WITH``) documents
its columns; a statement that returns nothing (``INSERT``, ``ALTER``, ``COPY``
...) documents none.

A file is named by its path under ``sql/`` without ``.sql``: ``monthly_sales``,
``load/next_load_id``; statements that differ by engine are named for it
(``load/postgresql_copy_csv``). Everything the product sends goes through this
module: `run_query` (a brief's result, typed), `execute` (any statement, on a
SQLAlchemy connection or on DuckDB's own), `statement_sql` (the text of a
statement without binds, for psycopg2's ``copy_expert``) and `execute_script`
(the multi-statement files of ``sql/schema/``).
"""

from __future__ import annotations

import dataclasses
import queue
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection, CursorResult

from lgs_reports.resources import resource_dir

TYPES = ("text", "int", "float", "money", "date", "timestamp", "bool")
# A documentation line: the name, then at least two spaces (columns aligned), the type, text.
_DOC = re.compile(r"^--\s+(:?)([a-z_][a-z0-9_]*)\s{2,}(\w+(?:\[\])?)\s+(.*)$")
# A :name bind, not a ::cast, not inside a quoted string or a comment (stripped first).
_BIND = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_STRINGS = re.compile(r"'(?:[^']|'')*'")
_BIND_OR_STRING = re.compile(rf"{_STRINGS.pattern}|{_BIND.pattern}")
# The first words of a query, which must document its columns.
_QUERY_WORDS = ("select", "with")


class QueryFileError(Exception):
    """A file in sql/ does not follow the conventions above (a bug, not a user error)."""


@dataclasses.dataclass(frozen=True)
class Query:
    name: str
    path: Path
    sql: str  # the whole file, as sent through SQLAlchemy
    body: str  # the SQL without its comments
    binds: Mapping[str, str]  # bind name -> type
    columns: Mapping[str, str]  # column name -> type

    def check_binds(self, given: Mapping[str, Any]) -> None:
        missing = sorted(set(self.binds) - set(given))
        extra = sorted(set(given) - set(self.binds))
        if missing or extra:
            raise TypeError(
                f"{self.path.name}: binds {sorted(self.binds)} expected; "
                f"missing {missing}, unexpected {extra}"
            )

    def check_columns(self, names: Sequence[str]) -> None:
        if list(names) != list(self.columns):
            raise QueryFileError(
                f"{self.path.name}: returned columns {list(names)}, documented {list(self.columns)}"
            )


def parse_query(path: Path) -> Query:
    """Read one file of sql/ and check its documentation against its SQL."""
    source = path.read_text(encoding="utf-8")
    binds: dict[str, str] = {}
    columns: dict[str, str] = {}
    body_lines: list[str] = []
    in_header = True
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if in_header and stripped.startswith("--"):
            match = _DOC.match(stripped)
            if match:
                is_bind, name, kind, _text = match.groups()
                # a bind may also be an array (``int[]``): a list of values in one bind
                known = (*TYPES, *(f"{t}[]" for t in TYPES)) if is_bind else TYPES
                if kind not in known:
                    raise QueryFileError(f"{path}:{number}: unknown type {kind!r}; use {TYPES}")
                (binds if is_bind else columns)[name] = kind
            continue
        if in_header and not stripped:
            continue
        in_header = False
        body_lines.append(line.split("--", 1)[0] if "--" in line else line)
    body = "\n".join(body_lines)
    used = set(_BIND.findall(_STRINGS.sub("''", body)))
    if used != set(binds):
        raise QueryFileError(f"{path}:1: binds used {sorted(used)} but documented {sorted(binds)}")
    words = body.split(None, 1)
    if not words:
        raise QueryFileError(f"{path}:1: no statement")
    if not columns and words[0].lower() in _QUERY_WORDS:
        # only a statement that returns nothing (INSERT, ALTER, COPY ...) documents no columns
        raise QueryFileError(f"{path}:1: no result columns documented")
    return Query(
        name=path.stem,
        path=path,
        sql=source,
        body=body,
        binds=binds,
        columns=columns,
    )


@cache
def get_query(name: str) -> Query:
    """The file ``sql/<name>.sql`` (``name`` may name a subfolder: ``load/next_load_id``)."""
    path = resource_dir("sql") / f"{name}.sql"
    if not path.is_file():
        raise QueryFileError(f"no query file sql/{name}.sql")
    return parse_query(path)


def run_query(conn: Connection, name: str, **binds: Any) -> pd.DataFrame:
    """Run ``sql/<name>.sql`` with exactly its documented binds; typed DataFrame back."""
    query = get_query(name)
    query.check_binds(binds)
    result = conn.execute(text(query.sql), binds)
    names = list(result.keys())
    query.check_columns(names)
    return _typed(_fetch(result, conn.dialect.name, names), query.columns)


def execute(conn: Any, name: str, /, **binds: Any) -> Any:
    """Run ``sql/<name>.sql`` with exactly its documented binds; the driver's result back.

    ``conn`` is a SQLAlchemy connection (a `CursorResult` comes back, read it with
    ``scalar_one()``, ``one()`` ...), or DuckDB's own connection (the warehouse's
    under SQLAlchemy, a scratch database), which takes the binds as ``$name``. A
    file that documents columns must return exactly those; one that documents none
    is not checked (DuckDB answers an INSERT with a row count).
    """
    query = get_query(name)
    query.check_binds(binds)
    if not isinstance(conn, Connection):
        return conn.execute(_dollar_binds(query.body), binds) if binds else conn.execute(query.body)
    result = conn.execute(text(query.sql), binds)
    if query.columns:
        query.check_columns(list(result.keys()) if result.returns_rows else [])
    return result


def statement_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``, a statement without binds, for a driver's own call
    (psycopg2's ``copy_expert`` streams COPY ... FROM STDIN, which takes no binds)."""
    query = get_query(name)
    if query.binds:
        raise QueryFileError(f"{query.path.name}: has binds; run it with execute()")
    return query.body


def execute_script(conn: Connection, name: str) -> None:
    """Run the statements of the multi-statement file ``sql/<name>.sql`` in order (schema)."""
    path = resource_dir("sql") / f"{name}.sql"
    if not path.is_file():
        raise QueryFileError(f"no statements file sql/{name}.sql")
    for statement in statements(path):
        conn.execute(text(statement))


def _dollar_binds(sql: str) -> str:
    """``:name`` binds written as DuckDB's ``$name`` (quoted strings and ``::`` casts kept)."""
    return _BIND_OR_STRING.sub(lambda m: f"${m[1]}" if m[1] is not None else m[0], sql)


def _fetch(result: CursorResult, dialect: str, names: list[str]) -> pd.DataFrame:
    """The result as a DataFrame: column-wise from DuckDB, from plain tuples elsewhere.

    DuckDB hands over whole columns (``cursor.df()``) in a fraction of the time that
    building Python rows takes; its DECIMAL columns arrive as float64, which ``_typed``
    rounds exactly as it rounds PostgreSQL's Decimals. Elsewhere, tuples: pandas builds a
    frame from them several times faster than from SQLAlchemy Rows.
    """
    if dialect == "duckdb":
        frame = result.cursor.df()
        frame.columns = names
        return frame
    return pd.DataFrame([tuple(row) for row in result], columns=names)


def _typed(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    out = {}
    for name, kind in columns.items():
        col = frame[name]
        if kind == "int":
            out[name] = pd.to_numeric(col).astype("Int64")
        elif kind in ("float", "money"):
            if not pd.api.types.is_float_dtype(col):
                col = pd.to_numeric(col.astype(object).map(_float), errors="coerce")
            out[name] = col.astype("float64").round(3) if kind == "money" else col.astype("float64")
        elif kind == "date" or kind == "timestamp":
            out[name] = pd.to_datetime(col).astype("datetime64[s]")
        elif kind == "bool":
            out[name] = col.astype("boolean")
        else:
            out[name] = col.astype("string")
    return pd.DataFrame(out, index=frame.index)


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


class Reader:
    """Runs the files in ``sql/`` on connections that all see the same data.

    With one connection a query runs when it is submitted. With several, submitted
    queries run side by side, each on whichever connection is free: the caller
    (``Warehouse.reader``) makes sure the connections share one snapshot, so a load
    committing meanwhile never shows in half of a brief's numbers.
    """

    def __init__(self, connections: Sequence[Connection]) -> None:
        if not connections:
            raise ValueError("a Reader needs at least one connection")
        self.connections = tuple(connections)
        self._failure: Exception | None = None
        self._free: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        for conn in connections:
            self._free.put(conn)
        self._pool = (
            ThreadPoolExecutor(len(connections), thread_name_prefix="query")
            if len(connections) > 1
            else None
        )

    def submit(self, name: str, **binds: Any) -> Future[pd.DataFrame]:
        """Start ``sql/<name>.sql``; its typed DataFrame is the future's result."""
        get_query(name).check_binds(binds)  # a caller's mistake surfaces here, not in a thread
        if self._pool is not None:
            return self._pool.submit(self._run, name, binds)
        done: Future[pd.DataFrame] = Future()
        try:
            done.set_result(self._run(name, binds))
        except Exception as exc:  # raised where the result is asked for, as from a thread
            done.set_exception(exc)
        return done

    def run(self, name: str, **binds: Any) -> pd.DataFrame:
        return self.submit(name, **binds).result()

    def close(self) -> None:
        """Wait for queries still running (their connections are about to close)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, name: str, binds: Mapping[str, Any]) -> pd.DataFrame:
        # After a failure a connection's transaction is aborted and every later query on
        # it fails with a message that hides the cause: report the cause every time.
        if self._failure is not None:
            raise self._failure
        conn = self._free.get()
        try:
            return run_query(conn, name, **binds)
        except Exception as exc:
            self._failure = self._failure or exc
            raise
        finally:
            self._free.put(conn)


def statements(path: Path) -> list[str]:
    """The statements of a multi-statement file (schema, derived tables), comments removed."""
    text_ = "\n".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.strip().startswith("--")
    )
    return [s.strip() for s in text_.split(";") if s.strip()]
