"""Accounts: the biggest customers, how concentrated sales are, the big accounts that are
slipping, and the large guest orders that have no account attached (BRIEF_SPEC,
"Accounts, growth and products")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import pandas as pd

TOP_ACCOUNTS = 10
TOP_SHARE = 0.10  # the top 10% of customers, rounded up
WATCH_ROWS = 10


@dataclasses.dataclass(frozen=True)
class Account:
    customer_id: int
    country: str  # where most of its net sales were
    net: float
    previous_net: float | None  # None without a comparison
    orders: int
    last_order: dt.datetime | None

    @property
    def change(self) -> float | None:
        return None if self.previous_net is None else self.net - self.previous_net

    @property
    def relative_change(self) -> float | None:
        if self.previous_net is None or self.previous_net <= 0:
            return None
        return self.net / self.previous_net - 1


@dataclasses.dataclass(frozen=True)
class GuestOrder:
    invoice_no: str
    invoice_date: dt.datetime
    country: str
    amount: float
    lines: int


@dataclasses.dataclass(frozen=True)
class Accounts:
    total_net: float  # the period's net sales, guests included
    customers: int  # customers with an order in the period
    top: tuple[Account, ...]  # the biggest by net sales
    top_share: float | None  # of total_net
    decile: int  # how many make the top 10% (rounded up)
    decile_share: float | None
    watch: tuple[Account, ...]  # big accounts then whose net sales fell most; empty without one
    watch_pool: int  # how many big accounts of the comparison were looked at
    guest_orders: tuple[GuestOrder, ...]  # the largest guest orders above the 99th percentile
    guest_orders_count: int
    guest_orders_total: float
    p99: float | None  # the 99th percentile of order amounts (None: no guest order above it)


def per_customer(sales: pd.DataFrame) -> pd.DataFrame:
    """customer_country_sales summed per customer (guests left out); ``country`` is the one
    with most of the customer's net sales (ties: the first in order)."""
    customers = sales[sales["customer_id"].notna()]
    if customers.empty:
        return pd.DataFrame(
            columns=[
                "customer_id",
                "country",
                "net",
                "orders",
                "previous_net",
                "previous_orders",
                "last_order",
            ]
        )
    main = (
        customers.sort_values(["customer_id", "net", "country"], ascending=[True, False, True])
        .drop_duplicates("customer_id")
        .set_index("customer_id")["country"]
    )
    sums = customers.groupby("customer_id").agg(
        net=("net", "sum"),
        orders=("orders", "sum"),
        previous_net=("previous_net", "sum"),
        previous_orders=("previous_orders", "sum"),
        last_order=("last_order", "max"),
    )
    sums["country"] = main
    return sums.reset_index()


def accounts(
    table: pd.DataFrame,
    guest_orders: pd.DataFrame,
    *,
    total_net: float,
    compared: bool,
    own: pd.DataFrame | None = None,
) -> Accounts:
    """From `per_customer` of the period against its comparison, and large_guest_orders.
    ``own``: `per_customer` of the whole period when the comparison cut its side short
    (the biggest accounts and their shares are the whole period's)."""
    whole = table if own is None else own
    active = whole[whole["orders"] > 0].sort_values(["net", "customer_id"], ascending=[False, True])
    decile = math.ceil(TOP_SHARE * len(active))
    top_net = float(active["net"].head(TOP_ACCOUNTS).sum())
    decile_net = float(active["net"].head(decile).sum())
    watch: list[Account] = []
    pool = 0
    if compared:
        before = table[table["previous_orders"] > 0].sort_values(
            ["previous_net", "customer_id"], ascending=[False, True]
        )
        pool = math.ceil(TOP_SHARE * len(before))
        big = before.head(pool)
        falls = big[big["net"] < big["previous_net"]].assign(
            fall=lambda f: f["previous_net"] - f["net"]
        )
        falls = falls.sort_values(["fall", "customer_id"], ascending=[False, True])
        watch = [_account(r, compared) for r in falls.head(WATCH_ROWS).itertuples(index=False)]
    guests = tuple(
        GuestOrder(
            invoice_no=str(r.invoice_no),
            invoice_date=r.invoice_date.to_pydatetime(),
            country=str(r.country),
            amount=float(r.amount),
            lines=int(r.line_count),
        )
        for r in guest_orders.itertuples(index=False)
    )
    first = guest_orders.iloc[0] if len(guest_orders) else None
    return Accounts(
        total_net=total_net,
        customers=len(active),
        top=tuple(_account(r, compared) for r in active.head(TOP_ACCOUNTS).itertuples(index=False)),
        top_share=top_net / total_net if total_net > 0 else None,
        decile=decile,
        decile_share=decile_net / total_net if total_net > 0 else None,
        watch=tuple(watch),
        watch_pool=pool,
        guest_orders=guests,
        guest_orders_count=int(first["orders"]) if first is not None else 0,
        guest_orders_total=float(first["total"]) if first is not None else 0.0,
        p99=float(first["p99"]) if first is not None else None,
    )


def _account(row: Any, compared: bool) -> Account:
    last = row.last_order
    return Account(
        customer_id=int(row.customer_id),
        country=str(row.country),
        net=float(row.net),
        previous_net=float(row.previous_net) if compared else None,
        orders=int(row.orders),
        last_order=None if pd.isna(last) else pd.Timestamp(last).to_pydatetime(),
    )
