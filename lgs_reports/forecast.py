"""Forecast of a monthly metric: the next months with 80% and 95% intervals.

The brief forecasts monthly net sales (and active customers) for the months
after the period. The model is chosen by a rolling-origin backtest against the
seasonal-naive baseline, and a model that does not beat the baseline is never
shown as if it were better: the baseline is shown instead.

Public API
----------
``forecast_series(history, *, metric, horizon=3, partial_days=None,
seasonal_period=12, clip_at_zero=True) -> Forecast``

``ForecastPoint`` (one forecast month)
    month: datetime.date (first day of the month); mean, lo80, hi80, lo95,
    hi95: float; actual_to_date: float | None (the value observed so far for a
    partial month, None for the months still to come).
``ModelScore`` (one candidate's backtest)
    name: str; mase, mape, coverage80, coverage95: float | None (mape and
    coverages are fractions, 0.14 = 14%); origins: int (backtest origins the
    candidate was scored at); chosen: bool; skipped: tuple[str, ...] (one
    entry per origin where the fit failed, "Jun 2011: <error>").
``Forecast`` (the result)
    metric: str; history: tuple[tuple[datetime.date, float], ...] (the months
    that were fitted); points: tuple[ForecastPoint, ...]; model: str (the
    name of the model shown); baseline: str ("Seasonal naive" or "Naive";
    model and baseline are "" when the history is too short for a forecast);
    scores: tuple[ModelScore, ...] (baseline first); backtest_origins: int;
    partial_note: str | None; note: str; ``to_dict()`` gives a JSON-ready dict.

Policies (the thresholds are module constants)
----------------------------------------------
Partial last month: when ``partial_days=(covered, days_in_month)`` says the
last month of ``history`` is incomplete, that month is left out of fitting and
of the backtest (a part-month total would read as a collapse), and it is
forecast together with the ``horizon`` months after it, so ``points`` holds
``horizon + 1`` months; its point carries the observed part in
``actual_to_date`` and ``partial_note`` says so in one sentence.

Short history (complete months fitted, ``n``):
  - ``n < MIN_HISTORY`` (6): no forecast; ``points`` is empty and ``note``
    says why. Never an exception.
  - ``n < MIN_TRAIN + MIN_ORIGINS`` (10): too short to backtest; the naive
    baseline is shown, untested, and ``note`` says so.
  - otherwise a backtest at up to ``MAX_ORIGINS`` (8) origins, at least
    ``MIN_ORIGINS`` (4).
With monthly data (m = 12) that means: the seasonal-naive baseline from 17
months, the seasonal ARIMA from 24, the seasonal ETS and Theta from 28; the
brief's 24 months get seasonal naive, ARIMA(1,0,0)(0,1,0)[12] and the
non-seasonal ETS and Theta, backtested at 8 origins (16 to 23 months).

Candidates and their form: each candidate's form (seasonal or not) is decided
once, from the shortest training window of the backtest, and the same form is
used for the final fit, so the model shown is exactly the model that was
tested. The backtest windows start at two full seasons when the history allows
``MIN_ORIGINS`` origins of that length, else at one season + 1 month, else at
``MIN_TRAIN`` months.
  - Seasonal naive (the baseline): same month a year earlier; needs one season
    + 1 month in the shortest window (the extra month gives a residual for the
    interval), otherwise it is the naive forecast (last month repeated).
  - ETS, additive errors and damped additive trend; with an additive seasonal
    component (heuristic initial states) when the shortest window holds two
    full seasons.
  - Theta (statsmodels ThetaModel); seasonally adjusted by classical
    decomposition under the same rule (statsmodels' seasonality test is off).
  - ARIMA(1,0,0)(0,1,0)[m] with drift (a year-over-year change that decays
    towards its mean) when the shortest window holds one season + 4 months;
    otherwise ARIMA(0,1,1).

Backtest and choice: at origin ``t`` every candidate is fitted on the first
``t`` months only and forecasts months ``t+1 .. t+steps`` (``steps`` is the
number of months shown, fewer at the last origins where actuals run out).
Errors: MASE, each error scaled by the in-sample one-step seasonal-naive MAE of
its training window (naive-1 MAE when the window is shorter than a season + 1
or the seasonal MAE is 0); MAPE over non-zero actuals; and the share of actuals
inside the 80% and 95% intervals. A fit that raises or gives non-finite values
is skipped at that origin and the reason recorded; such a candidate is not
eligible (it is fragile on this data). Convergence warnings do not discard a
fit: the backtest judges the forecasts it gives. The eligible candidate with
the lowest mean MASE is chosen if its MASE is strictly lower than the
baseline's; otherwise the baseline is chosen. If the winner then fails on the
full history, the baseline is shown and ``note`` says so.

Intervals: from the model (ETS and ARIMA analytic prediction intervals, Theta
``prediction_intervals``); for the naive baselines the residual formula of
Hyndman & Athanasopoulos, FPP3 section 5.5: ``sigma * sqrt(k + 1)`` with
``k = floor((h - 1) / m)`` (``sqrt(h)`` for naive), sigma the root mean
square of the in-sample residuals, normal quantiles. With ``clip_at_zero``
(the default, for non-negative metrics such as sales and customer counts) the
mean and interval bounds are clipped at 0. The bounds are made monotone
(``lo95 <= lo80 <= mean <= hi80 <= hi95``).

statsmodels is imported inside the fitting functions: its import costs about
a second and only the forecast step needs it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from statistics import NormalDist

import numpy as np
import pandas as pd

MIN_HISTORY = 6
"""Fewer complete months than this: no forecast at all."""
MIN_TRAIN = 6
"""Shortest training window of a backtest on a history too short for seasons."""
MIN_ORIGINS = 4
"""Fewest backtest origins worth a model choice."""
MAX_ORIGINS = 8
"""Most backtest origins (the latest ones)."""
ARIMA_SEASONAL_EXTRA = 4
"""Months beyond one season the seasonal ARIMA needs (its AR(1) and drift)."""

BASELINE_SEASONAL = "Seasonal naive"
BASELINE_NAIVE = "Naive"

_Z80 = NormalDist().inv_cdf(0.90)
_Z95 = NormalDist().inv_cdf(0.975)
_MONEY_DIGITS = 2
_SCORE_DIGITS = 4


@dataclass(frozen=True)
class ForecastPoint:
    """One forecast month: the mean and the 80% and 95% intervals."""

    month: dt.date
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float
    actual_to_date: float | None = None


@dataclass(frozen=True)
class ModelScore:
    """How one candidate did in the backtest (None: nothing could be scored)."""

    name: str
    mase: float | None
    mape: float | None
    coverage80: float | None
    coverage95: float | None
    origins: int
    chosen: bool
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Forecast:
    """The forecast of one metric, the backtest behind it, and what to say about it."""

    metric: str
    history: tuple[tuple[dt.date, float], ...]
    points: tuple[ForecastPoint, ...]
    model: str
    baseline: str
    scores: tuple[ModelScore, ...]
    backtest_origins: int
    partial_note: str | None
    note: str

    def to_dict(self) -> dict:
        """Return a JSON-ready dict: ISO dates, rounded floats, None for NaN."""
        return {
            "metric": self.metric,
            "history": [
                [month.isoformat(), _round(value, _MONEY_DIGITS)] for month, value in self.history
            ],
            "points": [_point_dict(point) for point in self.points],
            "model": self.model,
            "baseline": self.baseline,
            "scores": [_score_dict(score) for score in self.scores],
            "backtest_origins": self.backtest_origins,
            "partial_note": self.partial_note,
            "note": self.note,
        }


def forecast_series(
    history: pd.Series,
    *,
    metric: str,
    horizon: int = 3,
    partial_days: tuple[int, int] | None = None,
    seasonal_period: int = 12,
    clip_at_zero: bool = True,
) -> Forecast:
    """Forecast the ``horizon`` months after ``history`` with a backtested model.

    ``history`` is indexed by contiguous month-start Timestamps and ends with
    the period's last month; ``partial_days=(covered, days_in_month)`` marks
    that month as incomplete (see the module docstring for the policy). Short
    histories give a clean fallback, never an exception; malformed input
    (gaps, NaN, non-month-start dates) raises ``ValueError``.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    if seasonal_period < 1:
        raise ValueError(f"seasonal_period must be at least 1, got {seasonal_period}")
    months, values = _validated(history)
    window = _fitting_window(months, values, partial_days, horizon)
    n = len(window.y)
    if n < MIN_HISTORY:
        note = (
            f"Only {n} complete month{'s' if n != 1 else ''} of history; "
            f"at least {MIN_HISTORY} are needed for a forecast, so none is shown."
        )
        return _forecast(metric, window, None, (), 0, note)

    post = partial(_finish, clip_at_zero=clip_at_zero)
    origins = _origins(n, seasonal_period)
    candidates = _candidates(origins[0] if origins else n, seasonal_period)
    baseline = candidates[0]
    if not origins:
        note = (
            f"Only {n} complete months of history: too few to test models "
            f"(the backtest needs {MIN_TRAIN + MIN_ORIGINS} months), so the "
            f"{_baseline_phrase(baseline.name, seasonal_period)} is shown untested."
        )
        score = ModelScore(baseline.name, None, None, None, None, 0, chosen=True)
        prediction = post(baseline.fit(window.y, window.steps))
        return _forecast(metric, window, prediction, (score,), 0, note)

    scores = [
        _score(
            candidate.name,
            window.y,
            _backtest(window.y, candidate.fit, origins, window.steps, post),
            seasonal_period,
            window.months,
        )
        for candidate in candidates
    ]
    best = _choose(scores)
    prediction, error = _try_fit(candidates[best].fit, window.y, window.steps, post)
    failed_name = None
    if prediction is None:  # the winner failed on the full history: show the baseline
        failed_name, best = candidates[best].name, 0
        prediction = post(baseline.fit(window.y, window.steps))
    scores = [dataclasses.replace(s, chosen=i == best) for i, s in enumerate(scores)]
    note = _note(scores, best, len(origins), failed_name, error, seasonal_period)
    return _forecast(metric, window, prediction, tuple(scores), len(origins), note)


