"""The estimators: ETS, Theta and the two ARIMAs, the models of statsmodels fitted in numpy.

statsmodels is the tests' reference only, never imported here. Why not its own
fit: its generic optimisers (L-BFGS with numerical gradients, a Kalman-filter
set-up per likelihood call, and for Theta an MLE refit just for the interval's
variance) needed thousands of likelihood calls per metric on 2-3 years of
monthly data, each with BLAS/LAPACK calls on tiny matrices: 1-7 s per metric,
and sometimes a worse local optimum. Here each likelihood is reduced to 1-4
smoothing or AR parameters (scale, mean and the non-seasonal ETS initial states
are concentrated out in closed form), and ``box_minimise`` evaluates many values
of them in one pass over the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lgs_reports.analyses.forecast.optimise import box_minimise, minimise_1d

_SMOOTHING_BOUNDS = (1e-4, 1 - 1e-4)
"""statsmodels ETSModel's bounds on alpha, beta/alpha and gamma/(1 - alpha)."""
_DAMPING_BOUNDS = (0.8, 0.98)
"""statsmodels ETSModel's bounds on the damping parameter phi."""
_COEF_BOUND = 1 - 1e-4
"""|phi| of the AR(1) and |theta| of the MA(1) stay below this (stationary, invertible)."""
_TINY = 1e-300
"""Floor of a concentrated scale before its log (a perfectly fitted series)."""


def geometric(ratio: float, terms: int) -> float:
    """1 + ratio + ... + ratio^(terms - 1)."""
    return terms if ratio == 1 else (1 - ratio**terms) / (1 - ratio)


@dataclass(frozen=True)
class EtsFit:
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


def fit_ets(train: np.ndarray, period: int | None) -> EtsFit:
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
        alpha, beta_star, gamma_star, phi = box_minimise(sse, *box, (6, 4, 4, 3), zoom=3, tol=1e-4)
    else:

        def sse(points: np.ndarray) -> np.ndarray:
            alpha, beta_star, phi = points.T
            return _ets_seeds(y, alpha, alpha * beta_star, phi)[0]

        box = ([lo, lo, _DAMPING_BOUNDS[0]], [hi, hi, _DAMPING_BOUNDS[1]])
        alpha, beta_star, phi = box_minimise(sse, *box, (9, 6, 4), zoom=3, tol=1e-4)
        gamma_star = 0.0
        _, level0, trend0 = _ets_seeds(y, *(np.array([v]) for v in (alpha, alpha * beta_star, phi)))
        initial = (float(level0[0]), float(trend0[0]), None)
    beta, gamma = alpha * beta_star, gamma_star * (1 - alpha)
    args = (np.array([v]) for v in (alpha, beta, gamma, phi))
    sse_value, level, trend, season = _ets_pass(y, *args, initial)
    next_season = None if season is None else np.roll(season[:, 0], -(len(y) % period))
    return EtsFit(
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
class ThetaFit:
    alpha: float  # SES smoothing of the adjusted series
    b0: float  # OLS slope of the adjusted series on time
    level: float  # SES level after the last month (the SES one-step forecast)
    sigma2: float  # mean squared in-sample one-step error of the Theta forecast
    season: np.ndarray | None  # seasonal indices of months 0 .. m-1
    multiplicative: bool


def fit_theta(train: np.ndarray, period: int | None) -> ThetaFit:
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
    alpha = minimise_1d(lambda a: _ses(adjusted, a)[0], 0.0, 1.0)
    _, level, levels = _ses(adjusted, np.array([alpha]))
    drift = 0.5 * b0 * np.array([geometric(1 - alpha, k) for k in range(1, n)])
    errors = adjusted[1:] - (levels[:-1, 0] + drift)
    sigma2 = float(np.mean(errors**2)) if n > 1 else 0.0
    return ThetaFit(alpha, b0, float(level[0]), sigma2, season, multiplicative)


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


def fit_ar1(w: np.ndarray) -> tuple[float, float, float]:
    """Exact Gaussian MLE of ``w_t - mu = phi (w_(t-1) - mu) + e_t``: (phi, mu, sigma2).

    This is the likelihood of the seasonally differenced series, the one an
    exact diffuse start gives the seasonal ARIMA; statsmodels' default
    approximate-diffuse start (variance 1e6) is far too small for sales-sized
    series and distorts its likelihood there. The drift ``c`` is ``mu (1 - phi)``.
    """
    if len(w) < 2:
        raise ValueError(f"the seasonal ARIMA needs 2 year-over-year changes, got {len(w)}")
    phi = minimise_1d(lambda p: _ar1_profile(w, p)[0], -_COEF_BOUND, _COEF_BOUND)
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


def fit_ma1(w: np.ndarray) -> tuple[float, float, float, float]:
    """Exact Gaussian MLE of ``w_t = e_t + theta e_(t-1)``, |theta| < 1.

    Returns theta, the one-step forecast of the next ``w``, its relative
    variance v_N and sigma2.
    """
    if len(w) < 2:
        raise ValueError(f"ARIMA(0,1,1) needs 2 monthly changes, got {len(w)}")
    theta = minimise_1d(lambda p: _ma1_profile(w, p)[0], -_COEF_BOUND, _COEF_BOUND)
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
