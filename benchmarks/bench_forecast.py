"""Time the forecast step of the brief: both metrics, all candidates, all backtest origins.

Run by hand from the repository root:

    python benchmarks/bench_forecast.py              # warehouses when present, else fixtures
    python benchmarks/bench_forecast.py --embedded   # the embedded fixtures only
    python benchmarks/bench_forecast.py --guard-only # just the speed guard (no subprocesses)

Timed series: the two metrics the brief forecasts (net sales and active
customers) for two data sets, each through November 2011 (24 complete months)
and through December 2011 (December partial: 9 of 31 days):

- real: the LGS warehouse (``--real-db``, default /tmp/t.duckdb);
- sample: the generated sample warehouse (``--sample-db``, default
  /tmp/sample.duckdb), whose slow statsmodels fits prompted this benchmark.

A warehouse is read (read-only, once, before any timing) through the report's
own queries when its file exists; otherwise, or with ``--embedded``, the
embedded copies of the same series are used. Two timings per case, each the
median of ``--runs`` runs:

- cold: a fresh interpreter that already has numpy and pandas loaded (as the
  report has by the forecast step) imports lgs_reports.analyses.forecast and
  forecasts both metrics;
- warm: the same two forecasts in this process, the module already loaded.

Targets: warm under 1.0 s and cold under 2.0 s for both metrics.

Speed guard (not a test: timings belong here, not in the test suite): awkward
shapes, each forecast alone (warm) must take under ``GUARD_SECONDS``; the sample
net sales, flat, stepped, trending, noisy, with a zero month, intermittent,
short, and long (3, 5 and 10 years) series. The exit status is 1 when any
target or guard is missed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
PARTIAL_DAYS = (9, 31)
WARM_TARGET = 1.0
COLD_TARGET = 2.0
GUARD_SECONDS = 0.5
"""One metric, warm: half the two-metric target."""

# Monthly totals Dec 2009 - Dec 2011 (December 2011: 9 of 31 days), as the
# report computes them (net sales in GBP, active customers) from each warehouse.
REAL = {
    "net_sales": (
        796648.50, 622479.502, 531265.366, 763247.241, 641521.052, 613270.72, 677073.87,
        617365.48, 654774.39, 851105.961, 1080611.48, 1416697.202, 746723.61, 558448.56,
        497026.41, 682013.98, 492367.841, 722094.1, 689977.23, 680156.991, 692448.52,
        1017596.682, 1069368.23, 1456145.8, 432719.06,
    ),
    "active_customers": (
        955, 720, 774, 1057, 942, 966, 1041, 928, 911, 1145, 1497, 1607, 885, 741, 758,
        974, 856, 1056, 991, 949, 935, 1266, 1364, 1665, 615,
    ),
}  # fmt: skip
SAMPLE = {
    "net_sales": (
        496123.70, 379237.39, 282913.45, 424842.66, 461372.27, 440540.45, 440240.76,
        473429.57, 526182.94, 649213.12, 707332.93, 1065122.58, 659713.68, 553771.66,
        555561.72, 637005.09, 584052.91, 690787.84, 700376.20, 710239.03, 771991.03,
        1127017.07, 1191336.18, 1516480.78, 276584.71,
    ),
    "active_customers": (
        267, 195, 144, 218, 172, 178, 163, 172, 182, 237, 261, 325, 240, 212, 191, 233,
        200, 236, 238, 239, 230, 300, 334, 437, 146,
    ),
}  # fmt: skip
FIRST_MONTH = "2009-12-01"

COLD_RUN = """
import json, sys, time
import numpy, pandas as pd
payload = json.loads(sys.stdin.read())
start = time.perf_counter()
from lgs_reports.analyses.forecast import forecast_series
for metric, values in payload["series"].items():
    series = pd.Series(values, index=pd.DatetimeIndex(payload["months"]), dtype=float)
    partial = payload["partial_days"]
    forecast_series(series, metric=metric, partial_days=tuple(partial) if partial else None)
print(time.perf_counter() - start)
"""


@dataclass(frozen=True)
class Case:
    """Both metrics of one data set through one period."""

    name: str
    series: dict[str, pd.Series]
    partial_days: tuple[int, int] | None


def monthly(values, start: str = FIRST_MONTH) -> pd.Series:
    values = np.asarray(values, dtype=float)
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="MS"))


def embedded_cases(name: str, data: dict[str, tuple]) -> list[Case]:
    """Through Nov 2011 (24 complete months) and through Dec 2011 (partial)."""
    full = {metric: monthly(values) for metric, values in data.items()}
    through_nov = {metric: s.iloc[:-1] for metric, s in full.items()}
    return [
        Case(f"{name}, through Nov 2011", through_nov, None),
        Case(f"{name}, through Dec 2011 (partial)", full, PARTIAL_DAYS),
    ]


def warehouse_cases(name: str, path: Path) -> list[Case]:
    """The same cases read from a warehouse with the report's own queries."""
    from lgs_reports import analyses as analysis
    from lgs_reports.dataset import fetch
    from lgs_reports.periods import parse_period
    from lgs_reports.warehouse import Warehouse

    warehouse = Warehouse(f"duckdb:///{path}")
    cases = []
    for period, label in (("2011-11", "through Nov 2011"), ("2011-12", "through Dec 2011")):
        with warehouse.reader() as reader:
            data = fetch(reader, parse_period(period), rfm_window_days=365)
        trend = analysis.monthly_trend(data.monthly, data.coverage)
        series = {"net_sales": trend.net_series(), "active_customers": trend.active_series()}
        partial = data.coverage.last_month_days
        if partial is not None and partial[0] >= partial[1]:
            partial = None
        label = f"{label} (partial)" if partial else label
        cases.append(Case(f"{name}, {label}", series, partial))
    return cases


