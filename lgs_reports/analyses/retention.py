"""Retention: acquisition cohorts and how many of the comparison's customers came back
(BRIEF_SPEC, "Accounts, growth and products")."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from lgs_reports.periods import add_months

MIN_COHORTS = 3  # fewer cohorts make no heatmap worth reading


@dataclasses.dataclass(frozen=True)
class Cohort:
    month: dt.date  # the month of its customers' first order
    customers: int
    active: tuple[int, ...]  # customers ordering in each month since (0: the cohort's own)

    @property
    def shares(self) -> tuple[float, ...]:
        return tuple(n / self.customers for n in self.active) if self.customers else ()


@dataclasses.dataclass(frozen=True)
class BoughtAgain:
    """Of the comparison period's customers, how many bought again and what they spent."""

    customers: int  # customers with an order in the comparison period
    again: int  # of them, with an order in this period
    previous_net: float  # what they all spent then
    net: float  # what they spend now

    @property
    def share(self) -> float | None:
        return self.again / self.customers if self.customers else None

    @property
    def spend_ratio(self) -> float | None:
        return self.net / self.previous_net if self.previous_net > 0 else None


@dataclasses.dataclass(frozen=True)
class Retention:
    cohorts_from: dt.date  # the first month with 12 months of look-back
    cohorts: tuple[Cohort, ...]  # oldest first; empty when fewer than MIN_COHORTS
    bought_again: BoughtAgain | None  # None without a comparison


def retention(
    cohorts: pd.DataFrame, customers: pd.DataFrame | None, *, cohorts_from: dt.date
) -> Retention:
    """From customer_cohorts rows and `accounts.per_customer` of the period against its
    comparison (None without one)."""
    by_cohort: dict[dt.date, dict[dt.date, int]] = {}
    for cohort, month, n in zip(
        cohorts["cohort"].tolist(),
        cohorts["month"].tolist(),
        cohorts["customers"].tolist(),
        strict=True,
    ):
        by_cohort.setdefault(pd.Timestamp(cohort).date(), {})[pd.Timestamp(month).date()] = int(n)
    rows = []
    for cohort in sorted(by_cohort):
        months = by_cohort[cohort]
        last = max(months)
        span = (last.year - cohort.year) * 12 + last.month - cohort.month
        active = tuple(months.get(add_months(cohort, k), 0) for k in range(span + 1))
        rows.append(Cohort(cohort, active[0], active))
    again = None
    if customers is not None:
        before = customers[customers["previous_orders"] > 0]
        back = before[before["orders"] > 0]
        again = BoughtAgain(
            customers=len(before),
            again=len(back),
            previous_net=float(before["previous_net"].sum()),
            net=float(back["net"].sum()),
        )
    return Retention(
        cohorts_from=cohorts_from,
        cohorts=tuple(rows) if len(rows) >= MIN_COHORTS else (),
        bought_again=again,
    )
