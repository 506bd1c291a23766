"""Invoice amounts: statistics and the distribution up to the 85th percentile."""

from __future__ import annotations

import dataclasses

import pandas as pd


@dataclasses.dataclass(frozen=True)
class Bin:
    lower: float
    upper: float
    invoices: int


@dataclasses.dataclass(frozen=True)
class InvoiceAmounts:
    invoices: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    median: float | None
    mode: float | None
    p85: float | None
    bin_width: float
    bins: tuple[Bin, ...]  # every bin from 0 to the 85th percentile, empty ones included


def _value(row: pd.Series, name: str) -> float | None:
    value = row[name]
    return None if pd.isna(value) else float(value)


def invoice_amounts(stats: pd.DataFrame, histogram: pd.DataFrame, width: float) -> InvoiceAmounts:
    row = stats.iloc[0]
    counts = dict(zip(histogram["bin"].astype(int), histogram["invoices"].astype(int), strict=True))
    last = max(counts, default=-1)
    bins = tuple(
        Bin(lower=round(b * width, 2), upper=round((b + 1) * width, 2), invoices=counts.get(b, 0))
        for b in range(last + 1)
    )
    return InvoiceAmounts(
        invoices=int(row["invoices"]),
        minimum=_value(row, "minimum"),
        maximum=_value(row, "maximum"),
        mean=_value(row, "mean"),
        median=_value(row, "median"),
        mode=_value(row, "mode"),
        p85=_value(row, "p85"),
        bin_width=width,
        bins=bins,
    )