@dataclass(frozen=True)
class _Window:
    """The months that are fitted and the months that are forecast."""

    months: tuple[dt.date, ...]
    y: np.ndarray
    future: tuple[dt.date, ...]
    partial_month: dt.date | None
    partial_value: float | None
    partial_note: str | None

    @property
    def steps(self) -> int:
        return len(self.future)


def _fitting_window(
    months: tuple[dt.date, ...],
    values: np.ndarray,
    partial_days: tuple[int, int] | None,
    horizon: int,
) -> _Window:
    """Set a partial last month aside from fitting and add it to the forecast months."""
    if not _is_partial(partial_days, bool(months)):
        future = _months_after(months[-1], horizon) if months else ()
        return _Window(months, values, future, None, None, None)
    assert partial_days is not None
    fit_months, last = months[:-1], months[-1]
    future = (last, *_months_after(last, horizon))
    note = _partial_note(last, partial_days)
    return _Window(fit_months, values[:-1], future, last, float(values[-1]), note)


def _forecast(
    metric: str,
    window: _Window,
    prediction: _Prediction | None,
    scores: tuple[ModelScore, ...],
    origins: int,
    note: str,
) -> Forecast:
    """Assemble the result; the shown model is the chosen score (none: no forecast)."""
    chosen = next((score.name for score in scores if score.chosen), "")
    return Forecast(
        metric=metric,
        history=tuple(zip(window.months, (float(v) for v in window.y), strict=True)),
        points=_points(window, prediction) if prediction is not None else (),
        model=chosen,
        baseline=scores[0].name if scores else "",
        scores=scores,
        backtest_origins=origins,
        partial_note=window.partial_note,
        note=note,
    )


