"""Benchmark: the whole run (``python -m lgs_reports --period 2011 --no-email``), real data.

    python benchmarks/bench_report.py [--runs 5] [--period 2011] [--engine all]
    python benchmarks/bench_report.py --peers [--runs 5] [--peers-venv DIR]

Loads ../shared/data/retail.sql.gz into a fresh DuckDB file and a fresh PostgreSQL
database (a throwaway cluster from tests/pgserver.py unless LGS_TEST_DATABASE_URL is
set), then runs the brief N times per engine after a warm-up run (the engines in
turn), each in a fresh process and a fresh output folder (so nothing is reused), and
prints the median wall time, the median of each step the run logs (warehouse, query,
analyse, recommend, draw, html, layout, write, archive; the workers' steps overlap
the main process's, so they add up to more than the wall time), the CPU time of the
run and its workers (user + system) and the cores it kept busy (CPU over wall: 2 on
a 2-core machine means the run can only get faster by doing less), and the peak RSS
of the run (``/usr/bin/time``'s maximum resident set); with ``--engine all``, the
brief's wall time on PostgreSQL over its time on DuckDB.

``--peers`` runs the brief side by side with the two yardsticks of
``../shared/peers`` (the notebook route and the plain script) on the same DuckDB
warehouse: a warm-up round, then N rounds, each running every contender once, in
turn, in fresh processes. It prints each one's median wall time, CPU time and
cores kept busy, peak memory and seconds per page, and the ratios of ours to each
peer; with ``--engine all`` the brief also runs on the PostgreSQL warehouse (the
peers stay on DuckDB), and its ratio to the brief on DuckDB is printed. The peers'
virtual environment is made once by ``../shared/peers/setup.sh`` (``--peers-venv``;
a few minutes the first time).
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
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple, TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.real_warehouses import bench_parser, real_warehouses  # noqa: E402

STEP = re.compile(r"INFO (\w+): ([0-9.]+) s$")
PEERS = REPO.parent / "shared" / "peers"
MEASURED = re.compile(r"PEAK (\d+) CPU ([0-9.]+) ([0-9.]+)")
T = TypeVar("T")


class Run(NamedTuple):
    wall: float  # seconds
    peak: float  # MB
    cpu: float  # seconds, user + system, of the command and every process it waited for
    pages: int


def timed(command: list[str], cwd: str, env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run ``command`` under /usr/bin/time: (wall seconds, peak MB, CPU seconds, stderr);
    exit on failure.

    The peak is the largest resident set of the command or of any process it waited
    for (the notebook route's papermill, nbconvert and WeasyPrint are one after another);
    the CPU time is theirs summed.
    """
    started = time.perf_counter()
    child = subprocess.run(
        ["/usr/bin/time", "-f", "PEAK %M CPU %U %S", *command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if child.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{child.stderr[-3000:]}")
    peak, user, system = MEASURED.findall(child.stderr)[-1]
    return wall, float(peak) / 1024, float(user) + float(system), child.stderr


def pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def one_run(url: str, period: str) -> tuple[Run, dict[str, float]]:
    """The brief in a fresh process and output folder, and its steps."""
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "LGS_DATABASE_URL": url, "LGS_OUTPUT_DIR": out}
        env.pop("LGS_CONFIG", None)
        command = [sys.executable, "-m", "lgs_reports", "--period", period, "--no-email"]
        wall, peak, cpu, err = timed(command, out, env)
        pdf = next(Path(out).glob(f"{period}/r1/*.pdf"))
        steps = {
            m.group(1): float(m.group(2)) for line in err.splitlines() if (m := STEP.search(line))
        }
        return Run(wall, peak, cpu, pages(pdf)), steps


def notebook_route(venv: Path, db: str, period: str) -> Run:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "PEER_VENV": str(venv), "PERIOD": period, "DB": db, "OUT": out}
        wall, peak, cpu, _ = timed(["bash", str(PEERS / "notebook_route" / "run.sh")], out, env)
        return Run(wall, peak, cpu, pages(Path(out) / "report.pdf"))


def plain_script(venv: Path, db: str, period: str) -> Run:
    with tempfile.TemporaryDirectory() as out:
        pdf = Path(out) / "report.pdf"
        command = [
            str(venv / "bin" / "python"),
            str(PEERS / "plain_script" / "report.py"),
            *("--period", period, "--db", db, "--out", str(pdf)),
        ]
        wall, peak, cpu, _ = timed(command, out, dict(os.environ))
        return Run(wall, peak, cpu, pages(pdf))


