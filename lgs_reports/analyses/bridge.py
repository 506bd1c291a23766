"""The growth bridge: the change in net sales against the comparison, split three ways.

BRIEF_SPEC ("Accounts, growth and products"): by market (the United Kingdom and the
rest), by customer (retained, new or returning, lost, other customer lines, guests)
and by orders x average order value (the midpoint method, plus the net sales outside
orders). Each split adds up to the total change to the penny: the parts are summed in
exact tenths of a penny (the warehouse's precision) and, where the midpoint method
divides, the value effect takes what the rounded orders effect leaves.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from lgs_reports.analyses.kpis import Totals
from lgs_reports.formatting import money_change, money_short

HOME = "United Kingdom"
MOVERS = 5  # customers kept as the largest single changes


@dataclasses.dataclass(frozen=True)
class BridgePart:
    key: str
    label: str
    change: float  # GBP, to the penny
    previous: float | None = None  # the part's net sales then (None for an effect)
    current: float | None = None  # and now


@dataclasses.dataclass(frozen=True)
class BridgeSplit:
    key: str  # market, customer or orders
    title: str
    parts: tuple[BridgePart, ...]

    @property
    def total(self) -> float:
        return round(sum(p.change for p in self.parts), 2)


@dataclasses.dataclass(frozen=True)
class GrowthBridge:
    comparison: str  # the span compared with
    previous_net: float
    current_net: float
    change: float  # current - previous, to the penny; every split adds up to it
    splits: tuple[BridgeSplit, ...]
    movers: tuple[tuple[int, float], ...] = ()  # the customers that moved most with the total

    def split(self, key: str) -> BridgeSplit:
        return next(s for s in self.splits if s.key == key)

    @property
    def driver(self) -> BridgePart:
        """The market that moved most in the direction of the total change."""
        sign = 1 if self.change >= 0 else -1
        return max(self.split("market").parts, key=lambda p: sign * p.change)

    @property
    def sentence(self) -> str:
        """Why net sales moved, in one sentence: the markets, then the customers."""
        home, abroad = self.split("market").parts
        markets = sorted((home, abroad), key=lambda p: -abs(p.change))
        where = " and ".join(
            f"{'the United Kingdom' if p.key == 'home' else 'outside it'} {money_change(p.change)}"
            for p in markets
        ).replace("outside it", "outside the United Kingdom", 1)
        c = {p.key: p for p in self.split("customer").parts}
        retained = c["retained"].change
        text = (
            f"Net sales {'rose' if self.change >= 0 else 'fell'} {money_short(abs(self.change))} "
            f"against {self.comparison}: {where}. New or returning customers brought "
            f"{money_short(c['new'].change)} and lost customers took "
            f"{money_short(abs(c['lost'].change))}, while retained customers spent "
            f"{money_short(abs(retained))} {'more' if retained >= 0 else 'less'}"
        )
        # the customer parts add up to the change: the two small ones are named too
        rest = [
            f"{label} {money_change(c[key].change)}"
            for key, label in (
                ("guests", "guest orders (no customer account)"),
                ("other", "other customer lines (cancellations, corrections)"),
            )
            if abs(c[key].change) >= 0.5
        ]
        text += f"; {' and '.join(rest)}." if rest else "."
        if self.few_accounts:
            names = " and ".join(f"{c} ({money_change(v)})" for c, v in self.few_accounts)
            count = "One account" if len(self.few_accounts) == 1 else "Two accounts"
            text += f" {count} made more than the whole change: {names}."
        return text

    @property
    def few_accounts(self) -> tuple[tuple[int, float], ...]:
        """One or two customers whose change, in the direction of the total, exceeds it."""
        for n in (1, 2):
            top = self.movers[:n]
            if len(top) == n and abs(sum(v for _, v in top)) > abs(self.change) > 0:
                return top
        return ()


def _mils(value: float) -> int:
    """Money in tenths of a penny, the warehouse's precision: sums of these are exact."""
    return round(value * 1000)


def _money(mils: int) -> float:
    return round(mils / 1000, 2)


def _pennies(changes: list[int], total: int) -> list[float]:
    """Parts (in mils) rounded to the penny so that they add up to the rounded total: the
    penny that rounding each part on its own may lose goes to the largest part."""
    rounded = [round(c / 10) for c in changes]
    rounded[max(range(len(changes)), key=lambda i: abs(changes[i]))] += round(total / 10) - sum(
        rounded
    )
    return [r / 100 for r in rounded]


