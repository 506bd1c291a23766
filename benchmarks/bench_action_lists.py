"""Benchmark: the action lists' queries on the real extract and on a 10x copy, both engines.

    python benchmarks/bench_action_lists.py [--runs 5] [--period 2011] [--engine all]
                                            [--copies 10] [--load-memory 1GB]

Loads ../shared/data/retail.sql.gz into a fresh DuckDB file and a fresh PostgreSQL
database (a throwaway cluster from tests/pgserver.py unless LGS_TEST_DATABASE_URL is
set), then times, in a fresh process per run, the queries the action lists add to a
brief (sql/suggested_products.sql, customer_top_products.sql, customer_orders.sql) at
the period's RFM snapshot, beside two references measured in the same run: the brief's
rfm_values.sql on the same connection, and DuckDB's read_csv of the extract the warehouse
was loaded from (what reading the raw lines costs at that size). Then the same on the
extract ten times over (``--copies``; each copy with its invoice numbers and customer ids
shifted, see ``real_warehouses.write_scaled_extract``). Last, the time to write the lists
(the ten CSVs and the workbook) from a DuckDB warehouse of each size.

The warehouses are loaded with ``--load-memory`` as DuckDB's memory limit (the 10x load
needs more than the 128MB default); the queries run with the default, as a brief does.
Prints median, min and max seconds of each.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.real_warehouses import (  # noqa: E402
    CSV,
    bench_parser,
    run_child,
    scaled_extract,
    warehouses_holding,
)

QUERIES = r"""
import datetime as dt, json, sys, time
from lgs_reports.dataset import SUGGESTION_POOL
from lgs_reports.periods import Coverage, parse_period
from lgs_reports.warehouse import Warehouse

url, period = sys.argv[1], sys.argv[2]
warehouse = Warehouse(url)
# the brief's reader (its transaction settings too), opened outside the timing, like a run does
with warehouse.reader() as reader:
    window = reader.run("data_window")
    first, last = (window.at[0, c].to_pydatetime() for c in ("first_invoice", "last_invoice"))
    at = dt.datetime.combine(Coverage(parse_period(period), first, last).snapshot, dt.time())
    year = dt.timedelta(days=365)
    binds = {"snapshot": at, "window_start": at - year}
    runs = {
        "rfm_values": binds,
        "suggested_products": {**binds, "pool_size": SUGGESTION_POOL},
        "customer_top_products": binds,
        "customer_orders": {**binds, "previous_start": at - 2 * year},
    }
    seconds = {}
    for name, given in runs.items():
        start = time.perf_counter()
        rows = len(reader.run(name, **given))
        seconds[name] = (time.perf_counter() - start, rows)
print(json.dumps(seconds))
"""

READ_CSV = r"""
import duckdb, json, sys, time
start = time.perf_counter()
with duckdb.connect() as con:
    rows = con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true)", [sys.argv[1]])
    count = rows.fetchone()[0]
print(json.dumps({"read_csv": (time.perf_counter() - start, count)}))
"""

WRITE_LISTS = r"""
import json, sys, time
from lgs_reports import analyses as analysis
from lgs_reports.config import load_settings
from lgs_reports.dataset import fetch
from lgs_reports.periods import parse_period
from lgs_reports.warehouse import Warehouse

analysis.forecasts = lambda trend, data: {}  # the forecast is bench_forecast.py's business
url, period = sys.argv[1], sys.argv[2]
with Warehouse(url).reader() as reader:
    data = fetch(reader, parse_period(period), rfm_window_days=365)
segments = analysis.analyse(data, load_settings(env={})).segments
start = time.perf_counter()
files = segments.list_files()
print(json.dumps({"write lists": (time.perf_counter() - start, len(segments.table))}))
"""


def measure(label: str, code: str, args: list[str], runs: int) -> None:
    """Each timing of ``code``'s children over ``runs`` fresh processes, one line each."""
    results = [run_child(code, *args) for _ in range(runs)]
    for name in results[0]:
        seconds = [r[name][0] for r in results]
        print(
            f"{label:<30} {name:<22} median {statistics.median(seconds):7.3f} s  "
            f"(min {min(seconds):.3f}, max {max(seconds):.3f})  {results[0][name][1]:>9,} rows",
            flush=True,
        )


def main() -> None:
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--copies", type=int, default=10, help="size of the scaled extract (1: skip it)"
    )
    parser.add_argument("--load-memory", default="1GB", help="DuckDB's memory limit for loading")
    args = parser.parse_args()
    for copies in (1, args.copies) if args.copies > 1 else (1,):
        with (
            scaled_extract(copies) as extract,
            warehouses_holding(extract, args.engine, load_memory=args.load_memory) as urls,
        ):
            size = "real extract" if copies == 1 else f"{copies}x extract"
            lines = extract if extract.suffix == ".csv" else CSV  # the same lines as CSV
            measure(size, READ_CSV, [str(lines)], args.runs)
            for name, url in urls.items():
                measure(f"{name}, {size}, {args.period}", QUERIES, [url, args.period], args.runs)
            if "duckdb" in urls:
                measure(
                    f"duckdb, {size}, {args.period}", WRITE_LISTS, [urls["duckdb"], args.period], 1
                )


if __name__ == "__main__":
    main()