def peers_venv(path: Path) -> Path:
    if not (path / "bin" / "papermill").exists():
        print(f"making the peers' venv in {path} (../shared/peers/setup.sh) ...", flush=True)
        subprocess.run(["bash", str(PEERS / "setup.sh"), str(path)], check=True)
    return path


def in_turn(contenders: dict[str, Callable[[], T]], runs: int) -> dict[str, list[T]]:
    """Each contender's results of ``runs`` rounds, each round running every contender
    once, in turn, after a warm-up round that is not counted: a drift of the machine's
    speed touches them all alike."""
    results: dict[str, list[T]] = {name: [] for name in contenders}
    for round_ in range(runs + 1):
        for name, run in contenders.items():
            result = run()
            if round_:
                results[name].append(result)
        print(f"round {round_} done" if round_ else "warm-up done", flush=True)
    return results


def peers(args: argparse.Namespace) -> None:
    venv = peers_venv(Path(args.peers_venv))
    with real_warehouses(args.engine) as urls:
        db = urls["duckdb"].removeprefix("duckdb:///")
        contenders: dict[str, Callable[[], Run]] = {
            "notebook route": lambda: notebook_route(venv, db, args.period),
            "plain script": lambda: plain_script(venv, db, args.period),
        }
        for engine, url in urls.items():
            contenders[f"the brief ({engine})"] = lambda url=url: one_run(url, args.period)[0]
        results = in_turn(contenders, args.runs)
    medians = {name: median_run(runs) for name, runs in results.items()}
    print(f"\n--period {args.period}, {args.runs} runs each after a warm-up, medians:")
    for name, run in medians.items():
        print(
            f"  {name:<22} {run.wall:6.2f} s  CPU {run.cpu:5.2f} s ({run.cpu / run.wall:.1f} cores)"
            f"  {run.peak:5.0f} MB  {run.pages:2d} pages  {run.wall / run.pages:.2f} s a page"
        )
    ours = medians["the brief (duckdb)"]
    for peer in ("notebook route", "plain script"):
        theirs = medians[peer]
        print(
            f"  ours / {peer:<15} wall {ours.wall / theirs.wall:.2f}x"
            f"  peak {ours.peak / theirs.peak:.2f}x  CPU {ours.cpu / theirs.cpu:.2f}x"
        )
    if "the brief (postgresql)" in medians:
        ratio = medians["the brief (postgresql)"].wall / ours.wall
        print(f"  ours on PostgreSQL / on DuckDB: {ratio:.2f}x")


def median_run(runs: list[Run]) -> Run:
    """Each measure's median (the pages of the first run: every run makes the same PDF)."""
    return Run(
        statistics.median(r.wall for r in runs),
        statistics.median(r.peak for r in runs),
        statistics.median(r.cpu for r in runs),
        runs[0].pages,
    )


def main() -> None:
    parser = bench_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--peers", action="store_true", help="run side by side with ../shared/peers"
    )
    parser.add_argument(
        "--peers-venv",
        default=str(Path(tempfile.gettempdir()) / "lgs-peers-venv"),
        help="the peers' virtual environment (made by ../shared/peers/setup.sh if missing)",
    )
    args = parser.parse_args()
    if not Path("/usr/bin/time").exists():
        sys.exit("/usr/bin/time measures the peak memory; install it (apt-get install time)")
    if args.peers:
        if args.engine == "postgresql":
            sys.exit("--peers needs the DuckDB warehouse: use --engine duckdb or all")
        peers(args)
        return
    with real_warehouses(args.engine) as urls:
        by_engine = in_turn(
            {name: lambda url=url: one_run(url, args.period) for name, url in urls.items()},
            args.runs,
        )
    middles = {}
    for name, measured in by_engine.items():
        runs = [run for run, _ in measured]
        walls = [run.wall for run in runs]
        names = list(measured[0][1])
        steps = {n: statistics.median(s.get(n, 0.0) for _, s in measured) for n in names}
        middle = middles[name] = median_run(runs)
        print(
            f"{name}: --period {args.period}: median {middle.wall:.2f} s "
            f"(min {min(walls):.2f}, max {max(walls):.2f}), "
            f"CPU {middle.cpu:.2f} s ({middle.cpu / middle.wall:.1f} cores), "
            f"peak {max(run.peak for run in runs):.0f} MB, {middle.pages} pages"
        )
        print("  " + ", ".join(f"{n} {s:.2f}" for n, s in steps.items()))
    if len(middles) == 2:
        print(f"PostgreSQL / DuckDB: {middles['postgresql'].wall / middles['duckdb'].wall:.2f}x")


if __name__ == "__main__":
    main()