# ----------------------------------------------------------------- input


def _validated(history: pd.Series) -> tuple[tuple[dt.date, ...], np.ndarray]:
    """Check that ``history`` is a contiguous, complete monthly series; return dates and values."""
    if not isinstance(history, pd.Series):
        raise ValueError(f"history must be a pandas Series, got {type(history).__name__}")
    if history.empty:
        return (), np.empty(0)
    index = history.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError("history must be indexed by month-start dates (a DatetimeIndex)")
    periods = index.to_period("M")
    if not (index == periods.to_timestamp()).all():
        raise ValueError("history must be indexed by month-start dates (day 1, midnight)")
    ordinals = np.asarray(periods.asi8)
    if len(ordinals) > 1 and not (np.diff(ordinals) == 1).all():
        raise ValueError("history must hold contiguous months in order, without gaps")
    values = history.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(values).all():
        missing = [f"{ts:%Y-%m}" for ts, v in zip(index, values, strict=True) if not np.isfinite(v)]
        raise ValueError(f"history has missing or infinite values in {', '.join(missing)}")
    return tuple(ts.date() for ts in index), values


def _is_partial(partial_days: tuple[int, int] | None, has_data: bool) -> bool:
    """Whether the last month is incomplete; validate ``partial_days``."""
    if partial_days is None:
        return False
    covered, days_in_month = partial_days
    if not 28 <= days_in_month <= 31 or not 0 <= covered <= days_in_month:
        raise ValueError(
            f"partial_days must be (covered, days_in_month) with 0 <= covered <= "
            f"days_in_month in 28..31, got {partial_days}"
        )
    return has_data and covered < days_in_month


