"""Products (product codes only): the best sellers, what rose and fell, what is new, and
whether the change of the range sold in both periods came from price, volume or mix
(BRIEF_SPEC, "Accounts, growth and products").

Price, volume and mix, for the products sold in both periods (units and value of placed
lines with a price that no correction reversed, so that a keying error of 80,995 units or
a stock entry at price 0 counts as nothing): with R = value, Q = units, p = R / Q of each
product and s = its share of the units,

- volume = (Q1 - Q0) x R0 / Q0: all units at last period's average price;
- mix = Q1 x sum((s1 - s0) x p0): units moving between cheaper and dearer products;
- price = sum(q1 x (p1 - p0)): each product's own price change;

which add up to R1 - R0 exactly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd

LISTED = 10  # rows of the best sellers
MOVERS = 5  # rows of the risers and the fallers


@dataclasses.dataclass(frozen=True)
class Product:
    stock_code: str
    description: str | None
    net: float
    previous_net: float | None  # None without a comparison
    first_sold: dt.datetime | None
    product_cancelled: float = 0.0
    product_lines: int = 0

    @property
    def change(self) -> float | None:
        return None if self.previous_net is None else self.net - self.previous_net


@dataclasses.dataclass(frozen=True)
class PriceVolumeMix:
    products: int  # sold in both periods
    value: float  # their value now
    previous_value: float
    units: int
    previous_units: int
    price: float  # the three effects, adding up to value - previous_value
    volume: float
    mix: float

    @property
    def average_price(self) -> float | None:
        return self.value / self.units if self.units else None

    @property
    def previous_average_price(self) -> float | None:
        return self.previous_value / self.previous_units if self.previous_units else None


@dataclasses.dataclass(frozen=True)
class Products:
    codes: int  # product codes sold in the period
    net: float  # their net sales
    top: tuple[Product, ...]
    risers: tuple[Product, ...]  # largest rises in GBP; empty without a comparison
    fallers: tuple[Product, ...]
    new_codes: int  # codes first sold in the period
    new_net: float
    new_top: tuple[Product, ...]
    new_lookback_short: bool  # under 12 months of earlier data: "new" may be older
    pvm: PriceVolumeMix | None  # None without a comparison
    cancelled: tuple[Product, ...]  # the largest product cancellations


def _product(row: Any, compared: bool) -> Product:
    first = row.first_sold
    return Product(
        stock_code=str(row.stock_code),
        description=None if pd.isna(row.description) else str(row.description),
        net=float(row.net),
        previous_net=float(row.previous_net) if compared else None,
        first_sold=None if pd.isna(first) else pd.Timestamp(first).to_pydatetime(),
        product_cancelled=float(row.product_cancelled),
        product_lines=int(row.product_lines),
    )


def _rows(frame: pd.DataFrame, compared: bool) -> tuple[Product, ...]:
    return tuple(_product(r, compared) for r in frame.itertuples(index=False))


def products(
    sales: pd.DataFrame,
    *,
    start: dt.datetime,
    end: dt.datetime,
    compared: bool,
    lookback_months: int,
    own: pd.DataFrame | None = None,
) -> Products:
    """From product_sales rows of the span [start, end) against its comparison. ``own``:
    the whole period's rows when the comparison cut its side short (best sellers, new and
    cancelled products are the whole period's; changes compare the same days)."""
    # in code order once: nlargest keeps the first of equal values, so ties go by code
    frame = sales.sort_values("stock_code", kind="stable", ignore_index=True)
    frame["change"] = frame["net"] - frame["previous_net"]
    whole = frame
    if own is not None:
        whole = own.sort_values("stock_code", kind="stable", ignore_index=True)
        whole["change"] = whole["net"] - whole["previous_net"]
    sold = whole[(whole["net"] != 0) | (whole["sold_units"] != 0)]
    first = sold["first_sold"]
    new = sold[(first >= start) & (first < end)]
    risers: tuple[Product, ...] = ()
    fallers: tuple[Product, ...] = ()
    pvm = None
    if compared:
        up, down = frame[frame["change"] > 0], frame[frame["change"] < 0]
        risers = _rows(up.nlargest(MOVERS, "change", keep="first"), True)
        fallers = _rows(down.nsmallest(MOVERS, "change", keep="first"), True)
        pvm = price_volume_mix(frame)
    cancelled = sold[sold["product_cancelled"] < 0]
    return Products(
        codes=len(sold),
        net=float(sold["net"].sum()),
        top=_rows(sold.nlargest(LISTED, "net", keep="first"), compared),
        risers=risers,
        fallers=fallers,
        new_codes=len(new),
        new_net=float(new["net"].sum()),
        new_top=_rows(new.nlargest(MOVERS, "net", keep="first"), compared),
        new_lookback_short=lookback_months < 12,
        pvm=pvm,
        cancelled=_rows(cancelled.nsmallest(MOVERS, "product_cancelled", keep="first"), compared),
    )


def price_volume_mix(frame: pd.DataFrame) -> PriceVolumeMix | None:
    """The decomposition of the module docstring, on the products sold in both periods."""
    both = frame[
        (frame["sold_units"] > 0)
        & (frame["previous_sold_units"] > 0)
        & (frame["sold_value"] > 0)
        & (frame["previous_sold_value"] > 0)
    ]
    if both.empty:
        return None
    q1 = both["sold_units"].astype("float64")
    q0 = both["previous_sold_units"].astype("float64")
    r1 = both["sold_value"].astype("float64")
    r0 = both["previous_sold_value"].astype("float64")
    p1, p0 = r1 / q1, r0 / q0
    total_q1, total_q0, total_r0 = q1.sum(), q0.sum(), r0.sum()
    volume = (total_q1 - total_q0) * total_r0 / total_q0
    mix = total_q1 * ((q1 / total_q1 - q0 / total_q0) * p0).sum()
    price = (q1 * (p1 - p0)).sum()
    return PriceVolumeMix(
        products=len(both),
        value=float(r1.sum()),
        previous_value=float(total_r0),
        units=int(total_q1),
        previous_units=int(total_q0),
        price=float(price),
        volume=float(volume),
        mix=float(mix),
    )
