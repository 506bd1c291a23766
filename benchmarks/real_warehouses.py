"""The benchmarks' common set-up: the real extract loaded into fresh warehouses, the
children that time a step in a fresh process, and the options they share."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.pgserver import admin_engine, server_url, throwaway_database  # noqa: E402

DUMP = REPO.parent / "shared" / "data" / "retail.sql.gz"
CSV = REPO.parent / "shared" / "data" / "online_retail_II.csv.gz"
ENGINES = ("duckdb", "postgresql", "all")


def write_scaled_extract(target: Path, copies: int) -> Path:
    """The real extract ``copies`` times over, as one CSV with the public header.

    Copy k (from 0) shifts every invoice number by k million (a C or A prefix kept)
    and every customer id by k * 100,000: new invoices and new customers with the
    real extract's shape, dates and products. Written in chunks (bounded memory).
    """
    import pandas as pd

    with target.open("w", encoding="utf-8", newline="") as out:
        for k in range(copies):
            for chunk in pd.read_csv(CSV, dtype=str, keep_default_na=False, chunksize=500_000):
                if k:
                    invoice = chunk["Invoice"]
                    number = pd.to_numeric(invoice.str.replace(r"^[A-Za-z]", "", regex=True))
                    chunk["Invoice"] = invoice.str.extract(r"^([A-Za-z]?)")[0] + (
                        number + k * 1_000_000
                    ).astype(str)
                    customer = chunk["Customer ID"]
                    known = customer != ""
                    chunk.loc[known, "Customer ID"] = (
                        pd.to_numeric(customer[known]).astype("int64") + k * 100_000
                    ).astype(str)
                chunk.to_csv(out, header=out.tell() == 0, index=False)
    return target


@contextlib.contextmanager
def scaled_extract(copies: int) -> Iterator[Path]:
    """The file to load: the real dump itself, or a generated CSV of ``copies`` copies."""
    if not DUMP.exists() or not CSV.exists():
        sys.exit(f"the real extract is not in {DUMP.parent}")
    if copies == 1:
        yield DUMP
        return
    with tempfile.TemporaryDirectory(prefix="lgs-bench-") as tmp:
        print(f"writing the real extract {copies} times over ...", flush=True)
        yield write_scaled_extract(Path(tmp) / f"retail_{copies}x.csv", copies)


_databases = itertools.count()


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on that server (its user needs CREATEDB), dropped afterwards."""
    admin = admin_engine(server_url)
    name = f"lgs_bench_{os.getpid()}_{next(_databases)}"
    try:
        with throwaway_database(server_url, admin, name) as url:
            yield url
    finally:
        admin.dispose()


@contextlib.contextmanager
def real_warehouses(
    engine: str, copies: int = 1, *, load_memory: str | None = None
) -> Iterator[dict[str, str]]:
    """URLs of a fresh DuckDB file and/or PostgreSQL database holding the real extract.

    ``copies`` > 1 loads the extract that many times over (``write_scaled_extract``)
    through the same loader. The PostgreSQL database is a new one on the server of
    ``tests.pgserver.server_url()``. ``load_memory`` is DuckDB's memory limit while
    loading (the warehouse's default if not given).
    """
    with (
        scaled_extract(copies) as extract,
        warehouses_holding(extract, engine, load_memory=load_memory) as urls,
    ):
        yield urls


@contextlib.contextmanager
def warehouses_holding(
    extract: Path, engine: str, *, load_memory: str | None = None
) -> Iterator[dict[str, str]]:
    """URLs of a fresh DuckDB file and/or PostgreSQL database with ``extract`` loaded."""
    from lgs_reports.load import load_file
    from lgs_reports.warehouse import DUCKDB_MEMORY_LIMIT, Warehouse

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        urls = {}
        if engine in ("duckdb", "all"):
            urls["duckdb"] = f"duckdb:///{tmp}/bench.duckdb"
        if engine in ("postgresql", "all"):
            server = stack.enter_context(server_url())
            urls["postgresql"] = stack.enter_context(fresh_database(server))
        for name, url in urls.items():
            started = time.perf_counter()
            warehouse = Warehouse(url, duckdb_memory_limit=load_memory or DUCKDB_MEMORY_LIMIT)
            load_file(warehouse, extract)
            warehouse.dispose()
            print(f"loaded {extract.name} into {name} in {time.perf_counter() - started:.1f} s")
        yield urls


def run_child(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh Python process (``python -c code args``) on this checkout;
    the JSON object it prints last. A failing child ends the benchmark with its stderr."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    if out.returncode:
        sys.exit(out.stderr)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark of a brief's steps takes: runs, period and engine."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--period", default="2011")
    parser.add_argument("--engine", choices=ENGINES, default="all")
    return parser
