"""Tests of the forecast: model choice, intervals, fallbacks, partial months, no peeking.

A few tests call the package's backtest, models and estimators directly: the
no-peeking rule is about what each fit is given, which the public result cannot show.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import warnings
from functools import partial

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgs_reports.analyses import forecast
from lgs_reports.analyses.forecast import (
    Forecast,
    ForecastPoint,
    ModelScore,
    backtest,
    estimate,
    forecast_series,
    models,
)

# LGS monthly net sales (GBP), Dec 2009 - Dec 2011, duplicates counted once; the
# last month holds 9 of its 31 days.
LGS_NET_SALES = (
    796648.50, 622479.50, 531265.37, 763247.24, 641521.05, 613270.72, 677073.87,
    617365.48, 654774.39, 851105.96, 1080611.48, 1416697.20, 746723.61, 558448.56,
    497026.41, 682013.98, 492367.84, 722094.10, 689977.23, 680156.99, 692448.52,
    1017596.68, 1069368.23, 1456145.80, 432719.06,
)  # fmt: skip
PARTIAL = (9, 31)


def monthly(values, start: str = "2009-12-01") -> pd.Series:
    """A monthly series in the shape the report passes in."""
    values = np.asarray(values, dtype=float)
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="MS"))


def seasonal_truth(n: int) -> np.ndarray:
    """A yearly pattern on a gentle trend: 1000 + 5 t + 300 sin(2 pi t / 12)."""
    t = np.arange(n)
    return 1000 + 5 * t + 300 * np.sin(2 * np.pi * t / 12)


def assert_ordered(result: Forecast) -> None:
    for p in result.points:
        assert p.lo95 <= p.lo80 <= p.mean <= p.hi80 <= p.hi95, p
        assert all(math.isfinite(v) for v in (p.mean, p.lo80, p.hi80, p.lo95, p.hi95))


def assert_choice_honest(result: Forecast) -> None:
    """The shown model is the baseline or strictly beat it, and exactly one is chosen."""
    chosen = [s for s in result.scores if s.chosen]
    assert len(chosen) == 1 and chosen[0].name == result.model
    base = result.scores[0]
    assert base.name == result.baseline
    if result.model != result.baseline:
        assert chosen[0].mase is not None and base.mase is not None
        assert chosen[0].mase < base.mase
        assert not chosen[0].skipped


@pytest.fixture(scope="module")
def synthetic() -> tuple[Forecast, np.ndarray]:
    truth = seasonal_truth(39)
    noise = np.random.default_rng(7).normal(0, 10, 39)
    return forecast_series(monthly(truth[:36] + noise[:36]), metric="net_sales"), truth[36:]


@pytest.fixture(scope="module")
def lgs() -> Forecast:
    return forecast_series(monthly(LGS_NET_SALES), metric="net_sales", partial_days=PARTIAL)


# ----------------------------------------------------------------- model choice


def test_seasonal_pattern_is_recovered(synthetic):
    result, truth = synthetic
    assert_choice_honest(result)
    chosen = next(s for s in result.scores if s.chosen)
    assert chosen.mase <= result.scores[0].mase
    assert [p.month for p in result.points] == [
        dt.date(2012, 12, 1), dt.date(2013, 1, 1), dt.date(2013, 2, 1)
    ]  # fmt: skip
    for point, expected in zip(result.points, truth, strict=True):
        assert point.mean == pytest.approx(expected, rel=0.05)
    # two full seasons in every backtest window: the seasonal forms compete
    assert "ETS (seasonal, damped trend)" in {s.name for s in result.scores}
    assert result.backtest_origins == backtest.MAX_ORIGINS


def test_baseline_is_shown_when_nothing_beats_it():
    # an exactly repeating year: the seasonal-naive forecast is perfect, MASE 0
    pattern = np.array([5, 4, 6, 7, 6, 7, 8, 7, 12, 15, 19, 9], dtype=float) * 1000
    result = forecast_series(monthly(np.tile(pattern, 3)), metric="net_sales")
    assert result.model == result.baseline == "Seasonal naive"
    assert result.scores[0].chosen and result.scores[0].mase == 0
    assert result.note.startswith("No model beat the seasonal-naive baseline")
    assert [p.mean for p in result.points] == pytest.approx(pattern[:3])
    assert_choice_honest(result)


def test_lgs_history_keeps_the_baseline_unless_beaten(lgs):
    assert_choice_honest(lgs)
    assert lgs.baseline == "Seasonal naive"
    assert lgs.backtest_origins == 8
    assert {s.origins for s in lgs.scores} == {8}
    base = lgs.scores[0]
    assert f"MAPE {base.mape:.0%}" in lgs.note


def _oracle(y: np.ndarray, fail_at: set[int]) -> models.Fitter:
    """A cheating fitter that knows the future (so it would win), failing at some lengths."""

    def fit(train: np.ndarray, steps: int) -> models.Prediction:
        if len(train) in fail_at:
            raise RuntimeError("optimizer gave up")
        mean = y[len(train) : len(train) + steps]
        if len(mean) < steps:  # beyond the data: repeat the last value
            mean = np.concatenate([mean, np.full(steps - len(mean), y[-1])])
        return models.Prediction(mean, mean - 1, mean + 1, mean - 2, mean + 2)

    return fit


def _with_oracle(monkeypatch, y: np.ndarray, fail_at: set[int]) -> None:
    real = models.candidate_models

    def candidates(shortest: int, m: int):
        oracle = models.Candidate("Oracle", _oracle(y, fail_at))
        return (real(shortest, m)[0], oracle)

    monkeypatch.setattr(forecast, "candidate_models", candidates)


def test_a_model_that_beats_the_baseline_is_chosen(monkeypatch):
    y = np.array(LGS_NET_SALES[:24])
    _with_oracle(monkeypatch, y, fail_at=set())
    result = forecast_series(monthly(y), metric="net_sales")
    assert result.model == "Oracle"
    assert result.note.startswith("Oracle beat the seasonal-naive baseline")
    assert "MASE 0.00 vs" in result.note
    assert_choice_honest(result)


def test_a_failing_fit_is_recorded_and_never_crashes(monkeypatch):
    y = np.array(LGS_NET_SALES[:24])
    _with_oracle(monkeypatch, y, fail_at={18})
    result = forecast_series(monthly(y), metric="net_sales")
    oracle = result.scores[1]
    assert oracle.skipped == ("Jun 2011: RuntimeError: optimizer gave up",)
    assert oracle.origins == result.backtest_origins - 1
    assert result.model == "Seasonal naive"  # a candidate that failed is not eligible
    assert result.note.endswith("Oracle could not be fitted at every origin.")
    assert "best other" not in result.note
    assert_choice_honest(result)


def test_a_winner_that_fails_on_the_full_history_falls_back_to_the_baseline(monkeypatch):
    y = np.array(LGS_NET_SALES[:24])
    _with_oracle(monkeypatch, y, fail_at={24})
    result = forecast_series(monthly(y), metric="net_sales")
    assert result.model == "Seasonal naive"
    assert result.note.startswith("Oracle did best in the backtest but failed on the full history")
    assert [p.mean for p in result.points] == pytest.approx(y[12:15])


def _with_candidate(monkeypatch, name: str, fit: models.Fitter) -> None:
    real = models.candidate_models

    def candidates(shortest: int, m: int):
        base, *others = real(shortest, m)
        return (base, models.Candidate(name, fit), *others)

    monkeypatch.setattr(forecast, "candidate_models", candidates)


def _nan_fit(train: np.ndarray, steps: int) -> models.Prediction:
    """A fit that returns without error but with a NaN in its forecast."""
    mean = np.full(steps, float(train[-1]))
    mean[-1] = np.nan
    return models.Prediction(mean, mean - 1, mean + 1, mean - 2, mean + 2)


def test_a_fit_giving_nan_is_skipped_cleanly(monkeypatch):
    y = np.array(LGS_NET_SALES[:24])
    _with_candidate(monkeypatch, "Broken", _nan_fit)
    result = forecast_series(monthly(y), metric="net_sales")
    broken = next(s for s in result.scores if s.name == "Broken")
    assert broken.origins == 0 and broken.mase is None and not broken.chosen
    assert len(broken.skipped) == result.backtest_origins
    assert all(r.endswith(": the fit gave no finite forecast") for r in broken.skipped)
    assert broken.skipped[0] == "Apr 2011: the fit gave no finite forecast"
    assert "Broken could not be fitted at every origin" in result.note
    assert len(result.scores) == 5  # the other candidates are scored as usual
    assert_ordered(result)
    assert_choice_honest(result)
    json.dumps(result.to_dict(), allow_nan=False)


def test_a_winner_giving_nan_on_the_full_history_falls_back_to_the_baseline(monkeypatch):
    y = np.array(LGS_NET_SALES[:24])
    oracle = _oracle(y, fail_at=set())

    def fit(train: np.ndarray, steps: int) -> models.Prediction:
        if len(train) == len(y):
            return _nan_fit(train, steps)
        return oracle(train, steps)

    _with_candidate(monkeypatch, "Oracle", fit)
    result = forecast_series(monthly(y), metric="net_sales")
    assert result.model == "Seasonal naive"
    assert result.note.startswith(
        "Oracle did best in the backtest but failed on the full history "
        "(the fit gave no finite forecast)"
    )
    assert [p.mean for p in result.points] == pytest.approx(y[12:15])


# ----------------------------------------------------------------- no peeking


@pytest.mark.parametrize("poison", [1e12, -1e12])
def test_backtest_never_peeks_past_its_origin(poison):
    y = np.array(LGS_NET_SALES[:24])
    origins = backtest.backtest_origins(len(y), 12)
    assert len(origins) >= backtest.MIN_ORIGINS

    def same(prediction: models.Prediction) -> models.Prediction:
        return prediction  # compare the raw model output

    for candidate in models.candidate_models(origins[0], 12):
        clean = backtest.run_backtest(y, candidate.fit, origins, 3, same)
        for run in clean:
            poisoned = y.copy()
            poisoned[run.origin :] = poison  # the future turns absurd
            (dirty,) = backtest.run_backtest(poisoned, candidate.fit, [run.origin], 3, same)
            assert dirty.reason == run.reason, candidate.name
            expected = dataclasses.astuple(run.prediction)
            got = dataclasses.astuple(dirty.prediction)
            for a, b in zip(expected, got, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-9, err_msg=candidate.name)


def test_every_fit_gets_a_prefix_of_the_complete_months(monkeypatch):
    values = np.array(LGS_NET_SALES)
    seen: list[np.ndarray] = []
    real = models.candidate_models

    def spying(shortest: int, m: int):
        def spy(fit):
            def wrapped(train, steps):
                seen.append(np.array(train))
                return fit(train, steps)

            return wrapped

        return tuple(dataclasses.replace(c, fit=spy(c.fit)) for c in real(shortest, m))

    monkeypatch.setattr(forecast, "candidate_models", spying)
    result = forecast_series(monthly(values), metric="net_sales", partial_days=PARTIAL)
    complete = values[:-1]
    origins = backtest.backtest_origins(len(complete), 12)
    assert seen, "no fit was recorded"
    for train in seen:
        np.testing.assert_array_equal(train, complete[: len(train)])
    lengths = {len(train) for train in seen}
    assert lengths == {*origins, len(complete)}  # the backtest origins, then the final fit
    assert result.backtest_origins == len(origins)


# ----------------------------------------------------------------- against statsmodels
#
# The fitted candidates are estimated in the module (statsmodels' optimisers are
# too slow); these tests hold them to statsmodels: the same likelihood, at
# least as good an optimum, and the same forecasts and intervals at the same
# parameters.


def _noisy_season(n: int, seed: int = 7) -> np.ndarray:
    return seasonal_truth(n) + np.random.default_rng(seed).normal(0, 10, n)


FITTED = {
    "lgs16": np.array(LGS_NET_SALES[:16]),
    "lgs24": np.array(LGS_NET_SALES[:24]),
    "season36": _noisy_season(36),
    "flat_then_jump": np.array([500.0] * 14 + [900, 950, 1000, 980, 1020, 1010, 990, 1005]),
}


@pytest.fixture(scope="module")
def sm():
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    from statsmodels.tsa.forecasting.theta import ThetaModel
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    return ETSModel, ThetaModel, SARIMAX


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.mark.parametrize(("key", "period"), [("lgs16", None), ("lgs24", None),
                                             ("season36", None), ("season36", 12),
                                             ("lgs24", 12), ("flat_then_jump", None)])  # fmt: skip
def test_ets_matches_statsmodels(sm, key, period):
    ets_model, _, _ = sm
    y = FITTED[key]
    fit = estimate.fit_ets(y, period)
    if period:
        model = ets_model(pd.Series(y), error="add", trend="add", damped_trend=True,
                          seasonal="add", seasonal_periods=period,
                          initialization_method="heuristic")  # fmt: skip
        params = [fit.alpha, fit.beta, fit.gamma, fit.phi]
        np.testing.assert_allclose(fit.initial_season, model.initial_seasonal, rtol=1e-9)
    else:
        model = ets_model(pd.Series(y), error="add", trend="add", damped_trend=True)
        params = [fit.alpha, fit.beta, fit.phi, fit.initial_level, fit.initial_trend]
    ours = _quiet(model.smooth, np.array(params))
    theirs = _quiet(model.fit, disp=False)
    assert ours.llf >= theirs.llf - 1e-6 * abs(theirs.llf)  # at least as likely
    assert fit.sigma2 == pytest.approx(np.mean(ours.resid**2), rel=1e-9)
    steps = 15  # beyond one season: the seasonal term of the variance counts
    prediction = models._ets(y, steps, period=period)
    expected = ours.get_prediction(start=len(y), end=len(y) + steps - 1)
    np.testing.assert_allclose(prediction.mean, expected.predicted_mean, rtol=1e-9)
    for alpha, lo, hi in ((0.2, prediction.lo80, prediction.hi80),
                          (0.05, prediction.lo95, prediction.hi95)):  # fmt: skip
        interval = expected.pred_int(alpha=alpha).to_numpy()
        np.testing.assert_allclose(lo, interval[:, 0], rtol=1e-9)
        np.testing.assert_allclose(hi, interval[:, 1], rtol=1e-9)


@pytest.mark.parametrize("key", ["lgs16", "lgs24", "season36", "flat_then_jump"])
def test_seasonal_arima_matches_statsmodels(sm, key):
    _, _, sarimax = sm
    y = FITTED[key]
    w = y[12:] - y[:-12]
    phi, mu, sigma2 = estimate.fit_ar1(w)
    params = np.array([mu * (1 - phi), phi, sigma2])  # intercept, ar.L1, sigma2
    differenced = sarimax(w, order=(1, 0, 0), trend="c")
    theirs = _quiet(differenced.fit, disp=False)
    assert differenced.loglike(params) >= theirs.llf - 1e-6 * abs(theirs.llf)
    full = sarimax(y, order=(1, 0, 0), seasonal_order=(0, 1, 0, 12), trend="c")
    expected = _quiet(full.filter, params).get_forecast(15)
    prediction = models._arima(y, 15, period=12)
    np.testing.assert_allclose(prediction.mean, expected.predicted_mean, rtol=1e-9)
    np.testing.assert_allclose(prediction.hi95, expected.conf_int(alpha=0.05)[:, 1], rtol=1e-9)
    np.testing.assert_allclose(prediction.lo80, expected.conf_int(alpha=0.2)[:, 0], rtol=1e-9)


@pytest.mark.parametrize("key", ["lgs16", "lgs24", "season36", "flat_then_jump"])
def test_arima_011_matches_statsmodels(sm, key):
    _, _, sarimax = sm
    y = FITTED[key] / 1000  # statsmodels' approximate-diffuse start needs a modest scale
    w = np.diff(y)
    theta, _, _, sigma2 = estimate.fit_ma1(w)
    differenced = sarimax(w, order=(0, 0, 1))
    theirs = _quiet(differenced.fit, disp=False)
    assert differenced.loglike(np.array([theta, sigma2])) >= theirs.llf - 1e-6 * abs(theirs.llf)
    full = sarimax(y, order=(0, 1, 1))
    expected = _quiet(full.filter, np.array([theta, sigma2])).get_forecast(5)
    prediction = models._arima(y, 5, period=None)
    np.testing.assert_allclose(prediction.mean, expected.predicted_mean, rtol=1e-7)
    np.testing.assert_allclose(prediction.hi95, expected.conf_int(alpha=0.05)[:, 1], rtol=1e-7)


@pytest.mark.parametrize(("key", "period"), [("lgs16", None), ("lgs24", None),
                                             ("season36", None), ("season36", 12),
                                             ("lgs24", 12)])  # fmt: skip
def test_theta_matches_statsmodels(sm, key, period):
    _, theta_model, _ = sm
    y = FITTED[key]
    fit = estimate.fit_theta(y, period)
    theirs = theta_model(y, period=period or 1, deseasonalize=period is not None, use_test=False)
    theirs = _quiet(theirs.fit)
    assert fit.b0 == pytest.approx(theirs.params["b0"], rel=1e-9)
    adjusted = _theta_adjusted(y, fit, period)
    ours_sse = estimate._ses(adjusted, np.array([fit.alpha]))[0][0]
    their_sse = estimate._ses(adjusted, np.array([theirs.params["alpha"]]))[0][0]
    assert ours_sse <= their_sse * (1 + 1e-9)  # the same objective, at least as low
    # with statsmodels' alpha the forecast formula gives statsmodels' forecast
    same = dataclasses.replace(
        fit,
        alpha=float(theirs.params["alpha"]),
        level=float(estimate._ses(adjusted, np.array([theirs.params["alpha"]]))[1][0]),
    )
    mean = _theta_mean(same, len(y), 4, period)
    np.testing.assert_allclose(mean, theirs.forecast(4), rtol=1e-9)


def _theta_adjusted(y: np.ndarray, fit, period: int | None) -> np.ndarray:
    if fit.season is None:
        return y
    season = fit.season[np.arange(len(y)) % period]
    return y / season if fit.multiplicative else y - season


def _theta_mean(fit, n: int, steps: int, period: int | None) -> np.ndarray:
    h = np.arange(steps)
    mean = fit.level + 0.5 * fit.b0 * (h + estimate.geometric(1 - fit.alpha, n))
    if fit.season is None:
        return mean
    season = fit.season[(n + h) % period]
    return mean * season if fit.multiplicative else mean + season


def test_theta_interval_uses_the_one_step_errors():
    y = FITTED["lgs24"]
    fit = estimate.fit_theta(y, None)
    level, errors = y[0], []
    for t in range(1, len(y)):  # the Theta forecast made with t months seen
        drift = 0.5 * fit.b0 * sum((1 - fit.alpha) ** i for i in range(t))
        errors.append(y[t] - (level + drift))
        level += fit.alpha * (y[t] - level)
    assert fit.sigma2 == pytest.approx(np.mean(np.square(errors)), rel=1e-9)
    prediction = models._theta(y, 3, period=None)
    h = np.arange(3)
    se = np.sqrt(fit.sigma2 * (1 + h * (1 + (fit.alpha - 1) ** 2)))
    np.testing.assert_allclose(prediction.hi95 - prediction.mean, 1.959963984540054 * se)


def test_fits_are_deterministic_and_finite_on_awkward_shapes():
    shapes = {
        "flat": np.full(30, 1000.0),
        "zeros": np.zeros(30),
        "zero_month": np.where(np.arange(30) == 17, 0.0, _noisy_season(30)),
        "trend": 100.0 + 50.0 * np.arange(30),
        "huge": _noisy_season(30) * 1e9,
    }
    for name, y in shapes.items():
        for fitter in (
            partial(models._ets, period=None),
            partial(models._ets, period=12),
            partial(models._theta, period=None),
            partial(models._theta, period=12),
            partial(models._arima, period=12),
            partial(models._arima, period=None),
        ):
            first, reason = models.try_fit(fitter, y, 4, lambda p: p)
            assert reason is None, (name, fitter, reason)
            again, _ = models.try_fit(fitter, y, 4, lambda p: p)
            for a, b in zip(dataclasses.astuple(first), dataclasses.astuple(again), strict=True):
                np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------- short series


@pytest.mark.parametrize("n", [0, 1, 5])
def test_too_short_history_gives_no_forecast(n):
    series = monthly(LGS_NET_SALES[:n])
    result = forecast_series(series, metric="net_sales")
    assert result.points == () and result.scores == () and result.model == ""
    assert f"Only {n} complete month" in result.note
    assert "at least 6" in result.note
    json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize("n", [6, 9])
def test_history_too_short_to_test_shows_the_naive_baseline_untested(n):
    result = forecast_series(monthly(LGS_NET_SALES[:n]), metric="net_sales")
    assert result.model == result.baseline == "Naive"
    assert result.backtest_origins == 0
    assert "untested" in result.note and "too little history for a seasonal one" in result.note
    assert [p.mean for p in result.points] == [LGS_NET_SALES[n - 1]] * 3
    assert_ordered(result)


@pytest.mark.parametrize("n", [10, 12, 16, 17, 20])
def test_short_histories_are_backtested_without_errors(n):
    result = forecast_series(monthly(LGS_NET_SALES[:n]), metric="net_sales")
    assert result.backtest_origins >= backtest.MIN_ORIGINS
    assert len(result.points) == 3
    assert result.baseline == ("Seasonal naive" if n >= 17 else "Naive")
    assert_ordered(result)
    assert_choice_honest(result)


# ----------------------------------------------------------------- intervals


def test_intervals_are_ordered(synthetic, lgs):
    assert_ordered(synthetic[0])
    assert_ordered(lgs)


def test_seasonal_naive_intervals_follow_fpp3():
    train = np.array([10, 12, 14, 11, 13, 15, 12, 14, 16.0])  # period 3, residuals all 1
    prediction = models._naive(train, 7, period=3)
    np.testing.assert_allclose(prediction.mean, [12, 14, 16, 12, 14, 16, 12])
    half80 = prediction.hi80 - prediction.mean
    sigma = 1.0
    z80 = 1.2815515655446004
    np.testing.assert_allclose(half80, z80 * sigma * np.sqrt([1, 1, 1, 2, 2, 2, 3]))
    naive = models._naive(train, 2, period=1)
    rms = math.sqrt(np.mean(np.diff(train) ** 2))
    np.testing.assert_allclose(naive.hi95 - naive.mean, 1.959963984540054 * rms * np.sqrt([1, 2]))


def test_intervals_are_clipped_at_zero_only_when_asked():
    values = [3, 0, 5, 1, 0, 4, 2, 0, 6, 1]
    clipped = forecast_series(monthly(values), metric="active_customers")
    raw = forecast_series(monthly(values), metric="balance", clip_at_zero=False)
    assert min(p.lo95 for p in clipped.points) >= 0
    assert min(p.lo95 for p in raw.points) < 0


# ----------------------------------------------------------------- partial month


def test_partial_month_is_left_out_of_fitting_and_forecast():
    low = forecast_series(monthly(LGS_NET_SALES), metric="net_sales", partial_days=PARTIAL)
    high_values = (*LGS_NET_SALES[:-1], LGS_NET_SALES[-1] * 5)
    high = forecast_series(monthly(high_values), metric="net_sales", partial_days=PARTIAL)
    assert low.history == high.history
    assert low.history[-1][0] == dt.date(2011, 11, 1)
    assert low.scores == high.scores and low.model == high.model
    strip = [dataclasses.replace(p, actual_to_date=None) for p in low.points]
    assert strip == [dataclasses.replace(p, actual_to_date=None) for p in high.points]
    assert [p.month for p in low.points] == [
        dt.date(2011, 12, 1), dt.date(2012, 1, 1), dt.date(2012, 2, 1), dt.date(2012, 3, 1)
    ]  # fmt: skip
    assert low.points[0].actual_to_date == LGS_NET_SALES[-1]
    assert high.points[0].actual_to_date == LGS_NET_SALES[-1] * 5
    assert all(p.actual_to_date is None for p in low.points[1:])
    assert low.partial_note == (
        "December 2011 has 9 of 31 days of data; it was left out of fitting "
        "and is forecast with the next months."
    )


def test_a_complete_last_month_is_fitted():
    result = forecast_series(monthly(LGS_NET_SALES[:24]), metric="net_sales", partial_days=(30, 30))
    assert result.partial_note is None
    assert result.history[-1] == (dt.date(2011, 11, 1), LGS_NET_SALES[23])
    assert result.points[0].month == dt.date(2011, 12, 1)
    assert len(result.points) == 3


@pytest.mark.parametrize("days", [(10, 27), (32, 31), (-1, 30)])
def test_impossible_partial_days_are_refused(days):
    with pytest.raises(ValueError, match="partial_days"):
        forecast_series(monthly(LGS_NET_SALES), metric="net_sales", partial_days=days)


# ----------------------------------------------------------------- input and output


@pytest.mark.parametrize(
    ("series", "message"),
    [
        (monthly([1.0, 2.0, 3.0]).drop(pd.Timestamp("2010-01-01")), "contiguous"),
        (monthly([1.0, float("nan"), 3.0]), "missing"),
        (pd.Series([1.0, 2.0], index=pd.to_datetime(["2010-01-15", "2010-02-15"])), "month-start"),
        (pd.Series([1.0, 2.0]), "month-start"),
    ],
)
def test_malformed_history_is_refused(series, message):
    with pytest.raises(ValueError, match=message):
        forecast_series(series, metric="net_sales")


def test_to_dict_is_json_ready(lgs):
    data = json.loads(json.dumps(lgs.to_dict(), allow_nan=False))
    assert data["metric"] == "net_sales"
    assert data["points"][0]["month"] == "2011-12-01"
    assert data["points"][0]["actual_to_date"] == 432719.06
    assert data["history"][0] == ["2009-12-01", 796648.5]
    assert data["scores"][0]["name"] == "Seasonal naive"
    assert data["partial_note"].startswith("December 2011")
    assert all(round(v, 2) == v for p in data["points"] for v in p.values() if isinstance(v, float))


def test_to_dict_turns_nan_into_none():
    point = ForecastPoint(dt.date(2012, 1, 1), float("nan"), 1.0, 2.0, 0.5, 3.0)
    score = ModelScore("ETS", float("nan"), None, 0.8, 0.95, 3, chosen=False)
    result = Forecast("x", (), (point,), "ETS", "Naive", (score,), 3, None, "note")
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["points"][0]["mean"] is None and data["scores"][0]["mase"] is None


def test_statsmodels_warnings_stay_inside(lgs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        forecast_series(monthly(LGS_NET_SALES[:20]), metric="net_sales")
        assert warnings.filters == before
    assert [str(w.message) for w in caught] == []


@settings(max_examples=12, deadline=None)
@given(
    values=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=0, max_size=27),
    partial=st.booleans(),
    horizon=st.integers(1, 4),
)
def test_any_history_gives_a_well_formed_forecast(values, partial, horizon):
    result = forecast_series(
        monthly(values),
        metric="net_sales",
        horizon=horizon,
        partial_days=(5, 31) if partial else None,
    )
    fitted = len(values) - 1 if partial and values else len(values)
    assert len(result.history) == fitted
    if result.points:
        assert len(result.points) == horizon + (1 if partial else 0)
        assert_choice_honest(result)
    assert_ordered(result)
    json.dumps(result.to_dict(), allow_nan=False)
