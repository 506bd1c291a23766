"""Benchmark: every query and analysis of one brief, on the real extract and on a 10x copy.

    python benchmarks/bench_analyses.py [--runs 5] [--period 2011] [--engine all] [--copies 10]

Loads ../shared/data/retail.sql.gz into a fresh DuckDB file and a fresh
PostgreSQL database (a throwaway cluster from tests/pgserver.py unless
LGS_TEST_DATABASE_URL is set), then times, in a fresh process per run, the
query, analyse and recommend steps of the brief (the forecast, timed separately,
is benchmarks/bench_forecast.py's business). Then it loads the extract ten times
over (``--copies``; each copy with its invoice numbers and customer ids shifted,
see ``real_warehouses.write_scaled_extract``) through the same loader, and runs
the same.
As the baseline it times the notebook approach: ``pandas.read_sql`` of the
whole raw table from PostgreSQL, then the monthly sums in pandas.
Prints median, min and max seconds and peak RSS of each.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.real_warehouses import bench_parser, real_warehouses, run_child  # noqa: E402

CHILD = r"""
import json, sys, time
def peak_mb():
    # VmHWM is this process's own peak; ru_maxrss would include the parent's before exec
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from lgs_reports import analyses as analysis
from lgs_reports.config import load_settings
from lgs_reports.dataset import fetch
from lgs_reports.periods import parse_period
from lgs_reports.recommendations import recommend
from lgs_reports.warehouse import Warehouse

analysis.forecasts = lambda trend, data: {}  # the forecast is bench_forecast.py's business
url, period = sys.argv[1], sys.argv[2]
settings = load_settings(env={})
warehouse = Warehouse(url)
with warehouse.connect() as conn:  # connect once, outside the timing, like a run does
    pass
start = time.perf_counter()
with warehouse.reader() as reader:
    data = fetch(reader, parse_period(period), rfm_window_days=365)
queried = time.perf_counter()
recommend(analysis.analyse(data, settings))
done = time.perf_counter()
print(json.dumps({"query": queried - start, "analyse": done - queried, "total": done - start,
                  "rss_mb": peak_mb()}))
"""

BASELINE = r"""
import json, sys, time
def peak_mb():
    # VmHWM is this process's own peak; ru_maxrss would include the parent's before exec
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
import pandas as pd
from sqlalchemy import create_engine
start = time.perf_counter()
engine = create_engine(sys.argv[1].replace("postgresql://", "postgresql+psycopg2://", 1))
frame = pd.read_sql("SELECT * FROM retail", engine)
read = time.perf_counter()
frame = frame.drop(columns="load_id").drop_duplicates()
frame["amount"] = frame["quantity"] * frame["unit_price"].astype(float)
frame["month"] = frame["invoice_date"].dt.to_period("M")
frame.groupby("month").agg(net=("amount", "sum"), invoices=("invoice_no", "nunique"))
done = time.perf_counter()
print(json.dumps({"query": read - start, "analyse": done - read, "total": done - start,
                  "rss_mb": peak_mb()}))
"""


def measure(label: str, code: str, args: list[str], runs: int) -> None:
    results = [run_child(code, *args) for _ in range(runs)]
    totals = [r["total"] for r in results]
    print(
        f"{label:<34} median {statistics.median(totals):6.3f} s  "
        f"(query {statistics.median(r['query'] for r in results):.3f}, "
        f"analyse {statistics.median(r['analyse'] for r in results):.3f}; "
        f"min {min(totals):.3f}, max {max(totals):.3f})  "
        f"peak {max(r['rss_mb'] for r in results):.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--copies", type=int, default=10, help="size of the scaled extract (1: skip it)"
    )
    args = parser.parse_args()
    with real_warehouses(args.engine) as urls:
        for name, url in urls.items():
            measure(f"{name}, real extract, {args.period}", CHILD, [url, args.period], args.runs)
        if "postgresql" in urls:
            measure(
                "baseline: pandas.read_sql + pandas",
                BASELINE,
                [urls["postgresql"]],
                max(1, min(args.runs, 3)),
            )
    if args.copies > 1:
        with real_warehouses(args.engine, copies=args.copies) as urls:
            for name, url in urls.items():
                label = f"{name}, {args.copies}x extract, {args.period}"
                measure(label, CHILD, [url, args.period], args.runs)


if __name__ == "__main__":
    main()
