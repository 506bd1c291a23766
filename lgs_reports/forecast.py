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
  - Theta (the method of statsmodels' ThetaModel, theta = 2); seasonally
    adjusted by classical decomposition under the same rule (no seasonality
    test).
  - ARIMA(1,0,0)(0,1,0)[m] with drift (a year-over-year change that decays
    towards its mean) when the shortest window holds one season + 4 months;
    otherwise ARIMA(0,1,1).

Estimation (see the "estimation" section of the code): the models are those of
statsmodels (ETSModel, ThetaModel, SARIMAX) with the same parameter bounds, but
estimated here in numpy, because statsmodels' generic optimisers took up to 7 s
per metric and could stop at a worse local optimum. ETS: least squares (the
Gaussian MLE for additive errors), the non-seasonal initial level and trend
solved in closed form. Theta: as ThetaModel (OLS slope; SES alpha minimising
the squared one-step errors, its objective, over all of [0, 1]). ARIMA: exact
Gaussian MLE (the likelihood of the differenced series), mean and scale in
closed form. The remaining 1-4 parameters are found by a deterministic grid
search refined by zooming in, so a fit depends only on its training months
and costs milliseconds; the tests check likelihoods, forecasts and intervals
against statsmodels.

Backtest and choice: at origin ``t`` every candidate is fitted on the first
``t`` months only and forecasts months ``t+1 .. t+steps`` (``steps`` is the
number of months shown, fewer at the last origins where actuals run out).
Errors: MASE, each error scaled by the in-sample one-step seasonal-naive MAE of
its training window (naive-1 MAE when the window is shorter than a season + 1
or the seasonal MAE is 0); MAPE over non-zero actuals; and the share of actuals
inside the 80% and 95% intervals. A fit that raises or gives non-finite values
is skipped at that origin and the reason recorded; such a candidate is not
eligible (it is fragile on this data). The eligible candidate with
the lowest mean MASE is chosen if its MASE is strictly lower than the
baseline's; otherwise the baseline is chosen. If the winner then fails on the
full history, the baseline is shown and ``note`` says so.

Intervals: from the model, normal quantiles around the mean. ETS: the
analytic variance of Hyndman et al. (2008, eq. 6.1), ``sigma2 * (1 + sum over
j < h of c_j^2)`` with ``c_j = alpha + beta (phi + ... + phi^j)`` (+ gamma when
j is a multiple of m), sigma2 the mean squared one-step error. ARIMA: the
psi-weights of the fitted model, ``sigma2 * sum over j < h of psi_j^2``. Theta:
ThetaModel's ``sigma2 * (1 + (h - 1)(1 + (alpha - 1)^2))``, but with sigma2 the
mean square of the in-sample one-step errors of the Theta forecast on the
(seasonally adjusted) series, ``a_t - (l_(t-1) + b0/2 * (1 + (1 - alpha) + ...
+ (1 - alpha)^(t-1)))``, t = 1 .. n-1, instead of ThetaModel's MLE refit of an
ARIMA(0,1,1) with drift to the unadjusted series; with multiplicative seasonal
adjustment the standard error is scaled by the seasonal index like the mean.
For the naive baselines the residual formula of
Hyndman & Athanasopoulos, FPP3 section 5.5: ``sigma * sqrt(k + 1)`` with
``k = floor((h - 1) / m)`` (``sqrt(h)`` for naive), sigma the root mean
square of the in-sample residuals, normal quantiles. With ``clip_at_zero``
(the default, for non-negative metrics such as sales and customer counts) the
mean and interval bounds are clipped at 0. The bounds are made monotone
(``lo95 <= lo80 <= mean <= hi80 <= hi95``).

Speed: both metrics of 2-3 years of monthly data forecast in well under a
second (``benchmarks/bench_forecast.py``); statsmodels is not imported at all
(its import alone costs about a second).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from statistics import NormalDist

import numpy as np
import pandas as pd

from lgs_reports.formatting import join_names
from lgs_reports.periods import add_months

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
    return tuple(add_months(month, i) for i in range(1, count + 1))


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
    """ETS(A,Ad,N), or ETS(A,Ad,A) with a season; intervals from the class-1 variance formula."""
    fit = _fit_ets(train, period)
    h = np.arange(1, steps + 1)
    damp = np.cumsum(fit.phi**h)  # phi + phi^2 + ... + phi^h
    mean = fit.level + damp * fit.trend
    if fit.period:
        mean = mean + fit.season[(h - 1) % fit.period]
    # Hyndman et al. (2008), eq. 6.1: var_h = sigma2 (1 + sum_{j<h} c_j^2), with
    # c_j = alpha + beta (phi + ... + phi^j) [+ gamma when j is a whole number of seasons]
    c = fit.alpha + fit.beta * damp[:-1]
    if fit.period:
        c = c + fit.gamma * (h[:-1] % fit.period == 0)
    variance = fit.sigma2 * (1 + np.concatenate([[0.0], np.cumsum(c**2)]))
    return _normal(mean, np.sqrt(variance))


def _theta(train: np.ndarray, steps: int, *, period: int | None) -> _Prediction:
    """The Theta method (theta = 2) on the seasonally adjusted series when ``period`` is given."""
    fit = _fit_theta(train, period)
    h = np.arange(steps)
    # ThetaModel's forecast: SES level + b0/2 * (h + 1/alpha - (1-alpha)^n/alpha), h = 0, 1, ...
    # (at alpha = 0 the drift is its limit, h + n)
    mean = fit.level + 0.5 * fit.b0 * (h + _geometric(1 - fit.alpha, len(train)))
    # statsmodels' ThetaModel.prediction_intervals: var_h = sigma2 (1 + (h-1)(1 + (alpha-1)^2))
    se = np.sqrt(fit.sigma2 * (1 + h * (1 + (fit.alpha - 1) ** 2)))
    if fit.season is None:
        return _normal(mean, se)
    season = fit.season[(len(train) + h) % len(fit.season)]
    if fit.multiplicative:  # the adjusted forecast and its error are scaled by the seasonal index
        return _normal(mean * season, se * season)
    return _normal(mean + season, se)


def _arima(train: np.ndarray, steps: int, *, period: int | None) -> _Prediction:
    """ARIMA(1,0,0)(0,1,0)[period] with drift, or ARIMA(0,1,1), by exact maximum likelihood."""
    if period:
        return _arima_seasonal(train, steps, period)
    return _arima_011(train, steps)


# ----------------------------------------------------------------- estimation
#
# Why not statsmodels' own fit: its generic optimisers (L-BFGS with numerical
# gradients, a Kalman-filter set-up per likelihood call, and for Theta an MLE
# refit just for the interval's variance) needed thousands of likelihood calls
# per metric on 2-3 years of monthly data, each with BLAS/LAPACK calls on tiny
# matrices: 1-7 s per metric, and sometimes a worse local optimum. Here each
# likelihood is reduced to 1-4 smoothing or AR parameters (scale, mean and the
# non-seasonal ETS initial states are concentrated out in closed form), and
# ``_box_minimise`` evaluates many values of them in one pass over the data.

_SMOOTHING_BOUNDS = (1e-4, 1 - 1e-4)
"""statsmodels ETSModel's bounds on alpha, beta/alpha and gamma/(1 - alpha)."""
_DAMPING_BOUNDS = (0.8, 0.98)
"""statsmodels ETSModel's bounds on the damping parameter phi."""
_COEF_BOUND = 1 - 1e-4
"""|phi| of the AR(1) and |theta| of the MA(1) stay below this (stationary, invertible)."""
_TINY = 1e-300
"""Floor of a concentrated scale before its log (a perfectly fitted series)."""
_MAX_ROUNDS = 60
"""Most refinement rounds of ``_box_minimise``: a bound on a fit's cost."""


def _box_minimise(
    objective: Callable[[np.ndarray], np.ndarray],
    lower: Sequence[float],
    upper: Sequence[float],
    counts: Sequence[int],
    *,
    zoom: int,
    tol: float,
) -> np.ndarray:
    """Minimise ``objective`` over a box; return the best point found.

    ``objective`` maps a (G, d) array of points to G values (non-finite values
    count as infeasible). A coarse grid of ``counts`` points per axis is
    searched first. Then each round evaluates a stencil of ``zoom`` (odd,
    >= 3) points per axis spanning +/- ``step`` around the best point so far,
    together with the points the previous round suggested: further along its
    move and (with two or more axes) along the Newton step of a quadratic
    fitted to its stencil, which follows curved valleys and ridges quickly.
    The best of all becomes the centre; ``step`` shrinks by
    ``min(2 / (zoom - 1), 1/4)`` unless the centre moved (by more than
    rounding) to the edge of the stencil or beyond. It stops when ``step`` is
    below ``tol`` times the box width on every axis, or after ``_MAX_ROUNDS``
    rounds (a bound on the cost).
    Deterministic: the same data give the same point.
    """
    low = np.asarray(lower, dtype=float)
    high = np.asarray(upper, dtype=float)
    width = high - low
    axes = [np.linspace(lo, hi, count) for lo, hi, count in zip(low, high, counts, strict=True)]
    grid = np.array(list(itertools.product(*axes)))
    values = _values(objective, grid)
    best, value = grid[int(np.argmin(values))], float(values.min())
    step = width / (np.asarray(counts) - 1)
    unit = np.array(list(itertools.product(np.linspace(-1.0, 1.0, zoom), repeat=len(low))))
    inner = np.abs(unit).max(axis=1) < 1
    shrink = min(2 / (zoom - 1), 0.25)
    suggested = np.empty((0, len(low)))
    for _ in range(_MAX_ROUNDS):
        if np.all(step <= tol * width):
            break
        stencil = np.clip(best + unit * step, low, high)
        points = np.vstack([stencil, suggested])
        values = _values(objective, points)
        newton = None
        if len(low) > 1:  # in one dimension the fine stencil is enough
            z_low, z_high = (low - best) / step, (high - best) / step
            newton = _newton_step((stencil - best) / step, values[: len(unit)], z_low, z_high)
        centre, i = best, int(np.argmin(values))
        moved = values[i] < value
        far = moved and value - values[i] > 1e-12 * abs(value) and not (i < len(unit) and inner[i])
        if moved:
            best, value = points[i], float(values[i])
        if not far:
            step = step * shrink
        suggested = (
            [centre + t * step * newton for t in (0.5, 1.0, 2.0)] if newton is not None else []
        )
        if moved:
            suggested += [best + t * (best - centre) for t in (1.0, 3.0)]
        suggested = np.clip(np.array(suggested).reshape(-1, len(low)), low, high)
    return best


def _newton_step(
    z: np.ndarray, values: np.ndarray, z_low: np.ndarray, z_high: np.ndarray
) -> np.ndarray | None:
    """Minimum in [z_low, z_high] of the quadratic fitted to ``values`` at offsets ``z``.

    None when the quadratic is not convex. Coordinates whose unconstrained
    minimum lies outside the box are held at the bound and the rest re-solved.
    """
    d = z.shape[1]
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    ok = np.isfinite(values)
    if ok.sum() < 1 + d + len(pairs):
        return None
    design = np.column_stack([np.ones(len(z)), z, *(z[:, i] * z[:, j] for i, j in pairs)])
    coef = np.linalg.lstsq(design[ok], values[ok] - values[ok].min(), rcond=None)[0]
    gradient, hessian = coef[1 : 1 + d], np.zeros((d, d))
    for (i, j), c in zip(pairs, coef[1 + d :], strict=True):
        hessian[i, j] += c
        hessian[j, i] += c
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    point, free = np.zeros(d), np.ones(d, dtype=bool)
    for _ in range(d):
        rhs = -(gradient[free] + hessian[np.ix_(free, ~free)] @ point[~free])
        point[free] = np.linalg.solve(hessian[np.ix_(free, free)], rhs)
        outside = free & ((point < z_low) | (point > z_high))
        point = np.clip(point, z_low, z_high)
        if not outside.any():
            break
        free &= ~outside
        if not free.any():
            break
    return point


def _values(objective: Callable[[np.ndarray], np.ndarray], points: np.ndarray) -> np.ndarray:
    values = np.asarray(objective(points), dtype=float)
    return np.where(np.isfinite(values), values, np.inf)


def _minimise_1d(objective: Callable[[np.ndarray], np.ndarray], low: float, high: float) -> float:
    """Minimise a scalar function, vectorised over its argument, on [low, high] (to ~1e-8)."""
    return float(
        _box_minimise(lambda p: objective(p[:, 0]), [low], [high], (41,), zoom=17, tol=1e-8)[0]
    )


def _geometric(ratio: float, terms: int) -> float:
    """1 + ratio + ... + ratio^(terms - 1)."""
    return terms if ratio == 1 else (1 - ratio**terms) / (1 - ratio)


@dataclass(frozen=True)
class _EtsFit:
    """A fitted ETS model: parameters, initial states, states after the last month, scale."""

    alpha: float
    beta: float
    gamma: float
    phi: float
    initial_level: float
    initial_trend: float
    initial_season: np.ndarray | None  # the seasonal of months 0 .. m-1 (statsmodels' order)
    level: float
    trend: float
    season: np.ndarray | None  # the seasonal of the next m months
    sigma2: float  # mean squared one-step error (the Gaussian MLE of the scale)
    period: int | None


def _fit_ets(train: np.ndarray, period: int | None) -> _EtsFit:
    """Least squares (= Gaussian MLE for additive errors) under statsmodels ETSModel's bounds.

    Without a season the initial level and trend are estimated too: for given
    smoothing parameters the one-step errors are linear in them, so they are
    solved by least squares inside the search. With a season the initial states
    are statsmodels' heuristic ones (fixed, as ``initialization_method="heuristic"``).
    """
    y = np.asarray(train, dtype=float)
    lo, hi = _SMOOTHING_BOUNDS
    if period:
        initial = _ets_heuristic(y, period)

        def sse(points: np.ndarray) -> np.ndarray:
            alpha, beta_star, gamma_star, phi = points.T
            beta, gamma = alpha * beta_star, gamma_star * (1 - alpha)
            return _ets_pass(y, alpha, beta, gamma, phi, initial)[0]

        box = ([lo, lo, lo, _DAMPING_BOUNDS[0]], [hi, hi, hi, _DAMPING_BOUNDS[1]])
        alpha, beta_star, gamma_star, phi = _box_minimise(sse, *box, (6, 4, 4, 3), zoom=3, tol=1e-4)
    else:

        def sse(points: np.ndarray) -> np.ndarray:
            alpha, beta_star, phi = points.T
            return _ets_seeds(y, alpha, alpha * beta_star, phi)[0]

        box = ([lo, lo, _DAMPING_BOUNDS[0]], [hi, hi, _DAMPING_BOUNDS[1]])
        alpha, beta_star, phi = _box_minimise(sse, *box, (9, 6, 4), zoom=3, tol=1e-4)
        gamma_star = 0.0
        _, level0, trend0 = _ets_seeds(y, *(np.array([v]) for v in (alpha, alpha * beta_star, phi)))
        initial = (float(level0[0]), float(trend0[0]), None)
    beta, gamma = alpha * beta_star, gamma_star * (1 - alpha)
    args = (np.array([v]) for v in (alpha, beta, gamma, phi))
    sse_value, level, trend, season = _ets_pass(y, *args, initial)
    next_season = None if season is None else np.roll(season[:, 0], -(len(y) % period))
    return _EtsFit(
        alpha=float(alpha),
        beta=float(beta),
        gamma=float(gamma),
        phi=float(phi),
        initial_level=initial[0],
        initial_trend=initial[1],
        initial_season=initial[2],
        level=float(level[0]),
        trend=float(trend[0]),
        season=next_season,
        sigma2=float(sse_value[0]) / len(y),
        period=period,
    )


def _ets_pass(
    y: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    gamma: np.ndarray,
    phi: np.ndarray,
    initial: tuple[float, float, np.ndarray | None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Run ETS(A,Ad,N/A) from fixed initial states for each parameter row.

    Returns the sum of squared one-step errors and the final level, trend and
    seasonal ring (``season[j]`` is the seasonal of the months ``j`` mod m).
    """
    level0, trend0, season0 = initial
    level = np.full(alpha.shape, level0)
    trend = np.full(alpha.shape, trend0)
    errors = np.empty((len(y), *alpha.shape))
    season = None
    if season0 is not None:
        m = len(season0)
        season = np.repeat(np.asarray(season0, dtype=float)[:, None], alpha.shape[0], axis=1)
    for t, value in enumerate(y):
        damped = phi * trend
        forecast = level + damped
        error = errors[t]
        if season is None:
            np.subtract(value, forecast, out=error)
        else:
            np.subtract(value - season[t % m], forecast, out=error)
            season[t % m] += gamma * error
        level = forecast + alpha * error
        trend = damped + beta * error
    return np.einsum("ij,ij->j", errors, errors), level, trend, season


def _ets_seeds(
    y: np.ndarray, alpha: np.ndarray, beta: np.ndarray, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ETS(A,Ad,N) with the initial level and trend that minimise the SSE, per parameter row.

    The one-step errors are ``r + l0 * z1 + b0 * z2``: ``r`` from the data with
    zero initial states, ``z1``/``z2`` from a unit initial level/trend and no
    data. The three run together (rows 0-2 of ``level`` and ``trend``); then
    (l0, b0) is the least-squares solution. Returns the SSE, l0 and b0.
    """
    level = np.zeros((3, alpha.shape[0]))
    trend = np.zeros((3, alpha.shape[0]))
    level[1], trend[2] = 1.0, 1.0
    data = np.zeros((3, 1))
    errors = np.empty((len(y), 3, alpha.shape[0]))
    for t, value in enumerate(y):
        damped = phi * trend
        forecast = level + damped
        data[0, 0] = value
        error = errors[t]
        np.subtract(data, forecast, out=error)
        level = forecast + alpha * error
        trend = damped + beta * error
    r, z1, z2 = errors[:, 0], errors[:, 1], errors[:, 2]
    a11, a12, a22 = (z1 * z1).sum(0), (z1 * z2).sum(0), (z2 * z2).sum(0)
    c1, c2 = (z1 * r).sum(0), (z2 * r).sum(0)
    det = a11 * a22 - a12 * a12
    level0 = (a12 * c2 - a22 * c1) / det
    trend0 = (a12 * c1 - a11 * c2) / det
    residual = r + level0 * z1 + trend0 * z2
    return (residual * residual).sum(0), level0, trend0


def _ets_heuristic(y: np.ndarray, m: int) -> tuple[float, float, np.ndarray]:
    """statsmodels' heuristic initial level, trend and additive seasonal (its section 2.6 rule)."""
    n = len(y)
    min_obs = 10 + 2 * (m // 2)
    if n < max(2 * m, min_obs):
        raise ValueError(f"the heuristic initial states need {max(2 * m, min_obs)} months, got {n}")
    cycles = max(min(5, n // m), math.ceil(min_obs / m))
    series = pd.Series(y[: m * cycles])
    trend = series.rolling(m, center=True).mean()
    if m % 2 == 0:
        trend = trend.shift(-1).rolling(2).mean()
    detrended = np.full(m * cycles, np.nan)
    detrended[: len(series)] = (series - trend).to_numpy()
    season = np.nanmean(detrended.reshape(cycles, m), axis=0)
    season = season - season.mean()
    start = trend.dropna().to_numpy()[:10]
    t = np.arange(1.0, len(start) + 1)
    slope = float(np.sum((t - t.mean()) * (start - start.mean())) / np.sum((t - t.mean()) ** 2))
    return float(start.mean() - slope * t.mean()), slope, season


@dataclass(frozen=True)
class _ThetaFit:
    alpha: float  # SES smoothing of the adjusted series
    b0: float  # OLS slope of the adjusted series on time
    level: float  # SES level after the last month (the SES one-step forecast)
    sigma2: float  # mean squared in-sample one-step error of the Theta forecast
    season: np.ndarray | None  # seasonal indices of months 0 .. m-1
    multiplicative: bool


def _fit_theta(train: np.ndarray, period: int | None) -> _ThetaFit:
    """statsmodels ThetaModel's fit (``use_mle=False``), and a residual-based scale.

    Seasonal adjustment: classical decomposition, multiplicative for positive
    series unless an index comes out <= 0, else additive; always applied in the
    seasonal form (statsmodels' own seasonality test misses clear yearly
    patterns on 2-3 seasons, so the form decides). b0: OLS slope of the
    adjusted series on time. alpha: SES of the adjusted series with its level
    started at the first value, minimising the sum of squared one-step errors
    over [0, 1] (globally, on a grid; statsmodels' local optimiser can stop at
    a worse local minimum). The scale is the mean square of the in-sample
    one-step errors of the Theta forecast itself, ``a_t - (l_{t-1} + b0/2 *
    (1 + (1-alpha) + ... + (1-alpha)^(t-1)))`` for t = 1 .. n-1, where
    statsmodels refits an ARIMA(0,1,1) with drift by MLE for the same quantity.
    """
    y = np.asarray(train, dtype=float)
    n = len(y)
    season, multiplicative = None, False
    adjusted = y
    if period:
        if n < 2 * period:
            raise ValueError(f"seasonal adjustment needs two full seasons, got {n} months")
        multiplicative = bool(y.min() > 0)
        season = _classical_season(y, period, multiplicative)
        if multiplicative and season.min() <= 0:
            multiplicative = False
            season = _classical_season(y, period, multiplicative)
        adjusted = (
            y / season[np.arange(n) % period]
            if multiplicative
            else y - season[np.arange(n) % period]
        )
    t = np.arange(n, dtype=float)
    b0 = float(np.sum((t - t.mean()) * (adjusted - adjusted.mean())) / np.sum((t - t.mean()) ** 2))
    alpha = _minimise_1d(lambda a: _ses(adjusted, a)[0], 0.0, 1.0)
    _, level, levels = _ses(adjusted, np.array([alpha]))
    drift = 0.5 * b0 * np.array([_geometric(1 - alpha, k) for k in range(1, n)])
    errors = adjusted[1:] - (levels[:-1, 0] + drift)
    sigma2 = float(np.mean(errors**2)) if n > 1 else 0.0
    return _ThetaFit(alpha, b0, float(level[0]), sigma2, season, multiplicative)


def _ses(y: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SES from level y[0]: SSE of the one-step errors, final level and levels, per alpha."""
    level = np.full(alpha.shape, y[0])
    levels = np.empty((len(y), alpha.shape[0]))
    levels[0] = level
    sse = np.zeros(alpha.shape)
    for t in range(1, len(y)):
        error = y[t] - level
        sse += error * error
        level = level + alpha * error
        levels[t] = level
    return sse, level, levels


def _classical_season(y: np.ndarray, period: int, multiplicative: bool) -> np.ndarray:
    """statsmodels' seasonal_decompose indices: centred moving average, mean detrended month."""
    if period % 2 == 0:
        weights = np.array([0.5] + [1.0] * (period - 1) + [0.5]) / period
    else:
        weights = np.full(period, 1.0 / period)
    half = len(weights) // 2
    trend = np.full(len(y), np.nan)
    trend[half : len(y) - half] = np.convolve(y, weights, mode="valid")
    detrended = y / trend if multiplicative else y - trend
    season = np.array([np.nanmean(detrended[i::period]) for i in range(period)])
    return season / season.mean() if multiplicative else season - season.mean()


def _arima_seasonal(train: np.ndarray, steps: int, period: int) -> _Prediction:
    """ARIMA(1,0,0)(0,1,0)[m] with drift: an AR(1) with mean on the year-over-year change.

    Forecasts and intervals from the psi-weights of the integrated model (they
    equal statsmodels' SARIMAX at the same parameters).
    """
    y = np.asarray(train, dtype=float)
    w = y[period:] - y[:-period]
    phi, mu, sigma2 = _fit_ar1(w)
    h = np.arange(1, steps + 1)
    path = np.concatenate([y, mu + phi**h * (w[-1] - mu)])
    for i in range(len(y), len(path)):  # y_(T+h) = y_(T+h-m) + w_(T+h)
        path[i] += path[i - period]
    # psi_j = sum over k with k*m <= j of phi^(j - k*m); var_h = sigma2 * sum_{j<h} psi_j^2
    psi = np.array(
        [sum(phi ** (j - k * period) for k in range(j // period + 1)) for j in range(steps)]
    )
    return _normal(path[len(y) :], np.sqrt(sigma2 * np.cumsum(psi**2)))


def _fit_ar1(w: np.ndarray) -> tuple[float, float, float]:
    """Exact Gaussian MLE of ``w_t - mu = phi (w_(t-1) - mu) + e_t``: (phi, mu, sigma2).

    This is the likelihood of the seasonally differenced series, the one an
    exact diffuse start gives the seasonal ARIMA; statsmodels' default
    approximate-diffuse start (variance 1e6) is far too small for sales-sized
    series and distorts its likelihood there. The drift ``c`` is ``mu (1 - phi)``.
    """
    if len(w) < 2:
        raise ValueError(f"the seasonal ARIMA needs 2 year-over-year changes, got {len(w)}")
    phi = _minimise_1d(lambda p: _ar1_profile(w, p)[0], -_COEF_BOUND, _COEF_BOUND)
    _, mu, sigma2 = (float(v[0]) for v in _ar1_profile(w, np.array([phi])))
    return phi, mu, sigma2


def _ar1_profile(w: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact AR(1)-with-mean likelihood per phi, mean and scale concentrated out.

    Returns -2 log L (up to a constant), the mean mu (the GLS estimate) and the
    scale sigma2; with ``u_t = w_t - phi w_(t-1)``, ``S = (1 - phi^2)(w_1 - mu)^2 +
    sum (u_t - (1 - phi) mu)^2``, ``sigma2 = S / n``, ``-2 log L = n log sigma2 -
    log(1 - phi^2)``.
    """
    n = len(w)
    u = w[None, 1:] - phi[:, None] * w[None, :-1]
    a, c = 1 - phi**2, 1 - phi
    mu = (a * w[0] + c * u.sum(axis=1)) / (a + (n - 1) * c * c)
    sigma2 = (a * (w[0] - mu) ** 2 + ((u - (c * mu)[:, None]) ** 2).sum(axis=1)) / n
    return n * np.log(np.maximum(sigma2, _TINY)) - np.log(a), mu, sigma2


def _arima_011(train: np.ndarray, steps: int) -> _Prediction:
    """ARIMA(0,1,1) without drift: an MA(1) on the monthly changes.

    With ``v_N`` the relative one-step variance after the N changes, the
    h-step variance of the level forecast is ``sigma2 (v_N + (h-1)(1+theta)^2)``
    (as statsmodels' SARIMAX gives at the same parameters).
    """
    y = np.asarray(train, dtype=float)
    theta, step_ahead, v, sigma2 = _fit_ma1(np.diff(y))
    h = np.arange(1, steps + 1)
    mean = np.full(steps, y[-1] + step_ahead)
    return _normal(mean, np.sqrt(sigma2 * (v + (h - 1) * (1 + theta) ** 2)))


def _fit_ma1(w: np.ndarray) -> tuple[float, float, float, float]:
    """Exact Gaussian MLE of ``w_t = e_t + theta e_(t-1)``, |theta| < 1.

    Returns theta, the one-step forecast of the next ``w``, its relative
    variance v_N and sigma2.
    """
    if len(w) < 2:
        raise ValueError(f"ARIMA(0,1,1) needs 2 monthly changes, got {len(w)}")
    theta = _minimise_1d(lambda p: _ma1_profile(w, p)[0], -_COEF_BOUND, _COEF_BOUND)
    _, step_ahead, v, sigma2 = (float(x[0]) for x in _ma1_profile(w, np.array([theta])))
    return theta, step_ahead, v, sigma2


def _ma1_profile(
    w: np.ndarray, theta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact MA(1) likelihood per theta by the innovations algorithm, scale concentrated out.

    Returns -2 log L (up to a constant), the one-step forecast of the next
    difference, its relative variance v_N and the scale sigma2.
    """
    v = 1 + theta**2
    forecast = np.zeros_like(theta)
    weighted = np.zeros_like(theta)
    log_v = np.zeros_like(theta)
    for value in w:
        innovation = value - forecast
        weighted += innovation * innovation / v
        log_v += np.log(v)
        forecast = theta / v * innovation
        v = 1 + theta**2 - theta * theta / v
    sigma2 = weighted / len(w)
    return len(w) * np.log(np.maximum(sigma2, _TINY)) + log_v, forecast, v, sigma2


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
        aside = f" {join_names(failed)} could not be fitted at every origin." if failed else ""
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
