"""Benchmark: the whole run (``python -m lgs_reports --period 2011 --no-email``), real data.

    python benchmarks/bench_report.py [--runs 5] [--period 2011] [--engine all]

Loads ../shared/data/retail.sql.gz into a fresh DuckDB file and a fresh
PostgreSQL database (a throwaway cluster from tests/pgserver.py unless
LGS_TEST_DATABASE_URL is set), then runs the brief N times per engine, each in
a fresh process and a fresh output folder (so nothing is reused), and prints the
median wall time, the median of each step the run logs (warehouse, query,
analyse, recommend, draw, html, layout, write, archive), the import time (what is
left), and the peak RSS of the run (VmHWM of the child).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.real_warehouses import ENGINES, real_warehouses  # noqa: E402

STEP = re.compile(r"INFO (\w+): ([0-9.]+) s$")


def one_run(url: str, period: str) -> tuple[float, dict[str, float], float]:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "LGS_DATABASE_URL": url, "LGS_OUTPUT_DIR": out}
        env.pop("LGS_CONFIG", None)
        started = time.perf_counter()
        child = subprocess.Popen(
            [
                "/usr/bin/time",
                "-f",
                "PEAK %M",
                sys.executable,
                "-m",
                "lgs_reports",
                "--period",
                period,
                "--no-email",
            ],
            cwd=out,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        _, err = child.communicate()
        wall = time.perf_counter() - started
        if child.returncode:
            sys.exit(err)
    steps = {m.group(1): float(m.group(2)) for line in err.splitlines() if (m := STEP.search(line))}
    peak = float(re.search(r"PEAK (\d+)", err).group(1)) / 1024
    return wall, steps, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--period", default="2011")
    parser.add_argument("--engine", choices=ENGINES, default="all")
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("/usr/bin/time measures the peak memory; install it (apt-get install time)")
    with real_warehouses(args.engine) as urls:
        for name, url in urls.items():
            runs = [one_run(url, args.period) for _ in range(args.runs)]
            walls = [r[0] for r in runs]
            names = list(runs[0][1])
            steps = {n: statistics.median(r[1].get(n, 0.0) for r in runs) for n in names}
            other = statistics.median(
                w - sum(r[1].values()) for w, r in zip(walls, runs, strict=True)
            )
            print(
                f"{name}: --period {args.period}: median {statistics.median(walls):.2f} s "
                f"(min {min(walls):.2f}, max {max(walls):.2f}), "
                f"peak {max(r[2] for r in runs):.0f} MB"
            )
            print(
                "  "
                + ", ".join(f"{n} {s:.2f}" for n, s in steps.items())
                + f", imports and start-up {other:.2f}"
            )


if __name__ == "__main__":
    main()
