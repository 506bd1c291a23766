"""The query step: every SQL result one brief needs, fetched on one consistent view.

Nothing here computes: it decides which spans to ask about (the period, its
comparisons cut to the same instants, the equal look-back of new customers, the
trend window, the twelve months before the snapshot and the twelve before those,
the RFM snapshots and the segment back-test) and runs the files in ``sql/``.
Aggregation happens in SQL; the per-customer results are the RFM tables, each
customer's sales for the back-test, the sales per country and customer, and what the
action lists add to each scored customer (spend a window earlier, order rhythm, biggest
products, suggested next product).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pandas as pd

from lgs_reports.errors import PeriodError
from lgs_reports.formatting import date
from lgs_reports.periods import (
    Comparison,
    Coverage,
    Period,
    Span,
    add_months,
    lookback_months,
    months_before,
)
from lgs_reports.queries import Reader

MAX_LOOKBACK = 12  # months: new-customer counts compare on at most a year of look-back
LARGEST_CORRECTIONS = 5
LARGE_GUEST_ORDERS = 8
# The candidates of a suggested next product: the window's best sellers. Pairs are counted
# among them only, which keeps the suggestion query bounded (sql/suggested_products.sql).
SUGGESTION_POOL = 100


@dataclasses.dataclass(frozen=True)
class Lookback:
    """New or returning customers of two spans on equal look-back (BRIEF_SPEC, look-back).

    Both spans are recounted as customers with an order in the span and none in the
    ``months`` calendar months before it; ``months`` is the shorter look-back of the
    two, at most 12. None of this exists when the shorter look-back is 0 months.
    """

    months: int
    current: pd.DataFrame  # new_or_returning of the period's side
    other: pd.DataFrame  # new_or_returning of the side compared with


@dataclasses.dataclass(frozen=True)
class Backtest:
    """The RFM scoring one window earlier, and what its customers spent in the next window."""

    snapshot: dt.date  # the brief's snapshot minus the RFM window
    values: pd.DataFrame  # rfm_values at that snapshot
    following: pd.DataFrame  # customer_sales from that snapshot to the brief's


@dataclasses.dataclass(frozen=True)
class Dataset:
    period: Period
    coverage: Coverage
    is_sample: bool
    comparisons: dict[str, Comparison]  # yoy, and mom for a month; available or not
    totals: dict[str, pd.DataFrame]  # period_totals: current, yoy, mom, trailing, ... (`side_key`)
    lookbacks: dict[str, Lookback]  # by comparison key, and "trailing"; absent: no equal look-back
    trailing: tuple[Span, Span | None]  # the 365 days to the snapshot, and the 365 before
    monthly: pd.DataFrame  # monthly_sales from the first data month to the period's end
    countries: pd.DataFrame  # customer_country_sales: the period against yoy (if any)
    own_countries: pd.DataFrame | None  # the whole period alone, when yoy cut its side short
    trailing_countries: pd.DataFrame | None  # customer_country_sales: trailing against before
    amount_stats: pd.DataFrame
    amount_histogram: pd.DataFrame
    histogram_width: float
    rfm: pd.DataFrame  # rfm_values at the period's snapshot
    rfm_previous: pd.DataFrame  # rfm_values at the previous period's snapshot
    previous_snapshot: dt.date
    backtest: Backtest | None  # None when the data does not reach back two windows
    rfm_window_days: int
    customer_orders: pd.DataFrame  # customer_orders at the snapshot: spend before, rhythm
    top_products: pd.DataFrame  # customer_top_products: each customer's three biggest
    suggestions: pd.DataFrame  # suggested_products: each customer's next product, if any
    suggestion_pool: int  # how many best sellers the suggestions choose from
    corrections: pd.DataFrame  # largest_corrections of the period
    products: pd.DataFrame  # product_sales: the period against yoy (if any)
    own_products: pd.DataFrame | None  # the whole period alone, when yoy cut its side short
    trailing_products: pd.DataFrame | None  # product_sales: trailing_months against before
    trailing_months: tuple[Span, Span | None]  # the twelve complete months to the snapshot's
    cohorts: pd.DataFrame  # customer_cohorts from the first month with a year of look-back
    cohorts_from: dt.date  # that month
    large_guest_orders: pd.DataFrame  # the period's guest orders above the 99th percentile
    quality: pd.DataFrame  # data_quality for the period
    quality_all: pd.DataFrame  # data_quality for the whole warehouse
    duplicate_days: pd.DataFrame  # whole warehouse
    non_product_codes: pd.DataFrame
    load_history: pd.DataFrame
    window: pd.DataFrame

    @property
    def current(self) -> Span:
        return self.coverage.current


def side_key(comparison: Comparison, current: Span) -> str:
    """The totals key of the period's side of a comparison: ``current``, unless the start of
    the data cut both sides to the same days (``current@yoy``)."""
    return "current" if comparison.current == current else f"current@{comparison.key}"


def data_window(
    reader: Reader, safe_url: str | None = None
) -> tuple[pd.DataFrame, dt.datetime, dt.datetime]:
    """The warehouse's extent (``sql/data_window.sql``) and its first and last invoice.

    `no_invoices` when it holds none; ``safe_url`` names it there (its URL, password
    masked), by default the URL of the reader's connection.
    """
    window = reader.run("data_window")
    first, last = window.at[0, "first_invoice"], window.at[0, "last_invoice"]
    if pd.isna(last):
        raise no_invoices(safe_url or str(reader.connections[0].engine.url))
    return window, first.to_pydatetime(), last.to_pydatetime()


def no_invoices(safe_url: str) -> PeriodError:
    """The error of a warehouse no brief can be built from yet (no invoices, or no tables)."""
    return PeriodError(
        f"the warehouse {safe_url} holds no invoices yet; load data first (lgs-reports load FILE)"
    )


def fetch(
    reader: Reader, period: Period, *, rfm_window_days: int, safe_url: str | None = None
) -> Dataset:
    """Run every query of the brief for ``period``; PeriodError if it has no data.

    ``safe_url`` names the warehouse if it turns out empty (`data_window`). The queries
    are submitted slowest first (the action lists' products and suggestions, then the RFM
    tables), so that with two connections they run side by side while the quick ones
    fill in around them; the results are collected once everything is submitted.
    """
    window, first, last = data_window(reader, safe_url)
    coverage = _coverage(period, first, last)
    pending = {
        **_customer_queries(reader, coverage, first, rfm_window_days),
        **_sales_queries(reader, coverage, first, rfm_window_days),
        **_detail_queries(reader, coverage, first),
    }
    _require_sales(period, pending["totals"]()["current"])
    width, histogram = _amount_histogram(reader, coverage.current, pending["amount_stats"]())
    return Dataset(
        period=period,
        coverage=coverage,
        is_sample=bool(window.at[0, "is_sample"]),
        amount_histogram=histogram,
        histogram_width=width,
        rfm_window_days=rfm_window_days,
        suggestion_pool=SUGGESTION_POOL,
        window=window,
        **{name: value() if callable(value) else value for name, value in pending.items()},
    )


# What the submitting steps return: Dataset fields by name, each a value or, while its
# queries run, a function that waits for them and returns the value.
Pending = dict[str, Any]


def _coverage(period: Period, first: dt.datetime, last: dt.datetime) -> Coverage:
    """What of ``period`` the data covers; PeriodError when it covers none of it."""
    coverage = Coverage(period, first, last)
    if coverage.covered_days == 0:
        raise PeriodError(
            f"period {period.label} has no transactions: the data covers "
            f"{date(first)} to {date(last)}; choose a period inside it"
        )
    return coverage


def _customer_queries(
    reader: Reader, coverage: Coverage, first: dt.datetime, rfm_window_days: int
) -> Pending:
    """The slowest: the action lists' facts, the RFM tables now and at the previous
    snapshot, and the back-test one window earlier when the data reaches back two."""
    snapshot = coverage.snapshot
    previous_snapshot = min(coverage.period.before().end + dt.timedelta(days=1), snapshot)
    customer_orders, top_products, suggestions = _list_facts(reader, snapshot, rfm_window_days)
    rfm = _rfm(reader, snapshot, rfm_window_days)
    rfm_previous = _rfm(reader, previous_snapshot, rfm_window_days)
    return {
        "customer_orders": customer_orders.result,
        "top_products": top_products.result,
        "suggestions": suggestions.result,
        "rfm": rfm.result,
        "rfm_previous": rfm_previous.result,
        "previous_snapshot": previous_snapshot,
        "backtest": _backtest(reader, snapshot, first, rfm_window_days),
    }


def _backtest(
    reader: Reader, snapshot: dt.date, first: dt.datetime, window_days: int
) -> Callable[[], Backtest | None]:
    at = snapshot - dt.timedelta(days=window_days)
    if at - dt.timedelta(days=window_days) < first.date():
        return lambda: None
    values = _rfm(reader, at, window_days)
    following = reader.submit("customer_sales", start=_midnight(at), end=_midnight(snapshot))
    return lambda: Backtest(at, values.result(), following.result())


def _sales_queries(
    reader: Reader, coverage: Coverage, first: dt.datetime, rfm_window_days: int
) -> Pending:
    """Sales: the spans compared, and by month, the totals and new customers of every
    span compared, by country and by product, and the cohorts."""
    period, current = coverage.period, coverage.current
    comparisons = {c.key: c for c in coverage.comparisons()}
    trailing = coverage.trailing(rfm_window_days)
    monthly = reader.submit(
        "monthly_sales",
        start=_midnight(min(first.date().replace(day=1), period.trend_start)),
        end=_midnight(period.end_exclusive),
    )
    totals = {
        name: reader.submit("period_totals", **span.binds)
        for name, span in _compared_spans(current, comparisons, trailing).items()
    }
    lookbacks = _lookbacks(reader, first, comparisons, trailing)
    yoy = comparisons["yoy"]
    countries = _country_sales(reader, yoy.current or current, yoy.other)
    cut = yoy.current is not None and yoy.current != current  # the data starts inside yoy
    own_countries = _country_sales(reader, current, None) if cut else None
    trailing_countries = (
        _country_sales(reader, trailing[0], trailing[1]) if trailing[1] is not None else None
    )
    products = _product_sales(reader, yoy.current or current, yoy.other)
    own_products = _product_sales(reader, current, None) if cut else None
    trailing_months = coverage.trailing_months()  # whole months: product_months alone
    trailing_products = (
        _product_sales(reader, *trailing_months) if trailing_months[1] is not None else None
    )
    cohorts_from = add_months(first.date().replace(day=1), MAX_LOOKBACK)
    cohorts = reader.submit(
        "customer_cohorts", cohorts_from=_midnight(cohorts_from), end=_cohorts_end(coverage)
    )
    return {
        "comparisons": comparisons,
        "trailing": trailing,
        "monthly": monthly.result,
        "totals": lambda: {name: future.result() for name, future in totals.items()},
        "lookbacks": lambda: {
            key: Lookback(months, now.result(), then.result())
            for key, (months, now, then) in lookbacks.items()
        },
        "countries": countries.result,
        "own_countries": own_countries.result if own_countries else None,
        "trailing_countries": trailing_countries.result if trailing_countries else None,
        "products": products.result,
        "own_products": own_products.result if own_products else None,
        "trailing_products": trailing_products.result if trailing_products else None,
        "trailing_months": trailing_months,
        "cohorts": cohorts.result,
        "cohorts_from": cohorts_from,
    }


def _compared_spans(
    current: Span, comparisons: dict[str, Comparison], trailing: tuple[Span, Span | None]
) -> dict[str, Span]:
    """Every span whose totals the brief compares, by its totals key (`side_key`)."""
    spans: dict[str, Span] = {"current": current}
    for c in comparisons.values():
        if c.available:
            spans[c.key] = c.other
            if c.current != current:
                spans[side_key(c, current)] = c.current
    spans["trailing"] = trailing[0]
    if trailing[1] is not None:
        spans["trailing_before"] = trailing[1]
    return spans


def _cohorts_end(coverage: Coverage) -> dt.datetime:
    """The end of the cohorts: the period's, or the start of a partial last month, which
    would read as customers lost."""
    days = coverage.last_month_days
    if days is not None and days[0] < days[1]:
        return _midnight(coverage.last_data.date().replace(day=1))
    return coverage.current.end


def _detail_queries(reader: Reader, coverage: Coverage, first: dt.datetime) -> Pending:
    """The period's orders and corrections, and the data quality of the period and of the
    whole warehouse."""
    current = coverage.current
    whole = {"start": _midnight(first.date()), "end": coverage.end_instant}
    return {
        "large_guest_orders": reader.submit(
            "large_guest_orders", **current.binds, rows=LARGE_GUEST_ORDERS
        ).result,
        "amount_stats": reader.submit("invoice_amount_stats", **current.binds).result,
        "corrections": reader.submit(
            "largest_corrections", **current.binds, rows=LARGEST_CORRECTIONS
        ).result,
        "quality": reader.submit("data_quality", **current.binds).result,
        "quality_all": reader.submit("data_quality", **whole).result,
        "duplicate_days": reader.submit("duplicate_days", **whole).result,
        "non_product_codes": reader.submit("non_product_codes").result,
        "load_history": reader.submit("load_history").result,
    }


def _require_sales(period: Period, totals: pd.DataFrame) -> None:
    """PeriodError when the period has not one order, cancellation or sale."""
    if (
        int(totals.at[0, "placed_orders"]) + int(totals.at[0, "cancelled_orders"]) == 0
        and float(totals.at[0, "gross"]) == 0
        and float(totals.at[0, "cancellations"]) == 0
    ):
        raise PeriodError(f"period {period.label} has no sales transactions; choose another period")


def _amount_histogram(
    reader: Reader, current: Span, stats: pd.DataFrame
) -> tuple[float, pd.DataFrame]:
    """The invoice amounts' histogram up to their 85th percentile: its bin width and bins."""
    p85 = stats.at[0, "p85"]
    width = nice_bin_width(p85 if not pd.isna(p85) else 0.0)
    histogram = reader.run(
        "invoice_amount_histogram",
        **current.binds,
        width=width,
        ceiling=float(p85) if not pd.isna(p85) else 0.0,
    )
    return width, histogram