def load_cases(name: str, path: Path, data: dict[str, tuple], embedded: bool) -> list[Case]:
    if embedded or not path.exists():
        return embedded_cases(f"{name} (embedded)", data)
    try:
        return warehouse_cases(f"{name} ({path})", path)
    except Exception as exc:  # a broken or busy warehouse: fall back to the fixtures
        print(f"note: could not read {path} ({type(exc).__name__}: {exc}); using the fixtures")
        return embedded_cases(f"{name} (embedded)", data)


def cold_seconds(case: Case) -> float:
    """One fresh-interpreter run; returns the time from the import to the last forecast."""
    first = next(iter(case.series.values()))
    payload = {
        "months": [ts.isoformat() for ts in first.index],
        "series": {metric: s.tolist() for metric, s in case.series.items()},
        "partial_days": list(case.partial_days) if case.partial_days else None,
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


def warm_seconds(case: Case) -> float:
    from lgs_reports.analyses.forecast import forecast_series

    start = time.perf_counter()
    for metric, values in case.series.items():
        forecast_series(values, metric=metric, partial_days=case.partial_days)
    return time.perf_counter() - start


def guard_shapes() -> dict[str, tuple[pd.Series, tuple[int, int] | None]]:
    """Awkward monthly series the forecast must stay fast on."""
    rng = np.random.default_rng(2011)
    t36 = np.arange(36)
    season = np.array([0.75, 0.7, 0.95, 0.85, 0.9, 0.9, 0.85, 0.9, 1.25, 1.5, 1.9, 1.0])

    def yearly(n: int, noise: float) -> np.ndarray:
        level = 600_000 * (1 + 0.01 * np.arange(n))
        return level * np.tile(season, n // 12 + 1)[:n] * rng.normal(1, noise, n)

    zero_month = np.array(SAMPLE["net_sales"][:24])
    zero_month[17] = 0.0
    intermittent = rng.poisson(0.6, 24) * rng.uniform(100, 900, 24)
    return {
        "sample net sales, Dec 2009 - Nov 2011": (monthly(SAMPLE["net_sales"][:24]), None),
        "flat (24 months)": (monthly(np.full(24, 1000.0)), None),
        "flat, then a step (24)": (monthly(np.r_[np.full(14, 500.0), np.full(10, 900.0)]), None),
        "linear trend (24)": (monthly(1000 + 250.0 * np.arange(24)), None),
        "noisy, no pattern (24)": (monthly(np.abs(rng.normal(1e5, 4e4, 24))), None),
        "random walk (24)": (monthly(1e5 + np.cumsum(rng.normal(0, 1e4, 24))), None),
        "with a zero month (24)": (monthly(zero_month), None),
        "intermittent, many zeros (24)": (monthly(intermittent), None),
        "all zeros (24)": (monthly(np.zeros(24)), None),
        "short (17)": (monthly(SAMPLE["net_sales"][:17]), None),
        "short (20), partial last month": (monthly(SAMPLE["net_sales"][:20]), (5, 31)),
        "seasonal (36), trend + season": (monthly(1000 + 5 * t36 + 300 * np.sin(t36 / 1.9)), None),
        "seasonal (36), sales-sized, noisy": (monthly(yearly(36, 0.08)), None),
        "seasonal (60), partial last month": (monthly(yearly(60, 0.06)), (12, 30)),
        "seasonal (120)": (monthly(yearly(120, 0.06)), None),
    }


def run_guard() -> bool:
    from lgs_reports.analyses.forecast import forecast_series

    ok = True
    print(f"\nspeed guard: one metric each, warm, limit {GUARD_SECONDS:.1f} s")
    for name, (series, partial) in guard_shapes().items():
        start = time.perf_counter()
        result = forecast_series(series, metric="net_sales", partial_days=partial)
        seconds = time.perf_counter() - start
        finite = all(np.isfinite([p.mean, p.lo95, p.hi95]).all() for p in result.points)
        passed = seconds < GUARD_SECONDS and finite and bool(result.points)
        ok &= passed
        print(
            f"  {'ok  ' if passed else 'SLOW' if finite else 'BAD '} {seconds:6.3f} s  "
            f"{name:38s} -> {result.model or '(none)'}"
        )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-db", type=Path, default=Path("/tmp/t.duckdb"))
    parser.add_argument("--sample-db", type=Path, default=Path("/tmp/sample.duckdb"))
    parser.add_argument("--embedded", action="store_true", help="ignore the warehouses")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--guard-only", action="store_true", help="skip the timed cases")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    ok = True
    if not args.guard_only:
        cases = [
            *load_cases("real", args.real_db, REAL, args.embedded),
            *load_cases("sample", args.sample_db, SAMPLE, args.embedded),
        ]
        for case in cases:
            months = len(next(iter(case.series.values())))
            cold = [cold_seconds(case) for _ in range(args.runs)]
            warm_seconds(case)  # load the module once before the warm runs
            warm = [warm_seconds(case) for _ in range(args.runs)]
            cold_median, warm_median = statistics.median(cold), statistics.median(warm)
            passed = cold_median < COLD_TARGET and warm_median < WARM_TARGET
            ok &= passed
            print(f"\n{case.name}: 2 metrics x {months} months {'' if passed else '  MISSED'}")
            print(
                f"  cold (import + forecast), median of {args.runs}: {cold_median:.3f} s "
                f"(target {COLD_TARGET:.1f})  [{', '.join(f'{t:.3f}' for t in cold)}]"
            )
            print(
                f"  warm (forecast only),     median of {args.runs}: {warm_median:.3f} s "
                f"(target {WARM_TARGET:.1f})  [{', '.join(f'{t:.3f}' for t in warm)}]"
            )
    ok &= run_guard()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
