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
MATERIAL_CHANGE = 0.20  # a country's change of 20% or more is worth asking who made it


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
        """One customer makes more than half of the net sales, or of a material change (20%
        or more: half of a small change is no reason to call a market an account)."""
        top, mover = self.top_customer_share, self.mover_share
        if top is not None and top > ACCOUNT_SHARE:
            return True
        material = self.change is not None and abs(self.change) >= MATERIAL_CHANGE
        return material and mover is not None and mover > ACCOUNT_SHARE


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
    compared = comparison is not None
    per_country = _per_country(sales)
    current: list[CountryRow] = []
    gone = 0.0  # net sales then of countries that did not sell in the period
    for country in sorted(per_country):
        c = per_country[country]
        previous = c.previous if compared else None
        if c.net == 0 and c.orders == 0:
            gone += previous or 0.0
            continue
        mover = c.mover if compared else None
        current.append(
            CountryRow(
                country=country,
                net=c.net,
                share=None,
                previous_net=previous,
                change=_change(c.net, previous),
                placed_orders=c.orders,
                active_customers=c.active,
                top_customer=c.top[1] if c.top else None,
                top_customer_net=c.top[0] if c.top else 0.0,
                mover=mover[2] if mover else None,
                mover_change=mover[1] if mover else 0.0,
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


@dataclasses.dataclass
class _Country:
    """One country's sums while the rows are read."""

    net: float = 0.0
    orders: int = 0
    previous: float = 0.0
    active: int = 0
    top: tuple[float, int] | None = None  # (net, customer) of the biggest customer
    mover: tuple[float, float, int] | None = None  # (size, change, customer) of the largest change


def _per_country(sales: pd.DataFrame) -> dict[str, _Country]:
    """Sum the rows per country, keeping its biggest customer and its largest change (ties to
    the lower customer id; guests are not a customer). One pass over plain Python values: a
    few thousand rows, faster than any per-group pandas work."""
    countries: dict[str, _Country] = {}
    columns = (
        sales[c].tolist() for c in ("country", "customer_id", "net", "orders", "previous_net")
    )
    for country, customer, net, orders, previous in zip(*columns, strict=True):
        c = countries.setdefault(str(country), _Country())
        c.net += net
        c.orders += orders
        c.previous += previous
        if customer is None or customer is pd.NA:
            continue
        customer = int(customer)
        c.active += orders > 0
        if net > 0 and (c.top is None or (net, -customer) > (c.top[0], -c.top[1])):
            c.top = (net, customer)
        size = abs(net - previous)
        if size > 0 and (c.mover is None or (size, -customer) > (c.mover[0], -c.mover[2])):
            c.mover = (size, net - previous, customer)
    return countries
