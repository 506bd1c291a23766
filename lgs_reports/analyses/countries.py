"""Sales by country: share of the total, change against the comparison, and how much of
each country is one account.

A country where one customer makes more than half of the net sales, or of the
change, is an account, not a market (BRIEF_SPEC, "Sales by country"): the brief
names the account instead of proposing a country strategy.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

ACCOUNT_SHARE = 0.5  # one customer above half of a country's sales or change: an account


@dataclasses.dataclass(frozen=True)
class CountryRow:
    country: str
    net: float
    share: float | None  # of total net sales
    previous_net: float | None  # in the comparison span; None without a comparison
    change: float | None  # relative change; None without a positive base
    placed_orders: int
    active_customers: int
    countries: int = 1  # more than one for the "Other" row
    top_customer: int | None = None  # the customer with the most net sales in the country
    top_customer_net: float = 0.0
    mover: int | None = None  # the customer whose net sales changed most (guests are not one)
    mover_change: float = 0.0  # that customer's change in net sales

    @property
    def change_amount(self) -> float | None:
        return None if self.previous_net is None else self.net - self.previous_net

    @property
    def top_customer_share(self) -> float | None:
        """The biggest customer's share of the country's net sales."""
        return self.top_customer_net / self.net if self.net > 0 and self.top_customer else None

    @property
    def mover_share(self) -> float | None:
        """The largest single change's share of the country's change (same sign only)."""
        total = self.change_amount
        if not total or self.mover is None or self.mover_change * total <= 0:
            return None
        return self.mover_change / total

    @property
    def is_account(self) -> bool:
        """One customer makes more than half of the net sales or of the change."""
        return any(
            share is not None and share > ACCOUNT_SHARE
            for share in (self.top_customer_share, self.mover_share)
        )


@dataclasses.dataclass(frozen=True)
class CountrySales:
    rows: tuple[CountryRow, ...]  # the top countries by net sales, then "Other"
    all_rows: tuple[CountryRow, ...]  # every country, for rules and figures.json
    total_net: float
    previous_total_net: float | None  # None without a comparison
    countries: int
    comparison: str | None  # title of the comparison span; None without one

    @property
    def total_change(self) -> float | None:
        """Relative change of all countries' net sales; None without a positive base."""
        return _change(self.total_net, self.previous_total_net)

    def row(self, country: str) -> CountryRow | None:
        return next((r for r in self.all_rows if r.country == country), None)


def _change(now: float, before: float | None) -> float | None:
    if before is None or before <= 0:
        return None
    return now / before - 1


def country_sales(sales: pd.DataFrame, *, top: int, comparison: str | None) -> CountrySales:
    """Countries from customer_country_sales rows (one per country and customer, guests as
    a row without a customer); without a ``comparison`` the previous columns are ignored.

    The table shows the countries that sold in the period, largest first, the rest as
    "Other", which also carries what countries that sold only in the comparison sold then.
    """
    frame = sales.assign(
        customer=sales["customer_id"].astype("Float64"),
        delta=sales["net"] - sales["previous_net"],
    )
    compared = comparison is not None
    current: list[CountryRow] = []
    gone = 0.0  # net sales then of countries that did not sell in the period
    for country, group in frame.groupby("country", sort=True):
        net, orders = float(group["net"].sum()), int(group["orders"].sum())
        previous = float(group["previous_net"].sum()) if compared else None
        if net == 0 and orders == 0:
            gone += previous or 0.0
            continue
        customers = group[group["customer"].notna()]
        top_row = _largest(customers, "net")
        mover = _largest(customers, "delta", absolute=True) if compared else None
        current.append(
            CountryRow(
                country=str(country),
                net=net,
                share=None,
                previous_net=previous,
                change=_change(net, previous),
                placed_orders=orders,
                active_customers=int((customers["orders"] > 0).sum()),
                top_customer=None if top_row is None else _id(top_row["customer"]),
                top_customer_net=0.0 if top_row is None else float(top_row["net"]),
                mover=None if mover is None else _id(mover["customer"]),
                mover_change=0.0 if mover is None else float(mover["delta"]),
            )
        )
    total = sum(r.net for r in current)
    current = sorted(
        (dataclasses.replace(r, share=r.net / total if total else None) for r in current),
        key=lambda r: (-r.net, r.country),
    )
    previous_total = sum(r.previous_net or 0.0 for r in current) + gone if compared else None
    shown, rest = current[:top], current[top:]
    if rest or gone:
        net = sum(r.net for r in rest)
        prev = sum(r.previous_net or 0.0 for r in rest) + gone if compared else None
        shown.append(
            CountryRow(
                country=f"Other ({len(rest)} countries)",
                net=net,
                share=net / total if total else None,
                previous_net=prev,
                change=_change(net, prev),
                placed_orders=sum(r.placed_orders for r in rest),
                active_customers=sum(r.active_customers for r in rest),
                countries=len(rest),
            )
        )
    return CountrySales(
        rows=tuple(shown),
        all_rows=tuple(current),
        total_net=total,
        previous_total_net=previous_total,
        countries=len(current),
        comparison=comparison,
    )


def _largest(frame: pd.DataFrame, column: str, *, absolute: bool = False) -> pd.Series | None:
    """The row with the largest value (by size when ``absolute``); ties by customer id."""
    if frame.empty:
        return None
    key = frame[column].abs() if absolute else frame[column]
    ordered = frame.assign(_key=key).sort_values(
        ["_key", "customer"], ascending=[False, True], na_position="last"
    )
    row = ordered.iloc[0]
    return None if row["_key"] <= 0 else row


def _id(value: object) -> int | None:
    return None if pd.isna(value) else int(value)
