"""The rolling-origin backtest: where it starts, what each fit is given, how it is scored,
and which candidate it chooses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lgs_reports.analyses.forecast.models import Fitter, Prediction, try_fit
from lgs_reports.analyses.forecast.result import ModelScore

MIN_TRAIN = 6
"""Shortest training window of a backtest on a history too short for seasons."""
MIN_ORIGINS = 4
"""Fewest backtest origins worth a model choice."""
MAX_ORIGINS = 8
"""Most backtest origins (the latest ones)."""


@dataclass(frozen=True)
class OriginRun:
    """One candidate at one origin: trained on ``y[:origin]``, scored on what follows."""

    origin: int
    prediction: Prediction | None
    reason: str | None


def backtest_origins(n: int, m: int) -> tuple[int, ...]:
    """Training lengths of the backtest origins (ascending); empty if too short."""
    if m > 1 and n - MIN_ORIGINS >= 2 * m:
        shortest = 2 * m
    elif m > 1 and n - MIN_ORIGINS >= m + 1:
        shortest = m + 1
    else:
        shortest = MIN_TRAIN
    if n - shortest < MIN_ORIGINS:
        return ()
    return tuple(range(max(n - MAX_ORIGINS, shortest), n))


def run_backtest(
    y: np.ndarray,
    fit: Fitter,
    origins: Sequence[int],
    steps: int,
    post: Callable[[Prediction], Prediction],
) -> tuple[OriginRun, ...]:
    """Fit at each origin on the months strictly before it, forecasting up to ``steps`` ahead."""
    runs = []
    for origin in origins:
        ahead = min(steps, len(y) - origin)
        prediction, reason = try_fit(fit, y[:origin], ahead, post)
        runs.append(OriginRun(origin, prediction, reason))
    return tuple(runs)


def _mase_scale(train: np.ndarray, m: int) -> float | None:
    """In-sample one-step seasonal-naive MAE (naive-1 when too short or zero)."""
    if m > 1 and len(train) >= m + 1:
        scale = float(np.mean(np.abs(train[m:] - train[:-m])))
        if scale > 0:
            return scale
    if len(train) < 2:
        return None
    scale = float(np.mean(np.abs(np.diff(train))))
    return scale if scale > 0 else None


def score_candidate(
    name: str,
    y: np.ndarray,
    runs: Sequence[OriginRun],
    m: int,
    months: Sequence[dt.date],
) -> ModelScore:
    """Pool the errors of all scored origins into MASE, MAPE and interval coverage."""
    scaled, pct, in80, in95 = [], [], [], []
    skipped = []
    for run in runs:
        if run.prediction is None:
            skipped.append(f"{months[run.origin]:%b %Y}: {run.reason}")
            continue
        p = run.prediction
        actual = y[run.origin : run.origin + len(p.mean)]
        error = np.abs(actual - p.mean)
        scale = _mase_scale(y[: run.origin], m)
        if scale is not None:
            scaled.extend(error / scale)
        nonzero = actual != 0
        with np.errstate(over="ignore"):  # a near-zero actual gives an infinite MAPE
            pct.extend(error[nonzero] / np.abs(actual[nonzero]))
        in80.extend((p.lo80 <= actual) & (actual <= p.hi80))
        in95.extend((p.lo95 <= actual) & (actual <= p.hi95))
    return ModelScore(
        name=name,
        mase=_mean(scaled),
        mape=_mean(pct),
        coverage80=_mean(in80),
        coverage95=_mean(in95),
        origins=len(runs) - len(skipped),
        chosen=False,
        skipped=tuple(skipped),
    )


def _mean(values: Sequence) -> float | None:
    return float(np.mean(values)) if len(values) else None


def choose(scores: Sequence[ModelScore]) -> int:
    """Index of the candidate to show: the lowest MASE if it beats the baseline (index 0)."""
    base = scores[0].mase
    if base is None:
        return 0
    eligible = [
        (s.mase, i)
        for i, s in enumerate(scores[1:], start=1)
        if not s.skipped and s.mase is not None and s.mase < base
    ]
    return min(eligible)[1] if eligible else 0
