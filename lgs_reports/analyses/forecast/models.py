"""The candidate models: their forecasts and intervals, and the guard every fit runs in.

The baseline (seasonal naive, else naive) and ETS, Theta and ARIMA in the form the
shortest backtest window supports (`candidate_models`); each fit is a `Fitter`: training
values in, a `Prediction` of the next months out, estimated by `estimate`. `try_fit` runs
one and turns any failure into a reason.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from statistics import NormalDist

import numpy as np

from lgs_reports.analyses.forecast.estimate import (
    fit_ar1,
    fit_ets,
    fit_ma1,
    fit_theta,
    geometric,
)

ARIMA_SEASONAL_EXTRA = 4
"""Months beyond one season the seasonal ARIMA needs (its AR(1) and drift)."""

BASELINE_SEASONAL = "Seasonal naive"
BASELINE_NAIVE = "Naive"

_Z80 = NormalDist().inv_cdf(0.90)
_Z95 = NormalDist().inv_cdf(0.975)


@dataclass(frozen=True)
class Prediction:
    """A forecast from one fit, as arrays over the forecast steps."""

    mean: np.ndarray
    lo80: np.ndarray
    hi80: np.ndarray
    lo95: np.ndarray
    hi95: np.ndarray


Fitter = Callable[[np.ndarray, int], Prediction]
"""Fit on the training values given (nothing else) and forecast ``steps`` months."""


@dataclass(frozen=True)
class Candidate:
    name: str
    fit: Fitter


def candidate_models(shortest: int, m: int) -> tuple[Candidate, ...]:
    """The candidates, baseline first, in the form the shortest window supports."""
    seasonal = m > 1 and shortest >= m + 1
    two_seasons = m > 1 and shortest >= 2 * m
    if seasonal:
        baseline = Candidate(BASELINE_SEASONAL, partial(_naive, period=m))
    else:
        baseline = Candidate(BASELINE_NAIVE, partial(_naive, period=1))
    if two_seasons:
        ets = Candidate("ETS (seasonal, damped trend)", partial(_ets, period=m))
        theta = Candidate("Theta (seasonally adjusted)", partial(_theta, period=m))
    else:
        ets = Candidate("ETS (damped trend)", partial(_ets, period=None))
        theta = Candidate("Theta", partial(_theta, period=None))
    if m > 1 and shortest >= m + ARIMA_SEASONAL_EXTRA:
        arima = Candidate(f"ARIMA(1,0,0)(0,1,0)[{m}] with drift", partial(_arima, period=m))
    else:
        arima = Candidate("ARIMA(0,1,1)", partial(_arima, period=None))
    return (baseline, ets, theta, arima)


def _naive(train: np.ndarray, steps: int, *, period: int) -> Prediction:
    """Repeat the last ``period`` months; intervals from FPP3 section 5.5."""
    h = np.arange(steps)
    mean = train[len(train) - period + h % period]
    residuals = train[period:] - train[:-period]
    sigma = math.sqrt(float(np.mean(residuals**2)))
    return _normal(mean, sigma * np.sqrt(h // period + 1))


def _normal(mean: np.ndarray, se: np.ndarray) -> Prediction:
    return Prediction(mean, mean - _Z80 * se, mean + _Z80 * se, mean - _Z95 * se, mean + _Z95 * se)


def _ets(train: np.ndarray, steps: int, *, period: int | None) -> Prediction:
    """ETS(A,Ad,N), or ETS(A,Ad,A) with a season; intervals from the class-1 variance formula."""
    fit = fit_ets(train, period)
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


def _theta(train: np.ndarray, steps: int, *, period: int | None) -> Prediction:
    """The Theta method (theta = 2) on the seasonally adjusted series when ``period`` is given."""
    fit = fit_theta(train, period)
    h = np.arange(steps)
    # ThetaModel's forecast: SES level + b0/2 * (h + 1/alpha - (1-alpha)^n/alpha), h = 0, 1, ...
    # (at alpha = 0 the drift is its limit, h + n)
    mean = fit.level + 0.5 * fit.b0 * (h + geometric(1 - fit.alpha, len(train)))
    # statsmodels' ThetaModel.prediction_intervals: var_h = sigma2 (1 + (h-1)(1 + (alpha-1)^2))
    se = np.sqrt(fit.sigma2 * (1 + h * (1 + (fit.alpha - 1) ** 2)))
    if fit.season is None:
        return _normal(mean, se)
    season = fit.season[(len(train) + h) % len(fit.season)]
    if fit.multiplicative:  # the adjusted forecast and its error are scaled by the seasonal index
        return _normal(mean * season, se * season)
    return _normal(mean + season, se)


def _arima(train: np.ndarray, steps: int, *, period: int | None) -> Prediction:
    """ARIMA(1,0,0)(0,1,0)[period] with drift, or ARIMA(0,1,1), by exact maximum likelihood."""
    if period:
        return _arima_seasonal(train, steps, period)
    return _arima_011(train, steps)


def _arima_seasonal(train: np.ndarray, steps: int, period: int) -> Prediction:
    """ARIMA(1,0,0)(0,1,0)[m] with drift: an AR(1) with mean on the year-over-year change.

    Forecasts and intervals from the psi-weights of the integrated model (they
    equal statsmodels' SARIMAX at the same parameters).
    """
    y = np.asarray(train, dtype=float)
    w = y[period:] - y[:-period]
    phi, mu, sigma2 = fit_ar1(w)
    h = np.arange(1, steps + 1)
    path = np.concatenate([y, mu + phi**h * (w[-1] - mu)])
    for i in range(len(y), len(path)):  # y_(T+h) = y_(T+h-m) + w_(T+h)
        path[i] += path[i - period]
    # psi_j = sum over k with k*m <= j of phi^(j - k*m); var_h = sigma2 * sum_{j<h} psi_j^2
    psi = np.array(
        [sum(phi ** (j - k * period) for k in range(j // period + 1)) for j in range(steps)]
    )
    return _normal(path[len(y) :], np.sqrt(sigma2 * np.cumsum(psi**2)))


def _arima_011(train: np.ndarray, steps: int) -> Prediction:
    """ARIMA(0,1,1) without drift: an MA(1) on the monthly changes.

    With ``v_N`` the relative one-step variance after the N changes, the
    h-step variance of the level forecast is ``sigma2 (v_N + (h-1)(1+theta)^2)``
    (as statsmodels' SARIMAX gives at the same parameters).
    """
    y = np.asarray(train, dtype=float)
    theta, step_ahead, v, sigma2 = fit_ma1(np.diff(y))
    h = np.arange(1, steps + 1)
    mean = np.full(steps, y[-1] + step_ahead)
    return _normal(mean, np.sqrt(sigma2 * (v + (h - 1) * (1 + theta) ** 2)))


def finish(prediction: Prediction, *, clip_at_zero: bool) -> Prediction:
    """Make the bounds monotone around the mean and, if asked, clip them at 0."""
    mean = prediction.mean
    lo80 = np.minimum(prediction.lo80, mean)
    lo95 = np.minimum(prediction.lo95, lo80)
    hi80 = np.maximum(prediction.hi80, mean)
    hi95 = np.maximum(prediction.hi95, hi80)
    arrays = (mean, lo80, hi80, lo95, hi95)
    if clip_at_zero:
        arrays = tuple(np.maximum(a, 0.0) for a in arrays)
    return Prediction(*arrays)


def try_fit(
    fit: Fitter, train: np.ndarray, steps: int, post: Callable[[Prediction], Prediction]
) -> tuple[Prediction | None, str | None]:
    """Fit with the warnings numpy can raise on awkward data (an overflow, the mean of an
    empty slice) silenced here only; a failure becomes a reason."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            prediction = fit(train.copy(), steps)
    except Exception as exc:  # an estimator that fails skips this candidate, never the brief
        return None, _reason(exc)
    arrays = dataclasses.astuple(prediction)
    if any(np.shape(a) != (steps,) or not np.isfinite(a).all() for a in arrays):
        return None, "the fit gave no finite forecast"
    return post(prediction), None


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
