"""Headline KPIs of the period and their change against the comparison periods.

Every KPI is compared only where BRIEF_SPEC allows it: over the instants both
periods have data for, never when the data starts too late (the comparison then
says why), and new customers only on equal look-back ("new or returning after N
months", recounted for both sides, so the KPI's change is never attached to a
first-ever count whose comparison would be inflated by the start of the data).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import pandas as pd

from lgs_reports.dataset import Lookback, side_key
from lgs_reports.periods import Comparison as PeriodComparison
from lgs_reports.periods import Span


@dataclasses.dataclass(frozen=True)
class Comparison:
    key: str  # yoy or mom
    title: str  # the span compared with, e.g. "November 2010"
    available: bool  # False: no comparison (``note`` says why)
    value: float | None  # the KPI in the span compared with
    change: float | None  # relative change, or difference in points for ratios
    current: float | None = None  # the period's side, when it is not the KPI's value
    lookback_months: int | None = None  # new customers: N of "new or returning after N"
    note: str | None = None  # why there is no comparison


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
    cancellations: float  # every kind of cancellation (in net sales)
    net: float
    order_gross: float
    placed_orders: int
    product_cancelled: float  # product cancellations only: "cancellations" in the brief
    product_lines: int
    cancelled_orders: int
    fee_value: float
    fee_lines: int
    correction_value: float
    correction_lines: int
    zero_invoices: int
    corrected_invoices: int
    largest_cancelled: float  # the largest product cancellation of one invoice (negative)
    active_customers: int
    new_customers: int
    guest_gross: float

    @property
    def cancelled_value(self) -> float:
        return -self.product_cancelled

    @property
    def cancellation_rate(self) -> float | None:
        orders = self.placed_orders + self.cancelled_orders
        return self.cancelled_orders / orders if orders else None

    @property
    def average_order_value(self) -> float | None:
        return self.order_gross / self.placed_orders if self.placed_orders else None

    @property
    def existing_customers(self) -> int:
        return self.active_customers - self.new_customers

    @property
    def guest_share(self) -> float | None:
        return self.guest_gross / self.gross if self.gross else None

    @property
    def has_data(self) -> bool:
        return self.placed_orders + self.cancelled_orders > 0 or self.gross != 0


def totals_from(frame: pd.DataFrame) -> Totals:
    row = frame.iloc[0]
    values = {}
    for field in dataclasses.fields(Totals):
        value = row[field.name]
        values[field.name] = int(value) if field.type == "int" else float(value)
    return Totals(**values)


# key, label, unit, higher is better
KPI_DEFINITIONS: tuple[tuple[str, str, str, bool], ...] = (
    ("net_sales", "Net sales", "GBP", True),
    ("gross_sales", "Gross sales", "GBP", True),
    ("cancelled_value", "Cancellations", "GBP", False),
    ("placed_orders", "Orders", "count", True),
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
        "cancelled_value": totals.cancelled_value,
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


def returning_count(frame: pd.DataFrame) -> int:
    return int(frame.at[0, "customers"])


def headline_kpis(
    totals: Mapping[str, Totals],
    comparisons_: Mapping[str, PeriodComparison],
    lookbacks: Mapping[str, Lookback],
    current_span: Span,
) -> tuple[Kpi, ...]:
    """The KPIs of ``totals['current']`` (the period's ``current_span``) against each
    comparison; ``totals`` also holds each comparison's side (``Dataset.side``) and
    ``lookbacks`` the new-customer counts on equal look-back."""
    current = totals["current"]
    result = []
    for key, label, unit, better in KPI_DEFINITIONS:
        value = kpi_value(current, key)
        comparisons = []
        for c in comparisons_.values():
            if not c.available:
                comparisons.append(
                    Comparison(c.key, c.period.title, False, None, None, note=_no(c.reason))
                )
                continue
            assert c.other is not None
            title = c.other.title
            if key == "new_customers":
                comparisons.append(_new_customers(c.key, title, lookbacks.get(c.key)))
                continue
            side = totals[side_key(c, current_span)]
            now = kpi_value(side, key)
            other = totals[c.key]
            previous = kpi_value(other, key) if other.has_data else None
            comparisons.append(
                Comparison(
                    c.key,
                    title,
                    True,
                    previous,
                    change(now, previous, unit),
                    current=None if side is current else now,
                )
            )
        result.append(Kpi(key, label, unit, value, better, tuple(comparisons)))
    return tuple(result)


def _no(reason: str | None) -> str:
    return f"no comparison: {reason}" if reason else "no comparison"


def _new_customers(key: str, title: str, lookback: Lookback | None) -> Comparison:
    """New customers compared on equal look-back, or not at all."""
    if lookback is None:
        return Comparison(
            key,
            title,
            False,
            None,
            None,
            note="no comparison: no earlier data tells new customers from returning ones",
        )
    now, then = returning_count(lookback.current), returning_count(lookback.other)
    return Comparison(
        key,
        title,
        True,
        float(then),
        change(float(now), float(then), "count"),
        current=float(now),
        lookback_months=lookback.months,
    )
