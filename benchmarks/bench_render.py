"""Time the draw → HTML → PDF steps of the brief, and the process's peak memory.

Run by hand from the repository root:

    python benchmarks/bench_render.py                         # /tmp/figs/figures-2011.json
    python benchmarks/bench_render.py path/to/figures.json --runs 5

Each run renders the whole brief in this process (`lgs_reports.render.render_brief`)
and records the seconds of each step:

- draw: the charts (matplotlib → SVG),
- html: the Jinja templates,
- layout: WeasyPrint's layout into pages (parsing the SVG charts included),
- write: painting the pages and writing the PDF (font subsetting included).

Times are wall-clock seconds; the CPU seconds of the whole run are shown too,
as they vary less on a busy machine. The first run also pays the one-off costs
of a fresh process (fonts, the CSS of the user agent, matplotlib's font cache);
it is reported apart, and the table shows the median of the runs after it.
Imports (pandas, matplotlib, seaborn, WeasyPrint) are timed once, before
anything else. Peak RSS is the process's
high-water mark (``resource.getrusage``), imports included.

Targets (MEASUREMENTS.md, the issue): charts ≤ 1.5 s, layout + write ≤ 3 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

DEFAULT = Path("/tmp/figs/figures-2011.json")
STEPS = ("draw", "html", "layout", "write")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("figures", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--runs", type=int, default=5, help="timed runs after the first")
    args = parser.parse_args(argv)
    if not args.figures.is_file():
        print(f"no figures document at {args.figures}", file=sys.stderr)
        return 2

    start = time.perf_counter()
    import matplotlib.figure  # noqa: F401
    import pandas  # noqa: F401
    import seaborn  # noqa: F401
    import weasyprint  # noqa: F401

    from lgs_reports.render import render_brief

    imports = time.perf_counter() - start
    figures = json.loads(args.figures.read_text(encoding="utf-8"))

    def run() -> tuple[dict[str, float], int]:
        timings: dict[str, float] = {}
        cpu = time.process_time()
        _html, pdf = render_brief(
            figures,
            company="London Gift Shop",
            templates_dir=None,
            timings=timings,
        )
        timings["cpu"] = time.process_time() - cpu
        return timings, len(pdf)

    first, size = run()
    first_cpu = first.pop("cpu")
    runs = [run()[0] for _ in range(args.runs)]
    median = {step: statistics.median(r[step] for r in runs) for step in STEPS}
    total = sum(median.values())
    cpu = statistics.median(r["cpu"] for r in runs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB on Linux

    print(f"figures: {args.figures} ({figures['period']['title']})")
    print(f"imports (pandas, matplotlib, seaborn, weasyprint, lgs_reports.render): {imports:.2f} s")
    print(
        f"first run: {sum(first.values()):.2f} s, CPU {first_cpu:.2f} s ("
        + ", ".join(f"{k} {v:.2f}" for k, v in first.items())
        + ")"
    )
    print(f"median of {args.runs} runs after the first:")
    for step in STEPS:
        spread = [r[step] for r in runs]
        print(f"  {step:<7} {median[step]:5.2f} s   (min {min(spread):.2f}, max {max(spread):.2f})")
    pdf_steps = median["layout"] + median["write"]
    print(f"  {'total':<7} {total:5.2f} s   (layout + write {pdf_steps:.2f} s; CPU {cpu:.2f} s)")
    print(f"PDF: {size / 1024:.0f} KiB; peak RSS {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