def equal_lookback(first: dt.datetime, current: Span, other: Span) -> int:
    """N of "new or returning after N months": the shorter look-back, at most 12."""
    return min(
        lookback_months(first, current.start.date()),
        lookback_months(first, other.start.date()),
        MAX_LOOKBACK,
    )


def _lookbacks(
    reader: Reader,
    first: dt.datetime,
    comparisons: dict[str, Comparison],
    trailing: tuple[Span, Span | None],
) -> dict[str, tuple[int, Future[pd.DataFrame], Future[pd.DataFrame]]]:
    pairs = {c.key: (c.current, c.other) for c in comparisons.values() if c.available}
    if trailing[1] is not None:
        pairs["trailing"] = trailing
    result = {}
    for key, (now, then) in pairs.items():
        assert now is not None and then is not None
        months = equal_lookback(first, now, then)
        if months == 0:
            continue  # no earlier data to tell a new customer from a returning one
        result[key] = (
            months,
            *(
                reader.submit(
                    "new_or_returning", **span.binds, since=months_before(span.start, months)
                )
                for span in (now, then)
            ),
        )
    return result


def _country_sales(reader: Reader, span: Span, previous: Span | None) -> Future[pd.DataFrame]:
    before = previous or Span("none", "", span.start, span.start)  # an empty span: no sales
    return reader.submit(
        "customer_country_sales",
        **span.binds,
        previous_start=before.start,
        previous_end=before.end,
    )