def _partial_note(month: dt.date, partial_days: tuple[int, int]) -> str:
    covered, days_in_month = partial_days
    return (
        f"{month:%B %Y} has {covered} of {days_in_month} days of data; it was left out "
        "of fitting and is forecast with the next months."
    )


def _months_after(month: dt.date, count: int) -> tuple[dt.date, ...]:
    start = month.year * 12 + month.month  # the month after, 0-based month arithmetic
    return tuple(dt.date((start + i) // 12, (start + i) % 12 + 1, 1) for i in range(count))


# ----------------------------------------------------------------- models


@dataclass(frozen=True)
class _Prediction:
    """A forecast from one fit, as arrays over the forecast steps."""

    mean: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray


Fitter = Callable[[np.ndarray, int], _Prediction]
"""Fit on the training values given (nothing else) and forecast ``steps`` months."""


@dataclass(frozen=True)
class _Candidate:
    name: str
    fit: Fitter


def _candidates(shortest: int, m: int) -> tuple[_Candidate, ...]:
    """The candidates, baseline first, in the form the shortest window supports."""
    seasonal = m > 1 and shortest >= m + 1
    two_seasons = m > 1 and shortest >= 2 * m
    if seasonal:
        baseline = _Candidate(BASELINE_SEASONAL, partial(_naive, period=m))
    else:
        baseline = _Candidate(BASELINE_NAIVE, partial(_naive, period=1))
    if two_seasons:
        ets = _Candidate("ETS (seasonal, damped trend)", partial(_ets, period=m))
        theta = _Candidate("Theta (seasonally adjusted)", partial(_theta, period=m))
    else:
        ets = _Candidate("ETS (damped trend)", partial(_ets, period=None))
        theta = _Candidate("Theta", partial(_theta, period=None))
    if m > 1 and shortest >= m + ARIMA_SEASONAL_EXTRA:
        arima = _Candidate(f"ARIMA(1,0,0)(0,1,0)[{m}] with drift", partial(_arima, period=m))
    else:
        arima = _Candidate("ARIMA(0,1,1)", partial(_arima, period=None))
    return (baseline, ets, theta, arima)


def _naive(train: np.ndarray, steps: int, *, period: int) -> _Prediction:
    """Repeat the last ``period`` months; intervals from FPP3 section 5.5."""
    h = np.arange(steps)
    mean = train[len(train) - period + h % period]
    residuals = train[period:] - train[:-period]
    sigma = math.sqrt(float(np.mean(residuals**2)))
    return _normal(mean, sigma * np.sqrt(h // period + 1))


def _normal(mean: np.ndarray, se: np.ndarray) -> _Prediction:
    return _Prediction(mean, mean - _Z80 * se, mean + _Z80 * se, mean - _Z95 * se, mean + _Z95 * se)


def _ets(train: np.ndarray, steps: int, *, period: int | None) -> _Prediction:
    """ETS(A,Ad,N), or ETS(A,Ad,A) with a season, by maximum likelihood."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    model = ETSModel(
        pd.Series(train),  # get_prediction needs an index on its input
        error="add",
        trend="add",
        damped_trend=True,
        seasonal="add" if period else None,
        seasonal_periods=period,
        # Estimating 13 initial states on 2-3 seasons is slow (0.2-0.3 s a fit) and
        # erratic; the heuristic start (Hyndman et al. 2008) is fast and steadier.
        initialization_method="heuristic" if period else "estimated",
    )
    result = model.fit(disp=False)
    prediction = result.get_prediction(start=len(train), end=len(train) + steps - 1)
    pi80 = prediction.pred_int(alpha=0.20).to_numpy()
    pi95 = prediction.pred_int(alpha=0.05).to_numpy()
    mean = np.asarray(prediction.predicted_mean, dtype=float)
    return _Prediction(mean, pi80[:, 0], pi80[:, 1], pi95[:, 0], pi95[:, 1])


def _theta(train: np.ndarray, steps: int, *, period: int | None) -> _Prediction:
    """The Theta method on the seasonally adjusted series when ``period`` is given."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    # statsmodels' own seasonality test misses clear yearly patterns on 2-3 seasons,
    # so the adjustment is decided by the candidate's form, not by the test.
    model = ThetaModel(train, period=period or 1, deseasonalize=period is not None, use_test=False)
    result = model.fit()
    mean = np.asarray(result.forecast(steps), dtype=float)
    pi80 = result.prediction_intervals(steps, alpha=0.20).to_numpy()
    pi95 = result.prediction_intervals(steps, alpha=0.05).to_numpy()
    return _Prediction(mean, pi80[:, 0], pi80[:, 1], pi95[:, 0], pi95[:, 1])


def _arima(train: np.ndarray, steps: int, *, period: int | None) -> _Prediction:
    """ARIMA(1,0,0)(0,1,0)[period] with drift, or ARIMA(0,1,1), by state-space MLE."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    if period:
        model = SARIMAX(train, order=(1, 0, 0), seasonal_order=(0, 1, 0, period), trend="c")
    else:
        model = SARIMAX(train, order=(0, 1, 1))
    forecast = model.fit(disp=False).get_forecast(steps)
    ci80 = np.asarray(forecast.conf_int(alpha=0.20), dtype=float)
    ci95 = np.asarray(forecast.conf_int(alpha=0.05), dtype=float)
    mean = np.asarray(forecast.predicted_mean, dtype=float)
    return _Prediction(mean, ci80[:, 0], ci80[:, 1], ci95[:, 0], ci95[:, 1])


def _finish(prediction: _Prediction, *, clip_at_zero: bool) -> _Prediction:
    """Make the bounds monotone around the mean and, if asked, clip them at 0."""
    mean = prediction.mean
    lo80 = np.minimum(prediction.lo80, mean)
    lo95 = np.minimum(prediction.lo95, lo80)
    hi80 = np.maximum(prediction.hi80, mean)
    hi95 = np.maximum(prediction.hi95, hi80)
    arrays = (mean, lo80, hi80, lo95, hi95)
    if clip_at_zero:
        arrays = tuple(np.maximum(a, 0.0) for a in arrays)
    return _Prediction(*arrays)


def _try_fit(
    fit: Fitter, train: np.ndarray, steps: int, post: Callable[[_Prediction], _Prediction]
) -> tuple[_Prediction | None, str | None]:
    """Fit with statsmodels warnings silenced here only; a failure becomes a reason."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            prediction = fit(train.copy(), steps)
    except Exception as exc:  # any library failure skips the candidate, never the brief
        return None, _reason(exc)
    arrays = dataclasses.astuple(prediction)
    if any(np.shape(a) != (steps,) or not np.isfinite(a).all() for a in arrays):
        return None, "the fit gave no finite forecast"
    return post(prediction), None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ----------------------------------------------------------------- backtest


@dataclass(frozen=True)
class _OriginRun:
    """One candidate at one origin: trained on ``y[:origin]``, scored on what follows."""

    origin: int
    prediction: _Prediction | None
    reason: str | None


def _origins(n: int, m: int) -> tuple[int, ...]:
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


def _backtest(
    y: np.ndarray,
    fit: Fitter,
    origins: Sequence[int],
    steps: int,
    post: Callable[[_Prediction], _Prediction],
) -> tuple[_OriginRun, ...]:
    """Fit at each origin on the months strictly before it, forecasting up to ``steps`` ahead."""
    runs = []
    for origin in origins:
        ahead = min(steps, len(y) - origin)
        prediction, reason = _try_fit(fit, y[:origin], ahead, post)
        runs.append(_OriginRun(origin, prediction, reason))
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


def _score(
    name: str,
    y: np.ndarray,
    runs: Sequence[_OriginRun],
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


def _choose(scores: Sequence[ModelScore]) -> int:
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


# ----------------------------------------------------------------- output


def _points(window: _Window, prediction: _Prediction) -> tuple[ForecastPoint, ...]:
    p = prediction
    return tuple(
        ForecastPoint(
            month=month,
            mean=float(p.mean[i]),
            lo80=float(p.lo80[i]),
            hi80=float(p.hi80[i]),
            lo95=float(p.lo95[i]),
            hi95=float(p.hi95[i]),
            actual_to_date=window.partial_value if month == window.partial_month else None,
        )
        for i, month in enumerate(window.future)
    )


def _baseline_phrase(name: str, seasonal_period: int) -> str:
    """Name the baseline for a reader, and say why it is not seasonal when it could be."""
    if name == BASELINE_SEASONAL:
        return "seasonal-naive baseline (same month last year)"
    if seasonal_period > 1:
        return "naive baseline (last month repeated; too little history for a seasonal one)"
    return "naive baseline (last month repeated)"


def _versus(a: float | None, b: float | None, spec: str) -> str:
    """``"a vs b"`` with just enough decimals that different values do not look equal."""

    def shown(value: float | None, digits: int) -> str:
        if value is None or not math.isfinite(value):
            return "n/a"
        return format(value, spec.format(digits))

    for digits in (0, 1, 2) if "%" in spec else (2, 3, 4):
        left, right = shown(a, digits), shown(b, digits)
        if left != right:
            break
    return f"{left} vs {right}"


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _pct(value: float | None) -> str:
    return f"{value:.0%}" if value is not None and math.isfinite(value) else "n/a"


def _note(
    scores: Sequence[ModelScore],
    best: int,
    origins: int,
    failed_name: str | None,
    error: str | None,
    seasonal_period: int,
) -> str:
    """One plain-English sentence on how good the shown model has been."""
    base = scores[0]
    baseline = _baseline_phrase(base.name, seasonal_period)
    tested = f"over {origins} backtest origins"
    if failed_name is not None:
        return (
            f"{failed_name} did best in the backtest but failed on the full history "
            f"({error}), so the {baseline} is shown "
            f"(backtest MAPE {_pct(base.mape)} {tested})."
        )
    if best == 0:
        rivals = [s for s in scores[1:] if s.mase is not None and not s.skipped]
        rival = min(rivals, key=lambda s: s.mase) if rivals else None
        versus = f"; best other, {rival.name}, {_pct(rival.mape)}" if rival else ""
        failed = [s.name for s in scores[1:] if s.skipped]
        aside = f" {_join(failed)} could not be fitted at every origin." if failed else ""
        return (
            f"No model beat the {baseline} {tested} "
            f"(MAPE {_pct(base.mape)}{versus}), so the baseline is shown.{aside}"
        )
    chosen = scores[best]
    return (
        f"{chosen.name} beat the {baseline} {tested} "
        f"(MASE {_versus(chosen.mase, base.mase, '.{}f')}; "
        f"MAPE {_versus(chosen.mape, base.mape, '.{}%')})."
    )


def _round(value: float | None, digits: int) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _point_dict(point: ForecastPoint) -> dict:
    row: dict = {"month": point.month.isoformat()}
    for name in ("mean", "lo80", "hi80", "lo95", "hi95", "actual_to_date"):
        row[name] = _round(getattr(point, name), _MONEY_DIGITS)
    return row


def _score_dict(score: ModelScore) -> dict:
    row: dict = {"name": score.name}
    for name in ("mase", "mape", "coverage80", "coverage95"):
        row[name] = _round(getattr(score, name), _SCORE_DIGITS)
    row.update(origins=score.origins, chosen=score.chosen, skipped=list(score.skipped))
    return row
