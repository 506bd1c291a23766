"""Headline KPIs of the period and their change against the comparison spans."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pandas as pd

from lgs_reports.dataset import Span


@dataclasses.dataclass(frozen=True)
class Comparison:
    key: str  # yoy or mom
    title: str  # the span compared with, e.g. "November 2010"
    value: float | None
    change: float | None  # relative change, or difference in points for ratios


@dataclasses.dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str  # GBP, count or ratio
    value: float | None
    higher_is_better: bool
    comparisons: tuple[Comparison, ...]

    @property
    def change_kind(self) -> str:
        """Ratios change in percentage points; money and counts relatively."""
        return "points" if self.unit == "ratio" else "relative"

    def comparison(self, key: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.key == key), None)


@dataclasses.dataclass(frozen=True)
class Totals:
    """The headline numbers of one span, derived from a period_totals row."""

    gross: float
    cancellations: float
    net: float
    placed_orders: int
    cancelled_orders: int
    active_customers: int
    new_customers: int
    guest_gross: float
    new_customer_net: float

    @property
    def cancellation_rate(self) -> float | None:
        orders = self.placed_orders + self.cancelled_orders
        return self.cancelled_orders / orders if orders else None

    @property
    def average_order_value(self) -> float | None:
        return self.gross / self.placed_orders if self.placed_orders else None

    @property
    def existing_customers(self) -> int:
        return self.active_customers - self.new_customers

    @property
    def guest_share(self) -> float | None:
        return self.guest_gross / self.gross if self.gross else None

    @property
    def has_data(self) -> bool:
        return self.placed_orders + self.cancelled_orders > 0


def totals_from(frame: pd.DataFrame) -> Totals:
    row = frame.iloc[0]
    return Totals(
        gross=float(row["gross"]),
        cancellations=float(row["cancellations"]),
        net=float(row["net"]),
        placed_orders=int(row["placed_orders"]),
        cancelled_orders=int(row["cancelled_orders"]),
        active_customers=int(row["active_customers"]),
        new_customers=int(row["new_customers"]),
        guest_gross=float(row["guest_gross"]),
        new_customer_net=float(row["new_customer_net"]),
    )


# key, label, unit, higher is better
KPI_DEFINITIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("net_sales", "Net sales", "GBP", True),
    ("gross_sales", "Gross sales", "GBP", True),
    ("cancelled_value", "Cancelled value", "GBP", False),
    ("placed_orders", "Orders placed", "count", True),
    ("average_order_value", "Average order value", "GBP", True),
    ("cancellation_rate", "Cancellation rate", "ratio", False),
    ("active_customers", "Active customers", "count", True),
    ("new_customers", "New customers", "count", True),
    ("guest_share", "Guest share of sales", "ratio", False),
)


def kpi_value(totals: Totals, key: str) -> float | None:
    return {
        "net_sales": totals.net,
        "gross_sales": totals.gross,
        "cancelled_value": -totals.cancellations,
        "placed_orders": totals.placed_orders,
        "average_order_value": totals.average_order_value,
        "cancellation_rate": totals.cancellation_rate,
        "active_customers": totals.active_customers,
        "new_customers": totals.new_customers,
        "guest_share": totals.guest_share,
    }[key]


def change(value: float | None, previous: float | None, unit: str) -> float | None:
    """Relative change (money, counts) or difference in points (ratios); None if undefined."""
    if value is None or previous is None:
        return None
    if unit == "ratio":
        return value - previous
    if previous == 0:
        return None
    return value / previous - 1 if previous > 0 else None


def headline_kpis(totals: Mapping[str, Totals], spans: Mapping[str, Span]) -> tuple[Kpi, ...]:
    """The KPIs of ``totals['current']`` compared with every other span given."""
    current = totals["current"]
    result = []
    for key, label, unit, better in KPI_DEFINITIONS:
        value = kpi_value(current, key)
        comparisons = []
        for name, span in spans.items():
            if name == "current":
                continue
            other = totals[name]
            previous = kpi_value(other, key) if other.has_data else None
            comparisons.append(
                Comparison(name, span.title, previous, change(value, previous, unit))
            )
        result.append(Kpi(key, label, unit, value, better, tuple(comparisons)))
    return tuple(result)
