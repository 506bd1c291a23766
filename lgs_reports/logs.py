"""Logging a person can follow in cron mail: one line per step, with its duration.

Library code logs through ``logging`` and never prints. The CLI configures one
handler on stderr; a progress bar appears only when stderr is a terminal.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import TextIO

log = logging.getLogger("lgs_reports")


def configure(level: str = "INFO") -> None:
    """One handler on stderr: ``2026-11-26 06:00:01 INFO query: 0.31 s``.

    A library's warning (matplotlib: a glyph missing from the font for an emoji in
    the data) becomes one such line too, not a file name and a line of its source.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    root = logging.getLogger("lgs_reports")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    warnings.showwarning = _log_warning


def _log_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    log.warning("%s: %s", category.__name__, " ".join(str(message).split()))


@contextlib.contextmanager
def step(name: str, timings: dict[str, float] | None = None) -> Iterator[None]:
    """Time a named step; log it when it ends and record it in ``timings``."""
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    if timings is not None:
        timings[name] = round(seconds, 3)
    log.info("%s: %.2f s", name, seconds)


def progress_bar(label: str, total: int) -> Callable[[int], None] | None:
    """A byte-count progress bar on a terminal; None (no bar) in cron or CI."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="B", unit_scale=True, leave=False, file=sys.stderr)

    def advance(n: int) -> None:
        bar.update(n)
        if bar.n >= total:
            bar.close()

    return advance
