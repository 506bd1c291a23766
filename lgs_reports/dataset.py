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
from concurrent.futures import Future

import pandas as pd

from lgs_reports.errors import PeriodError
from lgs_reports.formatting import date
from lgs_reports.periods import Coverage, Period
from lgs_reports.queries import Reader


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
    rfm: pd.DataFrame  # rfm_values at the period's snapshot
    rfm_previous: pd.DataFrame  # rfm_values at the previous period's snapshot
    previous_snapshot: dt.date
    rfm_window_days: int
    quality: pd.DataFrame  # data_quality for the period
    quality_all: pd.DataFrame  # data_quality for the whole warehouse
    duplicate_days: pd.DataFrame  # whole warehouse
    non_product_codes: pd.DataFrame
    load_history: pd.DataFrame
    window: pd.DataFrame


def span_title(start: dt.date, end: dt.date, period: Period) -> str:
    if start == period.start and end == period.end:
        return period.title
    first = f"{start.day} {start:%b}" + ("" if start.year == end.year else f" {start.year}")
    return f"{first} – {end.day} {end:%b %Y}"


def fetch(reader: Reader, period: Period, *, rfm_window_days: int) -> Dataset:
    """Run every query of the brief for ``period``; PeriodError if it has no data.

    The queries are submitted slowest first (the two RFM tables), so that with two
    connections they run side by side while the quick ones fill in around them.
    """
    window = reader.run("data_window")
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
    snapshot = coverage.snapshot
    previous_snapshot = min(period.before().end + dt.timedelta(days=1), snapshot)
    current = spans["current"].binds
    whole = {
        "start": dt.datetime.combine(first.date(), dt.time()),
        "end": dt.datetime.combine(last.date() + dt.timedelta(days=1), dt.time()),
    }
    history_start = min(first.date().replace(day=1), period.trend_start)
    rfm = _rfm(reader, snapshot, rfm_window_days)
    rfm_previous = _rfm(reader, previous_snapshot, rfm_window_days)
    monthly = reader.submit(
        "monthly_sales",
        start=dt.datetime.combine(history_start, dt.time()),
        end=dt.datetime.combine(period.end_exclusive, dt.time()),
    )
    totals = {name: reader.submit("period_totals", **span.binds) for name, span in spans.items()}
    countries = {
        name: reader.submit("country_sales", **spans[name].binds) for name in ("current", "yoy")
    }
    stats = reader.submit("invoice_amount_stats", **current)
    quality = reader.submit("data_quality", **current)
    quality_all = reader.submit("data_quality", **whole)
    duplicate_days = reader.submit("duplicate_days", **whole)
    non_product_codes = reader.submit("non_product_codes")
    load_history = reader.submit("load_history")

    current_totals = totals["current"].result()
    if (
        int(current_totals.at[0, "placed_orders"]) + int(current_totals.at[0, "cancelled_orders"])
        == 0
    ):
        raise PeriodError(f"period {period.label} has no sales transactions; choose another period")
    p85 = stats.result().at[0, "p85"]
    width = nice_bin_width(p85 if not pd.isna(p85) else 0.0)
    histogram = reader.run(
        "invoice_amount_histogram",
        **current,
        width=width,
        ceiling=float(p85) if not pd.isna(p85) else 0.0,
    )
    return Dataset(
        period=period,
        coverage=coverage,
        is_sample=bool(window.at[0, "is_sample"]),
        spans=spans,
        monthly=monthly.result(),
        totals={name: future.result() for name, future in totals.items()},
        countries={name: future.result() for name, future in countries.items()},
        amount_stats=stats.result(),
        amount_histogram=histogram,
        histogram_width=width,
        rfm=rfm.result(),
        rfm_previous=rfm_previous.result(),
        previous_snapshot=previous_snapshot,
        rfm_window_days=rfm_window_days,
        quality=quality.result(),
        quality_all=quality_all.result(),
        duplicate_days=duplicate_days.result(),
        non_product_codes=non_product_codes.result(),
        load_history=load_history.result(),
        window=window,
    )


def _rfm(reader: Reader, snapshot: dt.date, window_days: int) -> Future[pd.DataFrame]:
    at = dt.datetime.combine(snapshot, dt.time())
    return reader.submit(
        "rfm_values", snapshot=at, window_start=at - dt.timedelta(days=window_days)
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
