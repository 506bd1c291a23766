"""What a forecast returns: `Forecast`, its `ForecastPoint`s and `ModelScore`s, as JSON too."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

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
