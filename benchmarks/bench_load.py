"""Time ``lgs-reports load`` of the real extract against ``psql`` restoring the same dump.

Run by hand from the repository root:

    python benchmarks/bench_load.py                       # 5 runs, both engines
    python benchmarks/bench_load.py --runs 3 --engine duckdb
    python benchmarks/bench_load.py --runs 1 --copies 10  # the extract ten times over

Each run is a fresh process (``python -m lgs_reports load ../shared/data/retail.sql.gz``)
into a fresh warehouse: a new DuckDB file, or a new PostgreSQL database on the
server of ``LGS_TEST_DATABASE_URL`` (else a throwaway one from
``tests/pgserver.py``). Seconds are the whole process as a user waits for it
(interpreter start and imports included); "in-tool" is what the load itself
reports. Peak RSS is that process's own, read with ``os.wait4``. The baseline is
``gunzip -c retail.sql.gz | psql -q`` into a fresh database: the same data in
the same server, with no validation and no derived tables.

Targets (for the real extract): PostgreSQL within 2x psql (the issue measured
psql at about 3 s, so 6 s; the throwaway cluster here runs without fsync, which
makes psql faster, so both are shown), DuckDB within 5 s, peak RSS under 300 MB.
With ``--copies N`` the file is a generated CSV of N shifted copies (see
``real_warehouses.write_scaled_extract``) and only the memory target applies: it
shows that memory stays bounded as the file grows. The exit status is 1 when a
target is missed.
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_RATIO_TARGET = 2.0
PG_SECONDS_TARGET = 6.0  # 2x the 3.0 s psql restore that the issue quotes
DUCKDB_SECONDS_TARGET = 5.0
RSS_TARGET_MB = 300.0

sys.path.insert(0, str(ROOT))
from benchmarks.real_warehouses import DUMP, fresh_database, scaled_extract  # noqa: E402
from tests.pgserver import server_url  # noqa: E402


@dataclass
class Run:
    seconds: float
    rss_mb: float
    in_tool: float | None = None


def timed(command: list[str], env: dict[str, str] | None = None, shell: bool = False) -> Run:
    """Run a command to completion: wall seconds and its peak RSS (its own, via wait4)."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: nothing can block
        started = time.perf_counter()
        child = subprocess.Popen(
            command[0] if shell else command,
            shell=shell,
            env=env,
            cwd=tempfile.gettempdir(),
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        out = child.stdout.read()  # type: ignore[union-attr]
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        err = errors.read()
    if child.returncode != 0:
        raise SystemExit(f"{command} failed ({child.returncode}):\n{err.decode()[-2000:]}")
    match = re.search(rb"loaded [\d,]+ lines as load #\d+ \((\d+\.\d) s\)", out)
    return Run(seconds, usage.ru_maxrss / 1024, float(match.group(1)) if match else None)


def load_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGS_")}
    env["LGS_DATABASE_URL"] = url
    env["LGS_OUTPUT_DIR"] = tempfile.gettempdir()
    return env


def load(path: Path) -> list[str]:
    return [sys.executable, "-m", "lgs_reports", "load", "-q", str(path)]


def bench_duckdb(path: Path, runs: int) -> list[Run]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="lgs-bench-") as folder:
            url = f"duckdb:///{Path(folder) / 'warehouse.duckdb'}"
            results.append(timed(load(path), load_env(url)))
    return results


def bench_postgres(server: str, path: Path, runs: int) -> tuple[list[Run], list[Run]]:
    """(lgs-reports load, psql restore of the dump), alternated: both see the same machine.

    The baseline is timed only for the real dump itself (``path`` is DUMP).
    """
    from sqlalchemy.engine import make_url

    ours, baseline = [], []
    for _ in range(runs):
        with fresh_database(server) as url:
            ours.append(timed(load(path), load_env(url)))
        if path != DUMP:
            continue
        with fresh_database(server) as url:
            libpq = make_url(url).render_as_string(hide_password=False)
            restore = f"gunzip -c {DUMP} | psql -q -v ON_ERROR_STOP=1 -o /dev/null '{libpq}'"
            baseline.append(timed([restore], shell=True))
    return ours, baseline


def row(label: str, runs: list[Run], baseline: float | None) -> str:
    seconds = [r.seconds for r in runs]
    median = statistics.median(seconds)
    in_tool = [r.in_tool for r in runs if r.in_tool is not None]
    tool = f"{statistics.median(in_tool):8.1f}" if in_tool else f"{'':>8}"
    ratio = f"{median / baseline:8.2f}x" if baseline else ""
    return (
        f"{label:<22}{median:8.2f}{min(seconds):8.2f}{max(seconds):8.2f}{tool}"
        f"{max(r.rss_mb for r in runs):10.0f}{ratio}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--engine", choices=["duckdb", "postgresql", "all"], default="all")
    parser.add_argument(
        "--copies",
        type=int,
        default=1,
        help="load the extract this many times over (a generated CSV); targets apply to 1",
    )
    args = parser.parse_args()
    with scaled_extract(args.copies) as path:
        return run(path, args)


def run(path: Path, args: argparse.Namespace) -> int:
    print(f"{args.runs} runs each of loading {path.name} ({path.stat().st_size / 1e6:.1f} MB)")
    print(
        f"{'engine':<22}{'median':>8}{'min':>8}{'max':>8}{'in-tool':>8}{'peak MB':>10}"
        f"{'vs psql':>9}"
    )
    missed = []
    if args.engine in ("postgresql", "all"):
        with server_url() as server:
            ours, baseline = bench_postgres(server, path, args.runs)
        psql = statistics.median(r.seconds for r in baseline) if baseline else None
        if baseline:
            print(row("psql restore (base)", baseline, psql))
        print(row("lgs-reports postgresql", ours, psql))
        median = statistics.median(r.seconds for r in ours)
        if psql and median > PG_RATIO_TARGET * psql:
            missed.append(f"PostgreSQL slower than {PG_RATIO_TARGET}x psql measured here")
        if args.copies == 1 and median > PG_SECONDS_TARGET:
            missed.append(f"PostgreSQL load over {PG_SECONDS_TARGET} s (2x the issue's psql)")
        if max(r.rss_mb for r in ours) > RSS_TARGET_MB:
            missed.append(f"PostgreSQL load peak RSS over {RSS_TARGET_MB:.0f} MB")
    if args.engine in ("duckdb", "all"):
        ours = bench_duckdb(path, args.runs)
        print(row("lgs-reports duckdb", ours, None))
        if args.copies == 1 and statistics.median(r.seconds for r in ours) > DUCKDB_SECONDS_TARGET:
            missed.append(f"DuckDB load over {DUCKDB_SECONDS_TARGET} s")
        if max(r.rss_mb for r in ours) > RSS_TARGET_MB:
            missed.append(f"DuckDB load peak RSS over {RSS_TARGET_MB:.0f} MB")
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for miss in missed:
        print(f"target missed: {miss}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
