"""The SQL files in ``sql/``: parsed once, binds checked, results typed.

Each file holds one query and starts with ``--`` comments that document it::

    -- Net sales, orders and customers per month.
    -- :start  timestamp  first instant of the window
    -- :end    timestamp  first instant after the window
    -- month   date       first day of the month
    -- net     money      net sales (GBP)

A comment line ``-- :name type text`` documents a bind, ``-- name type text``
a result column (types: text, int, float, money, date, timestamp, bool). The
query's ``:name`` binds must be exactly the documented ones, and a caller must
pass exactly those: both are checked, and errors name ``file:line``. Results
come back as DataFrames whose columns have the documented types, so the two
engines (PostgreSQL returns Decimal, DuckDB sometimes float) give identical data.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from lgs_reports.resources import resource_dir

TYPES = ("text", "int", "float", "money", "date", "timestamp", "bool")
_DOC = re.compile(r"^--\s+(:?)([a-z_][a-z0-9_]*)\s+(\w+)\s+(.*)$")
# A :name bind, not a ::cast, not inside a quoted string or a comment (stripped first).
_BIND = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")
_STRINGS = re.compile(r"'(?:[^']|'')*'")


class QueryFileError(Exception):
    """A file in sql/ does not follow the conventions above (a bug, not a user error)."""


@dataclasses.dataclass(frozen=True)
class Query:
    name: str
    path: Path
    sql: str
    summary: str
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


def parse_query(path: Path) -> Query:
    """Read one query file and check its documentation against its SQL."""
    source = path.read_text(encoding="utf-8")
    summary: list[str] = []
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
                if kind not in TYPES:
                    raise QueryFileError(f"{path}:{number}: unknown type {kind!r}; use {TYPES}")
                (binds if is_bind else columns)[name] = kind
            elif not binds and not columns:
                summary.append(stripped.lstrip("-").strip())
            continue
        if in_header and not stripped:
            continue
        in_header = False
        body_lines.append(line.split("--", 1)[0] if "--" in line else line)
    body = "\n".join(body_lines)
    used = set(_BIND.findall(_STRINGS.sub("''", body)))
    if used != set(binds):
        raise QueryFileError(f"{path}:1: binds used {sorted(used)} but documented {sorted(binds)}")
    if not columns:
        raise QueryFileError(f"{path}:1: no result columns documented")
    return Query(
        name=path.stem,
        path=path,
        sql=source,
        summary=" ".join(s for s in summary if s),
        binds=binds,
        columns=columns,
    )


@cache
def get_query(name: str) -> Query:
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
    if names != list(query.columns):
        raise QueryFileError(
            f"{query.path.name}: returned columns {names}, documented {list(query.columns)}"
        )
    frame = pd.DataFrame(result.fetchall(), columns=names)
    return _typed(frame, query.columns)


def _typed(frame: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    out = {}
    for name, kind in columns.items():
        col = frame[name]
        if kind == "int":
            out[name] = pd.to_numeric(col).astype("Int64")
        elif kind == "float":
            out[name] = pd.to_numeric(col.astype(object).map(_float), errors="coerce").astype(
                "float64"
            )
        elif kind == "money":
            out[name] = col.astype(object).map(_float).astype("float64").round(3)
        elif kind == "date" or kind == "timestamp":
            out[name] = pd.to_datetime(col).astype("datetime64[s]")
        elif kind == "bool":
            out[name] = col.astype("boolean")
        else:
            out[name] = col.astype("string")
    return pd.DataFrame(out, index=frame.index)


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def statements(path: Path) -> list[str]:
    """The statements of a multi-statement file (schema, derived tables), comments removed."""
    text_ = "\n".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.strip().startswith("--")
    )
    return [s.strip() for s in text_.split(";") if s.strip()]
