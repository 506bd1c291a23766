"""The query step: every SQL result one brief needs, fetched in one connection.

Nothing here computes: it decides which spans to ask about (the period, its
comparisons cut like-for-like, the trend window, the RFM snapshots) and runs
the files in ``sql/``. Aggregation happens in SQL; the only per-customer
results are the two RFM tables.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pandas as pd
from sqlalchemy.engine import Connection

from lgs_reports.errors import PeriodError
from lgs_reports.formatting import date
from lgs_reports.periods import Coverage, Period
from lgs_reports.queries import run_query


@dataclasses.dataclass(frozen=True)
class Span:
    """A span of days that a total is computed over (a period, or a comparison cut to match)."""

    name: str  # current, yoy or mom
    title: str  # how the brief names it: "2010", "1 Jan - 9 Dec 2010"
    start: dt.date
    end: dt.date  # inclusive

    @property
    def binds(self) -> dict[str, dt.datetime]:
        return {
            "start": dt.datetime.combine(self.start, dt.time()),
            "end": dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time()),
        }


@dataclasses.dataclass(frozen=True)
class Dataset:
    period: Period
    coverage: Coverage
    is_sample: bool
    spans: dict[str, Span]  # current, yoy, (mom)
    monthly: pd.DataFrame  # monthly_sales from the first data month to the period's end
    totals: dict[str, pd.DataFrame]  # period_totals per span
    countries: dict[str, pd.DataFrame]  # country_sales for current and yoy
    amount_stats: pd.DataFrame
    amount_histogram: pd.DataFrame
    histogram_width: float
    rfm: pd.DataFrame  # rfm_scores at the period's snapshot
    rfm_previous: pd.DataFrame  # rfm_scores at the previous period's snapshot
    previous_snapshot: dt.date
    rfm_window_days: int
    quality: pd.DataFrame  # data_quality for the period
    quality_all: pd.DataFrame  # data_quality for the whole warehouse
    duplicate_days: pd.DataFrame  # whole warehouse
    non_product_codes: pd.DataFrame
    load_history: pd.DataFrame
    window: pd.DataFrame


def data_window(conn: Connection) -> pd.DataFrame:
    return run_query(conn, "data_window")


def span_title(start: dt.date, end: dt.date, period: Period) -> str:
    if start == period.start and end == period.end:
        return period.title
    first = f"{start.day} {start:%b}" + ("" if start.year == end.year else f" {start.year}")
    return f"{first} – {end.day} {end:%b %Y}"


def fetch(conn: Connection, period: Period, *, rfm_window_days: int) -> Dataset:
    """Run every query of the brief for ``period``; PeriodError if it has no data."""
    window = data_window(conn)
    first, last = window.at[0, "first_invoice"], window.at[0, "last_invoice"]
    if pd.isna(last):
        raise PeriodError(
            "the warehouse holds no invoices yet; load data first (lgs-reports load FILE)"
        )
    coverage = Coverage(period, first.to_pydatetime(), last.to_pydatetime())
    if coverage.covered_days == 0:
        raise PeriodError(
            f"period {period.label} has no transactions: the data covers "
            f"{date(first)} to {date(last)}; choose a period inside it"
        )
    spans = {
        "current": Span(
            "current",
            span_title(coverage.data_start, coverage.data_end, period),
            coverage.data_start,
            coverage.data_end,
        )
    }
    for name, other in period.comparisons():
        cut = coverage.like_for_like(other)
        spans[name] = Span(name, span_title(cut.start, cut.end, other), cut.start, cut.end)
    totals = {name: run_query(conn, "period_totals", **span.binds) for name, span in spans.items()}
    if (
        int(totals["current"].at[0, "placed_orders"])
        + int(totals["current"].at[0, "cancelled_orders"])
        == 0
    ):
        raise PeriodError(f"period {period.label} has no sales transactions; choose another period")
    history_start = min(first.date().replace(day=1), period.trend_start)
    monthly = run_query(
        conn,
        "monthly_sales",
        start=dt.datetime.combine(history_start, dt.time()),
        end=dt.datetime.combine(period.end_exclusive, dt.time()),
    )
    current = spans["current"].binds
    stats = run_query(conn, "invoice_amount_stats", **current)
    p85 = stats.at[0, "p85"]
    width = nice_bin_width(p85 if not pd.isna(p85) else 0.0)
    histogram = run_query(
        conn,
        "invoice_amount_histogram",
        **current,
        width=width,
        ceiling=float(p85) if not pd.isna(p85) else 0.0,
    )
    snapshot = coverage.snapshot
    previous_snapshot = period.before().end + dt.timedelta(days=1)
    previous_snapshot = min(previous_snapshot, snapshot)
    whole = {
        "start": dt.datetime.combine(first.date(), dt.time()),
        "end": dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time()),
    }
    return Dataset(
        period=period,
        coverage=coverage,
        is_sample=bool(window.at[0, "is_sample"]),
        spans=spans,
        monthly=monthly,
        totals=totals,
        countries={
            name: run_query(conn, "country_sales", **spans[name].binds)
            for name in ("current", "yoy")
        },
        amount_stats=stats,
        amount_histogram=histogram,
        histogram_width=width,
        rfm=_rfm(conn, snapshot, rfm_window_days),
        rfm_previous=_rfm(conn, previous_snapshot, rfm_window_days),
        previous_snapshot=previous_snapshot,
        rfm_window_days=rfm_window_days,
        quality=run_query(conn, "data_quality", **current),
        quality_all=run_query(conn, "data_quality", **whole),
        duplicate_days=run_query(conn, "duplicate_days", **whole),
        non_product_codes=run_query(conn, "non_product_codes"),
        load_history=run_query(conn, "load_history"),
        window=window,
    )


def _rfm(conn: Connection, snapshot: dt.date, window_days: int) -> pd.DataFrame:
    at = dt.datetime.combine(snapshot, dt.time())
    return run_query(
        conn, "rfm_scores", snapshot=at, window_start=at - dt.timedelta(days=window_days)
    )


def nice_bin_width(ceiling: float, bins: int = 30) -> float:
    """A round bin width (1, 2, 2.5 or 5 times a power of ten) giving about ``bins`` bins."""
    if ceiling <= 0:
        return 1.0
    raw = ceiling / bins
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * power:
            return float(step * power)
    return float(10 * power)