def _product_sales(reader: Reader, span: Span, previous: Span | None) -> Future[pd.DataFrame]:
    before = previous or Span("none", "", span.start, span.start)  # an empty span: no sales
    now, then = _month_pieces(span), _month_pieces(before)
    return reader.submit(
        "product_sales",
        start=span.start,
        months_start=now[0],
        months_end=now[1],
        end=span.end,
        previous_start=before.start,
        previous_months_start=then[0],
        previous_months_end=then[1],
        previous_end=before.end,
    )


def _month_pieces(span: Span) -> tuple[dt.datetime, dt.datetime]:
    """(first whole month, first instant after the whole months) of a span; both its end
    when no whole month fits, so that its days all come from the partial pieces."""
    first = span.start.date().replace(day=1)
    if span.start != _midnight(first):
        first = add_months(first, 1)
    last = span.end.date().replace(day=1)
    months_start, months_end = _midnight(first), _midnight(last)
    if months_start >= months_end:
        return span.end, span.end
    return months_start, months_end


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _rfm(reader: Reader, snapshot: dt.date, window_days: int) -> Future[pd.DataFrame]:
    at = _midnight(snapshot)
    return reader.submit(
        "rfm_values", snapshot=at, window_start=at - dt.timedelta(days=window_days)
    )


def _list_facts(
    reader: Reader, snapshot: dt.date, window_days: int
) -> tuple[Future[pd.DataFrame], Future[pd.DataFrame], Future[pd.DataFrame]]:
    """What the action lists add to the customers scored at ``snapshot``: their spend in the
    window before, order rhythm and last order; their biggest products; a suggestion."""
    at = _midnight(snapshot)
    window = {"snapshot": at, "window_start": at - dt.timedelta(days=window_days)}
    return (
        reader.submit(
            "customer_orders", **window, previous_start=at - 2 * dt.timedelta(days=window_days)
        ),
        reader.submit("customer_top_products", **window),
        reader.submit("suggested_products", **window, pool_size=SUGGESTION_POOL),
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
