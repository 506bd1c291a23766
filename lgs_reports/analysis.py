"""The analyse step: every analysis of the brief run over one `Dataset`."""

from __future__ import annotations

import dataclasses

from lgs_reports.analyses.countries import CountrySales, country_sales
from lgs_reports.analyses.kpis import Kpi, Totals, headline_kpis, totals_from
from lgs_reports.analyses.orders import InvoiceAmounts, invoice_amounts
from lgs_reports.analyses.quality import DataQuality, data_quality
from lgs_reports.analyses.segments import Segments, segments
from lgs_reports.analyses.trend import Trend, monthly_trend
from lgs_reports.config import Settings
from lgs_reports.dataset import Dataset
from lgs_reports.forecast import Forecast, forecast_series


@dataclasses.dataclass(frozen=True)
class Analysis:
    dataset: Dataset
    totals: dict[str, Totals]
    kpis: tuple[Kpi, ...]
    trend: Trend
    invoice_amounts: InvoiceAmounts
    countries: CountrySales  # the period against a year earlier
    trailing_countries: CountrySales | None  # the 365 days to the snapshot against the 365 before
    segments: Segments
    quality: DataQuality
    forecasts: dict[str, Forecast]  # net_sales, active_customers

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


def analyse(data: Dataset, settings: Settings) -> Analysis:
    totals = {name: totals_from(frame) for name, frame in data.totals.items()}
    trend = monthly_trend(data.monthly, data.coverage)
    yoy = data.comparisons["yoy"]
    backtest = data.backtest
    return Analysis(
        dataset=data,
        totals=totals,
        kpis=headline_kpis(totals, data.comparisons, data.lookbacks, data.current),
        trend=trend,
        invoice_amounts=invoice_amounts(
            data.amount_stats, data.amount_histogram, data.histogram_width
        ),
        countries=country_sales(
            data.countries,
            top=settings.report.top_countries,
            comparison=yoy.other.title if yoy.other else None,
        ),
        trailing_countries=(
            country_sales(
                data.trailing_countries,
                top=settings.report.top_countries,
                comparison=data.trailing[1].title if data.trailing[1] else None,
            )
            if data.trailing_countries is not None
            else None
        ),
        segments=segments(
            data.rfm,
            data.rfm_previous,
            snapshot=data.coverage.snapshot,
            previous_snapshot=data.previous_snapshot,
            window_days=data.rfm_window_days,
            action_for=settings.segment_action,
            priority=settings.report.priority_segments,
            top_rows=settings.report.action_list_rows,
            backtest=(
                (backtest.snapshot, backtest.values, backtest.following) if backtest else None
            ),
        ),
        quality=data_quality(
            data.quality,
            data.quality_all,
            data.duplicate_days,
            data.non_product_codes,
            data.load_history,
            totals=data.totals["current"],
            largest_corrections=data.corrections,
            lookback_months=data.coverage.lookback,
        ),
        forecasts=forecasts(trend, data),
    )


def forecasts(trend: Trend, data: Dataset) -> dict[str, Forecast]:
    """Net sales and active customers for the months after the period."""
    partial = data.coverage.last_month_days
    return {
        "net_sales": forecast_series(trend.net_series(), metric="net_sales", partial_days=partial),
        "active_customers": forecast_series(
            trend.active_series(), metric="active_customers", partial_days=partial
        ),
    }
