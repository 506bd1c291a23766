"""What the brief says about a forecast: one plain-English sentence on the model shown."""

from __future__ import annotations

import math
from collections.abc import Sequence

from lgs_reports.analyses.forecast.models import BASELINE_SEASONAL
from lgs_reports.analyses.forecast.result import ModelScore
from lgs_reports.formatting import join_names


def baseline_phrase(name: str, seasonal_period: int) -> str:
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


def choice_note(
    scores: Sequence[ModelScore],
    best: int,
    origins: int,
    failed_name: str | None,
    error: str | None,
    seasonal_period: int,
) -> str:
    """One plain-English sentence on how good the shown model has been."""
    base = scores[0]
    baseline = baseline_phrase(base.name, seasonal_period)
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
