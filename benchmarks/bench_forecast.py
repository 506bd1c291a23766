"""Time the forecast step of the brief: both metrics, all candidates, all backtest origins.

Run by hand from the repository root:

    python benchmarks/bench_forecast.py            # real data when ../shared is there
    python benchmarks/bench_forecast.py --synthetic

The series are the 25 monthly totals the brief forecasts (net sales and active
customers, Dec 2009 - Dec 2011, December 2011 partial: 9 of 31 days), built
from /work/shared/data/online_retail_II.csv.gz when it exists, else a synthetic
series of the same shape. Two timings, each the median of 5 runs:

- cold: a fresh interpreter that already has numpy and pandas loaded (as the
  report has by the forecast step) imports lgs_reports.forecast and forecasts
  both metrics, so the statsmodels import is counted;
- warm: the same two forecasts in this process, statsmodels already loaded.

The target is under 2 s for the cold run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data/online_retail_II.csv.gz")
PARTIAL_DAYS = (9, 31)
RUNS = 5

COLD_RUN = """
import json, sys, time
import numpy, pandas as pd
payload = json.loads(sys.stdin.read())
start = time.perf_counter()
from lgs_reports.forecast import forecast_series
for metric, values in payload["series"].items():
    series = pd.Series(values, index=pd.DatetimeIndex(payload["months"]), dtype=float)
    forecast_series(series, metric=metric, partial_days=tuple(payload["partial_days"]))
print(time.perf_counter() - start)
"""


def real_series(path: Path) -> dict[str, pd.Series]:
    """Monthly net sales and active customers as BRIEF_SPEC defines them."""
    lines = pd.read_csv(path, dtype={"Invoice": str, "StockCode": str}, parse_dates=["InvoiceDate"])
    lines = lines.drop_duplicates()  # an exact duplicate line counts once
    invoice = lines["Invoice"].astype(str)
    lines = lines[~invoice.str.startswith("A")]  # adjustments are not sales
    month = lines["InvoiceDate"].dt.to_period("M").dt.to_timestamp()
    net_sales = (lines["Quantity"] * lines["Price"]).groupby(month).sum()
    placed = lines["Invoice"].astype(str).str[0].str.isdigit() & lines["Customer ID"].notna()
    active = lines.loc[placed, "Customer ID"].groupby(month[placed]).nunique()
    return {"net_sales": net_sales.astype(float), "active_customers": active.astype(float)}


def synthetic_series() -> dict[str, pd.Series]:
    """25 months shaped like the shop: a Sep-Nov peak, a dip after it, a partial last month."""
    months = pd.date_range("2009-12-01", periods=25, freq="MS")
    by_month = [0.75, 0.7, 0.95, 0.85, 0.9, 0.9, 0.85, 0.9, 1.25, 1.5, 1.9, 1.0]  # Jan..Dec
    shape = np.array([by_month[m - 1] for m in months.month])
    rng = np.random.default_rng(2011)
    noise = rng.normal(1.0, 0.06, 25)
    sales = 600_000 * shape * noise
    customers = 900 * shape * rng.normal(1.0, 0.05, 25)
    sales[-1] *= PARTIAL_DAYS[0] / PARTIAL_DAYS[1]
    customers[-1] *= 0.7
    return {
        "net_sales": pd.Series(sales, index=months),
        "active_customers": pd.Series(np.round(customers), index=months),
    }


def cold_seconds(series: dict[str, pd.Series]) -> float:
    """One fresh-interpreter run; returns the time from the import to the last forecast."""
    first = next(iter(series.values()))
    payload = {
        "months": [ts.isoformat() for ts in first.index],
        "series": {name: s.tolist() for name, s in series.items()},
        "partial_days": list(PARTIAL_DAYS),
    }
    done = subprocess.run(
        [sys.executable, "-c", COLD_RUN],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(done.stdout.strip().splitlines()[-1])


def warm_seconds(series: dict[str, pd.Series]) -> float:
    from lgs_reports.forecast import forecast_series

    start = time.perf_counter()
    for metric, values in series.items():
        forecast_series(values, metric=metric, partial_days=PARTIAL_DAYS)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", action="store_true", help="ignore the real data")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    use_real = DATA.exists() and not args.synthetic
    series = real_series(DATA) if use_real else synthetic_series()
    source = f"real data ({DATA.name})" if use_real else "synthetic series"
    months = len(next(iter(series.values())))
    cold = [cold_seconds(series) for _ in range(RUNS)]
    warm_seconds(series)  # load statsmodels once before the warm runs
    warm = [warm_seconds(series) for _ in range(RUNS)]
    print(f"forecast step: 2 metrics x {months} months, {source}")
    print(
        f"cold (import + forecast), median of {RUNS}: {statistics.median(cold):.3f} s  "
        f"[{', '.join(f'{t:.3f}' for t in cold)}]"
    )
    print(
        f"warm (forecast only),     median of {RUNS}: {statistics.median(warm):.3f} s  "
        f"[{', '.join(f'{t:.3f}' for t in warm)}]"
    )


if __name__ == "__main__":
    main()