def growth_bridge(
    sales: pd.DataFrame, now: Totals, then: Totals, *, comparison: str
) -> GrowthBridge:
    """The bridge from customer_country_sales rows of the period against its comparison
    (one per country and customer, guests as a row without one) and the two spans' totals."""
    rows = list(
        zip(
            *(
                sales[c].tolist()
                for c in (
                    "country",
                    "customer_id",
                    "net",
                    "orders",
                    "previous_net",
                    "previous_orders",
                )
            ),
            strict=True,
        )
    )
    market = {"home": [0, 0], "abroad": [0, 0]}  # [now, then] in mils
    customers: dict[int, list[int]] = {}  # id -> [now, then, orders, previous orders]
    guests = [0, 0]
    for country, customer, net, orders, previous, previous_orders in rows:
        cells = market["home" if country == HOME else "abroad"]
        cells[0] += _mils(net)
        cells[1] += _mils(previous)
        if customer is None or customer is pd.NA:
            guests[0] += _mils(net)
            guests[1] += _mils(previous)
            continue
        c = customers.setdefault(int(customer), [0, 0, 0, 0])
        c[0] += _mils(net)
        c[1] += _mils(previous)
        c[2] += orders
        c[3] += previous_orders
    groups = {key: [0, 0] for key in ("retained", "new", "lost", "other")}
    for now_net, then_net, orders, previous_orders in customers.values():
        key = (
            "retained"
            if orders and previous_orders
            else "new"
            if orders
            else "lost"
            if previous_orders
            else "other"
        )
        groups[key][0] += now_net
        groups[key][1] += then_net
    current = sum(v[0] for v in market.values())
    previous = sum(v[1] for v in market.values())

    change = current - previous

    def split(key: str, title: str, parts: list[tuple[str, str, list[int]]]) -> BridgeSplit:
        pennies = _pennies([now - then for _, _, (now, then) in parts], change)
        return BridgeSplit(
            key,
            title,
            tuple(
                BridgePart(k, label, p, _money(then), _money(now))
                for (k, label, (now, then)), p in zip(parts, pennies, strict=True)
            ),
        )

    by_market = split(
        "market",
        "By market",
        [
            ("home", HOME, market["home"]),
            ("abroad", "Outside the United Kingdom", market["abroad"]),
        ],
    )
    by_customer = split(
        "customer",
        "By customer",
        [
            ("retained", "Retained customers (ordered in both)", groups["retained"]),
            ("new", "New or returning customers", groups["new"]),
            ("lost", "Lost customers (ordered then, not now)", groups["lost"]),
            ("other", "Other customer lines (no order in either)", groups["other"]),
            ("guests", "Guests (no customer account)", guests),
        ],
    )
    sign = 1 if change >= 0 else -1
    moved = sorted(
        ((sign * (v[0] - v[1]), -customer) for customer, v in customers.items()), reverse=True
    )
    return GrowthBridge(
        comparison=comparison,
        previous_net=_money(previous),
        current_net=_money(current),
        change=round(change / 10) / 100,
        splits=(by_market, by_customer, _orders_split(now, then, change)),
        movers=tuple((-c, _money(sign * m)) for m, c in moved[:MOVERS] if m > 0),
    )


def _orders_split(now: Totals, then: Totals, change: int) -> BridgeSplit:
    """Orders x average order value by the midpoint method, plus the rest of net sales."""
    o1, o0 = now.placed_orders, then.placed_orders
    g1, g0 = _mils(now.order_gross), _mils(then.order_gross)
    a1 = g1 / o1 if o1 else None
    a0 = g0 / o0 if o0 else None
    if a1 is None and a0 is None:
        orders_effect = 0
    else:  # an average that does not exist is taken equal to the other one
        a1, a0 = (a1 if a1 is not None else a0), (a0 if a0 is not None else a1)
        orders_effect = round((o1 - o0) * (a1 + a0) / 2)
    value_effect = (g1 - g0) - orders_effect
    rest = change - (g1 - g0)
    orders_pennies, value_pennies, rest_pennies = _pennies(
        [orders_effect, value_effect, rest], change
    )
    return BridgeSplit(
        "orders",
        "By orders and order value",
        (
            BridgePart("orders", f"Orders ({o0:,} to {o1:,})", orders_pennies),
            BridgePart("value", "Average order value", value_pennies),
            BridgePart(
                "rest",
                "Outside orders (cancellations, zero-amount and corrected invoices)",
                rest_pennies,
            ),
        ),
    )
