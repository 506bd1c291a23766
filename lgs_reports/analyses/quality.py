"""Data quality: what the raw lines hold besides clean sales, and where duplicates cluster."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

CLUSTER_GAP_DAYS = 3  # a weekend between two days of one double export keeps them together
CLUSTER_SHARE = 0.2  # a day whose lines are at least 20% extra copies was exported twice


@dataclasses.dataclass(frozen=True)
class QualityCounts:
    raw_lines: int
    distinct_lines: int
    duplicate_copies: int
    duplicate_value: float
    guest_lines: int
    placed_lines: int
    cancelled_lines: int
    adjustment_lines: int
    adjustment_value: float
    zero_price_lines: int
    non_product_lines: int
    non_product_value: float
    negative_placed_lines: int
    reversed_lines: int


@dataclasses.dataclass(frozen=True)
class DuplicateCluster:
    start: dt.date
    end: dt.date
    days: int  # days with duplicates in the cluster
    copies: int
    value: float


@dataclasses.dataclass(frozen=True)
class Load:
    load_id: int
    file_name: str
    file_format: str
    sha256: str
    loaded_at: dt.datetime
    rows_loaded: int
    rows_rejected: int
    rows_overlap: int


@dataclasses.dataclass(frozen=True)
class DataQuality:
    period: QualityCounts
    warehouse: QualityCounts
    clusters: tuple[DuplicateCluster, ...]  # largest first
    scattered_copies: int  # duplicate copies outside the clusters
    non_product_codes: tuple[tuple[str, int, float], ...]  # code, lines, value
    loads: tuple[Load, ...]
    cancellations: CancellationKinds  # the period's
    cancellations_all: CancellationKinds  # the whole warehouse's
    largest_corrections: tuple[Correction, ...]  # the period's, largest first
    lookback_months: int  # months of data before the period's first month


def counts(frame: pd.DataFrame) -> QualityCounts:
    row = frame.iloc[0]
    values = {}
    for f in dataclasses.fields(QualityCounts):
        value = row[f.name]
        values[f.name] = float(value) if f.type == "float" else int(value)
    return QualityCounts(**values)


def duplicate_clusters(days: pd.DataFrame) -> tuple[tuple[DuplicateCluster, ...], int]:
    """Runs of days exported twice, and the duplicate copies scattered elsewhere.

    On an ordinary day one or two lines in a hundred are exact copies; on a day
    exported twice, about half are. A day whose extra copies are at least
    ``CLUSTER_SHARE`` of its raw lines belongs to a cluster; such days at most
    ``CLUSTER_GAP_DAYS`` apart (a weekend) form one cluster.
    """
    if days.empty:
        return (), 0
    clusters: list[DuplicateCluster] = []
    run: list[tuple[dt.date, int, float]] = []

    def close() -> None:
        if run:
            clusters.append(
                DuplicateCluster(
                    start=run[0][0],
                    end=run[-1][0],
                    days=len(run),
                    copies=sum(r[1] for r in run),
                    value=sum(r[2] for r in run),
                )
            )
            run.clear()

    for row in days.itertuples(index=False):
        day = row.day.date()
        copies, raw = int(row.duplicate_copies), int(row.raw_lines)
        if raw == 0 or copies / raw < CLUSTER_SHARE:
            continue
        if run and (day - run[-1][0]).days > CLUSTER_GAP_DAYS:
            close()
        run.append((day, copies, float(row.duplicate_value)))
    close()
    clusters.sort(key=lambda c: (-c.copies, c.start))
    total = int(days["duplicate_copies"].sum())
    return tuple(clusters), total - sum(c.copies for c in clusters)


def data_quality(
    period: pd.DataFrame,
    warehouse: pd.DataFrame,
    duplicate_days: pd.DataFrame,
    non_product_codes: pd.DataFrame,
    loads: pd.DataFrame,
    *,
    totals: pd.DataFrame,
    largest_corrections: pd.DataFrame,
    lookback_months: int,
) -> DataQuality:
    """``totals``: the period's period_totals (cut to the minute, as every total of it);
    the whole warehouse's kinds of cancellation come from ``warehouse`` (data_quality)."""
    clusters, scattered = duplicate_clusters(duplicate_days)
    return DataQuality(
        period=counts(period),
        warehouse=counts(warehouse),
        clusters=clusters,
        scattered_copies=scattered,
        non_product_codes=tuple(
            (str(r.stock_code), int(r.lines), float(r.value))
            for r in non_product_codes.itertuples(index=False)
        ),
        loads=tuple(
            Load(
                load_id=int(r.load_id),
                file_name=str(r.file_name),
                file_format=str(r.file_format),
                sha256=str(r.sha256),
                loaded_at=r.loaded_at.to_pydatetime(),
                rows_loaded=int(r.rows_loaded),
                rows_rejected=int(r.rows_rejected),
                rows_overlap=int(r.rows_overlap),
            )
            for r in loads.itertuples(index=False)
        ),
        cancellations=cancellation_kinds(totals),
        cancellations_all=cancellation_kinds(warehouse),
        largest_corrections=corrections(largest_corrections),
        lookback_months=lookback_months,
    )


@dataclasses.dataclass(frozen=True)
class CancellationKinds:
    """The three kinds of cancelled line of a span (BRIEF_SPEC, "What a cancellation is"),
    and the placed invoices that are not orders."""

    product_value: float  # negative, as in net sales
    product_lines: int
    cancelled_orders: int  # invoices with a product-cancellation line
    fee_value: float
    fee_lines: int
    correction_value: float
    correction_lines: int
    zero_invoices: int  # placed invoices with a zero amount
    corrected_invoices: int  # positive placed invoices wholly reversed by corrections


@dataclasses.dataclass(frozen=True)
class Correction:
    """One correction: a cancelled product line and the placed line it reversed."""

    invoice_no: str
    invoice_date: dt.datetime
    stock_code: str
    description: str | None
    quantity: int
    amount: float  # negative
    customer_id: int | None
    placed_invoice: str
    placed_date: dt.datetime

    @property
    def minutes_after(self) -> int:
        """Minutes between the placed invoice and its correction."""
        return int((self.invoice_date - self.placed_date).total_seconds() // 60)


def cancellation_kinds(totals: pd.DataFrame) -> CancellationKinds:
    """From a period_totals or data_quality row (both name the columns alike)."""
    row = totals.iloc[0]
    return CancellationKinds(
        **{
            f.name: float(row[_TOTALS_COLUMN.get(f.name, f.name)])
            if f.type == "float"
            else int(row[_TOTALS_COLUMN.get(f.name, f.name)])
            for f in dataclasses.fields(CancellationKinds)
        }
    )


_TOTALS_COLUMN = {"product_value": "product_cancelled"}


def corrections(frame: pd.DataFrame) -> tuple[Correction, ...]:
    """From largest_corrections rows."""
    return tuple(
        Correction(
            invoice_no=str(r.invoice_no),
            invoice_date=r.invoice_date.to_pydatetime(),
            stock_code=str(r.stock_code),
            description=None if pd.isna(r.description) else str(r.description),
            quantity=int(r.quantity),
            amount=float(r.amount),
            customer_id=None if pd.isna(r.customer_id) else int(r.customer_id),
            placed_invoice=str(r.placed_invoice),
            placed_date=r.placed_date.to_pydatetime(),
        )
        for r in frame.itertuples(index=False)
    )
