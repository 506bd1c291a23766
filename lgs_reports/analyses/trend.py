"""Monthly series: net sales and growth, orders against cancelled orders, active, new and
existing customers, with partial months and months of short look-back marked."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt

import pandas as pd

from lgs_reports.periods import Coverage, add_months, lookback_months

COLUMNS = (
    "gross",
    "cancellations",
    "net",
    "product_cancelled",
    "fee_value",
    "correction_value",
    "placed_orders",
    "cancelled_orders",
    "active_customers",
    "new_customers",
    "guest_gross",
)
FULL_LOOKBACK = 12  # months of earlier data before "new" can only mean new


@dataclasses.dataclass(frozen=True)
class Month:
    month: dt.date
    gross: float
    cancellations: float  # every kind, as in net sales
    net: float
    growth: float | None  # net / previous month's net - 1; None when partial or undefined
    product_cancelled: float  # product cancellations (negative): the brief's "cancellations"
    fee_value: float  # fees and adjustments cancelled (negative)
    correction_value: float  # corrections (negative)
    placed_orders: int  # orders: positive placed invoices, not wholly corrected
    cancelled_orders: int  # invoices with a product cancellation
    active_customers: int
    new_customers: int  # first order ever in the month
    guest_gross: float
    days_covered: int  # days of the month inside the data window
    days_in_month: int
    lookback_months: int  # months of data before this one (0: the first month of data)
    in_period: bool

    @property
    def left_censored(self) -> bool:
        """The first month of data: every customer in it looks new."""
        return self.lookback_months == 0

    @property
    def short_lookback(self) -> bool:
        """Under 12 months of earlier data: "new" includes customers returning after a gap."""
        return self.lookback_months < FULL_LOOKBACK

    @property
    def partial(self) -> bool:
        return self.days_covered < self.days_in_month

    @property
    def existing_customers(self) -> int:
        return self.active_customers - self.new_customers

    @property
    def cancellation_rate(self) -> float | None:
        orders = self.placed_orders + self.cancelled_orders
        return self.cancelled_orders / orders if orders else None


@dataclasses.dataclass(frozen=True)
class Trend:
    months: tuple[Month, ...]  # every month from the first data month to the period's end
    trend_start: dt.date  # the 24-month window shown in charts starts here

    @property
    def window(self) -> tuple[Month, ...]:
        return tuple(m for m in self.months if m.month >= self.trend_start)

    def net_series(self) -> pd.Series:
        """Monthly net sales of every complete-or-partial month, for the forecast."""
        return pd.Series(
            [m.net for m in self.months],
            index=pd.DatetimeIndex([pd.Timestamp(m.month) for m in self.months]),
            dtype="float64",
        )

    def active_series(self) -> pd.Series:
        return pd.Series(
            [float(m.active_customers) for m in self.months],
            index=pd.DatetimeIndex([pd.Timestamp(m.month) for m in self.months]),
            dtype="float64",
        )


def monthly_trend(monthly: pd.DataFrame, coverage: Coverage) -> Trend:
    """Fill months without invoices with zeros, compute growth, mark partial months."""
    period = coverage.period
    first_month = coverage.first_data.date().replace(day=1)
    start = min(first_month, period.trend_start)
    by_month = {row.month.date(): row for row in monthly.itertuples(index=False)}
    months: list[Month] = []
    day = max(start, first_month)
    previous_net: float | None = None
    while day <= period.end:
        row = by_month.get(day)
        values = {c: (getattr(row, c) if row is not None else 0) for c in COLUMNS}
        days = calendar.monthrange(day.year, day.month)[1]
        month_end = day + dt.timedelta(days=days - 1)
        covered_from = max(day, coverage.first_data.date())
        covered_to = min(month_end, coverage.last_data.date())
        covered = max(0, (covered_to - covered_from).days + 1)
        net = float(values["net"])
        growth = None
        if covered == days and previous_net is not None and previous_net > 0:
            growth = net / previous_net - 1
        months.append(
            Month(
                month=day,
                gross=float(values["gross"]),
                cancellations=float(values["cancellations"]),
                net=net,
                growth=growth,
                product_cancelled=float(values["product_cancelled"]),
                fee_value=float(values["fee_value"]),
                correction_value=float(values["correction_value"]),
                placed_orders=int(values["placed_orders"]),
                cancelled_orders=int(values["cancelled_orders"]),
                active_customers=int(values["active_customers"]),
                new_customers=int(values["new_customers"]),
                guest_gross=float(values["guest_gross"]),
                days_covered=covered,
                days_in_month=days,
                lookback_months=lookback_months(first_month, day),
                in_period=period.start <= day <= period.end,
            )
        )
        previous_net = net if covered == days else None
        day = add_months(day, 1)
    return Trend(tuple(months), period.trend_start)
