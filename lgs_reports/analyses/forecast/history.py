"""The months a forecast fits: checked to be whole months in order, a partial last one set aside."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lgs_reports.periods import add_months


@dataclass(frozen=True)
class Window:
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


def fitting_window(
    months: tuple[dt.date, ...],
    values: np.ndarray,
    partial_days: tuple[int, int] | None,
    horizon: int,
) -> Window:
    """Set a partial last month aside from fitting and add it to the forecast months."""
    if not _is_partial(partial_days, bool(months)):
        future = _months_after(months[-1], horizon) if months else ()
        return Window(months, values, future, None, None, None)
    assert partial_days is not None
    fit_months, last = months[:-1], months[-1]
    future = (last, *_months_after(last, horizon))
    note = _partial_note(last, partial_days)
    return Window(fit_months, values[:-1], future, last, float(values[-1]), note)


def validated(history: pd.Series) -> tuple[tuple[dt.date, ...], np.ndarray]:
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
