"""Forecast of a monthly metric: the next months with 80% and 95% intervals.

The brief forecasts monthly net sales (and active customers) for the months
after the period. The model is chosen by a rolling-origin backtest against the
seasonal-naive baseline, and a model that does not beat the baseline is never
shown as if it were better: the baseline is shown instead.

This package: the public API and the policy below (``forecast_series``, here);
``result`` (what it returns and its JSON form), ``history`` (input checks, the
partial last month), ``models`` (the candidates, their forecasts and intervals),
``estimate`` (fitting them) with ``optimise`` (the minimiser it uses),
``backtest`` (origins, scores, the choice) and ``notes`` (what the brief says).

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

Policies
--------
The thresholds are constants: ``MIN_HISTORY`` here; ``MIN_TRAIN``, ``MIN_ORIGINS``
and ``MAX_ORIGINS`` in ``backtest``; ``ARIMA_SEASONAL_EXTRA`` in ``models``.

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

Estimation (see ``estimate`` and ``optimise``): the models are those of
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
from functools import partial

import pandas as pd

from lgs_reports.analyses.forecast.backtest import (
    MIN_ORIGINS,
    MIN_TRAIN,
    backtest_origins,
    choose,
    run_backtest,
    score_candidate,
)
from lgs_reports.analyses.forecast.history import Window, fitting_window, validated
from lgs_reports.analyses.forecast.models import Prediction, candidate_models, finish, try_fit
from lgs_reports.analyses.forecast.notes import baseline_phrase, choice_note
from lgs_reports.analyses.forecast.result import Forecast, ForecastPoint, ModelScore

__all__ = ["MIN_HISTORY", "Forecast", "ForecastPoint", "ModelScore", "forecast_series"]

MIN_HISTORY = 6
"""Fewer complete months than this: no forecast at all."""


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
    that month as incomplete (see the package docstring for the policy). Short
    histories give a clean fallback, never an exception; malformed input
    (gaps, NaN, non-month-start dates) raises ``ValueError``.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    if seasonal_period < 1:
        raise ValueError(f"seasonal_period must be at least 1, got {seasonal_period}")
    months, values = validated(history)
    window = fitting_window(months, values, partial_days, horizon)
    n = len(window.y)
    if n < MIN_HISTORY:
        note = (
            f"Only {n} complete month{'s' if n != 1 else ''} of history; "
            f"at least {MIN_HISTORY} are needed for a forecast, so none is shown."
        )
        return _forecast(metric, window, None, (), 0, note)

    post = partial(finish, clip_at_zero=clip_at_zero)
    origins = backtest_origins(n, seasonal_period)
    candidates = candidate_models(origins[0] if origins else n, seasonal_period)
    baseline = candidates[0]
    if not origins:
        note = (
            f"Only {n} complete months of history: too few to test models "
            f"(the backtest needs {MIN_TRAIN + MIN_ORIGINS} months), so the "
            f"{baseline_phrase(baseline.name, seasonal_period)} is shown untested."
        )
        score = ModelScore(baseline.name, None, None, None, None, 0, chosen=True)
        prediction = post(baseline.fit(window.y, window.steps))
        return _forecast(metric, window, prediction, (score,), 0, note)

    scores = [
        score_candidate(
            candidate.name,
            window.y,
            run_backtest(window.y, candidate.fit, origins, window.steps, post),
            seasonal_period,
            window.months,
        )
        for candidate in candidates
    ]
    best = choose(scores)
    prediction, error = try_fit(candidates[best].fit, window.y, window.steps, post)
    failed_name = None
    if prediction is None:  # the winner failed on the full history: show the baseline
        failed_name, best = candidates[best].name, 0
        prediction = post(baseline.fit(window.y, window.steps))
    scores = [dataclasses.replace(s, chosen=i == best) for i, s in enumerate(scores)]
    note = choice_note(scores, best, len(origins), failed_name, error, seasonal_period)
    return _forecast(metric, window, prediction, tuple(scores), len(origins), note)


def _forecast(
    metric: str,
    window: Window,
    prediction: Prediction | None,
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


def _points(window: Window, prediction: Prediction) -> tuple[ForecastPoint, ...]:
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
