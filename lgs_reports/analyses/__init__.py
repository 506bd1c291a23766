"""The analyses of the brief, and the analyse step that runs them all over one `Dataset`.

One module per analysis (`kpis`, `trend`, `bridge`, `countries`, `accounts`, `products`,
`retention`, `segments`, `orders`, `quality`, `forecast`): pure functions from query
results to frozen dataclasses; none does I/O or plotting. `analyse` below runs them for
a `Dataset` into one `Analysis`, and `lgs_reports.figures_json` turns that into the
``figures.json`` document.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from lgs_reports.analyses.accounts import Accounts, accounts, per_customer
from lgs_reports.analyses.bridge import GrowthBridge, growth_bridge
from lgs_reports.analyses.countries import CountrySales, country_sales
from lgs_reports.analyses.forecast import Forecast, forecast_series
from lgs_reports.analyses.kpis import Kpi, Totals, headline_kpis, totals_from
from lgs_reports.analyses.orders import InvoiceAmounts, invoice_amounts
from lgs_reports.analyses.products import Products, products
from lgs_reports.analyses.quality import DataQuality, data_quality
from lgs_reports.analyses.retention import Retention, retention
from lgs_reports.analyses.segments import CustomerFacts, Segments, segments
from lgs_reports.analyses.trend import Trend, monthly_trend
from lgs_reports.config import Settings
from lgs_reports.dataset import Dataset, side_key
from lgs_reports.periods import lookback_months


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
    bridge: GrowthBridge | None  # None without a comparison
    accounts: Accounts
    retention: Retention
    products: Products  # the period against a year earlier
    trailing_products: Products | None  # the 12 complete months to the snapshot, and before
    trailing_customers: pd.DataFrame | None  # accounts.per_customer of those two spans

    def kpi(self, key: str) -> Kpi:
        return next(k for k in self.kpis if k.key == key)


def analyse(data: Dataset, settings: Settings) -> Analysis:
    totals = {name: totals_from(frame) for name, frame in data.totals.items()}
    trend = monthly_trend(data.monthly, data.coverage)
    yoy = data.comparisons["yoy"]
    backtest = data.backtest
    customers = per_customer(data.countries)
    months = data.trailing_months[0]
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
            facts=CustomerFacts(
                orders=data.customer_orders,
                top_products=data.top_products,
                suggestions=data.suggestions,
                previous_covered=(
                    data.coverage.snapshot - 2 * dt.timedelta(days=data.rfm_window_days)
                    >= data.coverage.first_data.date()
                ),
                min_support=settings.report.suggestion_min_support,
                pool_size=data.suggestion_pool,
            ),
            backtest=(
                (backtest.snapshot, backtest.values, backtest.following) if backtest else None
            ),
            previous_covered=(
                data.previous_snapshot - dt.timedelta(days=data.rfm_window_days)
                >= data.coverage.first_data.date()
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
        bridge=(
            growth_bridge(
                data.countries,
                totals[side_key(yoy, data.current)],
                totals["yoy"],
                comparison=yoy.other.title,
            )
            if yoy.other is not None
            else None
        ),
        accounts=accounts(
            customers,
            data.large_guest_orders,
            total_net=totals["current"].net,
            compared=yoy.available,
            own=per_customer(data.own_countries) if data.own_countries is not None else None,
        ),
        retention=retention(
            data.cohorts, customers if yoy.available else None, cohorts_from=data.cohorts_from
        ),
        products=products(
            data.products,
            start=data.current.start,
            end=data.current.end,
            compared=yoy.available,
            lookback_months=data.coverage.lookback,
            own=data.own_products,
        ),
        trailing_products=(
            products(
                data.trailing_products,
                start=months.start,
                end=months.end,
                compared=True,
                lookback_months=lookback_months(data.coverage.first_data, months.start.date()),
            )
            if data.trailing_products is not None
            else None
        ),
        trailing_customers=(
            per_customer(data.trailing_countries) if data.trailing_countries is not None else None
        ),
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
