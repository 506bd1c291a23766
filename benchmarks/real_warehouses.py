"""The benchmarks' common set-up: the real extract loaded into fresh warehouses."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DUMP = REPO.parent / "shared" / "data" / "retail.sql.gz"
ENGINES = ("duckdb", "postgresql", "all")


@contextlib.contextmanager
def real_warehouses(engine: str) -> Iterator[dict[str, str]]:
    """URLs of a fresh DuckDB file and/or PostgreSQL database holding the real dump.

    PostgreSQL is ``LGS_TEST_DATABASE_URL`` if set (its database is loaded into),
    else a throwaway cluster from tests/pgserver.py, stopped afterwards.
    """
    if not DUMP.exists():
        sys.exit(f"the real extract is not at {DUMP}")
    sys.path.insert(0, str(REPO))
    from lgs_reports.load import load_file
    from lgs_reports.warehouse import Warehouse
    from tests.pgserver import postgres_server

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        urls = {}
        if engine in ("duckdb", "all"):
            urls["duckdb"] = f"duckdb:///{tmp}/bench.duckdb"
        if engine in ("postgresql", "all"):
            urls["postgresql"] = os.environ.get("LGS_TEST_DATABASE_URL") or stack.enter_context(
                postgres_server()
            )
        for url in urls.values():
            warehouse = Warehouse(url)
            load_file(warehouse, DUMP)
            warehouse.dispose()
        yield urls
